// The lifecycle engine with several replicas on one PostgreSQL (issue 5): three servers drive the
// time-warped lifecycle of 1,000 tenants together and every mail, transition and product call
// happens once; a replica SIGKILLed in the middle of an offboarding is finished by another, and
// no product is asked to delete before the export is stored.
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "../support/fake_product.hpp"
#include "../support/mail_sink.hpp"
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;
constexpr std::int64_t kDay = 86400;

class LifecycleReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(Store::kPostgres);
    BREAKPILOT_REQUIRE_STORE(*db_);
    catalog_ = MakeTempDir("bp-catalog");
    products_.WriteCatalog(catalog_);
    check_db_ = db_->Open();
    products_.CheckExportsIn(check_db_.get());
  }
  void TearDown() override { products_.CheckExportsIn(nullptr); }

  std::vector<std::string> Args(const std::string& lease = "300") const {
    return {"--enable-test-clock", "--smtp-url", smtp_.url(),         "--smtp-starttls=false",
            "--catalog-dir",       catalog_,     "--public-url",      "https://breakpilot.test",
            "--job-lease-seconds", lease,        "--access-log=false"};
  }
  std::int64_t Count(const std::string& sql, const std::vector<storage::Param>& params = {}) {
    std::int64_t n = 0;
    check_db_->Read([&](storage::Session& s) {
      n = s.FetchOne({"test_count", sql, {}, true}, params)->Int(0);
    });
    return n;
  }

  SmtpSink smtp_;
  FakeProduct products_{{"alpha", "beta"}};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<storage::Database> check_db_;
  std::string catalog_;
};

TEST_F(LifecycleReplicasTest, ThreeReplicasDriveAThousandTenantsEachStepOnce) {
  constexpr std::size_t kTenants = 1000;
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::vector<std::unique_ptr<HttpClient>> staff;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(std::make_unique<ServerProcess>(db_->url(), Args()));
    staff.push_back(
        std::make_unique<HttpClient>("127.0.0.1", replicas.back()->port(), ServerProcess::kToken));
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < kTenants; ++i) {
    HttpClient& c = *staff[i % 3];
    auto r = c.Post("/tenants", R"({"slug":"t)" + std::to_string(i) +
                                    R"(","name":"Tenant","contact_email":"owner)" +
                                    std::to_string(i) + R"(@example.com"})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.emplace_back(json::parse(r.body).at("id").as_string());
    ASSERT_EQ(c.Post("/tenants/" + ids.back() + "/products", R"({"product_id":"alpha"})").status,
              201);
  }
  const auto started = std::chrono::steady_clock::now();
  // Day 7, day 12, day 14 (trial ends, frozen), day 44 (offboarded); each warp through another
  // replica, all three working the queue.
  const std::int64_t steps[] = {7 * kDay, 5 * kDay, 2 * kDay, 30 * kDay};
  for (std::size_t i = 0; i < 4; ++i) {
    AdvanceClock(*staff[i % 3], steps[i]);
    WaitForIdleJobs(*staff[(i + 1) % 3], std::chrono::seconds(240));
  }
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Every mail once: three lifecycle mails and the export link per tenant, nothing else.
  const auto mails = smtp_.WaitFor(4 * kTenants, std::chrono::seconds(60));
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& m : mails) {
    ASSERT_EQ(m.rcpt_tos.size(), 1U);
    ++seen[{m.rcpt_tos[0], m.Header("subject")}];
  }
  EXPECT_EQ(mails.size(), 4 * kTenants);
  EXPECT_EQ(seen.size(), 4 * kTenants);
  for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << " " << key.second;

  // Every transition once, every tenant archived.
  const auto n = static_cast<std::int64_t>(kTenants);
  EXPECT_EQ(Count("SELECT count(*) FROM tenants WHERE status = 'archived'"), n);
  for (const char* action :
       {"tenant.expire_trial", "tenant.offboarding_started", "tenant.export_stored",
        "tenant.product_data_deleted", "tenant.archive"}) {
    EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = $1", {std::string(action)}), n)
        << action;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM exports"), n);
  EXPECT_EQ(Count("SELECT count(*) FROM mail_outbox WHERE state <> 'sent'"), 0);

  // Every product call once, and never a DELETE before the export was stored.
  std::map<std::string, int> exports, deletes;
  for (const auto& c : products_.Calls()) {
    if (c.method == "GET") ++exports[c.tenant_id];
    if (c.method == "DELETE") {
      ++deletes[c.tenant_id];
      EXPECT_TRUE(c.export_stored) << c.tenant_id;
    }
  }
  EXPECT_EQ(exports.size(), kTenants);
  EXPECT_EQ(deletes.size(), kTenants);
  for (const auto& id : ids) {
    EXPECT_EQ(exports[id], 1) << id;
    EXPECT_EQ(deletes[id], 1) << id;
  }
  // Which replica did what (for the log; how the work spreads is up to the scheduler).
  for (std::size_t i = 0; i < 3; ++i) {
    const auto metrics = staff[i]->Get("/metrics").body;
    const auto at = metrics.find("breakpilot_jobs_total{kind=\"mail.send\",outcome=\"completed\"}");
    std::cout << "replica " << i << ": "
              << (at == std::string::npos ? "no mail"
                                          : metrics.substr(at, metrics.find('\n', at) - at))
              << "\n";
  }
  std::cout << "1,000 tenants, 44 days, 3 replicas: " << seconds << " s of wall time\n";
}

