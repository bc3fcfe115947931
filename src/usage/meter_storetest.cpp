// Usage metering on both stores (usage::Meter): each event id applied once (also inside one
// batch and across retries), totals per day and month, a bad event refuses the whole batch, the
// tenant's limits, and a simulated year compacted to a few rows per tenant.
#include "usage/meter.hpp"

#include <gtest/gtest.h>

#include "test_env.hpp"

namespace breakpilot::usage {
namespace {

using testing::Store;

class MeterTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    catalog::Manifest echo;
    echo.id = "echo-bot";
    catalog_ = catalog::Catalog({echo});
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    acme_ = tenants_->Create(actor_, {.slug = "acme", .name = "Acme"})->id;
    globex_ = tenants_->Create(actor_, {.slug = "globex", .name = "Globex"})->id;
    meter_ = std::make_unique<Meter>(*db_, clock_, catalog_, *tenants_);
  }
  std::int64_t Rows(const char* table) {
    const std::string sql = std::string("SELECT count(*) FROM ") + table;
    const storage::Query q{"test_usage_rows", sql, {}, true};
    std::int64_t n = -1;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(q, {})->Int(0); });
    return n;
  }
  std::int64_t Today(const std::string& tenant, const std::string& metric = "api_calls") {
    auto u = meter_->ForTenant(tenant);
    EXPECT_TRUE(u);
    for (const auto& t : u->totals) {
      if (t.product == "echo-bot" && t.metric == metric) return t.today;
    }
    return 0;
  }

  testing::ManualClock clock_;
  audit::Actor actor_{"test", "", ""};
  catalog::Catalog catalog_;
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<Meter> meter_;
  std::string acme_;
  std::string globex_;
};

TEST_P(MeterTest, EachEventIdCountsOnce) {
  auto r = meter_->Record("echo-bot",
                          {{.id = "e1", .tenant_id = acme_, .metric = "api_calls"},
                           {.id = "e2", .tenant_id = acme_, .metric = "api_calls", .quantity = 5},
                           {.id = "e2", .tenant_id = acme_, .metric = "api_calls", .quantity = 5},
                           {.id = "g1", .tenant_id = globex_, .metric = "api_calls"}});
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->accepted, 3U);
  EXPECT_EQ(r->duplicates, 1U) << "a repeat inside one batch";
  // The product retries the whole batch: nothing more is counted.
  auto again = meter_->Record(
      "echo-bot", {{.id = "e1", .tenant_id = acme_, .metric = "api_calls"},
                   {.id = "e2", .tenant_id = acme_, .metric = "api_calls", .quantity = 5}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->accepted, 0U);
  EXPECT_EQ(again->duplicates, 2U);
  EXPECT_EQ(Today(acme_), 6);
  EXPECT_EQ(Today(globex_), 1);
}

TEST_P(MeterTest, ABadEventRefusesTheWholeBatch) {
  const Timestamp old{clock_.Now().micros - 49 * 3600 * kMicrosPerSecond};
  auto r =
      meter_->Record("echo-bot", {{.id = "ok", .tenant_id = acme_, .metric = "api_calls"},
                                  {.id = "", .tenant_id = acme_, .metric = "api_calls"},
                                  {.id = "x", .tenant_id = acme_, .metric = "Bad Metric"},
                                  {.id = "y", .tenant_id = acme_, .metric = "m", .quantity = 0},
                                  {.id = "z", .tenant_id = acme_, .metric = "m", .at = old}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  std::set<std::string> fields;
  for (const auto& e : r.error().errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{"/events/1/id", "/events/2/metric", "/events/3/quantity",
                                           "/events/4/at"}));
  EXPECT_EQ(Rows("usage_events"), 0);
  EXPECT_EQ(Rows("usage_totals"), 0);
  EXPECT_FALSE(meter_->Record("nope", {{.id = "a", .tenant_id = acme_, .metric = "m"}}));
  auto ghost = meter_->Record(
      "echo-bot",
      {{.id = "a", .tenant_id = "01900000-0000-7000-8000-000000000000", .metric = "m"}});
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().type, "unknown-tenant");
  EXPECT_EQ(Rows("usage_events"), 0) << "nothing half-written";
}

