// The TenantStore on SQLite: the shared tables in the product's file (one writing connection,
// a few reading ones, WAL), a moved tenant's in "<file>.tenants/<tenant>.db" (one connection of
// its own). This process is the only one on the files, so its cache of places is the truth; the
// switch changes it while it holds the writing connection, which every shared write needs.
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <unordered_map>

#include "tenant_store_internal.hpp"

namespace breakpilot::sdk::internal {
namespace {

class SqliteConn : public StoreSession {
 public:
  SqliteConn(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~SqliteConn() override {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  std::mutex& mu() { return mu_; }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err != nullptr ? err : "unknown";
      sqlite3_free(err);
      throw std::runtime_error(why);
    }
  }

  StoreRows Run(std::string_view sql, const std::vector<StoreValue>& params = {}) override {
    sqlite3_stmt* stmt = Prepared(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    const int slots = sqlite3_bind_parameter_count(stmt);
    for (int i = 0; i < slots && i < static_cast<int>(params.size()); ++i) {
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        sqlite3_bind_int64(stmt, i + 1, *n);
      } else {
        const auto& s = std::get<std::string>(params[i]);
        sqlite3_bind_text(stmt, i + 1, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
    }
    StoreRows out;
    const int columns = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw std::runtime_error(sqlite3_errmsg(db_));
      auto& row = out.rows.emplace_back();
      for (int c = 0; c < columns; ++c) {
        const auto* p = sqlite3_column_text(stmt, c);
        row.emplace_back(p != nullptr ? reinterpret_cast<const char*>(p) : "");
      }
    }
    out.affected = sqlite3_stmt_readonly(stmt) != 0 ? 0 : sqlite3_changes(db_);
    return out;
  }

  // `fn` between BEGIN (IMMEDIATE when `write`) and COMMIT; ROLLBACK when it throws.
  template <class F>
  void Transaction(bool write, F&& fn) {
    Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      fn();
      Exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  // The statement of `sql` (as the product wrote it), prepared on first use with SQLite's
  // parameters; found again without a copy of the text.
  sqlite3_stmt* Prepared(std::string_view sql) {
    if (const auto it = stmts_.find(sql); it != stmts_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const std::string text = SqliteParameters(sql);
    if (sqlite3_prepare_v3(db_, text.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    stmts_.emplace(std::string(sql), stmt);
    return stmt;
  }

  sqlite3* db_ = nullptr;
  std::mutex mu_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> stmts_;
};

void CreateTables(SqliteConn& c, const std::vector<TenantTable>& tables) {
  for (const auto& t : tables) {
    c.Exec("CREATE TABLE IF NOT EXISTS " + t.name + " " + t.sqlite);
    for (std::size_t i = 0; i < t.indexes.size(); ++i) {
      c.Exec("CREATE INDEX IF NOT EXISTS " + t.name + "_by_" + std::to_string(i) + " ON " + t.name +
             " " + t.indexes[i]);
    }
  }
}

bool IsTenantId(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

class SqliteStore final : public PlacedStore {
 public:
  SqliteStore(std::string path, std::vector<TenantTable> tables,
              const std::vector<std::string>& shared_ddl, TenantStoreOptions options)
      : PlacedStore(std::move(tables), options), path_(std::move(path)) {
    writer_ = std::make_unique<SqliteConn>(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    writer_->Exec("PRAGMA journal_mode = WAL");
    writer_->Exec("PRAGMA synchronous = NORMAL");
    CreateTables(*writer_, this->tables());
    for (const auto& ddl : shared_ddl) writer_->Exec(ddl);
    writer_->Exec(kPlacesDdl);
    for (unsigned i = 0; i < this->options().connections; ++i) {
      readers_.push_back(std::make_unique<SqliteConn>(path_, SQLITE_OPEN_READONLY));
    }
    LoadPlaces();
    StartMover();
  }
  ~SqliteStore() override { StopMover(); }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::string Dialect() const override { return "sqlite"; }

  void Read(const std::string& tenant, const std::function<void(StoreSession&)>& fn) override {
    std::shared_ptr<SqliteConn> own;
    if (CachedPlace(tenant) != "shared") own = Own(tenant);
    SqliteConn& c = own ? *own : *readers_[next_reader_.fetch_add(1) % readers_.size()];
    std::lock_guard lock(c.mu());
    c.Transaction(false, [&] { fn(c); });
  }

  void Write(const std::string& tenant, const std::function<void(StoreSession&)>& fn) override {
    {
      std::lock_guard lock(writer_->mu());
      if (CachedPlace(tenant) == "shared") {
        writer_->Transaction(true, [&] { fn(*writer_); });
        return;
      }
    }
    const auto own = Own(tenant);
    std::lock_guard lock(own->mu());
    own->Transaction(true, [&] { fn(*own); });
  }

  void Shared(const std::function<void(StoreSession&)>& fn) override {
    std::lock_guard lock(writer_->mu());
    writer_->Transaction(true, [&] { fn(*writer_); });
  }

 protected:
  void CreatePlace(const std::string& tenant) override {
    const auto own = Own(tenant);
    std::lock_guard lock(own->mu());
    CreateTables(*own, tables());
  }

  void RemovePlace(const std::string& tenant) override {
    const std::string file = OwnPath(tenant);
    {
      std::lock_guard lock(own_mu_);
      own_.erase(tenant);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      std::filesystem::remove(file + suffix, ec);
    }
  }

  void Both(const std::string& tenant, bool /*exclusive: every shared write needs the writer*/,
            const std::function<void(StoreSession&, const MovePlaces&)>& fn) override {
    std::lock_guard lock(writer_->mu());
    writer_->Run("ATTACH DATABASE $1 AS own", {OwnPath(tenant)});
    try {
      writer_->Transaction(true, [&] { fn(*writer_, MovePlaces{"main", "own"}); });
    } catch (...) {
      writer_->Exec("DETACH DATABASE own");
      throw;
    }
    writer_->Exec("DETACH DATABASE own");
  }

  void ContinueIdentity(StoreSession& /*s*/, const MovePlaces& /*at*/,
                        const TenantTable& /*t*/) override {
    // INTEGER PRIMARY KEY numbers on from the largest rowid in the table itself.
  }

 private:
  std::string OwnPath(const std::string& tenant) const {
    if (!IsTenantId(tenant)) throw std::runtime_error("not a tenant id");
    return path_ + ".tenants/" + tenant + ".db";
  }

  // The tenant's own connection; shared, so a session keeps it while DropPlace lets go of it.
  std::shared_ptr<SqliteConn> Own(const std::string& tenant) {
    std::lock_guard lock(own_mu_);
    auto& c = own_[tenant];
    if (!c) {
      const std::string file = OwnPath(tenant);
      std::filesystem::create_directories(std::filesystem::path(file).parent_path());
      c = std::make_shared<SqliteConn>(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      c->Exec("PRAGMA journal_mode = WAL");
      c->Exec("PRAGMA synchronous = NORMAL");
    }
    return c;
  }

  std::string path_;
  std::unique_ptr<SqliteConn> writer_;
  std::vector<std::unique_ptr<SqliteConn>> readers_;
  std::atomic<unsigned> next_reader_{0};
  std::mutex own_mu_;
  std::unordered_map<std::string, std::shared_ptr<SqliteConn>> own_;
};

}  // namespace

std::unique_ptr<TenantStore> OpenSqliteStore(const std::string& path,
                                             std::vector<TenantTable> tables,
                                             const std::vector<std::string>& shared_ddl,
                                             TenantStoreOptions options) {
  return std::make_unique<SqliteStore>(path, std::move(tables), shared_ddl, options);
}

}  // namespace breakpilot::sdk::internal
