#include "tenants/slug.hpp"

#include <gtest/gtest.h>

namespace breakpilot::tenants {
namespace {

TEST(SlugTest, AcceptsRfc1123Labels) {
  for (const std::string& ok :
       {std::string("acme"), std::string("a"), std::string("acme-gmbh"), std::string("0day"),
        std::string("a1-b2-c3"), std::string(63, 'x')}) {
    EXPECT_TRUE(ValidateSlug(ok)) << ok;
  }
}

TEST(SlugTest, RejectsWhatIsNotALowercaseLabel) {
  for (const char* bad :
       {"", "-acme", "acme-", "Acme", "ac me", "acme.com", "acme_gmbh", "äcme", "acme/x"}) {
    EXPECT_FALSE(ValidateSlug(bad)) << bad;
  }
  EXPECT_FALSE(ValidateSlug(std::string(64, 'x')));
}

TEST(SlugTest, RejectsEveryReservedName) {
  for (auto r : ReservedSlugs()) {
    auto problem = ValidateSlug(r);
    ASSERT_FALSE(problem) << r;
    EXPECT_NE(problem.error().detail.find("reserved"), std::string::npos) << r;
  }
  for (const char* r :
       {"api", "www", "auth", "admin", "mail", "mcp", "cdn", "erp", "demo", "static", "tenants",
        "catalog", "healthz", "readyz", "metrics", "openapi", "docs"}) {
    EXPECT_TRUE(IsReservedSlug(r)) << r;
  }
}

}  // namespace
}  // namespace breakpilot::tenants