// Crossing the day's limit is recorded once, as usage.threshold_reached (which webhooks send).
TEST_P(MeterTest, ReachingTheDailyLimitIsRecordedOnce) {
  const auto count = [&](const char* sql) {
    std::int64_t n = -1;
    db_->Read([&](storage::Session& s) {
      n = s.FetchOne({"test_threshold", sql, {}, true}, {})->Int(0);
    });
    return n;
  };
  ASSERT_TRUE(meter_->Record(
      "echo-bot", {{.id = "a", .tenant_id = acme_, .metric = "api_calls", .quantity = 999}}));
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'usage.threshold_reached'"), 0);
  ASSERT_TRUE(meter_->Record(
      "echo-bot", {{.id = "b", .tenant_id = acme_, .metric = "api_calls", .quantity = 2},
                   {.id = "c", .tenant_id = globex_, .metric = "messages", .quantity = 5000}}));
  ASSERT_TRUE(meter_->Record("echo-bot", {{.id = "d", .tenant_id = acme_, .metric = "api_calls"}}));
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'usage.threshold_reached'"), 1)
      << "once, when 1000 was crossed; not again past it, not for another metric";
  EXPECT_EQ(count("SELECT count(*) FROM webhook_events WHERE type = 'usage.threshold_reached'"), 1);
}

TEST_P(MeterTest, LimitsFollowTheTrialAndThePlan) {
  auto u = meter_->ForTenant(acme_);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->api_calls_per_day, tenants::kTrialQuota.api_calls_per_day);  // a new tenant: trial
  EXPECT_EQ(u->seats, tenants::kTrialQuota.seats);
  const std::string paying = tenants_
                                 ->Create(actor_, {.slug = "paying",
                                                   .name = "Paying",
                                                   .plan = "professional",
                                                   .initial_status = "active"})
                                 ->id;
  u = meter_->ForTenant(paying);
  EXPECT_EQ(u->api_calls_per_day,
            catalog::LimitsOf(catalog::Plan::kProfessional).api_calls_per_day);
  EXPECT_FALSE(u->seats.has_value());
  EXPECT_FALSE(meter_->ForTenant("01900000-0000-7000-8000-000000000000"));
}

// A year of events for 20 tenants, three reports a day each: compaction keeps the last 62 days
// per day and the rest per month, and forgets the ids past the dedupe window; the month totals
// still add up.
TEST_P(MeterTest, AYearCompactsToDaysAndMonths) {
  std::vector<std::string> tenants;
  for (int i = 0; i < 20; ++i) {
    tenants.push_back(tenants_->Create(actor_, {.slug = "t" + std::to_string(i), .name = "T"})->id);
  }
  std::int64_t id = 0;
  for (int day = 0; day < 365; ++day) {
    std::vector<Event> batch;
    for (const auto& t : tenants) {
      for (int k = 0; k < 3; ++k) {
        batch.push_back(
            {.id = std::to_string(++id), .tenant_id = t, .metric = "api_calls", .quantity = 10});
      }
    }
    ASSERT_TRUE(meter_->Record("echo-bot", batch));
    if (day % 7 == 0) meter_->Compact();
    clock_.Advance(86'400);
  }
  meter_->Compact();
  EXPECT_LE(Rows("usage_events"), 20 * 3 * 2) << "only the last 48 hours of ids";
  // Per tenant: at most 62 days + the 13 months the year touched.
  EXPECT_LE(Rows("usage_totals"), 20 * (kDailyDays + 13));
  EXPECT_GE(Rows("usage_totals"), 20 * (kDailyDays + 10));
  // Nothing was lost on the way: the whole year's quantity is still there.
  std::int64_t sum = -1;
  db_->Read([&](storage::Session& s) {
    sum = s.FetchOne({"test_usage_sum", "SELECT sum(quantity) FROM usage_totals"}, {})->Int(0);
  });
  EXPECT_EQ(sum, 365 * 20 * 3 * 10);
}

INSTANTIATE_TEST_SUITE_P(Stores, MeterTest, ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::usage
