// echo-bot, the reference product built on the SDK alone, beside the real platform (issue 24):
// user tokens (the password grant with audience=echo-bot) and API keys reach only their own
// tenant on every route, the status gate and the trial quota refuse with the right problem, the
// audit events a product emits land in the platform's trail, and the contract endpoints answer
// the platform only.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include <regex>
#include "e2e_fixture.hpp"

#include "echo_bot_support.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

class EchoBotTest : public EchoBotE2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--catalog-dir", catalog_, "--password-memory-kib", "2048"};
  }

  std::string ApiKey(const std::string& tenant, const std::vector<std::string>& scopes) {
    json::array s;
    for (const auto& x : scopes) s.emplace_back(x);
    auto r = client().Post("/api-keys", json::serialize(json::object{
                                            {"tenant_id", tenant}, {"name", "ci"}, {"scopes", s}}));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(Json(r), "secret") : "";
  }
  static json::object Body(const HttpResponse& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  static std::string ProblemType(const HttpResponse& r) {
    const std::string t = Str(Body(r), "type");
    return t.substr(t.rfind('/') + 1);
  }
};

TEST_P(EchoBotTest, TokensAndKeysOfOneTenantNeverReachAnother) {
  const std::string a = BookedTenant("echo-a");
  const std::string b = BookedTenant("echo-b");
  auto alice = bot_->Client(EchoBotToken(client(), "echo-a-admin"));
  auto bob = bot_->Client(EchoBotToken(client(), "echo-b-admin"));

  ASSERT_EQ(alice.Post("/v1/projects", R"({"id":"secret-plans","name":"A's plans"})").status, 201);
  auto sent = alice.Post("/v1/echo", R"({"message":"only for A","project":"secret-plans"})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(Str(Body(sent), "echo"), "only for A");
  const std::string echo_id = std::to_string(Body(sent).at("id").as_int64());
  EXPECT_NE(alice.Get("/v1/echoes").body.find("only for A"), std::string::npos);

  // Every echo-bot route, as B: A's rows are never seen, touched or named.
  EXPECT_EQ(bob.Get("/v1/echoes").body.find("only for A"), std::string::npos);
  EXPECT_EQ(bob.Get("/v1/projects").body.find("secret-plans"), std::string::npos);
  EXPECT_EQ(bob.Post("/v1/echo", R"({"message":"x","project":"secret-plans"})").status, 404);
  EXPECT_EQ(bob.Request("DELETE", "/v1/projects/secret-plans").status, 404);
  EXPECT_EQ(bob.Post("/v1/projects", R"({"id":"secret-plans","name":"B's own"})").status, 201)
      << "the same id in another tenant is another project";
  for (const std::string& target : {"/v1/tenants/" + a + "/export", "/v1/usage?tenant_id=" + a}) {
    auto r = bob.Get(target);
    EXPECT_EQ(r.status, 403) << target << " " << r.body;
    EXPECT_EQ(ProblemType(r), "platform-only");
  }
  EXPECT_EQ(bob.Request("DELETE", "/v1/tenants/" + a + "/data").status, 403);
  EXPECT_EQ(bob.Post("/v1/tenants/demo/reset", "{}").status, 403);
  EXPECT_NE(alice.Get("/v1/projects").body.find("A's plans"), std::string::npos) << "A intact";
  EXPECT_EQ(alice.Get("/v1/echoes").body.find("B's own"), std::string::npos);

  // API keys: the key's tenant, its scopes, and nothing after a revocation.
  const std::string a_read = ApiKey(a, {"echo-bot:read"});
  const std::string b_write = ApiKey(b, {"echo-bot:read", "echo-bot:write"});
  auto a_key = bot_->Client();
  auto as_key = [&](const std::string& key, const std::string& method, const std::string& target,
                    const std::string& body = "") {
    return a_key.Request(method, target, body,
                         {{"X-API-Key", key}, {"Content-Type", "application/json"}});
  };
  auto listed = as_key(a_read, "GET", "/v1/echoes");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("only for A"), std::string::npos);
  auto refused = as_key(a_read, "POST", "/v1/echo", R"({"message":"hi"})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(ProblemType(refused), "insufficient-scope");
  EXPECT_EQ(as_key(b_write, "GET", "/v1/echoes").body.find("only for A"), std::string::npos);
  EXPECT_EQ(
      as_key(b_write, "POST", "/v1/echo", R"({"message":"x","project":"secret-plans"})").status,
      200)
      << "B's own project of that name";
  // The key as a bearer works the same way.
  auto bearer_key = bot_->Client(a_read).Get("/v1/echoes");
  EXPECT_EQ(bearer_key.status, 200) << bearer_key.body;

  const auto keys = Json(client().Get("/api-keys?tenant_id=" + a)).at("items").as_array();
  ASSERT_EQ(keys.size(), 1U);
  ASSERT_EQ(
      client().Request("DELETE", "/api-keys/" + std::string(keys[0].at("id").as_string())).status,
      204);
  auto revoked = as_key(a_read, "GET", "/v1/echoes");
  EXPECT_EQ(revoked.status, 401) << revoked.body;
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos);
  EXPECT_EQ(as_key("bpk_madeup", "GET", "/v1/echoes").status, 401);

  // Platform tokens for the platform's own API, or another product, are not echo-bot's.
  auto platform_token = bot_->Client(SignIn(client(), "echo-a-admin", kPassword)).Get("/v1/echoes");
  EXPECT_EQ(platform_token.status, 401);
  EXPECT_NE(platform_token.body.find("not for echo-bot"), std::string::npos);
  EXPECT_EQ(bot_->Client().Get("/v1/echoes").status, 401);
  // And the platform issues an echo-bot token only to a tenant that booked it.
  const std::string c = Str(CreateTenant("echo-c"), "id");
  CreateUser(client(), "echo-c-admin", {}, c, {"IT_ADMIN"});
  auto unbooked = PostForm(client(), "/oauth/token",
                           {{"grant_type", "password"},
                            {"username", "echo-c-admin"},
                            {"password", kPassword},
                            {"audience", "echo-bot"}});
  EXPECT_EQ(unbooked.status, 400);
  EXPECT_EQ(Str(Json(unbooked), "error"), "invalid_target");
}

TEST_P(EchoBotTest, TheGateFollowsTheTenantStatusAndTheTrialQuota) {
  const std::string a = BookedTenant("gate-a");
  const int port = server_->port();
  auto as = [&](json::object claims) {
    json::object c{{"sub", "u-1"},
                   {"aud", "echo-bot"},
                   {"org_id", a},
                   {"org_roles", json::array{"USER"}},
                   {"products", json::array{"echo-bot"}},
                   {"plan", "starter"}};
    for (auto& [k, v] : claims) c[k] = v;
    return bot_->Client(MintToken(*db_, port, c));
  };
  // Frozen: reads pass, writes are 402.
  auto frozen = as({{"tenant_status", "frozen"}});
  EXPECT_EQ(frozen.Get("/v1/echoes").status, 200);
  auto paused = frozen.Post("/v1/echo", R"({"message":"x"})");
  EXPECT_EQ(paused.status, 402);
  EXPECT_EQ(paused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(ProblemType(paused), "tenant-frozen");
  // Archived: everything is 410.
  auto archived = as({{"tenant_status", "archived"}});
  EXPECT_EQ(archived.Get("/v1/echoes").status, 410);
  EXPECT_EQ(archived.Post("/v1/echo", R"({"message":"x"})").status, 410);
  // Trial: three calls a day, then 429 problem+json.
  auto trial = as({{"tenant_status", "trial"},
                   {"trial_quota",
                    {{"seats", 5},
                     {"projects", 3},
                     {"api_calls_per_day", 3},
                     {"ends_at", "2099-01-01T00:00:00Z"}}}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(trial.Post("/v1/echo", R"({"message":"t"})").status, 200);
  auto spent = trial.Post("/v1/echo", R"({"message":"t"})");
  EXPECT_EQ(spent.status, 429) << spent.body;
  EXPECT_EQ(spent.Header("content-type"), "application/problem+json");
  EXPECT_EQ(ProblemType(spent), "quota-exceeded");
  EXPECT_EQ(trial.Get("/v1/echoes").status, 429);
  // A demo tenant is never metered; an active one has no trial quota.
  auto demo = as({{"tenant_status", "demo"},
                  {"trial_quota",
                   {{"seats", 5},
                    {"projects", 3},
                    {"api_calls_per_day", 1},
                    {"ends_at", "2099-01-01T00:00:00Z"}}}});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(demo.Get("/v1/echoes").status, 200);
  auto active = as({{"tenant_status", "active"}});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(active.Get("/v1/echoes").status, 200);
  // A tenant without echo-bot in its products, and a token without a tenant.
  EXPECT_EQ(as({{"tenant_status", "active"}, {"products", json::array{"other"}}})
                .Get("/v1/echoes")
                .status,
            403);
  EXPECT_EQ(as({{"tenant_status", "active"}, {"org_id", ""}}).Get("/v1/echoes").status, 403);

  // Bad input is a 4xx problem, never a 5xx.
  for (const auto& [body, status] : std::vector<std::pair<std::string, int>>{
           {"{", 400},
           {"[]", 400},
           {R"({"message":""})", 422},
           {R"({"message":7})", 422},
           {R"({"message":")" + std::string(5000, 'x') + "\"}", 422},
           {R"({"message":"x","project":"../etc"})", 422}}) {
    auto r = active.Post("/v1/echo", body);
    EXPECT_EQ(r.status, status) << body.substr(0, 40) << " " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  }
  EXPECT_EQ(
      active.Request("POST", "/v1/echo", R"({"message":"x"})", {{"Content-Type", "text/plain"}})
          .status,
      415);
  EXPECT_EQ(active.Get("/v1/echoes?limit=abc").status, 400);
  EXPECT_EQ(active.Get("/v1/nothing").status, 404);
  EXPECT_EQ(bot_->Client()
                .Raw(std::string("GET /v1/echoes HTTP/1.1\r\nHost: x\r\nX: ") +
                     std::string(20'000, 'a') + "\r\n\r\n")
                .status,
            431);
}

TEST_P(EchoBotTest, AuditEventsReachThePlatformsTrailAndContractCallsNeedThePlatform) {
  const std::string a = BookedTenant("trail-a");
  auto alice = bot_->Client(EchoBotToken(client(), "trail-a-admin"));
  ASSERT_EQ(alice.Post("/v1/echo", R"({"message":"audited"})").status, 200);
  ASSERT_EQ(alice.Post("/v1/projects", R"({"id":"p1","name":"P1"})").status, 201);
  json::array items;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    items =
        Json(client().Get("/audit?tenant_id=" + a + "&product=echo-bot")).at("items").as_array();
    if (items.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(items.size(), 2U) << json::serialize(items);
  std::set<std::string> actions;
  for (const auto& e : items) actions.insert(std::string(e.at("action").as_string()));
  EXPECT_EQ(actions, (std::set<std::string>{"echo.sent", "project.created"}));
  EXPECT_TRUE(Json(client().Get("/audit/verify?tenant_id=" + a)).at("ok").as_bool());

  // The contract endpoints: health is open; the rest take the platform's own token only.
  auto health = bot_->Client().Get("/v1/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Str(Body(health), "product"), "echo-bot");
  const int port = server_->port();
  auto platform = bot_->Client(MintToken(
      *db_, port,
      {{"sub", "platform"}, {"aud", "echo-bot"}, {"realm_roles", json::array{"SERVICE"}}}));
  auto exported = platform.Get("/v1/tenants/" + a + "/export");
  ASSERT_EQ(exported.status, 200) << exported.body;
  EXPECT_NE(exported.body.find("audited"), std::string::npos);
  EXPECT_NE(exported.body.find("\"p1\""), std::string::npos);
  EXPECT_EQ(platform.Get("/v1/tenants/BAD%20ID/export").status, 400);
  auto usage = platform.Get("/v1/usage?tenant_id=" + a);
  EXPECT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(platform.Request("DELETE", "/v1/tenants/" + a + "/data").status, 204);
  EXPECT_EQ(platform.Get("/v1/tenants/" + a + "/export").status, 410);
  // A SERVICE token of someone else (a service client) is not the platform.
  auto other = bot_->Client(MintToken(*db_, port,
                                      {{"sub", "service-account-x"},
                                       {"aud", "echo-bot"},
                                       {"realm_roles", json::array{"SERVICE"}}}));
  EXPECT_EQ(other.Get("/v1/tenants/" + a + "/export").status, 403);
}

TEST_P(EchoBotTest, UsageReachesThePlatformOnceAndShowsAgainstTheLimits) {
  const std::string a = BookedTenant("use-a");
  const std::string b = BookedTenant("use-b");
  auto alice = bot_->Client(EchoBotToken(client(), "use-a-admin"));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alice.Post("/v1/echo", R"({"message":"m"})").status, 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(alice.Get("/v1/echoes").status, 200);
  // echo-bot's SDK sends its counts about once a second.
  std::int64_t today = -1;
  json::object usage;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until && today != 5) {
    usage = Json(client().Get("/tenants/" + a + "/usage"));
    for (const auto& item : usage.at("items").as_array()) {
      if (item.at("product") == "echo-bot" && item.at("metric") == "api_calls") {
        today = item.at("today").as_int64();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(today, 5) << json::serialize(usage);
  EXPECT_EQ(usage.at("limits").at("api_calls_per_day").as_int64(), 1000) << "a trial's quota";
  EXPECT_EQ(usage.at("limits").at("projects").as_int64(), 3);

  // A product's service client reports directly; a retry of the same ids counts nothing.
  auto product = HttpClient("127.0.0.1", server_->port(), ServiceToken(client(), "usage-reporter"));
  const std::string report = R"({"product":"echo-bot","events":[{"id":"r-1","tenant_id":")" + a +
                             R"(","metric":"messages","quantity":7},{"id":"r-2","tenant_id":")" +
                             b + R"(","metric":"messages"}]})";
  auto first = product.Post("/usage", report);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Json(first).at("accepted").as_int64(), 2);
  auto retry = product.Post("/usage", report);
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry).at("accepted").as_int64(), 0);
  EXPECT_EQ(Json(retry).at("duplicates").as_int64(), 2);
  const auto messages = [&](const std::string& tenant) {
    const auto u = Json(client().Get("/tenants/" + tenant + "/usage"));
    for (const auto& item : u.at("items").as_array()) {
      if (item.at("metric") == "messages") return item.at("this_month").as_int64();
    }
    return std::int64_t{0};
  };
  EXPECT_EQ(messages(a), 7);
  EXPECT_EQ(messages(b), 1);

  // An API key reports for its own tenant only; its tenant's people never see another's usage.
  const std::string b_key = ApiKey(b, {"usage:write"});
  HttpClient as_key("127.0.0.1", server_->port(), b_key);
  auto other =
      as_key.Post("/usage", R"({"product":"echo-bot","events":[{"id":"k-1","tenant_id":")" + a +
                                R"(","metric":"messages"}]})");
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(as_key
                .Post("/usage", R"({"product":"echo-bot","events":[{"id":"k-1","tenant_id":")" + b +
                                    R"(","metric":"messages"}]})")
                .status,
            200);
  HttpClient bob("127.0.0.1", server_->port(), SignIn(client(), "use-b-admin", kPassword));
  EXPECT_EQ(bob.Get("/tenants/" + a + "/usage").status, 404);
  EXPECT_EQ(bob.Get("/tenants/" + b + "/usage").status, 200);

  // Bad reports: 4xx problems naming the event, and nothing applied.
  for (
      const auto& [body, status] : std::vector<std::pair<std::string, int>>{
          {R"({"product":"echo-bot"})", 422},
          {R"({"product":"nope","events":[{"id":"x","tenant_id":")" + a + R"(","metric":"m"}]})",
           422},
          {R"({"product":"echo-bot","events":[{"id":"x","tenant_id":"not-a-uuid","metric":"m"}]})",
           422},
          {R"({"product":"echo-bot","events":[{"id":"x","tenant_id":")" + a +
               R"(","metric":"m","quantity":"7"}]})",
           422},
          {R"({"product":"echo-bot","events":[{"id":"x","tenant_id":")" + a +
               R"(","metric":"m","extra":1}]})",
           422},
          {R"({"product":"echo-bot","events":[{"id":"x","tenant_id":"01900000-0000-7000-8000-000000000000","metric":"m"}]})",
           422},
          {"[", 400}}) {
    auto r = product.Post("/usage", body);
    EXPECT_EQ(r.status, status) << body << " " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  }
  EXPECT_EQ(messages(a), 7);
}

