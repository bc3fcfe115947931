// SQLite driver: WAL, a busy timeout, one writer connection (BEGIN IMMEDIATE) and a small pool
// of reader connections, so reads never wait for a write in progress.
//
// Group commit: SQLite has one writer, so concurrent Write calls queue. Whoever finds no batch
// running takes every queued call (up to kMaxBatch), runs each in a SAVEPOINT of one
// transaction, and commits once; each caller returns only after that commit, and a call that
// throws rolls back to its savepoint only, so it takes none of the others down.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/database.hpp"

struct sqlite3;

namespace breakpilot::storage {

class SqliteConnection;

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, const DatabaseOptions& options);
  ~SqliteDatabase() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  void Write(const std::function<void(Session&)>& fn) override;
  void Read(const std::function<void(Session&)>& fn) override;
  void ExecuteRaw(std::string_view sql) override;
  bool Ping() noexcept override;
  std::uint64_t Subscribe(Listener fn) override;
  std::string Describe() const override { return "sqlite:" + path_; }

  // Write transactions committed, and Write calls they held (both since start): their ratio is
  // the mean batch.
  struct CommitStats {
    std::uint64_t commits = 0;
    std::uint64_t writes = 0;
  };
  CommitStats commit_stats() const;
  static constexpr std::size_t kMaxBatch = 256;

 private:
  // One queued Write call.
  struct PendingWrite {
    const std::function<void(Session&)>* fn;
    bool done = false;
    std::exception_ptr error;
    std::vector<std::string> events;  // its Notify payloads, delivered by its own thread
  };
  std::unique_ptr<SqliteConnection> Open() const;
  void RunBatch(std::vector<PendingWrite*>& batch);

  std::string path_;
  DatabaseOptions options_;
  bool in_memory_ = false;
  std::mutex write_mutex_;  // the writer connection: a batch, ExecuteRaw, in-memory reads
  std::unique_ptr<SqliteConnection> writer_;
  mutable std::mutex queue_mutex_;  // the queue of Write calls and who runs the next batch
  std::condition_variable queue_cv_;
  std::deque<PendingWrite*> queue_;
  bool batch_running_ = false;
  CommitStats stats_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
  int open_readers_ = 0;
};

}  // namespace breakpilot::storage
