// SQLite driver: WAL, a busy timeout, one writer connection (BEGIN IMMEDIATE) and a small pool
// of reader connections, so reads never wait for a write in progress.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
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

 private:
  std::unique_ptr<SqliteConnection> Open() const;

  std::string path_;
  DatabaseOptions options_;
  bool in_memory_ = false;
  std::mutex write_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
  int open_readers_ = 0;
};

}  // namespace breakpilot::storage
