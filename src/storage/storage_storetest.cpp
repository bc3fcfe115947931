// The storage layer on both drivers: migrations, parameters and NULLs, transactions, and the
// mapping of constraint violations, each test on a fresh SQLite file and a fresh PostgreSQL DB.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "test_env.hpp"

namespace breakpilot::storage {
namespace {

using testing::Store;
using testing::TestDatabase;

class StorageTest : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override {
    tdb_ = std::make_unique<TestDatabase>(GetParam());
    BREAKPILOT_REQUIRE_STORE(*tdb_);
    db_ = tdb_->Open();
  }
  std::unique_ptr<TestDatabase> tdb_;
  std::unique_ptr<Database> db_;
};

constexpr Query kCreate{"t_create", "CREATE TABLE t (k text PRIMARY KEY, v text, n integer)"};
constexpr Query kInsert{"t_insert", "INSERT INTO t (k, v, n) VALUES ($1, $2, $3)"};
constexpr Query kSelect{"t_select", "SELECT k, v, n FROM t WHERE k = $1"};
constexpr Query kReversed{"t_reversed", "SELECT k FROM t WHERE n = $2 AND k = $1"};
constexpr Query kCount{"t_count", "SELECT count(*) FROM t"};

TEST_P(StorageTest, MigratesOnceAndReportsTheVersion) {
  EXPECT_EQ(CurrentVersion(*db_), 0);
  auto first = Migrate(*db_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->from, 0);
  EXPECT_EQ(first->to, LatestVersion(db_->dialect()));
  auto second = Migrate(*db_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->from, second->to) << "a second run applies nothing";
  EXPECT_EQ(CurrentVersion(*db_), LatestVersion(db_->dialect()));
}

TEST_P(StorageTest, ConcurrentMigrationsApplyEachVersionOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      try {
        auto db = tdb_->Open();
        if (!Migrate(*db).ok()) failures.fetch_add(1);
      } catch (const std::exception&) {
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CurrentVersion(*db_), LatestVersion(db_->dialect()));
}

TEST_P(StorageTest, ParametersNullsAndOrder) {
  db_->Write([](Session& s) {
    s.Execute(kCreate, {});
    s.Execute(kInsert, {"a", std::nullopt, "1"});
    s.Execute(kInsert, {"b", "it's \"quoted\" ; DROP TABLE t; --", "2"});
  });
  db_->Read([](Session& s) {
    auto a = s.FetchOne(kSelect, {"a"});
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->IsNull(1));
    EXPECT_EQ(a->Int(2), 1);
    auto b = s.FetchOne(kSelect, {"b"});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->Text(1), "it's \"quoted\" ; DROP TABLE t; --");
    EXPECT_EQ(s.FetchOne(kReversed, {"b", "2"})->Text(0), "b") << "$2 before $1 binds by number";
    EXPECT_FALSE(s.FetchOne(kSelect, {"zzz"}).has_value());
  });
}

TEST_P(StorageTest, WriteRollsBackOnThrowAndMapsUniqueViolations) {
  db_->Write([](Session& s) { s.Execute(kCreate, {}); });
  EXPECT_THROW(db_->Write([](Session& s) {
    s.Execute(kInsert, {"x", "1", "1"});
    throw std::runtime_error("abort");
  }),
               std::runtime_error);
  EXPECT_THROW(db_->Write([](Session& s) {
    s.Execute(kInsert, {"y", "1", "1"});
    s.Execute(kInsert, {"y", "2", "2"});
  }),
               UniqueViolation);
  db_->Read([](Session& s) { EXPECT_EQ(s.FetchOne(kCount, {})->Int(0), 0); });
  db_->Write([](Session& s) { s.Execute(kInsert, {"z", "1", "1"}); });
  db_->Read([](Session& s) { EXPECT_EQ(s.FetchOne(kCount, {})->Int(0), 1); });
}

TEST_P(StorageTest, BrokenSqlIsADatabaseError) {
  static constexpr Query kBroken{"t_broken", "SELEKT nonsense"};
  EXPECT_THROW(db_->Read([](Session& s) { s.Fetch(kBroken, {}); }), DatabaseError);
  EXPECT_TRUE(db_->Ping()) << "a failed statement leaves the pool usable";
}

// Events reach subscribers after commit, never after rollback; on PostgreSQL they also reach
// another Database object (another replica) through LISTEN/NOTIFY.
TEST_P(StorageTest, EventsArriveAfterCommitAndNeverAfterRollback) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  const auto db2 = GetParam() == Store::kPostgres ? tdb_->Open() : nullptr;
  Database& listener = db2 ? *db2 : *db_;
  listener.Subscribe([&](std::string_view p) {
    std::lock_guard lock(mu);
    got.emplace_back(p);
    cv.notify_all();
  });
  EXPECT_THROW(db_->Write([](Session& s) {
    s.Notify("rolled-back");
    throw std::runtime_error("abort");
  }),
               std::runtime_error);
  db_->Write([](Session& s) {
    s.Notify("first");
    s.Notify("second");
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= 2; }));
  EXPECT_EQ(got, (std::vector<std::string>{"first", "second"}));
}

// A writer's own subscribers hear of its change before Write returns, on both drivers, so a
// cache in the writing process is never stale for its next request.
TEST_P(StorageTest, TheWritersOwnSubscribersHearBeforeWriteReturns) {
  std::mutex mu;
  std::vector<std::string> got;
  const auto handle = db_->Subscribe([&](std::string_view p) {
    std::lock_guard lock(mu);
    got.emplace_back(p);
  });
  db_->Write([](Session& s) { s.Notify("mine"); });
  std::vector<std::string> seen;
  {
    std::lock_guard lock(mu);
    seen = got;
  }
  // Before `mu` and `got` go: PostgreSQL's echo of "mine" may still be on its way in.
  db_->Unsubscribe(handle);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), "mine");
}

INSTANTIATE_TEST_SUITE_P(Stores, StorageTest, ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

TEST(MigrationFilesTest, BothDialectsHaveTheSameNumberedFiles) {
  auto sqlite = EmbeddedMigrations(Dialect::kSqlite);
  auto pg = EmbeddedMigrations(Dialect::kPostgres);
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), pg.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, static_cast<int>(i) + 1)
        << "versions are 1, 2, 3, ... without gaps";
    EXPECT_EQ(sqlite[i].version, pg[i].version);
    EXPECT_EQ(sqlite[i].name, pg[i].name);
  }
}

TEST(RedactTest, HidesCredentials) {
  EXPECT_EQ(RedactUrl("postgresql://user:secret@db:5432/x"), "postgresql://***@db:5432/x");
  EXPECT_EQ(RedactUrl("postgresql://db:5432/x"), "postgresql://db:5432/x");
  EXPECT_EQ(RedactUrl("sqlite:var/x.db"), "sqlite:var/x.db");
}

}  // namespace
}  // namespace breakpilot::storage
