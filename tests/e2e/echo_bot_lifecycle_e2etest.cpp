// echo-bot through a tenant's whole life (issue 24): trial -> use -> the trial's daily calls
// spent (429) -> cancel (frozen: reads only) -> 30 days later offboarding exports echo-bot's
// data into the final ZIP and deletes it -> 410 afterwards. The real platform with its test
// clock, a real SMTP server, and echo-bot (whose clock follows) instead of a contract fake.
#include <zip.h>

#include <regex>

#include "../support/mail_sink.hpp"
#include "e2e_fixture.hpp"
#include "echo_bot_support.hpp"
#include "identity_support.hpp"
#include "isolation_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;
constexpr std::int64_t kDay = 86400;

// One file of a ZIP held in memory; "" when absent.
std::string ZipEntry(const std::string& zip, const std::string& name) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip.data(), zip.size(), 0, &error);
  zip_t* archive = source != nullptr ? zip_open_from_source(source, ZIP_RDONLY, &error) : nullptr;
  std::string out;
  if (archive == nullptr) {
    if (source != nullptr) zip_source_free(source);
    zip_error_fini(&error);
    return out;
  }
  if (zip_file_t* f = zip_fopen(archive, name.c_str(), 0)) {
    char buf[4096];
    for (zip_int64_t n; (n = zip_fread(f, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    zip_fclose(f);
  }
  zip_close(archive);
  zip_error_fini(&error);
  return out;
}

std::string Target(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

class EchoBotLifecycleTest : public EchoBotE2eTest {
 protected:
  std::vector<std::string> BotArgs() override { return {"--enable-test-clock"}; }
  std::vector<std::string> ExtraArgs() override {
    return {"--enable-test-clock",   "--smtp-url",    smtp_.url(),
            "--smtp-starttls=false", "--catalog-dir", catalog_,
            "--password-memory-kib", "2048"};
  }
  // echo-bot's clock first (so the platform's tokens are never from its future), then the
  // platform's; then waits until no job is due.
  void Advance(std::int64_t seconds) {
    auto r = bot_->Client().Post("/internal/clock",
                                 R"({"advance_seconds":)" + std::to_string(seconds) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    AdvanceClock(client(), seconds);
    WaitForIdleJobs(client());
  }
  std::string Status(const std::string& id) {
    return Str(Json(client().Get("/tenants/" + id)), "status");
  }
  // The whole life; with `isolate`, the tenant's echo-bot data moved to a place of its own
  // (physical isolation, M18.2) right after it subscribed.
  void Life(bool isolate);

  SmtpSink smtp_;
  std::unique_ptr<BotDatabase> bot_db_;  // echo-bot's database, when a test chose one
};

// The same life for a tenant kept physically apart (issue 26): echo-bot on the store under test
// (PostgreSQL: the tenant in a schema and role of its own; SQLite: a file of its own).
class IsolatedEchoBotLifecycleTest : public EchoBotLifecycleTest {
 protected:
  std::vector<std::string> BotArgs() override {
    bot_db_ = std::make_unique<BotDatabase>(GetParam());
    return {"--enable-test-clock", "--database", bot_db_->location()};
  }
  void TearDown() override {
    bot_.reset();
    bot_db_.reset();
    EchoBotLifecycleTest::TearDown();
  }
};

TEST_P(EchoBotLifecycleTest, TrialUseQuotaCancelOffboardingGone) {
  Life(false);
}

TEST_P(IsolatedEchoBotLifecycleTest, TrialUseQuotaCancelOffboardingGone) {
  Life(true);
}

void EchoBotLifecycleTest::Life(bool isolate) {
  const std::string id =
      Str(CreateTenant("echo-life", R"(,"contact_email":"it@echo-life.example")"), "id");
  ASSERT_EQ(Status(id), "trial");
  ASSERT_EQ(client().Post("/tenants/" + id + "/products", R"({"product_id":"echo-bot"})").status,
            201);
  CreateUser(client(), "life-admin", {}, id, {"IT_ADMIN"});
  if (isolate) {
    const auto moved = IsolateTenant(client(), id);
    ASSERT_EQ(Str(moved, "state"), "isolated") << json::serialize(moved);
  }
  auto owner = [&] { return bot_->Client(EchoBotToken(client(), "life-admin")); };

  // Use: the trial's token carries its quota; echo-bot counts each call against it.
  auto user = owner();
  ASSERT_EQ(user.Post("/v1/projects", R"({"id":"launch","name":"Launch plan"})").status, 201);
  auto sent = user.Post("/v1/echo", R"({"message":"keep this in the export","project":"launch"})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  const std::string claims = json::serialize(DecodeClaims(EchoBotToken(client(), "life-admin")));
  ASSERT_NE(claims.find(R"("api_calls_per_day":1000)"), std::string::npos) << claims;
  int ok = 2;
  HttpResponse last;
  for (int i = 0; i < 1100; ++i) {
    last = user.Get("/v1/echoes?limit=1");
    if (last.status != 200) break;
    ++ok;
  }
  EXPECT_EQ(ok, 1000) << "the trial's 1000 calls a day, then no more";
  EXPECT_EQ(last.status, 429) << last.body;
  EXPECT_NE(last.body.find("quota-exceeded"), std::string::npos);
  // The next day (platform and product time) the quota is fresh.
  Advance(kDay);
  user = owner();
  EXPECT_EQ(user.Get("/v1/echoes?limit=1").status, 200);

  // Cancel: frozen at once; echo-bot reads on, refuses writes.
  auto cancelled =
      client().Post("/tenants/" + id + "/cancel", R"({"reason":"budget","confirm":"echo-life"})");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  ASSERT_EQ(Str(Json(cancelled), "status"), "frozen");
  user = owner();
  EXPECT_EQ(user.Get("/v1/echoes").status, 200);
  auto refused = user.Post("/v1/echo", R"({"message":"more"})");
  EXPECT_EQ(refused.status, 402) << refused.body;

  // Offboarding, 30 days on: echo-bot's data in the final export, then deleted.
  Advance(30 * kDay);
  ASSERT_EQ(Status(id), "archived");
  std::vector<Mail> mails;
  for (int i = 1; i <= 5 && mails.empty(); ++i) {
    for (const auto& m : smtp_.WaitFor(static_cast<std::size_t>(i), std::chrono::seconds(5))) {
      if (m.Header("subject") == "Your Breakpilot data export is ready") mails.push_back(m);
    }
  }
  ASSERT_EQ(mails.size(), 1U);
  const std::string link = Target(std::regex_replace(
      mails[0].text, std::regex(R"([\s\S]*?(https?://\S+/exports/\S+)[\s\S]*)"), "$1"));
  HttpClient anonymous("127.0.0.1", server_->port());
  auto zip = anonymous.Get(link);
  ASSERT_EQ(zip.status, 200) << link;
  const std::string data = ZipEntry(zip.body, "products/echo-bot.json");
  ASSERT_FALSE(data.empty()) << "no products/echo-bot.json in the export";
  const auto exported = json::parse(data).as_object();
  EXPECT_EQ(exported.at("tenant_id").as_string(), id);
  EXPECT_NE(data.find("keep this in the export"), std::string::npos) << data;
  EXPECT_NE(data.find("Launch plan"), std::string::npos) << data;

  // Afterwards: echo-bot holds nothing for the tenant and says so (to the platform, 31 days on);
  // the tenant's own token now says archived, and echo-bot's gate answers 410 to it.
  const std::int64_t later = std::time(nullptr) + 31 * kDay;
  auto platform = bot_->Client(MintToken(*db_, server_->port(),
                                         {{"sub", "platform"},
                                          {"aud", "echo-bot"},
                                          {"realm_roles", json::array{"SERVICE"}},
                                          {"iat", later},
                                          {"nbf", later},
                                          {"exp", later + 120}}));
  EXPECT_EQ(platform.Get("/v1/tenants/" + id + "/export").status, 410);
  const std::string last_token = EchoBotToken(client(), "life-admin");
  EXPECT_EQ(Str(DecodeClaims(last_token), "tenant_status"), "archived");
  auto gone = bot_->Client(last_token).Get("/v1/echoes");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_NE(gone.body.find("tenant-archived"), std::string::npos);

  if (isolate) {
    // Its place went with its data: no schema (or file), no rows anywhere.
    EXPECT_EQ(bot_db_->Count("SELECT count(*) FROM echoes WHERE tenant = '" + id + "'"), 0);
    if (bot_db_->postgres()) {
      EXPECT_EQ(
          bot_db_->Count("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_" + id + "'"),
          0);
      EXPECT_EQ(bot_db_->Count("SELECT count(*) FROM pg_roles WHERE rolname LIKE '" + id + "@%'"),
                0);
    } else {
      EXPECT_FALSE(std::filesystem::exists(bot_db_->location() + ".tenants/" + id + ".db"));
    }
  }
}

BREAKPILOT_ON_BOTH_STORES(EchoBotLifecycleTest);
BREAKPILOT_ON_BOTH_STORES(IsolatedEchoBotLifecycleTest);

}  // namespace
}  // namespace breakpilot::testing
