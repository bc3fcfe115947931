// The durable job queue on both stores: dedupe keys, due times, backoff and the dead state,
// leases that expire and fence the old holder out, and concurrent claims that never share a job.
#include "jobs/queue.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "jobs/runner.hpp"
#include "storage/migrations.hpp"
#include "test_env.hpp"

namespace breakpilot::jobs {
namespace {

using testing::ManualClock;
using testing::Store;
using testing::TestDatabase;

constexpr storage::Query kMarks{"test_job_marks", "SELECT count(*) FROM platform_settings"};
constexpr storage::Query kMark{"test_job_mark",
                               "INSERT INTO platform_settings (name, value, updated_at)"
                               " VALUES ($1, 'x', '2027-01-01 00:00:00+00')"};

class QueueTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
  }
  bool Add(const std::string& key, Timestamp run_at, int max_attempts = 10) {
    bool added = false;
    db_->Write([&](storage::Session& s) {
      added = Enqueue(
          s, clock_,
          {.kind = "test", .dedupe_key = key, .run_at = run_at, .max_attempts = max_attempts});
    });
    return added;
  }
  std::int64_t Marks() {
    std::int64_t n = 0;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(kMarks, {})->Int(0); });
    return n;
  }
  ManualClock clock_;
};

TEST_P(QueueTest, DedupeKeyMakesOneJobEver) {
  EXPECT_TRUE(Add("once", clock_.Now()));
  EXPECT_FALSE(Add("once", AddSeconds(clock_.Now(), 60)));
  Queue q(*db_, clock_);
  auto jobs = q.Claim(10);
  ASSERT_EQ(jobs.size(), 1U);
  q.Complete(jobs[0]);
  EXPECT_FALSE(Add("once", clock_.Now())) << "a done job still holds its key";
  EXPECT_EQ(q.Counts().done, 1);
}

TEST_P(QueueTest, PruningDeletesOnlyDoneJobsPastTheirKeepTime) {
  Queue q(*db_, clock_, {.keep_done = std::chrono::hours(24)});
  // 1,005 old done jobs (more than one delete batch), one dead and one pending from that time.
  for (int i = 0; i < 1005; ++i) ASSERT_TRUE(Add("old" + std::to_string(i), clock_.Now()));
  ASSERT_TRUE(Add("old-dead", clock_.Now(), 1));
  for (int claimed = 0; claimed < 1006;) {
    auto jobs = q.Claim(100);
    ASSERT_FALSE(jobs.empty());
    for (const auto& j : jobs) {
      if (j.dedupe_key == "old-dead") {
        q.Fail(j, "boom");
      } else {
        q.Complete(j);
      }
    }
    claimed += static_cast<int>(jobs.size());
  }
  ASSERT_TRUE(Add("old-pending", AddSeconds(clock_.Now(), 3 * 86400)));
  clock_.Advance(86400 - 1);
  ASSERT_TRUE(Add("recent", clock_.Now()));
  auto recent = q.Claim(1);
  ASSERT_EQ(recent.size(), 1U);
  q.Complete(recent[0]);
  EXPECT_EQ(q.PruneDone(), 0) << "nothing is a day old yet";
  clock_.Advance(2);
  EXPECT_EQ(q.PruneDone(), 1005);
  const auto c = q.Counts();
  EXPECT_EQ(c.done, 1) << "the recent one stays";
  EXPECT_EQ(c.dead, 1) << "dead jobs wait for a person";
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(q.PruneDone(), 0);
  EXPECT_TRUE(Add("old7", clock_.Now())) << "a pruned job's key is free again";
}

TEST_P(QueueTest, NothingRunsBeforeItIsDueAndALeasedJobIsNotClaimedTwice) {
  ASSERT_TRUE(Add("later", AddSeconds(clock_.Now(), 60)));
  Queue q(*db_, clock_);
  EXPECT_TRUE(q.Claim(10).empty());
  EXPECT_EQ(q.Counts().due, 0);
  clock_.Advance(60);
  EXPECT_EQ(q.Counts().due, 1);
  auto jobs = q.Claim(10);
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].attempts, 1);
  EXPECT_TRUE(q.Claim(10).empty()) << "leased";
  EXPECT_EQ(q.Counts().running, 1);
}

