// The storage layer on both drivers: migrations, parameters and NULLs, transactions, and the
// mapping of constraint violations, each test on a fresh SQLite file and a fresh PostgreSQL DB.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
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

// FetchInPlace reads (binary on PostgreSQL) exactly what Fetch reads as text.
TEST_P(StorageTest, RowsReadInPlaceMatchRowsFetchedAsText) {
  static constexpr Query kTypedCreate{
      "v_create",
      "CREATE TABLE v (k integer PRIMARY KEY, id uuid, t text, n8 bigint, n4 integer, "
      "b boolean, ts timestamptz, j jsonb)",
      "CREATE TABLE v (k integer PRIMARY KEY, id text, t text, n8 integer, n4 integer, "
      "b integer, ts text, j text)"};
  static constexpr Query kTypedInsert{
      "v_insert",
      "INSERT INTO v VALUES ($1::int, $2::uuid, $3, $4::bigint, $5::int, $6::boolean, "
      "$7::timestamptz, $8::jsonb)",
      "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
  static constexpr Query kTypedAll{"v_all", "SELECT id, t, n8, n4, b, ts, j FROM v ORDER BY k"};
  static constexpr Query kSelectNone{"v_none", "SELECT id FROM v WHERE k < 0"};
  const bool pg = db_->dialect() == Dialect::kPostgres;
  db_->Write([&](Session& s) {
    s.Execute(kTypedCreate, {});
    s.Execute(kTypedInsert,
              {"1", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6", "Grüße, \"x\"\r\n", "-9000000000", "-7",
               pg ? "true" : "1", "1999-12-31 23:59:59.999999+00", R"({"a": [1, "ü"]})"});
    s.Execute(kTypedInsert,
              {"2", "ffffffff-ffff-ffff-ffff-ffffffffffff", "", "9000000000", "2147483647",
               pg ? "false" : "0", "2026-11-26 06:01:02.000003+00", "{}"});
    s.Execute(kTypedInsert, {"3", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                             std::nullopt, std::nullopt, std::nullopt});
  });
  std::vector<Row> rows;
  std::unique_ptr<RowSet> set;
  db_->Read([&](Session& s) {
    rows = s.Fetch(kTypedAll, {});
    set = s.FetchInPlace(kTypedAll, {});
  });
  ASSERT_EQ(rows.size(), 3U);
  ASSERT_EQ(set->size(), 3U) << "read after its session went back to the pool";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const RowView& v = set->At(i);
    for (std::size_t c = 0; c < 7; ++c) EXPECT_EQ(v.IsNull(c), r.IsNull(c)) << i << "/" << c;
    if (r.IsNull(0)) {
      EXPECT_EQ(v.Text(0), "");
      EXPECT_EQ(v.Int(2), 0);
      EXPECT_FALSE(v.Bool(4));
      EXPECT_EQ(v.Time(5), Timestamp{});
      continue;
    }
    EXPECT_EQ(v.Text(0), r.Text(0));
    EXPECT_EQ(v.Text(1), r.Text(1));
    EXPECT_EQ(v.Int(2), r.Int(2));
    EXPECT_EQ(v.Int(3), r.Int(3));
    EXPECT_EQ(v.Bool(4), r.Text(4) == "t" || r.Text(4) == "1");
    EXPECT_EQ(v.Time(5), r.Time(5));
    EXPECT_EQ(v.Text(6), r.Text(6));
  }
  const RowView& first = set->At(0);
  EXPECT_EQ(first.Time(5).micros, 946'684'799'999'999) << "before PostgreSQL's own epoch (2000)";
  EXPECT_THROW(first.Time(1), DatabaseError) << "text is no timestamp";
  EXPECT_THROW(first.Text(99), DatabaseError);
  EXPECT_THROW(set->At(3), DatabaseError);
  db_->Read([&](Session& s) {
    EXPECT_TRUE(s.FetchInPlace(kTypedAll, {}) && s.FetchInPlace(kSelectNone, {})->empty());
  });
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

// Many writers at once (SQLite commits them in groups, PostgreSQL each on its own): each one's
// outcome is its own. Those that throw leave nothing and announce nothing; the others' rows
// and events are all there, each event heard by its own writer before its Write returned.
TEST_P(StorageTest, ConcurrentWritersSucceedOrFailAlone) {
  db_->Write([](Session& s) {
    s.Execute(kCreate, {});
    s.Execute(kInsert, {"taken", "v", "0"});
  });
  std::mutex mu;
  std::set<std::string> heard;
  const auto handle = db_->Subscribe([&](std::string_view p) {
    std::lock_guard lock(mu);
    heard.emplace(p);
  });
  constexpr int kWriters = 48, kRounds = 20;
  std::atomic<int> ok{0}, thrown{0}, duplicate{0}, missed_own_event{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int r = 0; r < kRounds; ++r) {
        const std::string k = std::to_string(w) + "-" + std::to_string(r);
        try {
          db_->Write([&](Session& s) {
            s.Execute(kInsert, {k, "v", std::to_string(w)});
            s.Notify("row:" + k);
            if (r % 5 == 4) throw std::runtime_error("abort " + k);     // every fifth gives up
            if (r % 7 == 6) s.Execute(kInsert, {"taken", "dup", "0"});  // a unique violation
          });
          ++ok;
          std::lock_guard lock(mu);
          if (!heard.count("row:" + k)) ++missed_own_event;
        } catch (const UniqueViolation&) {
          ++duplicate;
        } catch (const std::runtime_error&) {
          ++thrown;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  db_->Unsubscribe(handle);
  EXPECT_EQ(thrown.load(), kWriters * 4);  // r = 4, 9, 14, 19
  EXPECT_EQ(duplicate.load(), kWriters * 2) << "r = 6, 13";
  EXPECT_EQ(ok.load(), kWriters * kRounds - kWriters * 6);
  EXPECT_EQ(missed_own_event.load(), 0);
  db_->Read([&](Session& s) {
    EXPECT_EQ(s.FetchOne(kCount, {})->Int(0), ok.load() + 1);
    for (int w = 0; w < kWriters; ++w) {
      for (int r = 0; r < kRounds; ++r) {
        const bool kept = r % 5 != 4 && r % 7 != 6;
        const std::string k = std::to_string(w) + "-" + std::to_string(r);
        EXPECT_EQ(s.FetchOne(kSelect, {k}).has_value(), kept) << k;
      }
    }
  });
  std::lock_guard lock(mu);
  for (const auto& e : heard) {
    const std::string k = e.substr(4);
    const int r = std::stoi(k.substr(k.find('-') + 1));
    EXPECT_TRUE(r % 5 != 4 && r % 7 != 6) << "an event of a write that did not commit: " << e;
  }
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
