// The nightly demo reset at 03:00 Europe/Berlin runs exactly once on the spring-forward night and
// once on the fall-back night (issue 5), with the schedule kept the way a server keeps it: every
// step re-ensures the next occurrence (as Api::Maintain does each minute) and runs what is due.
#include "lifecycle/engine.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "storage/migrations.hpp"
#include "test_env.hpp"

namespace breakpilot::lifecycle {
namespace {

using testing::ManualClock;
using testing::Store;
using testing::TestDatabase;

catalog::Manifest Product(const std::string& id) {
  catalog::Manifest m;
  m.id = id;
  m.name = id;
  m.base_url = "http://127.0.0.1:9/" + id;
  return m;
}

class DemoResetScheduleTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    mailer_ = std::make_unique<mail::Mailer>(*db_, clock_, nullptr, "t <t@example.com>");
    products_ = std::make_unique<ProductClient>(
        [this](const outbound::Request& req) -> Result<outbound::Response> {
          std::lock_guard lock(mu_);
          calls_.push_back({req.url, clock_.Now()});
          return outbound::Response{.status = 200};
        },
        [](const std::string&) -> Result<std::string> { return std::string("token"); });
    engine_ = std::make_unique<Engine>(*db_, clock_, catalog_, *tenants_, *mailer_, *products_,
                                       EngineSettings{});
    queue_ = std::make_unique<jobs::Queue>(*db_, clock_);
    runner_ = std::make_unique<jobs::Runner>(*queue_);
    engine_->Register(*runner_);
  }
  // Moves the clock to `to` in 10-minute steps, running the schedule as a server would.
  void RunUntil(Timestamp to) {
    while (clock_.Now() < to) {
      clock_.Advance(600);
      engine_->EnsureSchedules();
      runner_->RunDue();
    }
  }
  // The instants at which a product saw a reset (one per product per run).
  std::vector<Timestamp> Resets() {
    std::lock_guard lock(mu_);
    std::vector<Timestamp> out;
    for (const auto& [url, at] : calls_) {
      if (url.find("/alpha/") != std::string::npos) out.push_back(at);
    }
    calls_.clear();
    return out;
  }
  static Timestamp At(const char* s) { return *ParseTimestamp(s); }

  ManualClock clock_;  // 2027-01-15T08:00:00Z
  catalog::Catalog catalog_{std::vector<catalog::Manifest>{Product("alpha"), Product("beta")}};
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::unique_ptr<ProductClient> products_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<jobs::Queue> queue_;
  std::unique_ptr<jobs::Runner> runner_;
  std::mutex mu_;
  std::vector<std::pair<std::string, Timestamp>> calls_;
};

TEST_P(DemoResetScheduleTest, RunsOnceAtThreeInBerlinOnBothDaylightSavingNights) {
  // Spring forward: Sunday 28 March 2027, 02:00 CET -> 03:00 CEST.
  clock_.Advance((At("2027-03-27T12:00:00Z").micros - clock_.Now().micros) / kMicrosPerSecond);
  engine_->EnsureSchedules();
  runner_->RunDue();
  Resets();  // whatever fell due on the way here
  RunUntil(At("2027-03-29T12:00:00Z"));
  auto spring = Resets();
  ASSERT_EQ(spring.size(), 2U) << "one reset per night";
  // Each ran in the first step after 03:00 local: 01:00Z (CEST) both nights.
  EXPECT_EQ(FormatRfc3339(spring[0]).substr(0, 13), "2027-03-28T01");
  EXPECT_EQ(FormatRfc3339(spring[1]).substr(0, 13), "2027-03-29T01");

  // Fall back: Sunday 31 October 2027, 03:00 CEST -> 02:00 CET; 02:00-03:00 happens twice.
  clock_.Advance((At("2027-10-30T12:00:00Z").micros - clock_.Now().micros) / kMicrosPerSecond);
  engine_->EnsureSchedules();
  runner_->RunDue();
  EXPECT_LE(Resets().size(), 1U) << "months skipped in one jump run the overdue night once";
  RunUntil(At("2027-11-01T12:00:00Z"));
  auto autumn = Resets();
  ASSERT_EQ(autumn.size(), 2U) << "one reset per night";
  EXPECT_EQ(FormatRfc3339(autumn[0]).substr(0, 13), "2027-10-31T02");  // 03:00 CET
  EXPECT_EQ(FormatRfc3339(autumn[1]).substr(0, 13), "2027-11-01T02");

  // Each occurrence is one job, done; the next night waits.
  auto done = queue_->List({.state = jobs::State::kDone, .kind = "demo.reset", .limit = 1000});
  std::set<std::string> keys;
  for (const auto& j : done) keys.insert(j.dedupe_key.value_or(""));
  EXPECT_EQ(keys.size(), done.size());
  EXPECT_TRUE(keys.count("demo.reset:2027-10-31T02:00:00.000000Z"));
  EXPECT_TRUE(keys.count("demo.reset:2027-03-28T01:00:00.000000Z"));
  EXPECT_EQ(queue_->List({.state = jobs::State::kPending, .kind = "demo.reset"}).size(), 1U);
}

INSTANTIATE_TEST_SUITE_P(Stores, DemoResetScheduleTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::lifecycle
