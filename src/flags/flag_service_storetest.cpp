// The flag store on both stores, under concurrency (also run under TSan): two FlagServices on
// one database stand for two replicas, each with its own memory; many threads evaluate while a
// flag changes, and each change of a tenant's result is audited exactly once. The Unleash
// source polls on its thread while evaluations read what it holds.
#include "flags/flag_service.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "test_env.hpp"

namespace breakpilot::flags {
namespace {

class FlagConcurrencyTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    tenants_->EnableReadCache();
    acme_ = tenants_->Create(actor_, {.slug = "acme", .name = "Acme"})->id;
  }
  std::int64_t Results() {
    const storage::Query q{"test_flag_results",
                           "SELECT count(*) FROM audit_log WHERE action = 'flag.result'"};
    std::int64_t n = -1;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(q, {})->Int(0); });
    return n;
  }
  // Evaluates `key` for acme from `threads` threads, spread over the services, `rounds` each.
  void Storm(const std::vector<FlagService*>& services, const std::string& key, int threads,
             int rounds, const std::string& expect) {
    std::atomic<int> wrong{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        FlagService& s = *services[static_cast<std::size_t>(t) % services.size()];
        for (int i = 0; i < rounds; ++i) {
          auto e = s.Evaluate(actor_, acme_, key);
          if (!e || e->variant != expect) ++wrong;
        }
      });
    }
    for (auto& th : pool) th.join();
    EXPECT_EQ(wrong.load(), 0) << "evaluations that did not answer " << expect;
  }

  testing::ManualClock clock_;
  audit::Actor actor_{"test", "", ""};
  std::unique_ptr<tenants::TenantService> tenants_;
  std::string acme_;
};

TEST_P(FlagConcurrencyTest, EachChangeOfAResultIsAuditedOnceAcrossThreadsAndReplicas) {
  FlagService a(*db_, clock_, *tenants_), b(*db_, clock_, *tenants_);
  ASSERT_TRUE(
      a.Create(actor_, boost::json::parse(R"({"key":"k","type":"boolean","default":false})")));
  Storm({&a, &b}, "k", 8, 25, "off");
  EXPECT_EQ(Results(), 1);
  // Changed through one replica: both answer the new way at once (the event is delivered to
  // every subscriber before the write returns, in this process).
  ASSERT_TRUE(a.Patch(actor_, "k", boost::json::parse(R"({"default":true})"), std::nullopt));
  Storm({&a, &b}, "k", 8, 25, "on");
  EXPECT_EQ(Results(), 2);
  // A change that keeps the answer records nothing.
  ASSERT_TRUE(b.Patch(actor_, "k", boost::json::parse(R"({"description":"same"})"), 2));
  Storm({&a, &b}, "k", 8, 25, "on");
  EXPECT_EQ(Results(), 2);
  // A stale version is refused, and changes nothing.
  auto stale = a.Patch(actor_, "k", boost::json::parse(R"({"default":false})"), 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::kPreconditionFailed);
  Storm({&a, &b}, "k", 4, 10, "on");
}

TEST_P(FlagConcurrencyTest, UnleashPollsOnItsThreadWhileEvaluationsRead) {
  std::atomic<int> polls{0};
  std::atomic<bool> up{true};
  // Unleash's client API as a fetcher: the feature flips every few polls; sometimes it is down.
  outbound::Fetcher fetch = [&](const outbound::Request& req) -> Result<outbound::Response> {
    EXPECT_EQ(req.url, "http://unleash.test/api/client/features");
    const int n = ++polls;
    if (!up) return Error{.kind = ErrorKind::kUnavailable, .type = "down", .detail = "down"};
    outbound::Response r{.status = 200};
    r.body = std::string(R"({"version":2,"features":[{"name":"u","enabled":)") +
             ((n / 3) % 2 == 0 ? "true" : "false") + R"(,"strategies":[]}]})";
    return r;
  };
  UnleashSource source({.url = "http://unleash.test/",
                        .client_token = "t",
                        .interval = std::chrono::milliseconds(5)},
                       fetch, clock_);
  FlagService flags(*db_, clock_, *tenants_, &source);
  ASSERT_TRUE(
      flags.Create(actor_, boost::json::parse(R"({"key":"u","type":"boolean","default":false})")));
  source.Start();
  std::atomic<int> answered{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto e = flags.Evaluate(actor_, acme_, "u");
        if (e) ++answered;
        auto all = flags.EvaluateAll(actor_, acme_);
        if (all && all->size() == 1) ++answered;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    up = i % 5 != 4;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  up = false;
  for (auto& th : pool) th.join();
  EXPECT_EQ(answered.load(), 4 * 200 * 2);
  EXPECT_GT(polls.load(), 3);
  // Down at the end: the built-in store answers.
  for (int i = 0; i < 400 && source.Current(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(source.Current(), nullptr);
  EXPECT_EQ(flags.Evaluate(actor_, acme_, "u")->reason, Reason::kStatic);
  EXPECT_GT(source.stats().failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, FlagConcurrencyTest,
                         ::testing::Values(testing::Store::kSqlite, testing::Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::flags