TEST_P(QueueTest, FailuresBackOffThenTheJobDiesAndARetryRevivesIt) {
  ASSERT_TRUE(Add("flaky", clock_.Now(), 2));
  Queue q(*db_, clock_, {.backoff_base = std::chrono::seconds(10)});
  auto first = q.Claim(1);
  ASSERT_EQ(first.size(), 1U);
  q.Fail(first[0], "boom 1");
  auto listed = q.List({.state = State::kPending});
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].last_error, "boom 1");
  EXPECT_GE(listed[0].run_at, AddSeconds(clock_.Now(), 10)) << "backs off";
  EXPECT_TRUE(q.Claim(1).empty());
  clock_.Advance(13);
  auto second = q.Claim(1);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].attempts, 2);
  q.Fail(second[0], "boom 2");
  EXPECT_EQ(q.Counts().dead, 1);
  clock_.Advance(3600);
  EXPECT_TRUE(q.Claim(1).empty()) << "dead jobs stay dead";
  const audit::Actor staff{"staff:ada", "req-9", "127.0.0.1"};
  auto revived = q.Retry(staff, second[0].id);
  ASSERT_TRUE(revived.ok());
  EXPECT_EQ(revived->state, State::kPending);
  EXPECT_EQ(revived->attempts, 0);
  {  // the retry and its audit event are one write, by whoever asked (API or CLI alike)
    static constexpr storage::Query kRetried{
        "test_job_retried", "SELECT actor_id, target_id FROM audit_log WHERE action = 'job.retry'"};
    std::vector<storage::Row> rows;
    db_->Read([&](storage::Session& s) { rows = s.Fetch(kRetried, {}); });
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].Text(0), "staff:ada");
    EXPECT_EQ(rows[0].Text(1), second[0].id);
  }
  EXPECT_EQ(q.Claim(1).size(), 1U);
  auto again = q.Retry(staff, second[0].id);
  ASSERT_FALSE(again.ok()) << "a running job is not retried";
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(q.Retry(staff, "01a2155a-9a34-773f-b59b-d8315a37c99c").error().kind,
            ErrorKind::kNotFound);
}

// A worker that stops answering loses its job to another; its late writes are refused whole.
TEST_P(QueueTest, AnExpiredLeaseGoesToAnotherWorkerAndFencesTheOldOne) {
  ASSERT_TRUE(Add("slow", clock_.Now()));
  Queue a(*db_, clock_, {.lease = std::chrono::seconds(1)});
  Queue b(*db_, clock_, {.lease = std::chrono::seconds(60)});
  auto held = a.Claim(1);
  ASSERT_EQ(held.size(), 1U);
  a.Checkpoint(held[0], [](storage::Session& s) { s.Execute(kMark, {"step-1"}); });
  EXPECT_EQ(b.Reclaim(), 0) << "the lease still runs";
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // leases use the wall clock
  EXPECT_EQ(b.Reclaim(), 1);
  auto taken = b.Claim(1);
  ASSERT_EQ(taken.size(), 1U);
  EXPECT_EQ(taken[0].attempts, 2);
  EXPECT_THROW(a.Checkpoint(held[0], [](storage::Session& s) { s.Execute(kMark, {"late"}); }),
               LeaseLost);
  EXPECT_THROW(a.Complete(held[0]), LeaseLost);
  EXPECT_EQ(Marks(), 1) << "the old holder's late write rolled back";
  b.Complete(taken[0], [](storage::Session& s) { s.Execute(kMark, {"step-2"}); });
  EXPECT_EQ(Marks(), 2);
  EXPECT_EQ(b.Counts().done, 1);
}

