// Physical isolation (issue 26, M18.2) end to end: staff isolate a tenant through the platform's
// API; the isolation job asks echo-bot (the SDK's TenantStore, on the store under test) to move
// the tenant; afterwards its rows are only in its own place (PostgreSQL: its schema, which only
// its role reaches; SQLite: its own file), echo-bot serves them as before, and the audit trail
// says so. echo-bot killed with SIGKILL in the middle of a move finishes it when it is back.
#include "e2e_fixture.hpp"
#include "echo_bot_support.hpp"
#include "identity_support.hpp"
#include "isolation_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

class IsolationTest : public EchoBotE2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--catalog-dir", catalog_, "--password-memory-kib", "2048"};
  }
  std::vector<std::string> BotArgs() override {
    bot_db_ = std::make_unique<BotDatabase>(GetParam());
    return {"--database", bot_db_->location(),     "--move-batch-rows",
            "25",         "--move-batch-pause-ms", "40"};
  }
  void TearDown() override {
    bot_.reset();
    bot_db_.reset();
    EchoBotE2eTest::TearDown();
  }

  // `n` echoes written straight into echo-bot's shared table (quicker than n API calls).
  void Seed(const std::string& tenant, int n) {
    const std::string sql =
        "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < " +
        std::to_string(n) +
        ") INSERT INTO echoes (tenant, project, message, actor, created) SELECT '" + tenant +
        "', 'default', 'seeded ' || n, 'seed', 1800000000 FROM i";
    bot_db_->Execute(sql);
  }
  std::int64_t SharedRows(const std::string& tenant) {
    return bot_db_->Count("SELECT (SELECT count(*) FROM echoes WHERE tenant = '" + tenant +
                          "') + (SELECT count(*) FROM projects WHERE tenant = '" + tenant + "')");
  }
  std::int64_t OwnEchoes(const std::string& tenant) {
    return bot_db_->postgres()
               ? bot_db_->Count("SELECT count(*) FROM \"tenant_" + tenant + "\".echoes")
               : bot_db_->CountInTenantFile(tenant, "SELECT count(*) FROM echoes");
  }
  static std::int64_t Field(const json::object& o, const char* k) { return o.at(k).as_int64(); }

  std::unique_ptr<BotDatabase> bot_db_;
};

