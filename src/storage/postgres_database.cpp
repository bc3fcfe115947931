#include "storage/postgres_database.hpp"

#include <libpq-fe.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <unordered_set>
#include <utility>

#include "core/log.hpp"
#include "core/memory_only.hpp"

namespace breakpilot::storage {
namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

const Logger kLog("storage");

constexpr Query kNotify{"notify", "SELECT pg_notify($1, $2)"};

PGconn* Connect(const std::string& url, int connect_timeout_s, std::string& error) {
  const std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url.c_str(), timeout.c_str(), "breakpilot", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    error = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    return nullptr;
  }
  // Server notices ("relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

// Type OIDs of the binary values PgRowView reads (pg_type.dat; fixed since PostgreSQL 8).
constexpr Oid kBoolOid = 16, kNameOid = 19, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kTextOid = 25, kJsonOid = 114, kBpcharOid = 1042, kVarcharOid = 1043,
              kTimestampOid = 1114, kTimestamptzOid = 1184, kUuidOid = 2950, kJsonbOid = 3802;
// Binary timestamps count microseconds from 2000-01-01 (integer datetimes, the only kind
// since PostgreSQL 10).
constexpr std::int64_t kPgEpochMicros = 946'684'800'000'000;

std::uint64_t BigEndian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (const char b : bytes) v = (v << 8) | static_cast<unsigned char>(b);
  return v;
}

// A result fetched in binary form (resultFormat 1), read in place.
class PgRowSet final : public RowSet, private RowView {
 public:
  explicit PgRowSet(ResultPtr r)
      : r_(std::move(r)), uuids_(static_cast<std::size_t>(PQnfields(r_.get()))) {
    for (int j = 0; j < PQnfields(r_.get()); ++j) types_.push_back(PQftype(r_.get(), j));
  }
  std::size_t size() const override { return static_cast<std::size_t>(PQntuples(r_.get())); }
  const RowView& At(std::size_t i) override {
    if (i >= size()) throw DatabaseError("no row " + std::to_string(i));
    row_ = static_cast<int>(i);
    return *this;
  }

  bool IsNull(std::size_t i) const override { return PQgetisnull(r_.get(), row_, Col(i)) != 0; }
  // NULL and an empty value both read as empty, which Text returns for both; a value of a
  // fixed-size type is never empty, so there empty means NULL. (One libpq call fewer per cell.)
  std::string_view Text(std::size_t i) const override {
    const std::string_view v = Value(i);
    if (v.empty()) return {};
    switch (types_[i]) {
      case kTextOid:
      case kVarcharOid:
      case kBpcharOid:
      case kNameOid:
      case kJsonOid: return v;
      case kJsonbOid:  // a version byte (1), then the text
        if (v[0] != 1) throw DatabaseError("jsonb in an unknown binary version");
        return v.substr(1);
      case kUuidOid: {
        static constexpr char kHex[] = "0123456789abcdef";
        const std::string_view bytes = Sized(i, v, 16);
        auto& out = uuids_[i];
        std::size_t o = 0;
        for (std::size_t k = 0; k < bytes.size(); ++k) {
          if (k == 4 || k == 6 || k == 8 || k == 10) out[o++] = '-';
          const auto b = static_cast<unsigned char>(bytes[k]);
          out[o++] = kHex[b >> 4];
          out[o++] = kHex[b & 15];
        }
        return {out.data(), out.size()};
      }
      default: throw TypeError(i, "text");
    }
  }
  std::int64_t Int(std::size_t i) const override {
    const std::string_view v = Value(i);
    if (v.empty()) return 0;
    switch (types_[i]) {
      case kInt8Oid: return static_cast<std::int64_t>(BigEndian(Sized(i, v, 8)));
      case kInt4Oid: return static_cast<std::int32_t>(BigEndian(Sized(i, v, 4)));
      case kInt2Oid: return static_cast<std::int16_t>(BigEndian(Sized(i, v, 2)));
      default: throw TypeError(i, "integer");
    }
  }
  bool Bool(std::size_t i) const override {
    const std::string_view v = Value(i);
    if (types_[i] != kBoolOid) throw TypeError(i, "boolean");
    return !v.empty() && Sized(i, v, 1)[0] != 0;
  }
  Timestamp Time(std::size_t i) const override {
    const std::string_view v = Value(i);
    if (types_[i] != kTimestamptzOid && types_[i] != kTimestampOid) {
      throw TypeError(i, "timestamp");
    }
    if (v.empty()) return {};
    return Timestamp{static_cast<std::int64_t>(BigEndian(Sized(i, v, 8))) + kPgEpochMicros};
  }