// Several claimers at once (SKIP LOCKED on PostgreSQL; one writer on SQLite): every job runs
// exactly once.
TEST_P(QueueTest, ConcurrentWorkersNeverShareAJob) {
  constexpr int kJobs = 300;
  db_->Write([&](storage::Session& s) {
    for (int i = 0; i < kJobs; ++i) {
      Enqueue(s, clock_,
              {.kind = "test", .dedupe_key = "c" + std::to_string(i), .run_at = clock_.Now()});
    }
  });
  std::mutex mu;
  std::multiset<std::string> done;
  std::vector<std::thread> workers;
  workers.reserve(4);
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      auto db = tdb_->Open();
      Queue q(*db, clock_);
      while (true) {
        auto jobs = q.Claim(7);
        if (jobs.empty()) break;
        for (const auto& j : jobs) {
          q.Complete(j);
          std::lock_guard lock(mu);
          done.insert(j.id);
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(done.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(done.begin(), done.end()).size(), done.size());
}

// Every trial tenant leaves three pending jobs due in one to two weeks, and every idle worker
// claims once a second: the claim must read only the due jobs, in run_at order, not every
// pending one.
TEST_P(QueueTest, ClaimReadsOnlyTheDueIndex) {
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(Add("later" + std::to_string(i), AddSeconds(clock_.Now(), 86400 * (1 + i % 30))));
  }
  const bool sqlite = db_->dialect() == storage::Dialect::kSqlite;
  constexpr storage::Query kAnalyze{"test_job_analyze", "ANALYZE jobs"};
  if (!sqlite) db_->Write([&](storage::Session& s) { s.Execute(kAnalyze, {}); });
  const std::string sql =
      (sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + std::string(ClaimQuery().For(db_->dialect()));
  const storage::Query explain{.name = "test_job_claim_plan", .sql = sql, .dynamic = true};
  std::string plan;
  db_->Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(
             explain, {FormatStorage(clock_.Now()), "token", FormatStorage(clock_.Now()), "10"})) {
      plan += r.Text(sqlite ? 3 : 0) + "\n";
    }
  });
  EXPECT_NE(plan.find("jobs_due_idx"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;  // SQLite's sort of them all
  EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;         // PostgreSQL's
}

TEST_P(QueueTest, RunnerCompletesAndFailsByHandler) {
  ASSERT_TRUE(Add("ok", clock_.Now()));
  db_->Write([&](storage::Session& s) {
    Enqueue(s, clock_, {.kind = "broken", .dedupe_key = "bad", .run_at = clock_.Now()});
    Enqueue(s, clock_, {.kind = "unknown", .dedupe_key = "nobody", .run_at = clock_.Now()});
  });
  Queue q(*db_, clock_);
  Runner runner(q);
  int ran = 0;
  runner.Register("test", [&](JobContext& ctx) {
    ++ran;
    ctx.Complete([](storage::Session& s) { s.Execute(kMark, {"effect"}); });
  });
  runner.Register("broken", [](JobContext&) { throw std::runtime_error("handler failed"); });
  EXPECT_EQ(runner.RunDue(), 3);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(Marks(), 1);
  auto failed = q.List({.state = State::kPending});
  ASSERT_EQ(failed.size(), 2U);
  std::set<std::string> errors;
  for (const auto& j : failed) errors.insert(j.last_error.value_or(""));
  EXPECT_TRUE(errors.count("handler failed"));
  EXPECT_TRUE(errors.count("no handler for job kind unknown"));
  std::string metrics;
  runner.WriteMetrics(metrics);
  EXPECT_NE(metrics.find("breakpilot_jobs_total{kind=\"test\",outcome=\"completed\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("breakpilot_jobs{state=\"pending\"} 2"), std::string::npos);
}

// Counting the queue reads every job: a scrape must not wait on it, and an unscraped process
// must not count at all.
TEST_P(QueueTest, ScrapesWriteTheCountsTheMaintenanceThreadKeeps) {
  ASSERT_TRUE(Add("a", clock_.Now()));
  Queue q(*db_, clock_);
  Runner runner(q);
  const auto scrape = [&] {
    std::string metrics;
    runner.WriteMetrics(metrics);
    const std::string key = "breakpilot_jobs{state=\"pending\"} ";
    const auto at = metrics.find(key);
    return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + key.size()));
  };
  EXPECT_EQ(scrape(), 1) << "the first scrape counts";
  ASSERT_TRUE(Add("b", clock_.Now()));
  EXPECT_EQ(scrape(), 1) << "later scrapes write the copy";
  runner.RefreshCounts(std::chrono::seconds(3600));
  EXPECT_EQ(scrape(), 1) << "a copy younger than max_age is kept";
  runner.RefreshCounts(std::chrono::seconds(0));
  EXPECT_EQ(scrape(), 2);
  runner.RefreshCounts(std::chrono::seconds(0));  // scraped since: counts
  ASSERT_TRUE(Add("c", clock_.Now()));
  runner.RefreshCounts(std::chrono::seconds(0));  // not scraped since: does not count
  EXPECT_EQ(scrape(), 2);
  runner.RefreshCounts(std::chrono::seconds(0));
  EXPECT_EQ(scrape(), 3);
}

INSTANTIATE_TEST_SUITE_P(Stores, QueueTest, ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::jobs