TEST_F(LifecycleReplicasTest, AReplicaKilledMidOffboardingIsFinishedByAnother) {
  // Short leases, so the survivor takes over within seconds of the kill.
  auto a = std::make_unique<ServerProcess>(db_->url(), Args("3"));
  HttpClient staff_a("127.0.0.1", a->port(), ServerProcess::kToken);
  auto t = staff_a.Post("/tenants", R"({"slug":"doomed","name":"Doomed","initial_status":"active",)"
                                    R"("contact_email":"it@doomed.example"})");
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string id(json::parse(t.body).at("id").as_string());
  for (const char* p : {"alpha", "beta"}) {
    ASSERT_EQ(
        staff_a.Post("/tenants/" + id + "/products", R"({"product_id":")" + std::string(p) + "\"}")
            .status,
        201);
  }
  ASSERT_EQ(
      staff_a.Post("/tenants/" + id + "/cancel", R"({"reason":"done","confirm":"doomed"})").status,
      200);

  // The first product's DELETE hangs; the replica dies while it waits for the answer.
  products_.delete_delay_ms = 5000;
  AdvanceClock(staff_a, 30 * kDay + 60);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (products_.Count("DELETE", id) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(products_.Count("DELETE", id), 1U) << "the offboarding never reached a product";
  a->Kill();
  products_.delete_delay_ms = 0;
  EXPECT_EQ(Count("SELECT count(*) FROM tenants WHERE id = $1 AND status = 'frozen'", {id}), 1)
      << "killed before the end";

  ServerProcess b(db_->url(), Args("3"));
  HttpClient staff_b("127.0.0.1", b.port(), ServerProcess::kToken);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string status;
  while (status != "archived" && std::chrono::steady_clock::now() < until) {
    status = std::string(json::parse(staff_b.Get("/tenants/" + id).body).at("status").as_string());
    if (status != "archived") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, "archived") << "the survivor did not finish the offboarding";

  EXPECT_EQ(Count("SELECT count(*) FROM exports WHERE tenant_id = $1", {id}), 1)
      << "one final export";
  std::size_t deletes = 0;
  for (const auto& c : products_.Calls()) {
    if (c.tenant_id != id || c.method != "DELETE") continue;
    ++deletes;
    EXPECT_TRUE(c.export_stored) << "a DELETE on " << c.product << " before the export was stored";
  }
  EXPECT_GE(deletes, 2U);
  EXPECT_LE(deletes, 3U) << "at most the interrupted one is repeated";
  EXPECT_EQ(products_.Count("GET", id), 2U) << "the stored exports were not fetched again";
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = $2",
                  {id, std::string("tenant.archive")}),
            1);
  const auto mails = smtp_.WaitFor(1);
  std::size_t export_mails = 0;
  for (const auto& m : mails) {
    if (m.Header("subject") == "Your Breakpilot data export is ready") ++export_mails;
  }
  EXPECT_EQ(export_mails, 1U);
}

}  // namespace
}  // namespace breakpilot::testing
