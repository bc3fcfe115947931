// The TenantStore on PostgreSQL: the shared tables in the connection's schema (public), a moved
// tenant's in the schema "tenant_<id>", owned by a role of its own ("<id>@<database>") that has
// no right to anything else. A moved tenant's sessions run as that role (SET LOCAL ROLE) with
// only its schema on the search path, so the product's unqualified SQL reaches its rows and
// nothing else. The product's own role needs CREATEROLE (or is the database owner's superuser).
//
// Several replicas of a product may share the database: a session of a tenant this process
// still thinks shared reads the tenant's place inside its transaction, and a writing one first
// takes the tenant's advisory lock shared; the switch takes it exclusively, so no write reaches
// the shared rows once the switch has begun.
#include <libpq-fe.h>

#include <condition_variable>
#include <stdexcept>

#include "internal.hpp"
#include "tenant_store_internal.hpp"

namespace breakpilot::sdk::internal {
namespace {

constexpr const char* kLockClass = "1651535982";  // 'bpst': the first key of the tenant locks

class PgConn : public StoreSession {
 public:
  explicit PgConn(const std::string& url) : url_(url) { Connect(); }
  ~PgConn() override { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  StoreRows Run(std::string_view sql, const std::vector<StoreValue>& params = {}) override {
    std::vector<std::string> text;
    text.reserve(params.size());
    for (const auto& p : params) {
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        text.push_back(std::to_string(*n));
      } else {
        text.push_back(std::get<std::string>(p));
      }
    }
    std::vector<const char*> values;
    values.reserve(text.size());
    for (const auto& t : text) values.push_back(t.c_str());
    const std::string q(sql);
    PGresult* r = PQexecParams(conn_, q.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    return Take(r);
  }

  void Exec(const std::string& sql) { Take(PQexec(conn_, sql.c_str())); }

  // `fn` between BEGIN and COMMIT; ROLLBACK when it throws.
  template <class F>
  void Transaction(F&& fn) {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    Exec("BEGIN");
    try {
      fn();
      Exec("COMMIT");
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

 private:
  void Connect() {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      throw std::runtime_error("cannot connect to PostgreSQL: " + why);
    }
    PQclear(PQexec(conn_, "SET client_min_messages = warning"));
  }

  StoreRows Take(PGresult* r) {
    const auto status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::string why = PQresultErrorMessage(r);
      PQclear(r);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      throw std::runtime_error(why);
    }
    StoreRows out;
    const int rows = PQntuples(r);
    const int cols = PQnfields(r);
    out.rows.resize(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      auto& row = out.rows[static_cast<std::size_t>(i)];
      row.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) row.emplace_back(PQgetvalue(r, i, c));
    }
    const char* n = PQcmdTuples(r);
    out.affected = n != nullptr && *n != '\0' ? std::stoll(n) : 0;
    PQclear(r);
    return out;
  }

  std::string url_;
  PGconn* conn_ = nullptr;
};

// Connections lent one at a time.
class Pool {
 public:
  Pool(const std::string& url, unsigned size) {
    for (unsigned i = 0; i < size; ++i) {
      all_.push_back(std::make_unique<PgConn>(url));
      free_.push_back(all_.back().get());
    }
  }

  template <class F>
  void With(F&& fn) {
    PgConn* c = nullptr;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      c = free_.back();
      free_.pop_back();
    }
    struct Back {
      Pool* pool;
      PgConn* c;
      ~Back() {
        {
          std::lock_guard lock(pool->mu_);
          pool->free_.push_back(c);
        }
        pool->cv_.notify_one();
      }
    } back{this, c};
    fn(*c);
  }

 private:
  std::vector<std::unique_ptr<PgConn>> all_;
  std::vector<PgConn*> free_;
  std::mutex mu_;
  std::condition_variable cv_;
};

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

class PostgresStore final : public PlacedStore {
 public:
  PostgresStore(const std::string& url, std::vector<TenantTable> tables,
                const std::vector<std::string>& shared_ddl, TenantStoreOptions options)
      : PlacedStore(std::move(tables), options), pool_(url, options.connections + 1) {
    pool_.With([&](PgConn& c) {
      // Replicas starting together set up one after another.
      c.Transaction([&] {
        c.Run("SELECT pg_advisory_xact_lock(" + std::string(kLockClass) + ", 0)");
        const auto where = c.Run("SELECT current_schema(), current_database()");
        shared_schema_ = where.rows.at(0).at(0);
        database_ = where.rows.at(0).at(1);
        for (const auto& t : this->tables()) {
          c.Exec("CREATE TABLE IF NOT EXISTS " + t.name + " " + t.postgres);
          for (std::size_t i = 0; i < t.indexes.size(); ++i) {
            c.Exec("CREATE INDEX IF NOT EXISTS " + t.name + "_by_" + std::to_string(i) + " ON " +
                   t.name + " " + t.indexes[i]);
          }
          c.Exec("REVOKE ALL ON " + t.name + " FROM PUBLIC");
        }
        for (const auto& ddl : shared_ddl) c.Exec(ddl);
        c.Exec(kPlacesDdl);
        c.Exec("REVOKE ALL ON bp_tenant_places FROM PUBLIC");
      });
    });
    LoadPlaces();
    StartMover();
  }
  ~PostgresStore() override { StopMover(); }
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::string Dialect() const override { return "postgres"; }

