#include "domains/domain_service.hpp"

#include <gtest/gtest.h>

namespace breakpilot::domains {
namespace {

TEST(NormalizeDomain, LowerCasesAndDropsTheTrailingDot) {
  EXPECT_EQ(*NormalizeDomain("Portal.Example.COM.", "bp.example"), "portal.example.com");
  EXPECT_EQ(*NormalizeDomain("xn--bcher-kva.example", "bp.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDomain("a-b.c1.example", "bp.example"), "a-b.c1.example");
}

TEST(NormalizeDomain, RefusesWhatIsNoCustomersHostName) {
  for (const char* bad : {"", ".", "example", "1.2.3.4", "[::1]", "::1", "a..example", "-a.example",
                          "a-.example", "a_b.example", "a b.example", "bp.example", "x.bp.example",
                          "X.BP.Example.", "a.example/path", "a.example:443", "é.example"}) {
    EXPECT_FALSE(NormalizeDomain(bad, "bp.example").ok()) << bad;
  }
  EXPECT_FALSE(NormalizeDomain(std::string(64, 'a') + ".example", "bp.example").ok());
  std::string long_name;
  for (int i = 0; i < 26; ++i) long_name += "abcdefghi.";
  EXPECT_FALSE(NormalizeDomain(long_name + "example", "bp.example").ok());  // over 253
}

}  // namespace
}  // namespace breakpilot::domains
