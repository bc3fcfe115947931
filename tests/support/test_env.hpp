// What the storage and end-to-end tests run against: a fresh database per test (a SQLite file in
// a temporary directory, or a new database on the PostgreSQL that `make test` starts), and the
// real `breakpilot` binary started as a child process.
//
//   TestDatabase db(Store::kPostgres);          // skips, or fails under make test, without PG
//   ServerProcess server(db.url());             // waits for the "listening" log line
//   HttpClient client("127.0.0.1", server.port(), ServerProcess::kToken);
#pragma once

#include <sys/types.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::testing {

enum class Store { kSqlite, kPostgres };
std::string StoreName(Store s);

// A new empty directory /tmp/<prefix>-XXXXXX (throws when none can be made).
std::string MakeTempDir(const std::string& prefix);

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> RunCommand(const std::string& command);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
inline void PrintTo(Store s, std::ostream* os) {
  *os << StoreName(s);
}

// A clock that stands still until a test moves it (starts at 2027-01-15T08:00:00Z).
class ManualClock : public Clock {
 public:
  Timestamp Now() const override { return Timestamp{now_.load()}; }
  void Advance(std::int64_t seconds) { now_ += seconds * kMicrosPerSecond; }

 private:
  std::atomic<std::int64_t> now_{1'800'000'000LL * kMicrosPerSecond};
};

class TestDatabase {
 public:
  explicit TestDatabase(Store store);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // False when this store cannot run here (PostgreSQL without BREAKPILOT_TEST_PG).
  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  // Opens a new handle (not migrated).
  std::unique_ptr<storage::Database> Open() const;

 private:
  Store store_;
  std::string url_;
  std::string dir_;      // SQLite: the temporary directory
  std::string pg_name_;  // PostgreSQL: the database created for this test
};

// Fails the test (not skip) when PG is required but absent: `make test` sets
// BREAKPILOT_REQUIRE_PG=1 so the PostgreSQL half of the suite cannot silently vanish.
#define BREAKPILOT_REQUIRE_STORE(db)                                                       \
  do {                                                                                     \
    if (!(db).available()) {                                                               \
      if (std::getenv("BREAKPILOT_REQUIRE_PG")) FAIL() << "BREAKPILOT_TEST_PG is not set"; \
      GTEST_SKIP() << "no PostgreSQL (set BREAKPILOT_TEST_PG or run make test)";           \
    }                                                                                      \
  } while (0)

// The fixture of a storage test: a fresh database on the store under test, migrated. A subclass
// calls StoreTest::SetUp() first and returns when `db_` is null (skipped, or failed).
// Runs a Node script of the source tree (`script`: its path under tests/) with `args` (shell
// words); returns its exit code and its output, stderr included.
std::pair<int, std::string> RunNode(const std::string& script, const std::string& args);

class StoreTest : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override;
  std::unique_ptr<TestDatabase> tdb_;
  std::unique_ptr<storage::Database> db_;
};

// A child process (the server, a reference peer such as oidc-provider) whose output goes to a
// log file; the constructor returns once a line satisfies `ready`, and throws if the process
// exits first or the time runs out. The child is killed with the test process.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env,
               const std::function<bool(const std::string& line)>& ready,
               std::chrono::seconds timeout = std::chrono::seconds(60));
  virtual ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& ready_line() const { return ready_line_; }
  void Kill();              // SIGKILL, and reap
  int Terminate();          // SIGTERM, wait; returns the exit status
  std::string Log() const;  // everything the child wrote so far

 private:
  [[noreturn]] void FailStart(const std::string& what);

  pid_t pid_ = -1;
  std::string log_path_;
  std::string ready_line_;
};

// The real binary, serving on a free port (or the --listen in extra_args) with the test staff
// token.
class ServerProcess : public ChildProcess {
 public:
  static constexpr const char* kToken = "test-staff-token-0123456789";
  explicit ServerProcess(const std::string& database_url, std::vector<std::string> extra_args = {});
  // Fails the test when a log line carries a source path, file:line or a library's type names
  // (issue 21: library errors are put in our own words at the boundary).
  ~ServerProcess() override;
  int port() const { return port_; }

 private:
  int port_ = 0;
};

}  // namespace breakpilot::testing