 private:
  int Col(std::size_t i) const {
    if (i >= types_.size()) throw DatabaseError("no column " + std::to_string(i));
    return static_cast<int>(i);
  }
  std::string_view Value(std::size_t i) const {
    const int c = Col(i);
    return {PQgetvalue(r_.get(), row_, c),
            static_cast<std::size_t>(PQgetlength(r_.get(), row_, c))};
  }
  // A fixed-size binary value, its size checked.
  static std::string_view Sized(std::size_t i, std::string_view v, std::size_t bytes) {
    if (v.size() != bytes) {
      throw DatabaseError("column " + std::to_string(i) + ": a binary value of an unexpected size");
    }
    return v;
  }
  DatabaseError TypeError(std::size_t i, std::string_view as) const {
    return DatabaseError("column " + std::to_string(i) + " (type oid " + std::to_string(types_[i]) +
                         ") read as " + std::string(as));
  }

  ResultPtr r_;
  int row_ = 0;
  std::vector<Oid> types_;
  mutable std::vector<std::array<char, 36>> uuids_;
};

}  // namespace

// LISTEN on a connection of its own, on a thread of its own; wakes on the socket or an eventfd.
class PgListener {
 public:
  PgListener(std::string url, int connect_timeout_s, std::function<void(std::string_view)> deliver)
      : url_(std::move(url)), timeout_s_(connect_timeout_s), deliver_(std::move(deliver)) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    std::string error;
    PGconn* first = ConnectAndListen(error);
    if (!first) {
      close(wake_fd_);
      throw DatabaseError("cannot LISTEN on PostgreSQL " + RedactUrl(url_) + ": " + error);
    }
    thread_ = std::thread([this, first] { Run(first); });
  }
  ~PgListener() {
    const std::uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
    thread_.join();
    close(wake_fd_);
  }
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

 private:
  PGconn* ConnectAndListen(std::string& error) {
    PGconn* conn = Connect(url_, timeout_s_, error);
    if (!conn) return nullptr;
    ResultPtr r(PQexec(conn, ("LISTEN " + std::string(kEventChannel)).c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      error = PQerrorMessage(conn);
      PQfinish(conn);
      return nullptr;
    }
    return conn;
  }

  // Waits for the socket (or only the wake fd, when fd < 0) for at most timeout_ms.
  // Returns false when woken to stop.
  bool Wait(int fd, int timeout_ms) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    return (fds[0].revents & POLLIN) == 0;
  }

  void Run(PGconn* conn) {
    int backoff_ms = 100;
    for (;;) {
      if (!conn) {
        if (!Wait(-1, backoff_ms)) return;
        std::string error;
        conn = ConnectAndListen(error);
        if (!conn) {
          backoff_ms = std::min(backoff_ms * 2, 5000);
          kLog.Warn("event listener reconnect failed", {{"error", error}});
          continue;
        }
        backoff_ms = 100;
        kLog.Info("event listener reconnected");
        deliver_("*");  // events between the loss and now are lost: drop every cache
      }
      if (!Wait(PQsocket(conn), -1)) break;
      if (PQconsumeInput(conn) == 0) {
        kLog.Warn("event listener lost its connection", {{"error", PQerrorMessage(conn)}});
        PQfinish(conn);
        conn = nullptr;
        deliver_("*");
        continue;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        const std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        try {
          deliver_(payload);
        } catch (const std::exception& e) {
          kLog.Error("event listener callback failed", {{"error", ErrorText(e)}});
        }
      }
    }
    PQfinish(conn);
  }

  std::string url_;
  int timeout_s_;
  std::function<void(std::string_view)> deliver_;
  int wake_fd_ = -1;
  std::thread thread_;
};

