#include "storage/postgres_database.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <unordered_set>

namespace breakpilot::storage {
namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

class PgConnection final : public Session {
 public:
  PgConnection(const std::string& url, int connect_timeout_s) {
    const std::string timeout = std::to_string(connect_timeout_s);
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {url.c_str(), timeout.c_str(), "breakpilot", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw DatabaseError("cannot connect to PostgreSQL " + RedactUrl(url) + ": " + msg);
    }
    // Server notices ("relation already exists, skipping") are not errors: keep them off stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    Exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'");
  }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  void ExecuteScript(std::string_view sql) override { Exec(std::string(sql)); }
  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

  void Exec(const std::string& sql) {
    ResultPtr r(PQexec(conn_, sql.c_str()));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Throw("exec", r.get());
  }

  std::vector<Row> Fetch(const Query& q, const std::vector<Param>& params) override {
    ResultPtr r = Run(q, params);
    const int nrows = PQntuples(r.get());
    const int ncols = PQnfields(r.get());
    std::vector<Row> rows;
    rows.reserve(static_cast<std::size_t>(nrows));
    for (int i = 0; i < nrows; ++i) {
      std::vector<std::optional<std::string>> cols;
      cols.reserve(static_cast<std::size_t>(ncols));
      for (int j = 0; j < ncols; ++j) {
        if (PQgetisnull(r.get(), i, j)) {
          cols.emplace_back(std::nullopt);
        } else {
          cols.emplace_back(std::string(PQgetvalue(r.get(), i, j),
                                        static_cast<std::size_t>(PQgetlength(r.get(), i, j))));
        }
      }
      rows.emplace_back(std::move(cols));
    }
    return rows;
  }

  std::int64_t Execute(const Query& q, const std::vector<Param>& params) override {
    ResultPtr r = Run(q, params);
    const char* n = PQcmdTuples(r.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  ResultPtr Run(const Query& q, const std::vector<Param>& params) {
    const std::string name(q.name);
    if (!prepared_.contains(name)) {
      const std::string sql(q.For(Dialect::kPostgres));
      ResultPtr p(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) Throw(q.name, p.get());
      prepared_.insert(name);
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    ResultPtr r(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                               nullptr, nullptr, 0));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Throw(q.name, r.get());
    return r;
  }

  [[noreturn]] void Throw(std::string_view what, const PGresult* r) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = std::string(what) + ": " + PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    const std::string_view code = state ? state : "";
    if (code == "23505") throw UniqueViolation(msg);
    if (code == "23503") throw ForeignKeyViolation(msg);
    throw DatabaseError(msg);
  }

  PGconn* conn_ = nullptr;
  std::unordered_set<std::string> prepared_;
};

PostgresDatabase::PostgresDatabase(std::string url, const DatabaseOptions& options)
    : url_(std::move(url)), options_(options) {
  Release(Acquire());  // fail fast on a bad URL or an unreachable server
}

PostgresDatabase::~PostgresDatabase() = default;

std::unique_ptr<PgConnection> PostgresDatabase::Acquire() {
  {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::seconds(options_.connect_timeout_s * 2),
                      [&] { return !idle_.empty() || open_ < options_.pool_size; })) {
      throw DatabaseError("PostgreSQL pool exhausted: no connection within the timeout");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  try {
    return std::make_unique<PgConnection>(url_, options_.connect_timeout_s);
  } catch (...) {
    std::lock_guard lock(mutex_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

void PostgresDatabase::Release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mutex_);
  if (conn && conn->Healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // a broken connection is dropped; the next Acquire opens a new one
  }
  cv_.notify_one();
}

void PostgresDatabase::Write(const std::function<void(Session&)>& fn) {
  auto conn = Acquire();
  try {
    conn->Exec("BEGIN");
    fn(*conn);
    conn->Exec("COMMIT");
  } catch (...) {
    try {
      if (conn->Healthy()) conn->Exec("ROLLBACK");
    } catch (...) {
    }
    Release(std::move(conn));
    throw;
  }
  Release(std::move(conn));
}

void PostgresDatabase::Read(const std::function<void(Session&)>& fn) {
  auto conn = Acquire();
  try {
    fn(*conn);
  } catch (...) {
    Release(std::move(conn));
    throw;
  }
  Release(std::move(conn));
}

void PostgresDatabase::ExecuteRaw(std::string_view sql) {
  auto conn = Acquire();
  try {
    conn->Exec(std::string(sql));
  } catch (...) {
    Release(std::move(conn));
    throw;
  }
  Release(std::move(conn));
}

bool PostgresDatabase::Ping() noexcept {
  try {
    ExecuteRaw("SELECT 1");
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace breakpilot::storage
