#include "store.hpp"

#include <sqlite3.h>

#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace echo_bot {

constexpr unsigned kReaders = 4;

// One SQLite connection, its statements prepared once (by their SQL text's address: each is a
// literal), and the mutex its one user at a time holds.
class Connection {
 public:
  Connection(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("echo-bot: cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Connection() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() { return db_; }
  std::mutex& mu() { return mu_; }
  sqlite3_stmt* Prepared(const char* sql) {
    auto& stmt = stmts_[sql];
    if (stmt == nullptr &&
        sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("echo-bot: ") + sqlite3_errmsg(db_));
    }
    return stmt;
  }
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err != nullptr ? err : "unknown";
      sqlite3_free(err);
      throw std::runtime_error("echo-bot: " + why);
    }
  }

 private:
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

namespace {

// A connection's prepared statement in use: reset and its bindings cleared on scope exit.
class Stmt {
 public:
  Stmt(Connection& c, const char* sql) : stmt_(c.Prepared(sql)) {}
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error("echo-bot: a statement failed");
  }
  std::string Text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  std::int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kInsertProject =
    "INSERT OR IGNORE INTO projects (tenant, id, name) VALUES (?, ?, ?)";
constexpr const char* kInsertEcho =
    "INSERT INTO echoes (tenant, project, message, actor, created) VALUES (?, ?, ?, ?, ?)";

// Runs `fn` in a write transaction on `c` (whose mutex the caller holds).
template <class F>
void InTransaction(Connection& c, F&& fn) {
  c.Exec("BEGIN IMMEDIATE");
  try {
    fn();
    c.Exec("COMMIT");
  } catch (...) {
    c.Exec("ROLLBACK");
    throw;
  }
}

}  // namespace

Store::Store(const std::string& path)
    : writer_(std::make_unique<Connection>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) {
  writer_->Exec("PRAGMA journal_mode = WAL");
  writer_->Exec("PRAGMA synchronous = NORMAL");
  writer_->Exec(
      "CREATE TABLE IF NOT EXISTS projects (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT "
      "NULL, PRIMARY KEY (tenant, id));"
      "CREATE TABLE IF NOT EXISTS echoes (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, project "
      "TEXT NOT NULL, message TEXT NOT NULL, actor TEXT NOT NULL, created INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS echoes_by_tenant ON echoes (tenant, id);"
      "CREATE TABLE IF NOT EXISTS deleted_tenants (tenant TEXT PRIMARY KEY);");
  for (unsigned i = 0; i < kReaders; ++i) {
    readers_.push_back(std::make_unique<Connection>(path, SQLITE_OPEN_READONLY));
  }
}

Store::~Store() = default;

Connection& Store::Reader() {
  return *readers_[next_reader_.fetch_add(1, std::memory_order_relaxed) % readers_.size()];
}

std::vector<Project> Store::Projects(const std::string& tenant) {
  Connection& c = Reader();
  std::lock_guard lock(c.mu());
  Stmt s(c, "SELECT id, name FROM projects WHERE tenant = ? ORDER BY id");
  s.Bind(1, tenant);
  std::vector<Project> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1)});
  return out;
}

bool Store::AddProject(const std::string& tenant, const Project& p) {
  std::lock_guard lock(writer_->mu());
  Stmt s(*writer_, kInsertProject);
  s.Bind(1, tenant).Bind(2, p.id).Bind(3, p.name);
  s.Step();
  return sqlite3_changes(writer_->db()) == 1;
}

bool Store::RemoveProject(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(writer_->mu());
  Stmt s(*writer_, "DELETE FROM projects WHERE tenant = ? AND id = ?");
  s.Bind(1, tenant).Bind(2, id);
  s.Step();
  return sqlite3_changes(writer_->db()) == 1;
}

std::int64_t Store::AddEcho(const std::string& tenant, const Echo& e) {
  std::lock_guard lock(writer_->mu());
  Stmt s(*writer_, kInsertEcho);
  s.Bind(1, tenant).Bind(2, e.project).Bind(3, e.message).Bind(4, e.actor).Bind(5, e.created);
  s.Step();
  return sqlite3_last_insert_rowid(writer_->db());
}

std::vector<Echo> Store::Echoes(const std::string& tenant, std::size_t limit) {
  Connection& c = Reader();
  std::lock_guard lock(c.mu());
  Stmt s(c,
         "SELECT id, project, message, actor, created FROM echoes WHERE tenant = ? "
         "ORDER BY id DESC LIMIT ?");
  s.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<Echo> out;
  while (s.Step()) out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)});
  return out;
}

bool Store::Deleted(const std::string& tenant) {
  Connection& c = Reader();
  std::lock_guard lock(c.mu());
  Stmt s(c, "SELECT 1 FROM deleted_tenants WHERE tenant = ?");
  s.Bind(1, tenant);
  return s.Step();
}

void Store::DeleteTenant(const std::string& tenant) {
  std::lock_guard lock(writer_->mu());
  InTransaction(*writer_, [&] {
    for (const char* sql :
         {"DELETE FROM projects WHERE tenant = ?", "DELETE FROM echoes WHERE tenant = ?",
          "INSERT OR IGNORE INTO deleted_tenants (tenant) VALUES (?)"}) {
      Stmt s(*writer_, sql);
      s.Bind(1, tenant);
      s.Step();
    }
  });
}

void Store::ReplaceTenant(const std::string& tenant, const std::vector<Project>& projects,
                          const std::vector<Echo>& echoes) {
  std::lock_guard lock(writer_->mu());
  InTransaction(*writer_, [&] {
    for (const char* sql :
         {"DELETE FROM projects WHERE tenant = ?", "DELETE FROM echoes WHERE tenant = ?"}) {
      Stmt s(*writer_, sql);
      s.Bind(1, tenant);
      s.Step();
    }
    for (const auto& p : projects) {
      Stmt s(*writer_, kInsertProject);
      s.Bind(1, tenant).Bind(2, p.id).Bind(3, p.name);
      s.Step();
    }
    for (const auto& e : echoes) {
      Stmt s(*writer_, kInsertEcho);
      s.Bind(1, tenant).Bind(2, e.project).Bind(3, e.message).Bind(4, e.actor).Bind(5, e.created);
      s.Step();
    }
  });
}

}  // namespace echo_bot