  void Read(const std::string& tenant, const std::function<void(StoreSession&)>& fn) override {
    Session(tenant, false, fn);
  }
  void Write(const std::string& tenant, const std::function<void(StoreSession&)>& fn) override {
    Session(tenant, true, fn);
  }
  void Shared(const std::function<void(StoreSession&)>& fn) override {
    pool_.With([&](PgConn& c) { c.Transaction([&] { fn(c); }); });
  }

 protected:
  void CreatePlace(const std::string& tenant) override {
    const std::string role = RoleOf(tenant);
    const std::string schema = QuoteIdent(SchemaOf(tenant));
    pool_.With([&](PgConn& c) {
      c.Transaction([&] {
        c.Run("SELECT pg_advisory_xact_lock(" + std::string(kLockClass) + ", 0)");
        if (c.Run("SELECT 1 FROM pg_roles WHERE rolname = $1", {role}).rows.empty()) {
          c.Exec("CREATE ROLE " + QuoteIdent(role) + " NOLOGIN");
        }
        c.Exec("GRANT " + QuoteIdent(role) + " TO CURRENT_USER");
        c.Exec("CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION " + QuoteIdent(role));
        for (const auto& t : tables()) {
          const std::string table = schema + "." + t.name;
          c.Exec("CREATE TABLE IF NOT EXISTS " + table + " " + t.postgres);
          c.Exec("ALTER TABLE " + table + " OWNER TO " + QuoteIdent(role));
          for (std::size_t i = 0; i < t.indexes.size(); ++i) {
            c.Exec("CREATE INDEX IF NOT EXISTS " + t.name + "_by_" + std::to_string(i) + " ON " +
                   table + " " + t.indexes[i]);
          }
        }
      });
    });
  }

  void RemovePlace(const std::string& tenant) override {
    pool_.With([&](PgConn& c) {
      c.Transaction([&] {
        c.Exec("DROP SCHEMA IF EXISTS " + QuoteIdent(SchemaOf(tenant)) + " CASCADE");
        c.Exec("DROP ROLE IF EXISTS " + QuoteIdent(RoleOf(tenant)));
      });
    });
  }

  void Both(const std::string& tenant, bool exclusive,
            const std::function<void(StoreSession&, const MovePlaces&)>& fn) override {
    const MovePlaces at{QuoteIdent(shared_schema_), QuoteIdent(SchemaOf(tenant))};
    pool_.With([&](PgConn& c) {
      c.Transaction([&] {
        if (exclusive) {
          c.Run("SELECT pg_advisory_xact_lock(" + std::string(kLockClass) + ", hashtext($1))",
                {tenant});
        }
        fn(c, at);
      });
    });
  }

  // A session-level advisory lock on a connection of its own, held while `fn` moves the tenant
  // (its work takes other connections); a process that dies lets go with its connection.
  void Exclusively(const std::string& tenant, const std::function<void()>& fn) override {
    pool_.With([&](PgConn& c) {
      const std::string key = std::string(kLockClass) + ", hashtext('move:' || $1)";
      if (c.Run("SELECT pg_try_advisory_lock(" + key + ")", {tenant}).rows.at(0).at(0) != "t") {
        return;  // another replica moves it
      }
      struct Unlock {
        PgConn& c;
        const std::string& key;
        const std::string& tenant;
        ~Unlock() {
          try {
            c.Run("SELECT pg_advisory_unlock(" + key + ")", {tenant});
          } catch (const std::exception&) {
            // the connection broke: the lock went with it
          }
        }
      } unlock{c, key, tenant};
      fn();
    });
  }

  void ContinueIdentity(StoreSession& s, const MovePlaces& at, const TenantTable& t) override {
    const std::string table = at.own + "." + t.name;
    s.Run("SELECT setval(pg_get_serial_sequence($1, $2), (SELECT COALESCE(max(" + t.identity +
              "), 0) + 1 FROM " + table + "), false)",
          {table, t.identity});
  }

 private:
  static std::string SchemaOf(const std::string& tenant) { return "tenant_" + tenant; }
  std::string RoleOf(const std::string& tenant) const {
    std::string role = tenant + "@" + database_;
    if (role.size() > 63) role = "bp_" + Hex(Sha256(role)).substr(0, 40);
    return role;
  }

  void Session(const std::string& tenant, bool write,
               const std::function<void(StoreSession&)>& fn) {
    pool_.With([&](PgConn& c) {
      c.Transaction([&] {
        std::string place = CachedPlace(tenant);
        if (place == "shared") {
          if (write) {
            c.Run("SELECT pg_advisory_xact_lock_shared(" + std::string(kLockClass) +
                      ", hashtext($1))",
                  {tenant});
          }
          const auto rows = c.Run("SELECT place FROM bp_tenant_places WHERE tenant = $1", {tenant});
          if (!rows.rows.empty() && rows.rows[0][0] != "shared") {
            place = rows.rows[0][0];
            CachePlace(tenant, place);
          }
        }
        if (place != "shared") {
          c.Exec("SET LOCAL ROLE " + QuoteIdent(RoleOf(tenant)) + "; SET LOCAL search_path TO " +
                 QuoteIdent(SchemaOf(tenant)));
        }
        fn(c);
      });
    });
  }

  Pool pool_;
  std::string shared_schema_;
  std::string database_;
};

}  // namespace

std::unique_ptr<TenantStore> OpenPostgresStore(const std::string& url,
                                               std::vector<TenantTable> tables,
                                               const std::vector<std::string>& shared_ddl,
                                               TenantStoreOptions options) {
  return std::make_unique<PostgresStore>(url, std::move(tables), shared_ddl, options);
}

}  // namespace breakpilot::sdk::internal
