#include "portal/site.hpp"

#include <gtest/gtest.h>

namespace breakpilot::portal {
namespace {

TEST(SiteTest, PortalDomainItselfIsThePublicSite) {
  EXPECT_EQ(Classify("localhost:8080", "localhost").kind, SiteKind::kPublic);
  EXPECT_EQ(Classify("LocalHost", "localhost").kind, SiteKind::kPublic);
  EXPECT_EQ(Classify("bp.example.", "bp.example").kind, SiteKind::kPublic);
}

TEST(SiteTest, SubdomainsAreTenantsExceptBackstageApiAndMcp) {
  EXPECT_EQ(Classify("acme.localhost:8080", "localhost"), (Site{SiteKind::kTenant, "acme"}));
  EXPECT_EQ(Classify("ACME.bp.example", "bp.example"), (Site{SiteKind::kTenant, "acme"}));
  EXPECT_EQ(Classify("demo.localhost", "localhost"), (Site{SiteKind::kTenant, "demo"}));
  EXPECT_EQ(Classify("backstage.localhost:1", "localhost").kind, SiteKind::kBackstage);
  EXPECT_EQ(Classify("api.bp.example", "bp.example").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("MCP.localhost:8080", "localhost").kind, SiteKind::kMcp);
}

TEST(SiteTest, TheMcpHostsPathsAreTheGateways) {
  std::string path = "/echo-bot";
  std::string target = "/echo-bot?x=1";
  ToMcpGateway(path, target);
  EXPECT_EQ(path, "/mcp/echo-bot");
  EXPECT_EQ(target, "/mcp/echo-bot?x=1");
}

TEST(SiteTest, EveryOtherHostIsTheApi) {
  EXPECT_EQ(Classify("127.0.0.1:8080", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("a.b.localhost", "localhost").kind, SiteKind::kApi);  // two labels
  EXPECT_EQ(Classify("evillocalhost", "localhost").kind, SiteKind::kApi);  // not a subdomain
  EXPECT_EQ(Classify(".localhost", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("[::1]:8080", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("acme.localhost:80x", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("acme.localhost:", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("ac me.localhost", "localhost").kind, SiteKind::kApi);
  EXPECT_EQ(Classify("acme.localhost", "").kind, SiteKind::kApi);  // no portal configured
}

TEST(SiteTest, SiteUrlTakesSchemeAndPortFromThePublicUrl) {
  EXPECT_EQ(SiteUrl("http://127.0.0.1:8080", "localhost", ""), "http://localhost:8080");
  EXPECT_EQ(SiteUrl("http://127.0.0.1:8080/", "localhost", "acme"), "http://acme.localhost:8080");
  EXPECT_EQ(SiteUrl("https://api.bp.example", "bp.example", ""), "https://bp.example");
  EXPECT_EQ(SiteUrl("http://[::1]:9000/x", "localhost", "demo"), "http://demo.localhost:9000");
  EXPECT_EQ(SiteUrl("https://[::1]/", "bp.example", ""), "https://bp.example");
}

}  // namespace
}  // namespace breakpilot::portal
