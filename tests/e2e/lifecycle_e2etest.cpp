// The tenant lifecycle end to end (issue 5; M12.1, M12.2, M13.3, M14.1, M14.2, M3.2): the real
// binary with the test clock, a real SMTP server (aiosmtpd) and a contract fake of two products.
// Time is warped through POST /internal/clock; every test runs on SQLite and on PostgreSQL.
#include <filesystem>
#include <regex>
#include <thread>

#include "../support/fake_product.hpp"
#include "../support/mail_sink.hpp"
#include "core/crypto.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;
constexpr std::int64_t kDay = 86400;

// What a link in a mail carries after "token=".
std::string TokenIn(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("token=([A-Za-z0-9_.-]+)"))) return "";
  return m[1];
}

// The path and query of an absolute URL on our server.
std::string Target(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

class LifecycleTest : public E2eTest {
 protected:
  LifecycleTest() : smtp_({.reject_rcpt = {"bounce@example.com"}}), products_({"alpha", "beta"}) {
    products_.WriteCatalog(catalog_);
  }
  void SetUp() override {
    E2eTest::SetUp();
    if (!db_ || !db_->available()) return;
    check_db_ = db_->Open();
    products_.CheckExportsIn(check_db_.get());
  }
  void TearDown() override {
    products_.CheckExportsIn(nullptr);
    E2eTest::TearDown();
    check_db_.reset();
  }
  std::vector<std::string> ExtraArgs() override {
    return {"--enable-test-clock",
            "--smtp-url",
            smtp_.url(),
            "--smtp-starttls=false",
            "--catalog-dir",
            catalog_,
            "--trial-requests-per-hour",
            "3",
            "--seed-demo",
            "--password-memory-kib",
            "2048",
            "--mail-from",
            "Breakpilot <noreply@breakpilot.test>"};
  }

  // Moves the platform's clock and waits until no job is due or running any more.
  void Advance(std::int64_t seconds) {
    AdvanceClock(client(), seconds);
    WaitIdle();
  }
  void WaitIdle() { WaitForIdleJobs(client()); }
  std::string Status(const std::string& id) {
    return Str(Json(client().Get("/tenants/" + id)), "status");
  }
  json::array Audit(const std::string& query) {
    auto r = client().Get("/audit?include_demo=true&limit=1000&" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? Json(r).at("items").as_array() : json::array{};
  }
  static std::map<std::string, std::string> FormBody() {
    return {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", ""}};
  }

  SmtpSink smtp_;
  FakeProduct products_;
  std::string catalog_ = MakeTempDir("bp-catalog");
  std::unique_ptr<storage::Database> check_db_;
};

// The acceptance test: trial request -> mails of day 7, 12, 14 -> frozen -> day 30 -> export
// stored -> products' data deleted -> archived -> 410; the SMTP server got exactly these mails.
TEST_P(LifecycleTest, TrialToArchiveWithTimeWarp) {
  HttpClient anonymous("127.0.0.1", server_->port());
  auto asked = anonymous.Post("/catalog/trial-request",
                              R"({"email":"Owner@Acme.example","company_name":"Acme GmbH",)"
                              R"("slug":"acme"})");
  ASSERT_EQ(asked.status, 202) << asked.body;
  auto mails = smtp_.WaitFor(1);
  ASSERT_EQ(mails.size(), 1U);
  const Mail& verify = mails[0];
  EXPECT_EQ(verify.rcpt_tos, std::vector<std::string>{"owner@acme.example"});
  EXPECT_EQ(verify.mail_from, "noreply@breakpilot.test");
  EXPECT_NE(verify.Header("subject").find("Confirm your Breakpilot trial"), std::string::npos);
  EXPECT_FALSE(verify.Header("message-id").empty());
  EXPECT_FALSE(verify.Header("date").empty());
  EXPECT_TRUE(verify.Header("list-unsubscribe").empty()) << "a confirmation is not optional mail";
  const std::string token = TokenIn(verify.text);
  ASSERT_FALSE(token.empty()) << verify.text;
  EXPECT_NE(verify.html.find("Acme GmbH"), std::string::npos);

  auto page = anonymous.Get("/catalog/trial-request/confirm?token=" + token);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << "GET changes nothing";
  EXPECT_EQ(Json(client().Get("/tenants?slug=acme")).at("items").as_array().size(), 0U);
  auto confirmed =
      anonymous.Request("POST", "/catalog/trial-request/confirm", "token=" + token, FormBody());
  ASSERT_EQ(confirmed.status, 201) << confirmed.body;
  const auto tenant = Json(confirmed);
  const std::string id = Str(tenant, "id");
  EXPECT_EQ(Str(tenant, "status"), "trial");
  EXPECT_EQ(Str(tenant, "contact_email"), "owner@acme.example");
  EXPECT_EQ(Audit("tenant_id=" + id + "&action=tenant.create").size(), 1U);
  EXPECT_EQ(
      anonymous.Post("/catalog/trial-request/confirm", R"({"token":")" + token + "\"}").status,
      409);
  for (const char* p : {"alpha", "beta"}) {
    ASSERT_EQ(
        client()
            .Post("/tenants/" + id + "/products", R"({"product_id":")" + std::string(p) + "\"}")
            .status,
        201);
  }
  CreateUser(client(), "owner", {}, id, {"IT_ADMIN"});
  // The tenant's own IT_ADMIN, signed in afresh (tokens live 15 minutes of platform time).
  const auto owner = [&] {
    return HttpClient("127.0.0.1", server_->port(), SignIn(client(), "owner", kPassword));
  };
  EXPECT_EQ(owner().Get("/tenants/" + id).status, 200);

  Advance(7 * kDay);
  mails = smtp_.WaitFor(2);
  ASSERT_EQ(mails.size(), 2U);
  EXPECT_EQ(mails[1].Header("subject"), "A week into your Breakpilot trial: 7 days left");
  Advance(5 * kDay);
  mails = smtp_.WaitFor(3);
  ASSERT_EQ(mails.size(), 3U);
  EXPECT_EQ(mails[2].Header("subject"), "Your Breakpilot trial ends in 2 days");
  EXPECT_EQ(Status(id), "trial");
  Advance(2 * kDay);
  mails = smtp_.WaitFor(4);
  ASSERT_EQ(mails.size(), 4U);
  EXPECT_EQ(mails[3].Header("subject"), "Your Breakpilot trial has ended");
  EXPECT_EQ(Status(id), "frozen");
  // RFC 8058 on every lifecycle mail: an HTTP(S) URL in List-Unsubscribe, the one-click marker.
  std::set<std::string> message_ids;
  for (std::size_t i = 1; i <= 3; ++i) {
    const std::string lu = mails[i].Header("list-unsubscribe");
    EXPECT_TRUE(
        std::regex_match(lu, std::regex(R"(<https?://[^>]+/mail/unsubscribe\?token=[^>]+>)")))
        << lu;
    EXPECT_EQ(mails[i].Header("list-unsubscribe-post"), "List-Unsubscribe=One-Click");
    EXPECT_EQ(mails[i].rcpt_tos, std::vector<std::string>{"owner@acme.example"});
    message_ids.insert(mails[i].Header("message-id"));
  }
  EXPECT_EQ(message_ids.size(), 3U);

  // The status gate: a frozen tenant reads, but its writes get 402.
  EXPECT_EQ(owner().Get("/tenants/" + id).status, 200);
  auto blocked = owner().Request("PATCH", "/tenants/" + id, R"({"name":"Acme AG"})");
  EXPECT_EQ(blocked.status, 402) << blocked.body;
  EXPECT_NE(blocked.body.find("tenant-frozen"), std::string::npos);

  // One-click unsubscribe: the URL of the header takes the POST and answers, no redirect.
  const std::string lu = mails[3].Header("list-unsubscribe");
  const std::string unsubscribe = Target(lu.substr(1, lu.size() - 2));
  EXPECT_EQ(anonymous.Get(unsubscribe).status, 200);
  auto done = anonymous.Request("POST", unsubscribe, "List-Unsubscribe=One-Click", FormBody());
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Str(Json(done), "unsubscribed"), "owner@acme.example");
  EXPECT_EQ(Audit("action=mail.suppressed&target_id=owner@acme.example").size(), 1U);
  EXPECT_EQ(anonymous
                .Request("POST", "/mail/unsubscribe?token=forged.token",
                         "List-Unsubscribe=One-Click", FormBody())
                .status,
            422);

  Advance(30 * kDay);
  EXPECT_EQ(Status(id), "archived");
  mails = smtp_.WaitFor(5);
  ASSERT_EQ(mails.size(), 5U);
  EXPECT_EQ(mails[4].Header("subject"), "Your Breakpilot data export is ready")
      << "the final export is not optional: it goes out after an unsubscribe";
  EXPECT_TRUE(mails[4].Header("list-unsubscribe").empty());

  // Products: each exported, then each deleted, and every DELETE came with the export stored.
  const auto calls = products_.Calls();
  std::size_t exports = 0, deletes = 0;
  for (const auto& c : calls) {
    if (c.tenant_id != id) continue;
    EXPECT_EQ(c.audience, c.product) << "the platform token names the product";
    if (c.method == "GET") {
      ++exports;
      EXPECT_EQ(deletes, 0U) << "an export after a delete";
    }
    if (c.method == "DELETE") {
      ++deletes;
      EXPECT_TRUE(c.export_stored) << "DELETE on " << c.product << " before the export was stored";
    }
  }
  EXPECT_EQ(exports, 2U);
  EXPECT_EQ(deletes, 2U);

  // The export link: a ZIP with the products' data, the tenant record and the audit trail.
  const std::string link = Target(std::regex_replace(
      mails[4].text, std::regex(R"([\s\S]*?(https?://\S+/exports/\S+)[\s\S]*)"), "$1"));
  auto zip = anonymous.Get(link);
  ASSERT_EQ(zip.status, 200) << link << " " << zip.body.substr(0, 200);
  EXPECT_EQ(zip.Header("content-type"), "application/zip");
  ASSERT_GT(zip.body.size(), 4U);
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  for (const char* name : {"tenant.json", "subscriptions.json", "products/alpha.json",
                           "products/beta.json", "audit.csv"}) {
    EXPECT_NE(zip.body.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(anonymous.Get(link.substr(0, link.find("token=") + 6) + "x" + token).status, 404);

  // Finding 9 of issue 21: the outbox kept every sent mail whole, the trial's confirmation link
  // and the export's download link in clear. Once sent, the stored copy has them removed.
  {
    static constexpr storage::Query kOutbox{"test_outbox",
                                            "SELECT message, redacted, template FROM mail_outbox"};
    std::vector<storage::Row> rows;
    check_db_->Read([&](storage::Session& s) { rows = s.Fetch(kOutbox, {}); });
    ASSERT_EQ(rows.size(), 5U);
    const std::string export_token = TokenIn(link);
    ASSERT_FALSE(export_token.empty());
    for (const auto& r : rows) {
      const Mail stored = ParseMail(r.Text(0));
      for (const auto* secret : {&token, &export_token}) {
        EXPECT_EQ(stored.text.find(*secret), std::string::npos) << r.Text(2);
        EXPECT_EQ(stored.html.find(*secret), std::string::npos) << r.Text(2);
      }
      EXPECT_TRUE(r.IsNull(1)) << "the copy with the link is gone once sent: " << r.Text(2);
      if (r.Text(2) == "trial_verify" || r.Text(2) == "export_ready") {
        EXPECT_NE(stored.text.find("removed from our copy"), std::string::npos) << r.Text(2);
      }
    }
  }

  // Archived: the tenant itself gets 410 for everything; staff still see the record.
  EXPECT_EQ(owner().Get("/tenants/" + id).status, 410);
  EXPECT_EQ(Status(id), "archived");
  for (const char* action : {"tenant.expire_trial", "tenant.offboarding_started",
                             "tenant.export_stored", "tenant.archive"}) {
    EXPECT_EQ(Audit("tenant_id=" + id + "&action=" + action).size(), 1U) << action;
  }
  EXPECT_EQ(Audit("tenant_id=" + id + "&action=tenant.product_data_deleted").size(), 2U);
  EXPECT_GE(Audit("action=clock.advance").size(), 4U);

  // A week later the link has expired and the export itself is deleted (hourly, audited).
  Advance(7 * kDay + 3600);
  EXPECT_EQ(anonymous.Get(link).status, 410);
  const auto pruned_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Audit("tenant_id=" + id + "&action=export.expired").empty() &&
         std::chrono::steady_clock::now() < pruned_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(Audit("tenant_id=" + id + "&action=export.expired").size(), 1U);
  check_db_->Read([&](storage::Session& s) {
    EXPECT_EQ(s.FetchOne({"test_left_behind",
                          "SELECT (SELECT count(*) FROM exports WHERE tenant_id = $1) +"
                          " (SELECT count(*) FROM offboarding_products WHERE tenant_id = $1"
                          " AND export_body IS NOT NULL)"},
                         {id})
                  ->Int(0),
              0)
        << "no copy of the departed tenant's data stays behind";
  });
  // The same hourly pass deleted the done jobs of 44 days ago (kept 7 days by default): the
  // trial's reminder, expiry and offboarding jobs are gone, its mails' jobs too.
  check_db_->Read([&](storage::Session& s) {
    EXPECT_EQ(s.FetchOne({"test_old_done_jobs",
                          "SELECT count(*) FROM jobs WHERE state = 'done'"
                          " AND (dedupe_key LIKE $1 OR dedupe_key LIKE $2)"},
                         {"trial.%" + id + "%", "tenant.offboard:" + id + "%"})
                  ->Int(0),
              0);
  });
  EXPECT_NE(server_->Log().find("done jobs pruned"), std::string::npos);

  // Nothing else arrives: no job is due or running, no mail waits in the outbox, and the SMTP
  // server got exactly these five.
  WaitIdle();
  check_db_->Read([&](storage::Session& s) {
    EXPECT_EQ(
        s.FetchOne(
             {"test_pending_mail", "SELECT count(*) FROM mail_outbox WHERE state = 'pending'"}, {})
            ->Int(0),
        0);
  });
  EXPECT_EQ(smtp_.Messages().size(), 5U);
}

// M14.1: cancel wants a reason and the slug typed again; reactivation within 30 days brings the
// tenant back with nothing lost, and its scheduled offboarding then does nothing.
TEST_P(LifecycleTest, CancelAndReactivateWithinThirtyDays) {
  const std::string id = Str(
      CreateTenant("globex", R"(,"initial_status":"active","contact_email":"it@globex.example")"),
      "id");
  ASSERT_EQ(client().Post("/tenants/" + id + "/products", R"({"product_id":"alpha"})").status, 201);
  ASSERT_EQ(client().Post("/tenants/" + id + "/projects", R"({"name":"Keep me"})").status, 201);
  EXPECT_EQ(client().Post("/tenants/" + id + "/cancel", R"({"reason":"budget"})").status, 422);
  auto wrong =
      client().Post("/tenants/" + id + "/cancel", R"({"reason":"budget","confirm":"acme"})");
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("/confirm"), std::string::npos);
  auto cancelled =
      client().Post("/tenants/" + id + "/cancel", R"({"reason":"budget","confirm":"globex"})");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Str(Json(cancelled), "status"), "frozen");
  Advance(10 * kDay);
  auto back = client().Post("/tenants/" + id + "/reactivate", "");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(Str(Json(back), "status"), "active");
  Advance(25 * kDay);  // past the 30 days of the first freeze
  EXPECT_EQ(Status(id), "active");
  EXPECT_EQ(products_.Count("DELETE", id), 0U) << "a reactivated tenant is not offboarded";
  EXPECT_EQ(Json(client().Get("/tenants/" + id + "/projects")).at("items").as_array().size(), 1U);
  auto offboard = Json(client().Get("/jobs?kind=tenant.offboard")).at("items").as_array();
  ASSERT_EQ(offboard.size(), 1U);
  EXPECT_EQ(Str(offboard[0].as_object(), "state"), "done");
}

