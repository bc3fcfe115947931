// PostgreSQL driver over libpq: a bounded connection pool, statements prepared once per
// connection under their query name, sessions in UTC.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/database.hpp"

namespace breakpilot::storage {

class PgConnection;
class PgListener;

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, const DatabaseOptions& options);
  ~PostgresDatabase() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  void Write(const std::function<void(Session&)>& fn) override;
  void Read(const std::function<void(Session&)>& fn) override;
  void ExecuteRaw(std::string_view sql) override;
  bool Ping() noexcept override;
  std::uint64_t Subscribe(Listener fn) override;
  std::string Describe() const override { return RedactUrl(url_); }

 private:
  std::unique_ptr<PgConnection> Acquire();
  void Release(std::unique_ptr<PgConnection> conn);

  std::string url_;
  DatabaseOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_ = 0;
  std::unique_ptr<PgListener> listener_;  // destroyed first: it calls Deliver
};

}  // namespace breakpilot::storage
