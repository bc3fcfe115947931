#include "storage/sqlite_database.hpp"
#include "core/memory_only.hpp"

#include <sqlite3.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <utility>

namespace breakpilot::storage {
namespace {

// A result copied out of its statement into one buffer (the statement belongs to the
// connection, the set may outlive it): a type, an integer and a span of text per cell.
class SqliteRowSet final : public RowSet, private RowView {
 public:
  explicit SqliteRowSet(std::size_t columns) : columns_(columns) {}
  void Add(sqlite3_stmt* stmt) {
    for (std::size_t i = 0; i < columns_; ++i) {
      const int c = static_cast<int>(i);
      Cell cell{.type = sqlite3_column_type(stmt, c)};
      if (cell.type == SQLITE_INTEGER) cell.integer = sqlite3_column_int64(stmt, c);
      if (const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c))) {
        cell.offset = data_.size();
        cell.size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
        data_.append(text, cell.size);
      }
      cells_.push_back(cell);
    }
  }
  std::size_t size() const override { return columns_ == 0 ? 0 : cells_.size() / columns_; }
  const RowView& At(std::size_t i) override {
    if (i >= size()) throw DatabaseError("no row " + std::to_string(i));
    row_ = i;
    return *this;
  }

  bool IsNull(std::size_t i) const override { return Get(i).type == SQLITE_NULL; }
  std::string_view Text(std::size_t i) const override {
    const Cell& c = Get(i);
    return std::string_view(data_).substr(c.offset, c.size);
  }
  std::int64_t Int(std::size_t i) const override {
    const Cell& c = Get(i);
    if (c.type != SQLITE_INTEGER && c.type != SQLITE_NULL) {
      throw DatabaseError("column " + std::to_string(i) + " is not an integer");
    }
    return c.integer;
  }
  bool Bool(std::size_t i) const override {
    if (Get(i).type == SQLITE_TEXT) {
      const std::string_view t = Text(i);
      return t == "1" || t == "t" || t == "true";
    }
    return Int(i) != 0;
  }
  Timestamp Time(std::size_t i) const override {
    if (IsNull(i)) return {};
    return StoredTime(Text(i), i);
  }

 private:
  struct Cell {
    int type = SQLITE_NULL;
    std::int64_t integer = 0;
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  const Cell& Get(std::size_t i) const {
    if (i >= columns_) throw DatabaseError("no column " + std::to_string(i));
    return cells_[row_ * columns_ + i];
  }

  std::size_t columns_;
  std::size_t row_ = 0;
  std::string data_;
  std::vector<Cell> cells_;
};

}  // namespace

