// The MCP gateway end to end (issue 24, M17.1), on both stores: the official MCP TypeScript SDK
// client connects through /mcp/echo-bot to echo-bot's MCP endpoint (built with the SDK), lists
// its tools and calls `echo`, with an API key of an enterprise tenant; a tenant on another plan
// and a revoked key are refused; every tool call is in the tenant's audit trail.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "e2e_fixture.hpp"
#include "echo_bot_support.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

class McpTest : public EchoBotE2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--catalog-dir", catalog_, "--portal-domain", "localhost"};
  }
  // A tenant on `plan`, booked to echo-bot, and an API key of it with `scopes`.
  std::pair<std::string, std::string> TenantWithKey(const std::string& slug,
                                                    const std::string& plan,
                                                    const std::string& scopes) {
    const std::string id =
        Str(CreateTenant(slug, R"(,"plan":")" + plan + R"(","initial_status":"active")"), "id");
    EXPECT_EQ(client().Post("/tenants/" + id + "/products", R"({"product_id":"echo-bot"})").status,
              201);
    auto k = client().Post("/api-keys",
                           R"({"tenant_id":")" + id + R"(","name":"mcp","scopes":)" + scopes + "}");
    EXPECT_EQ(k.status, 201) << k.body;
    return {id, Str(Json(k), "secret")};
  }
  // The official client through /mcp/echo-bot on the API's host, or (`mcp_host`) through
  // mcp.localhost/echo-bot, the gateway's own host.
  std::pair<int, std::string> Client(const std::string& bearer, const std::string& expect,
                                     bool mcp_host = false) {
    const std::string port = std::to_string(server_->port());
    const std::string url = "http://127.0.0.1:" + port + (mcp_host ? "/echo-bot" : "/mcp/echo-bot");
    return RunNode("conformance/mcp_client.mjs", url + " '" + bearer + "' " + expect +
                                                     (mcp_host ? " mcp.localhost:" + port : ""));
  }
};

TEST_P(McpTest, TheOfficialClientCallsEchoThroughTheGateway) {
  const auto [ent, key] = TenantWithKey("mcp-ent", "enterprise", R"(["mcp:use"])");
  auto [code, out] = Client(key, "ok");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("PASS tools=echo echo=hello through MCP"), std::string::npos) << out;

  // Each tool call is in the tenant's trail, the failed one marked.
  const auto calls = Json(client().Get("/audit?tenant_id=" + ent + "&action=mcp.tool_call"))
                         .at("items")
                         .as_array();
  ASSERT_EQ(calls.size(), 2U);
  int failed = 0;
  for (const auto& c : calls) {
    EXPECT_EQ(c.at("target").at("id").as_string(), "echo-bot/echo");
    failed += c.at("is_failure").as_bool() ? 1 : 0;
  }
  EXPECT_EQ(failed, 1);
  // echo-bot kept the message for that tenant (the gateway's token named it).
  auto platform = bot_->Client(MintToken(
      *db_, server_->port(),
      {{"sub", "platform"}, {"aud", "echo-bot"}, {"realm_roles", json::array{"SERVICE"}}}));
  EXPECT_NE(platform.Get("/v1/tenants/" + ent + "/export").body.find("hello through MCP"),
            std::string::npos);

  // The transport's other methods, straight through the recording client: GET is the product's
  // 405 (no server stream), and a notification is 202.
  HttpClient as_key("127.0.0.1", server_->port(), key);
  EXPECT_EQ(as_key.Get("/mcp/echo-bot").status, 405);
  EXPECT_EQ(as_key.Request("DELETE", "/mcp/echo-bot").status, 405);
  EXPECT_EQ(
      as_key.Post("/mcp/echo-bot", R"({"jsonrpc":"2.0","method":"notifications/initialized"})")
          .status,
      202);
  auto listed = as_key.Post("/mcp/echo-bot", R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})");
  EXPECT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find(R"("name":"echo")"), std::string::npos);
  EXPECT_EQ(as_key.Post("/mcp/nope", "{}").status, 404);
}