class PgConnection final : public Session {
 public:
  PgConnection(const std::string& url, int connect_timeout_s) {
    std::string error;
    conn_ = Connect(url, connect_timeout_s, error);
    if (!conn_)
      throw DatabaseError("cannot connect to PostgreSQL " + RedactUrl(url) + ": " + error);
    Exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'");
  }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  void ExecuteScript(std::string_view sql) override { Exec(std::string(sql)); }
  void Notify(std::string_view payload) override {
    if (payload.size() > 7000) throw DatabaseError("event payload over 7000 bytes");
    Run(kNotify, {std::string(kEventChannel), std::string(payload)});  // other replicas, at COMMIT
    pending_.emplace_back(payload);  // this process, right after COMMIT (PostgresDatabase::Write)
  }
  // Events of the last transaction: taken after COMMIT, dropped after ROLLBACK.
  std::vector<std::string> TakePending() { return std::exchange(pending_, {}); }
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

  std::unique_ptr<RowSet> FetchInPlace(const Query& q, const std::vector<Param>& params) override {
    return std::make_unique<PgRowSet>(Run(q, params, /*binary=*/true));
  }

  std::int64_t Execute(const Query& q, const std::vector<Param>& params) override {
    ResultPtr r = Run(q, params);
    const char* n = PQcmdTuples(r.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  ResultPtr Run(const Query& q, const std::vector<Param>& params, bool binary = false) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    ResultPtr r;
    if (q.dynamic) {  // planned with these values, not kept
      const std::string sql(q.For(Dialect::kPostgres));
      r.reset(PQexecParams(conn_, sql.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                           binary ? 1 : 0));
    } else {
      const std::string name(q.name);
      if (!prepared_.contains(name)) {
        const std::string sql(q.For(Dialect::kPostgres));
        ResultPtr p(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
        if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) Throw(q.name, p.get());
        prepared_.insert(name);
      }
      r.reset(
          PQexecPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, binary ? 1 : 0));
    }
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
  std::vector<std::string> pending_;
};

PostgresDatabase::PostgresDatabase(std::string url, const DatabaseOptions& options)
    : url_(std::move(url)), options_(options) {
  Release(Acquire());  // fail fast on a bad URL or an unreachable server
}

PostgresDatabase::~PostgresDatabase() = default;

std::uint64_t PostgresDatabase::Subscribe(Listener fn) {
  const auto handle = AddListener(std::move(fn));
  std::lock_guard lock(mutex_);
  if (!listener_) {
    listener_ = std::make_unique<PgListener>(url_, options_.connect_timeout_s,
                                             [this](std::string_view p) { Deliver(p); });
  }
  return handle;
}

std::unique_ptr<PgConnection> PostgresDatabase::Acquire() {
  MayBlock();  // a round trip ahead: not on an I/O thread answering from memory
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
    conn->TakePending();
    try {
      if (conn->Healthy()) conn->Exec("ROLLBACK");
    } catch (...) {
    }
    Release(std::move(conn));
    throw;
  }
  const auto events = conn->TakePending();
  Release(std::move(conn));
  // Subscribers in this process see the change before the writer returns (read-your-writes
  // for caches); the LISTEN connection later brings the same events again, which is harmless.
  for (const auto& e : events) Deliver(e);
}

void PostgresDatabase::Read(const std::function<void(Session&)>& fn) {
  auto conn = Acquire();
  try {
    fn(*conn);
  } catch (...) {
    conn->TakePending();
    Release(std::move(conn));
    throw;
  }
  const auto events = conn->TakePending();
  Release(std::move(conn));
  for (const auto& e : events) Deliver(e);
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