class SqliteConnection final : public Session {
 public:
  SqliteConnection(const std::string& path, int busy_timeout_ms) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw DatabaseError("cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=NORMAL");
    Exec("PRAGMA foreign_keys=ON");
  }
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    ClearDynamic();
    sqlite3_close(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }
  void ExecuteScript(std::string_view sql) override { Exec(std::string(sql)); }
  void Notify(std::string_view payload) override {
    if (payload.size() > 7000) throw DatabaseError("event payload over 7000 bytes");
    pending_.emplace_back(payload);
  }
  // Events of the last transaction: taken after COMMIT, dropped after ROLLBACK.
  std::vector<std::string> TakePending() { return std::exchange(pending_, {}); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      ThrowError(msg, sqlite3_extended_errcode(db_));
    }
  }

  std::vector<Row> Fetch(const Query& q, const std::vector<Param>& params) override {
    sqlite3_stmt* stmt = Prepare(q, params);
    std::vector<Row> rows;
    const int ncols = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) Fail(q, stmt, rc);
      std::vector<std::optional<std::string>> cols;
      cols.reserve(static_cast<std::size_t>(ncols));
      for (int i = 0; i < ncols; ++i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
          cols.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
          cols.emplace_back(
              std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
        }
      }
      rows.emplace_back(std::move(cols));
    }
    sqlite3_reset(stmt);
    return rows;
  }

  std::unique_ptr<RowSet> FetchInPlace(const Query& q, const std::vector<Param>& params) override {
    sqlite3_stmt* stmt = Prepare(q, params);
    struct Reset {
      sqlite3_stmt* stmt;
      ~Reset() { sqlite3_reset(stmt); }
    } reset{stmt};
    auto rows =
        std::make_unique<SqliteRowSet>(static_cast<std::size_t>(sqlite3_column_count(stmt)));
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return rows;
      if (rc != SQLITE_ROW) Fail(q, stmt, rc);
      rows->Add(stmt);
    }
  }

  std::int64_t Execute(const Query& q, const std::vector<Param>& params) override {
    sqlite3_stmt* stmt = Prepare(q, params);
    int rc = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) Fail(q, stmt, rc);
    sqlite3_reset(stmt);
    return sqlite3_changes(db_);
  }

 private:
  [[noreturn]] void ThrowError(const std::string& msg, int code) {
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      throw UniqueViolation(msg);
    }
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY) throw ForeignKeyViolation(msg);
    throw DatabaseError(msg);
  }

  [[noreturn]] void Fail(const Query& q, sqlite3_stmt* stmt, int rc) {
    std::string msg = std::string(q.name) + ": " + sqlite3_errmsg(db_);
    const int code = sqlite3_extended_errcode(db_);
    sqlite3_reset(stmt);
    (void)rc;
    ThrowError(msg, code);
  }

  sqlite3_stmt* Prepare(const Query& q, const std::vector<Param>& params) {
    const std::string_view sql = q.For(Dialect::kSqlite);
    sqlite3_stmt* stmt = q.dynamic ? FindDynamic(sql) : Find(sql);
    if (stmt == nullptr) {
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        throw DatabaseError(std::string(q.name) + ": " + sqlite3_errmsg(db_));
      }
      if (q.dynamic) {
        if (dynamic_.size() >= kMaxDynamic) ClearDynamic();
        dynamic_.emplace(std::string(sql), stmt);
      } else {
        statements_.emplace(sql.data(), stmt);
      }
    }
    sqlite3_clear_bindings(stmt);
    const int count = sqlite3_bind_parameter_count(stmt);
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      std::size_t n = 0;
      if (name == nullptr || name[0] != '$' ||
          std::from_chars(name + 1, name + std::strlen(name), n).ec != std::errc() || n == 0 ||
          n > params.size()) {
        throw DatabaseError(std::string(q.name) + ": parameter " + (name ? name : "?") +
                            " has no value");
      }
      const Param& p = params[n - 1];
      const int rc =
          p ? sqlite3_bind_text(stmt, i, p->data(), static_cast<int>(p->size()), SQLITE_TRANSIENT)
            : sqlite3_bind_null(stmt, i);
      if (rc != SQLITE_OK) throw DatabaseError(std::string(q.name) + ": bind failed");
    }
    return stmt;
  }

  sqlite3_stmt* Find(std::string_view sql) const {
    auto it = statements_.find(sql.data());
    return it == statements_.end() ? nullptr : it->second;
  }
  sqlite3_stmt* FindDynamic(std::string_view sql) const {
    auto it = dynamic_.find(std::string(sql));
    return it == dynamic_.end() ? nullptr : it->second;
  }
  void ClearDynamic() {
    for (auto& [text, stmt] : dynamic_) sqlite3_finalize(stmt);
    dynamic_.clear();
  }

  static constexpr std::size_t kMaxDynamic = 64;
  sqlite3* db_ = nullptr;
  // Keyed by the SQL text's address: every Query is a constant with static storage.
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  // Texts built per call (Query::dynamic), keyed by content; a few filter shapes recur.
  std::unordered_map<std::string, sqlite3_stmt*> dynamic_;
  std::vector<std::string> pending_;
};