// mcp.D/{product} is the same gateway: the official client calls echo there too; the host's
// other paths are the gateway's 404, never a portal page or another API route.
TEST_P(McpTest, TheGatewaysOwnHostServesTheSameProducts) {
  const auto [ent, key] = TenantWithKey("mcp-host", "enterprise", R"(["mcp:use"])");
  auto [code, out] = Client(key, "ok", true);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("PASS tools=echo echo=hello through MCP"), std::string::npos) << out;
  EXPECT_EQ(Json(client().Get("/audit?tenant_id=" + ent + "&action=mcp.tool_call"))
                .at("items")
                .as_array()
                .size(),
            2U);
  // Not recorded for the OpenAPI check: these paths are the host's, not the document's.
  HttpClient on_host("127.0.0.1", server_->port(), key, false);
  const std::map<std::string, std::string> host{{"Host", "mcp.localhost"}};
  EXPECT_EQ(on_host.Request("POST", "/nope", "{}", host).status, 404);
  EXPECT_EQ(on_host.Request("GET", "/tenants", {}, host).status, 404)
      << "the API's routes are not on mcp.D";
  EXPECT_EQ(on_host.Request("GET", "/dashboard", {}, host).status, 404)
      << "no portal page on mcp.D";
}

TEST_P(McpTest, OtherPlansRevokedKeysAndOtherTenantsAreRefused) {
  const auto [pro, pro_key] = TenantWithKey("mcp-pro", "professional", R"(["mcp:use"])");
  auto [code, out] = Client(pro_key, "refused");
  EXPECT_EQ(code, 0) << out;
  HttpClient as_pro("127.0.0.1", server_->port(), pro_key);
  auto r = as_pro.Post("/mcp/echo-bot", R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("plan-not-enterprise"), std::string::npos);

  const auto [ent, key] = TenantWithKey("mcp-ent2", "enterprise", R"(["mcp:use"])");
  const auto keys = Json(client().Get("/api-keys?tenant_id=" + ent)).at("items").as_array();
  ASSERT_EQ(
      client().Request("DELETE", "/api-keys/" + std::string(keys[0].at("id").as_string())).status,
      204);
  std::tie(code, out) = Client(key, "refused");
  EXPECT_EQ(code, 0) << out;
  HttpClient revoked("127.0.0.1", server_->port(), key);
  EXPECT_EQ(revoked.Post("/mcp/echo-bot", "{}").status, 401);

  // A key without mcp:use; and a service client naming a tenant that did not book echo-bot.
  const auto [ent3, no_scope] = TenantWithKey("mcp-ent3", "enterprise", R"(["echo-bot:read"])");
  HttpClient scopeless("127.0.0.1", server_->port(), no_scope);
  auto scoped_out = scopeless.Post("/mcp/echo-bot", "{}");
  EXPECT_EQ(scoped_out.status, 401) << "a key with no platform scope is no platform credential";
  EXPECT_NE(scoped_out.body.find("platform scope"), std::string::npos) << scoped_out.body;
  const std::string unbooked =
      Str(CreateTenant("mcp-ent4", R"(,"plan":"enterprise","initial_status":"active")"), "id");
  HttpClient service("127.0.0.1", server_->port(), ServiceToken(client(), "mcp-broker"));
  auto s =
      service.Request("POST", "/mcp/echo-bot", R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                      {{"Breakpilot-Tenant", unbooked}});
  EXPECT_EQ(s.status, 403) << s.body;
  EXPECT_NE(s.body.find("not-subscribed"), std::string::npos);
  EXPECT_EQ(service.Post("/mcp/echo-bot", "{}").status, 422) << "a service client names a tenant";
  (void)ent3;
  (void)pro;
}

BREAKPILOT_ON_BOTH_STORES(McpTest);

}  // namespace
}  // namespace breakpilot::testing