// The SDK's evaluate() asks the platform's flag store first (OFREP, every flag of the tenant at
// once): a flag targeting one tenant changes echo-bot for that tenant only, and a change of the
// flag reaches the product after its refresh (2 s), with no restart.
TEST_P(EchoBotTest, AFlagInThePlatformsStoreChangesTheProductForItsTenantsOnly) {
  const std::string a = BookedTenant("flag-a");
  BookedTenant("flag-b");
  ASSERT_EQ(client()
                .Post("/flags", R"({"key":"echo.uppercase","type":"boolean","default":false,
                      "rules":[{"tenants":[")" +
                                    a + R"("],"value":true}]})")
                .status,
            201);
  auto alice = bot_->Client(EchoBotToken(client(), "flag-a-admin"));
  auto bob = bot_->Client(EchoBotToken(client(), "flag-b-admin"));
  const auto echo = [](HttpClient& c) {
    auto r = c.Post("/v1/echo", R"({"message":"Quiet please"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(Body(r), "echo");
  };
  EXPECT_EQ(echo(alice), "QUIET PLEASE");
  EXPECT_EQ(echo(bob), "Quiet please");
  // On for everyone: bob's answer follows within the SDK's refresh.
  ASSERT_EQ(client()
                .Request("PATCH", "/flags/echo.uppercase", R"({"default":true})",
                         {{"Content-Type", "application/merge-patch+json"}})
                .status,
            200);
  std::string got;
  const auto start = std::chrono::steady_clock::now();
  while (got != "QUIET PLEASE" &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(15)) {
    got = echo(bob);
    if (got != "QUIET PLEASE") std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(got, "QUIET PLEASE");
}

BREAKPILOT_ON_BOTH_STORES(EchoBotTest);

// The SDK's evaluate() answers the manifest's flag default as the platform's catalog gives it:
// echo-bot's own fallback for echo.uppercase is "off"; this catalog's manifest says "on".
class EchoBotFlagTest : public EchoBotTest {
 protected:
  EchoBotFlagTest() {
    const std::string path = catalog_ + "/echo-bot/product.manifest.yaml";
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    const std::string on =
        std::regex_replace(text.str(), std::regex(R"(default: "off")"), R"(default: "on")");
    EXPECT_NE(on, text.str()) << "the manifest names echo.uppercase";
    std::ofstream(path) << on;
  }
};

TEST_P(EchoBotFlagTest, TheManifestsFlagDefaultReachesEvaluateThroughTheCatalog) {
  const auto catalog = Json(client().Get("/catalog")).at("items").as_array();
  ASSERT_EQ(catalog.size(), 1U);
  EXPECT_EQ(catalog[0].at("flags").at("echo.uppercase"), "on");
  BookedTenant("flag-a");
  auto alice = bot_->Client(EchoBotToken(client(), "flag-a-admin"));
  auto sent = alice.Post("/v1/echo", R"({"message":"Quiet please"})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(Str(Body(sent), "echo"), "QUIET PLEASE");
}

BREAKPILOT_ON_BOTH_STORES(EchoBotFlagTest);

}  // namespace
}  // namespace breakpilot::testing