SqliteDatabase::SqliteDatabase(std::string path, const DatabaseOptions& options)
    : path_(std::move(path)), options_(options) {
  in_memory_ = path_ == ":memory:";
  if (!in_memory_) {
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  writer_ = Open();
}

SqliteDatabase::~SqliteDatabase() = default;

std::unique_ptr<SqliteConnection> SqliteDatabase::Open() const {
  return std::make_unique<SqliteConnection>(path_, options_.busy_timeout_ms);
}

void SqliteDatabase::Write(const std::function<void(Session&)>& fn) {
  MayBlock();
  PendingWrite me{.fn = &fn};
  {
    std::unique_lock lock(queue_mutex_);
    queue_.push_back(&me);
    while (!me.done) {
      if (batch_running_) {
        queue_cv_.wait(lock);
        continue;
      }
      // Nobody is committing: this thread runs the next batch, which holds its own call unless
      // more than kMaxBatch wait before it (then it runs another one after).
      batch_running_ = true;
      std::vector<PendingWrite*> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      RunBatch(batch);
      lock.lock();
      ++stats_.commits;
      stats_.writes += batch.size();
      for (auto* w : batch) w->done = true;
      batch_running_ = false;
      queue_cv_.notify_all();  // the callers of this batch, and whoever runs the next one
    }
  }
  if (me.error) std::rethrow_exception(me.error);
  for (const auto& p : me.events) Deliver(p);
}

void SqliteDatabase::RunBatch(std::vector<PendingWrite*>& batch) {
  std::lock_guard lock(write_mutex_);
  const auto fail_all = [&](const std::exception_ptr& e) {
    for (auto* w : batch) {
      if (!w->error) w->error = e;
      w->events.clear();
    }
  };
  try {
    writer_->Exec("BEGIN IMMEDIATE");
  } catch (...) {
    fail_all(std::current_exception());
    return;
  }
  bool broken = false;  // a savepoint could not be rolled back: the transaction is lost
  for (auto* w : batch) {
    if (broken) break;
    try {
      writer_->Exec("SAVEPOINT write_call");
      (*w->fn)(*writer_);
      writer_->Exec("RELEASE write_call");
      w->events = writer_->TakePending();
    } catch (...) {
      w->error = std::current_exception();
      writer_->TakePending();
      try {
        writer_->Exec("ROLLBACK TO write_call");
        writer_->Exec("RELEASE write_call");
      } catch (...) {
        broken = true;
      }
    }
  }
  try {
    if (broken) throw DatabaseError("a write could not be undone alone; the batch was rolled back");
    writer_->Exec("COMMIT");
  } catch (...) {
    fail_all(std::current_exception());
    try {
      writer_->Exec("ROLLBACK");
    } catch (...) {
    }
  }
}

SqliteDatabase::CommitStats SqliteDatabase::commit_stats() const {
  std::lock_guard lock(queue_mutex_);
  return stats_;
}

std::uint64_t SqliteDatabase::Subscribe(Listener fn) {
  return AddListener(std::move(fn));
}

void SqliteDatabase::Read(const std::function<void(Session&)>& fn) {
  MayBlock();
  if (in_memory_) {  // one connection holds the whole in-memory database
    std::vector<std::string> events;
    {
      std::lock_guard lock(write_mutex_);
      try {
        fn(*writer_);
      } catch (...) {
        writer_->TakePending();
        throw;
      }
      events = writer_->TakePending();
    }
    for (const auto& p : events) Deliver(p);
    return;
  }
  std::unique_ptr<SqliteConnection> conn;
  {
    std::unique_lock lock(pool_mutex_);
    pool_cv_.wait(lock,
                  [&] { return !idle_readers_.empty() || open_readers_ < options_.pool_size; });
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;
    }
  }
  struct Return {
    SqliteDatabase* self;
    std::unique_ptr<SqliteConnection>* conn;
    ~Return() {
      std::lock_guard lock(self->pool_mutex_);
      if (*conn) {
        self->idle_readers_.push_back(std::move(*conn));
      } else {
        --self->open_readers_;
      }
      self->pool_cv_.notify_one();
    }
  } give_back{this, &conn};
  if (!conn) conn = Open();
  try {
    fn(*conn);  // autocommit: each statement reads its own consistent snapshot, as on PostgreSQL
  } catch (...) {
    conn->TakePending();
    throw;
  }
  for (const auto& p : conn->TakePending()) Deliver(p);
}

void SqliteDatabase::ExecuteRaw(std::string_view sql) {
  std::lock_guard lock(write_mutex_);
  writer_->Exec(std::string(sql));
}

bool SqliteDatabase::Ping() noexcept {
  try {
    static constexpr Query kPing{"ping", "SELECT 1"};
    bool ok = false;
    Read([&](Session& s) { ok = !s.Fetch(kPing, {}).empty(); });
    return ok;
  } catch (...) {
    return false;
  }
}

}  // namespace breakpilot::storage