TEST_P(IsolationTest, AnIsolatedTenantsRowsLiveOnlyInItsOwnPlace) {
  const std::string acme = BookedTenant("iso-acme");
  const std::string globex = BookedTenant("iso-globex");
  auto acme_user = bot_->Client(EchoBotToken(client(), "iso-acme-admin"));
  auto globex_user = bot_->Client(EchoBotToken(client(), "iso-globex-admin"));
  ASSERT_EQ(acme_user.Post("/v1/projects", R"({"id":"apart","name":"Kept apart"})").status, 201);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(acme_user.Post("/v1/echo", R"({"message":"acme )" + std::to_string(i) + "\"}").status,
              200);
    ASSERT_EQ(globex_user.Post("/v1/echo", R"({"message":"globex"})").status, 200);
  }
  Seed(acme, 200);
  ASSERT_EQ(SharedRows(acme), 204);

  // Before: shared, nothing asked of any product.
  auto before = Json(client().Get("/tenants/" + acme + "/isolation"));
  EXPECT_EQ(Str(before, "isolation"), "shared");
  EXPECT_EQ(Str(before, "state"), "shared");

  const auto after = IsolateTenant(client(), acme);
  ASSERT_EQ(Str(after, "state"), "isolated") << json::serialize(after);
  EXPECT_EQ(Str(after, "isolation"), "schema");
  const auto& products = after.at("products").as_array();
  ASSERT_EQ(products.size(), 1U);
  EXPECT_EQ(Str(products[0].as_object(), "product"), "echo-bot");
  EXPECT_EQ(Str(products[0].as_object(), "phase"), "done");
  EXPECT_EQ(Field(products[0].as_object(), "copied"), 204);

  // Only in its own place now; the other tenant stays shared.
  EXPECT_EQ(SharedRows(acme), 0);
  EXPECT_EQ(OwnEchoes(acme), 203);
  EXPECT_EQ(SharedRows(globex), 3);
  // echo-bot serves the tenant as before, and its new echoes land in its own place.
  auto echoes = acme_user.Get("/v1/echoes?limit=500");
  ASSERT_EQ(echoes.status, 200);
  EXPECT_EQ(Json(echoes).at("echoes").as_array().size(), 203U);
  auto projects = acme_user.Get("/v1/projects");
  EXPECT_NE(projects.body.find("Kept apart"), std::string::npos) << projects.body;
  ASSERT_EQ(acme_user.Post("/v1/echo", R"({"message":"after the move"})").status, 200);
  EXPECT_EQ(OwnEchoes(acme), 204);
  EXPECT_EQ(SharedRows(acme), 0);
  EXPECT_EQ(Json(globex_user.Get("/v1/echoes")).at("echoes").as_array().size(), 3U);

  if (bot_db_->postgres()) {
    ASSERT_EQ(Str(IsolateTenant(client(), globex), "state"), "isolated");
    // The tenant's role reaches its own schema, and nothing else.
    EXPECT_EQ(bot_db_->AsTenantRole(acme, "SELECT count(*) FROM \"tenant_" + acme + "\".echoes"),
              "");
    for (const std::string& sql : std::vector<std::string>{
             "SELECT count(*) FROM public.echoes", "SELECT count(*) FROM public.deleted_tenants",
             "SELECT count(*) FROM \"tenant_" + globex + "\".echoes",
             "INSERT INTO public.echoes (tenant, project, message, actor, created) VALUES ('x', "
             "'x', 'x', 'x', 0)"}) {
      EXPECT_NE(bot_db_->AsTenantRole(acme, sql).find("permission denied"), std::string::npos)
          << sql;
    }
  }

  // Asked again: nothing to do; asked otherwise: refused; nonsense: refused.
  auto again =
      client().Request("PUT", "/tenants/" + acme + "/isolation", R"({"isolation":"schema"})");
  EXPECT_EQ(again.status, 200) << again.body;
  auto other =
      client().Request("PUT", "/tenants/" + acme + "/isolation", R"({"isolation":"database"})");
  EXPECT_EQ(other.status, 409) << other.body;
  auto back =
      client().Request("PUT", "/tenants/" + acme + "/isolation", R"({"isolation":"shared"})");
  EXPECT_EQ(back.status, 422) << back.body;
  auto bad = client().Request("PUT", "/tenants/" + acme + "/isolation", R"({"isolation":7})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");

  // A customer's own admin may read where its data lives, not move it, and not see another's.
  auto admin =
      HttpClient("127.0.0.1", server_->port(), SignIn(client(), "iso-acme-admin", kPassword));
  EXPECT_EQ(admin.Get("/tenants/" + acme + "/isolation").status, 200);
  EXPECT_EQ(
      admin.Request("PUT", "/tenants/" + acme + "/isolation", R"({"isolation":"schema"})").status,
      403);
  EXPECT_EQ(admin.Get("/tenants/" + globex + "/isolation").status, 404) << "another tenant's";

  // The audit trail: asked for, and done.
  const std::string trail = client().Get("/audit?tenant_id=" + acme + "&limit=100").body;
  EXPECT_NE(trail.find("tenant.isolation_requested"), std::string::npos) << trail;
  EXPECT_NE(trail.find("tenant.isolated"), std::string::npos) << trail;
}

TEST_P(IsolationTest, AMoveKilledHalfwayFinishesWhenEchoBotIsBack) {
  const std::string id = BookedTenant("iso-kill");
  Seed(id, 1500);
  auto put = client().Request("PUT", "/tenants/" + id + "/isolation", R"({"isolation":"schema"})");
  ASSERT_EQ(put.status, 202) << put.body;

  // Wait until the platform reports part of the copy, then kill echo-bot outright.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::int64_t copied = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto p = Json(client().Get("/tenants/" + id + "/isolation")).at("products").as_array();
    copied = p.empty() ? 0 : Field(p[0].as_object(), "copied");
    if (copied >= 100) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(copied, 100);
  ASSERT_LT(copied, 1500) << "the move ended before the kill: slow it down";
  const std::string secret = bot_->secret();
  bot_->Kill();
  bot_.reset();
  EXPECT_GT(SharedRows(id), 0) << "the shared rows stay until the switch";

  // Back with the same database: it resumes the move it recorded; the platform sees it end.
  bot_ = std::make_unique<EchoBot>(secret, server_->port(), echo_port_,
                                   std::vector<std::string>{"--database", bot_db_->location()});
  const auto done = IsolateTenant(client(), id);
  ASSERT_EQ(Str(done, "state"), "isolated") << json::serialize(done);
  EXPECT_EQ(Field(done.at("products").as_array()[0].as_object(), "copied"), 1500);
  EXPECT_EQ(OwnEchoes(id), 1500) << "every row, none twice";
  EXPECT_EQ(SharedRows(id), 0);
  auto user = bot_->Client(EchoBotToken(client(), "iso-kill-admin"));
  auto latest = user.Get("/v1/echoes?limit=1");
  ASSERT_EQ(latest.status, 200);
  EXPECT_NE(latest.body.find("seeded 1500"), std::string::npos) << latest.body;
}

BREAKPILOT_ON_BOTH_STORES(IsolationTest);

}  // namespace
}  // namespace breakpilot::testing
