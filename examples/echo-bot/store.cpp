#include "store.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace echo_bot {
namespace {

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("echo-bot: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
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

}  // namespace

Store::Store(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("echo-bot: cannot open " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  Exec("PRAGMA journal_mode = WAL");
  Exec("PRAGMA synchronous = NORMAL");
  Exec(
      "CREATE TABLE IF NOT EXISTS projects (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT "
      "NULL, PRIMARY KEY (tenant, id));"
      "CREATE TABLE IF NOT EXISTS echoes (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, project "
      "TEXT NOT NULL, message TEXT NOT NULL, actor TEXT NOT NULL, created INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS echoes_by_tenant ON echoes (tenant, id);"
      "CREATE TABLE IF NOT EXISTS deleted_tenants (tenant TEXT PRIMARY KEY);");
}

Store::~Store() {
  sqlite3_close(db_);
}

void Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err != nullptr ? err : "unknown";
    sqlite3_free(err);
    throw std::runtime_error("echo-bot: " + why);
  }
}

std::vector<Project> Store::Projects(const std::string& tenant) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT id, name FROM projects WHERE tenant = ? ORDER BY id");
  s.Bind(1, tenant);
  std::vector<Project> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1)});
  return out;
}

bool Store::AddProject(const std::string& tenant, const Project& p) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT OR IGNORE INTO projects (tenant, id, name) VALUES (?, ?, ?)");
  s.Bind(1, tenant).Bind(2, p.id).Bind(3, p.name);
  s.Step();
  return sqlite3_changes(db_) == 1;
}

bool Store::RemoveProject(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM projects WHERE tenant = ? AND id = ?");
  s.Bind(1, tenant).Bind(2, id);
  s.Step();
  return sqlite3_changes(db_) == 1;
}

std::int64_t Store::AddEcho(const std::string& tenant, const Echo& e) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO echoes (tenant, project, message, actor, created) VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, tenant).Bind(2, e.project).Bind(3, e.message).Bind(4, e.actor).Bind(5, e.created);
  s.Step();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<Echo> Store::Echoes(const std::string& tenant, std::size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT id, project, message, actor, created FROM echoes WHERE tenant = ? "
         "ORDER BY id DESC LIMIT ?");
  s.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<Echo> out;
  while (s.Step()) out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)});
  return out;
}

bool Store::Deleted(const std::string& tenant) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT 1 FROM deleted_tenants WHERE tenant = ?");
  s.Bind(1, tenant);
  return s.Step();
}

void Store::DeleteTenant(const std::string& tenant) {
  std::lock_guard lock(mu_);
  Exec("BEGIN IMMEDIATE");
  try {
    for (const char* sql :
         {"DELETE FROM projects WHERE tenant = ?", "DELETE FROM echoes WHERE tenant = ?",
          "INSERT OR IGNORE INTO deleted_tenants (tenant) VALUES (?)"}) {
      Stmt s(db_, sql);
      s.Bind(1, tenant);
      s.Step();
    }
    Exec("COMMIT");
  } catch (...) {
    Exec("ROLLBACK");
    throw;
  }
}

void Store::ReplaceTenant(const std::string& tenant, const std::vector<Project>& projects,
                          const std::vector<Echo>& echoes) {
  std::lock_guard lock(mu_);
  Exec("BEGIN IMMEDIATE");
  try {
    for (const char* sql :
         {"DELETE FROM projects WHERE tenant = ?", "DELETE FROM echoes WHERE tenant = ?"}) {
      Stmt s(db_, sql);
      s.Bind(1, tenant);
      s.Step();
    }
    for (const auto& p : projects) {
      Stmt s(db_, "INSERT OR IGNORE INTO projects (tenant, id, name) VALUES (?, ?, ?)");
      s.Bind(1, tenant).Bind(2, p.id).Bind(3, p.name);
      s.Step();
    }
    for (const auto& e : echoes) {
      Stmt s(
          db_,
          "INSERT INTO echoes (tenant, project, message, actor, created) VALUES (?, ?, ?, ?, ?)");
      s.Bind(1, tenant).Bind(2, e.project).Bind(3, e.message).Bind(4, e.actor).Bind(5, e.created);
      s.Step();
    }
    Exec("COMMIT");
  } catch (...) {
    Exec("ROLLBACK");
    throw;
  }
}

}  // namespace echo_bot