// Mail that bounces, complaints, the trial request limits, a failing demo reset and the job queue.
TEST_P(LifecycleTest, BouncesComplaintsLimitsAndFailedDemoReset) {
  HttpClient anonymous("127.0.0.1", server_->port());
  // The demo tenant, created at start, is seeded on every product with its fixture (M13.1).
  WaitIdle();
  EXPECT_EQ(products_.Count("POST"), 2U) << "one seeding reset per product";
  for (int i = 0; i < 3; ++i) {
    auto r = anonymous.Post("/catalog/trial-request",
                            R"({"email":"lead)" + std::to_string(i) +
                                R"(@initech.example","company_name":"Initech","slug":"initech)" +
                                std::to_string(i) + "\"}");
    EXPECT_EQ(r.status, 202) << r.body;
  }
  auto limited = anonymous.Post(
      "/catalog/trial-request",
      R"({"email":"lead9@initech.example","company_name":"Initech","slug":"initech9"})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("retry-after"), "3600");
  EXPECT_EQ(anonymous
                .Post("/catalog/trial-request",
                      R"({"email":"not an address","company_name":"","slug":"Bad Slug"})")
                .status,
            422);

  // A hard bounce at RCPT (the SMTP server says 550): the mail fails for good, the address is
  // suppressed and audited.
  const std::string bouncing =
      Str(CreateTenant("hooli", R"(,"contact_email":"bounce@example.com")"), "id");
  Advance(7 * kDay);
  EXPECT_EQ(Audit("action=mail.suppressed&target_id=bounce@example.com").size(), 1U);
  for (const auto& m : smtp_.Messages()) {
    EXPECT_NE(m.rcpt_tos, std::vector<std::string>{"bounce@example.com"});
  }

  // Complaint feedback from the mail server: a service credential, suppressed and audited.
  const auto service = ServiceToken(client(), "mailserver");
  HttpClient postmaster("127.0.0.1", server_->port(), service);
  auto fb =
      postmaster.Post("/inbound/postmaster",
                      R"({"type":"complaint","recipient":"Angry@Example.org","detail":"FBL"})");
  ASSERT_EQ(fb.status, 200) << fb.body;
  EXPECT_EQ(Str(Json(fb), "suppressed"), "angry@example.org");
  EXPECT_EQ(Audit("action=mail.suppressed&target_id=angry@example.org").size(), 1U);
  EXPECT_EQ(postmaster.Post("/inbound/postmaster", R"({"type":"unsubscribe","recipient":"a@b.c"})")
                .status,
            422);
  EXPECT_EQ(
      anonymous.Post("/inbound/postmaster", R"({"type":"bounce","recipient":"a@b.c"})").status,
      401);

  // A demo reset that fails is audited as a failure, counted, and retried. (The nightly one
  // ran during the warp above: counted from here.)
  const auto resets_before = Audit("action=demo.reset").size();
  const auto posts_before = products_.Count("POST");
  products_.fail_resets = 1;
  auto queued = client().Post("/demo/reset", "");
  ASSERT_EQ(queued.status, 202) << queued.body;
  WaitIdle();
  auto failed = Audit("action=demo.reset_failed");
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_TRUE(failed[0].as_object().at("is_failure").as_bool());
  auto jobs = Json(client().Get("/jobs?kind=demo.reset&state=pending")).at("items").as_array();
  std::string retry_id;
  for (const auto& j : jobs) {
    if (Str(j.as_object(), "dedupe_key").find("manual") != std::string::npos) {
      retry_id = Str(j.as_object(), "id");
      EXPECT_EQ(j.as_object().at("attempts").as_int64(), 1);
    }
  }
  ASSERT_FALSE(retry_id.empty());
  auto retried = client().Post("/jobs/" + retry_id + "/retry", "");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(Audit("action=job.retry").size(), 1U);
  WaitIdle();
  EXPECT_EQ(Audit("action=demo.reset").size(), resets_before + 1);
  EXPECT_EQ(client().Post("/jobs/" + retry_id + "/retry", "").status, 409) << "done: not again";
  EXPECT_EQ(products_.Count("POST") - posts_before, 4U) << "two products, twice";
  for (const auto& c : products_.Calls()) {
    if (c.method == "POST") {
      EXPECT_NE(c.body.find(c.product + "-seed-v1"), std::string::npos)
          << "the reset carries the product's fixture from the repository";
    }
  }
  const auto metrics = client().Get("/metrics").body;
  EXPECT_NE(metrics.find("breakpilot_demo_resets_total{outcome=\"failed\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("breakpilot_jobs_total{kind=\"mail.send\",outcome=\"completed\"}"),
            std::string::npos);
  EXPECT_EQ(client().Get("/jobs?state=zombie").status, 400);
  (void)bouncing;
}

BREAKPILOT_ON_BOTH_STORES(LifecycleTest);

// Without --enable-test-clock the route exists but the clock does not move.
class TestClockOffTest : public E2eTest {};

TEST_P(TestClockOffTest, ClockStaysPutWithoutTheFlag) {
  auto r = client().Post("/internal/clock", R"({"advance_seconds":60})");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("test-clock-disabled"), std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(TestClockOffTest);

// SMTP submission as production runs it (M3.2): STARTTLS with the server's certificate checked,
// then AUTH. A wrong password or a server without STARTTLS: nothing is sent in the clear, the
// mail waits in the outbox and its job records why.
class SmtpSubmissionTest : public ::testing::TestWithParam<Store> {
 protected:
  // Starts a server on a fresh database, asks for a trial (one mail), and returns the mail job's
  // last error once it has one (or "" once the mail was sent).
  std::string TrialMailVia(const SmtpSink& sink, const std::string& password, bool sent) {
    TestDatabase db(GetParam());
    if (!db.available()) return "no database";
    std::vector<std::string> args = {"--smtp-url", sink.url(),        "--smtp-username",
                                     "bp",         "--smtp-password", password};
    if (!sink.certificate().empty())
      args.insert(args.end(), {"--smtp-ca-file", sink.certificate()});
    ServerProcess server(db.url(), args);
    EXPECT_EQ(server.Log().find(password), std::string::npos) << "a secret in the log";
    HttpClient anonymous("127.0.0.1", server.port());
    HttpClient staff("127.0.0.1", server.port(), ServerProcess::kToken);
    auto r =
        anonymous.Post("/catalog/trial-request",
                       R"({"email":"it@secure.example","company_name":"Secure","slug":"secure"})");
    EXPECT_EQ(r.status, 202) << r.body;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto jobs = boost::json::parse(staff.Get("/jobs?kind=mail.send").body).at("items").as_array();
      if (!jobs.empty()) {
        const auto& j = jobs[0].as_object();
        if (sent && j.at("state").as_string() == "done") return "";
        if (!sent && j.at("last_error").is_string())
          return std::string(j.at("last_error").as_string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "timed out";
  }
};

TEST_P(SmtpSubmissionTest, StartTlsThenAuthOrNothingIsSent) {
  TestDatabase probe(GetParam());
  BREAKPILOT_REQUIRE_STORE(probe);
  SmtpSink secure({.tls = true, .auth = "bp:s3cret-pass"});
  EXPECT_EQ(TrialMailVia(secure, "s3cret-pass", true), "");
  auto mails = secure.WaitFor(1);
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_TRUE(mails[0].tls) << "sent after STARTTLS";
  EXPECT_EQ(mails[0].auth, "bp");

  const std::string refused = TrialMailVia(secure, "wrong-pass", false);
  EXPECT_NE(refused, "timed out");
  EXPECT_FALSE(refused.empty());
  EXPECT_EQ(secure.Messages().size(), 1U) << "a refused login sends nothing";

  SmtpSink plain;  // offers no STARTTLS
  const std::string clear = TrialMailVia(plain, "s3cret-pass", false);
  EXPECT_NE(clear, "timed out");
  EXPECT_EQ(plain.Messages().size(), 0U) << "never in the clear unless smtp_starttls=false";
}

BREAKPILOT_ON_BOTH_STORES(SmtpSubmissionTest);

}  // namespace
}  // namespace breakpilot::testing
