#include "breakpilot/tenant_store.hpp"

#include <optional>
#include <stdexcept>

#include "tenant_store_internal.hpp"

namespace breakpilot::sdk {

std::int64_t StoreRows::Int(std::size_t row, std::size_t col) const {
  const std::string& v = rows.at(row).at(col);
  return v.empty() ? 0 : std::stoll(v);
}

std::unique_ptr<TenantStore> TenantStore::Open(const std::string& location,
                                               std::vector<TenantTable> tables,
                                               const std::vector<std::string>& shared_ddl,
                                               TenantStoreOptions options) {
  if (options.batch_rows < 1) options.batch_rows = 1;
  if (options.connections < 1) options.connections = 1;
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return internal::OpenPostgresStore(location, std::move(tables), shared_ddl, options);
  }
  return internal::OpenSqliteStore(location, std::move(tables), shared_ddl, options);
}

namespace internal {
namespace {

// " AND NOT EXISTS (...)": the shared row `s` is not in the own place yet, by the table's key.
std::string Absent(const TenantTable& t, const MovePlaces& at) {
  std::string match;
  for (const auto& k : t.key) {
    if (!match.empty()) match += " AND ";
    match.append("d.").append(k).append(" = s.").append(k);
  }
  return " AND NOT EXISTS (SELECT 1 FROM " + at.own + "." + t.name + " d WHERE " + match + ")";
}

// "a, b", or with `alias` "s.a, s.b".
std::string KeyList(const TenantTable& t, std::string_view alias = {}) {
  std::string out;
  for (const auto& k : t.key) {
    if (!out.empty()) out += ", ";
    out.append(alias).append(k);
  }
  return out;
}

using Key = std::vector<std::string>;

// A move walks a table in key order, a batch at a time: the rows after the last batch's upper
// key, up to the key `batch_rows` rows on. With an index on (tenant, key) each step is short
// however far the walk has come, and rows already copied are never read again.
struct KeyRange {
  std::optional<Key> after;  // none: from the first row
  std::optional<Key> upto;   // none: to the last
};

// " AND (s.a, s.b) > ($2, $3) AND ..." for `range`, its values appended to `params`.
std::string RangeSql(const TenantTable& t, const KeyRange& range, std::vector<StoreValue>& params) {
  std::string out;
  const auto bound = [&](const Key& key, const char* op) {
    out.append(" AND (").append(KeyList(t, "s.")).append(") ").append(op).append(" (");
    for (std::size_t i = 0; i < key.size(); ++i) {
      params.emplace_back(key[i]);
      out.append(i == 0 ? "$" : ", $").append(std::to_string(params.size()));
    }
    out += ")";
  };
  if (range.after) bound(*range.after, ">");
  if (range.upto) bound(*range.upto, "<=");
  return out;
}

// The key `batch` rows after `after` in the tenant's rows of `table` (qualified); none when
// fewer are left.
std::optional<Key> UpperKey(StoreSession& s, const std::string& table, const TenantTable& t,
                            const std::string& tenant, const std::optional<Key>& after,
                            std::int64_t batch) {
  std::vector<StoreValue> params{tenant};
  std::string sql = "SELECT " + KeyList(t, "s.") + " FROM " + table + " s WHERE s.tenant = $1";
  sql += RangeSql(t, {after, std::nullopt}, params);
  params.emplace_back(batch - 1);
  sql += " ORDER BY " + KeyList(t, "s.") + " LIMIT 1 OFFSET $" + std::to_string(params.size());
  auto rows = s.Run(sql, params);
  if (rows.rows.empty()) return std::nullopt;
  return std::move(rows.rows[0]);
}

}  // namespace

std::string SqliteParameters(std::string_view sql) {
  std::string out(sql);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

PlacedStore::PlacedStore(std::vector<TenantTable> tables, TenantStoreOptions options)
    : tables_(std::move(tables)), options_(options) {}

void PlacedStore::StartMover() {
  wake_ = true;  // the first pass looks for unfinished moves: WaitIdle waits for it
  mover_ = std::thread([this] { MoverLoop(); });
}

void PlacedStore::StopMover() {
  {
    std::lock_guard lock(mover_mu_);
    stop_ = true;
  }
  mover_cv_.notify_all();
  if (mover_.joinable()) mover_.join();
}

std::string PlacedStore::CachedPlace(const std::string& tenant) {
  std::lock_guard lock(places_mu_);
  const auto it = places_.find(tenant);
  return it == places_.end() ? std::string("shared") : it->second;
}

void PlacedStore::CachePlace(const std::string& tenant, const std::string& place) {
  std::lock_guard lock(places_mu_);
  if (place == "shared") {
    places_.erase(tenant);
  } else {
    places_[tenant] = place;
  }
}

void PlacedStore::LoadPlaces() {
  Shared([&](StoreSession& s) {
    const auto rows = s.Run("SELECT tenant, place FROM bp_tenant_places WHERE place <> 'shared'");
    std::lock_guard lock(places_mu_);
    for (const auto& row : rows.rows) places_[row[0]] = row[1];
  });
}

std::optional<IsolationStatus> PlacedStore::Record(const std::string& tenant) {
  std::optional<IsolationStatus> out;
  Shared([&](StoreSession& s) {
    const auto rows = s.Run(
        "SELECT place, target, phase, copied, total, error FROM bp_tenant_places WHERE tenant = $1",
        {tenant});
    if (rows.rows.empty()) return;
    const auto& r = rows.rows[0];
    out = IsolationStatus{.tenant_id = tenant,
                          .place = r[0],
                          .target = r[1],
                          .phase = r[2],
                          .copied = rows.Int(0, 3),
                          .total = rows.Int(0, 4),
                          .error = r[5]};
  });
  return out;
}

void PlacedStore::SaveRecord(StoreSession& s, const IsolationStatus& r) {
  s.Run(
      "UPDATE bp_tenant_places SET place = $2, target = $3, phase = $4, copied = $5, total = $6, "
      "error = $7 WHERE tenant = $1",
      {r.tenant_id, r.place, r.target, r.phase, r.copied, r.total, r.error});
}

IsolationStatus PlacedStore::Status(const std::string& tenant) {
  auto r = Record(tenant);
  return r ? *r : IsolationStatus{.tenant_id = tenant};
}

Outcome<IsolationStatus> PlacedStore::Isolate(const std::string& tenant,
                                              const std::string& target) {
  if (target != "schema" && target != "database") {
    return Failure{422, "validation-failed", "Validation failed",
                   "isolation is \"schema\" or \"database\""};
  }
  if (Dialect() == "postgres" && target == "database") {
    return Failure{422, "isolation-unsupported", "Isolation not supported",
                   "this product keeps isolated tenants in a schema of their own on PostgreSQL; "
                   "ask for \"schema\""};
  }
  Shared([&](StoreSession& s) {
    s.Run(
        "INSERT INTO bp_tenant_places (tenant, place, target, phase) VALUES ($1, 'shared', $2, "
        "'copying') ON CONFLICT (tenant) DO NOTHING",
        {tenant, target});
    // A failed move to the same target starts again (every step can be repeated).
    s.Run(
        "UPDATE bp_tenant_places SET phase = CASE WHEN place = target THEN 'cleaning' ELSE "
        "'copying' END, error = '' WHERE tenant = $1 AND target = $2 AND phase = 'failed'",
        {tenant, target});
  });
  auto r = Status(tenant);
  if (r.target != target) {
    return Failure{409, "isolation-conflict", "Isolation conflict",
                   "the tenant is isolated, or being isolated, as \"" + r.target + "\""};
  }
  {
    std::lock_guard lock(mover_mu_);
    wake_ = true;
  }
  mover_cv_.notify_all();
  return r;
}

void PlacedStore::DropPlace(const std::string& tenant) {
  std::lock_guard lock(move_mu_);
  RemovePlace(tenant);
  Shared(
      [&](StoreSession& s) { s.Run("DELETE FROM bp_tenant_places WHERE tenant = $1", {tenant}); });
  CachePlace(tenant, "shared");
}

bool PlacedStore::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mover_mu_);
  return mover_cv_.wait_for(lock, timeout, [&] { return !busy_ && !wake_; });
}

void PlacedStore::Pause() {
  if (options_.batch_pause.count() <= 0) return;
  std::unique_lock lock(mover_mu_);
  mover_cv_.wait_for(lock, options_.batch_pause, [&] { return stop_; });
}

void PlacedStore::MoverLoop() {
  for (;;) {
    std::vector<std::string> pending;
    try {
      Shared([&](StoreSession& s) {
        for (auto& row :
             s.Run("SELECT tenant FROM bp_tenant_places WHERE phase IN ('copying', 'switching', "
                   "'cleaning') ORDER BY tenant")
                 .rows) {
          pending.push_back(std::move(row[0]));
        }
      });
    } catch (const std::exception&) {
      pending.clear();  // the database is away: try again when woken or in a second
    }
    {
      std::unique_lock lock(mover_mu_);
      if (stop_) break;
      if (pending.empty()) {
        busy_ = false;
        wake_ = false;
        mover_cv_.notify_all();
        mover_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || wake_; });
        if (stop_) break;
        continue;
      }
      busy_ = true;
      wake_ = false;
    }
    for (const auto& tenant : pending) {
      std::lock_guard move_lock(move_mu_);
      Exclusively(tenant, [&] {
        // Read again under the claim: another replica may have moved it on meanwhile.
        if (auto r = Record(tenant)) Move(*r);
      });
      std::lock_guard lock(mover_mu_);
      if (stop_) break;
    }
  }
  std::lock_guard lock(mover_mu_);
  busy_ = false;
  mover_cv_.notify_all();
}

void PlacedStore::Move(IsolationStatus r) {
  try {
    if (r.phase == "copying") Copy(r);
    if (r.phase == "switching") Switch(r);
    if (r.phase == "cleaning") Clean(r);
  } catch (const std::exception& e) {
    r.phase = "failed";
    r.error = e.what();
    try {
      Shared([&](StoreSession& s) { SaveRecord(s, r); });
    } catch (const std::exception&) {
      // the record stays in its phase: the next pass repeats the step
    }
  }
}

bool PlacedStore::Stopping() {
  std::lock_guard lock(mover_mu_);
  return stop_;
}

void PlacedStore::Copy(IsolationStatus& r) {
  CreatePlace(r.tenant_id);
  if (r.total == 0) {
    Shared([&](StoreSession& s) {
      for (const auto& t : tables_) {
        r.total +=
            s.Run("SELECT count(*) FROM " + t.name + " WHERE tenant = $1", {r.tenant_id}).Int(0, 0);
      }
      SaveRecord(s, r);
    });
  }
  for (const auto& t : tables_) {
    const bool whole = Walk(
        r.tenant_id, t,
        [&](StoreSession& s, const MovePlaces& at, const std::string& rows, const auto& params) {
          std::string sql = "INSERT INTO " + at.own;
          sql.append(".").append(t.name).append(" SELECT s.* FROM ").append(rows);
          r.copied += s.Run(sql + Absent(t, at), params).affected;
          SaveRecord(s, r);
        });
    if (!whole) return;
  }
  r.phase = "switching";
  Shared([&](StoreSession& s) { SaveRecord(s, r); });
}

void PlacedStore::Switch(IsolationStatus& r) {
  if (Stopping()) return;
  IsolationStatus next = r;
  try {
    Both(r.tenant_id, true, [&](StoreSession& s, const MovePlaces& at) {
      std::int64_t rows = 0;
      for (const auto& t : tables_) {
        const std::string own = at.own + "." + t.name;
        const std::string keys = KeyList(t);
        // Rows changed or deleted in the shared place since they were copied go; the rows
        // missing then come (again).
        std::string changed = "DELETE FROM " + own;
        changed.append(" WHERE (").append(keys).append(") IN (SELECT ");
        changed.append(keys).append(" FROM (SELECT * FROM ").append(own);
        changed.append(" EXCEPT SELECT * FROM ").append(at.shared).append(".").append(t.name);
        changed.append(" WHERE tenant = $1) changed)");
        s.Run(changed, {r.tenant_id});
        s.Run("INSERT INTO " + own + " SELECT s.* FROM " + at.shared + "." + t.name +
                  " s WHERE s.tenant = $1" + Absent(t, at),
              {r.tenant_id});
        const auto counts = s.Run("SELECT (SELECT count(*) FROM " + at.shared + "." + t.name +
                                      " WHERE tenant = $1), (SELECT count(*) FROM " + own + ")",
                                  {r.tenant_id});
        if (counts.Int(0, 0) != counts.Int(0, 1)) {
          throw std::runtime_error("the counts of " + t.name + " differ after the copy (" +
                                   std::to_string(counts.Int(0, 0)) + " shared, " +
                                   std::to_string(counts.Int(0, 1)) + " moved)");
        }
        rows += counts.Int(0, 1);
        if (!t.identity.empty()) ContinueIdentity(s, at, t);
      }
      next.place = next.target;
      next.phase = "cleaning";
      next.copied = next.total = rows;
      SaveRecord(s, next);
      // Still inside the transaction that holds the tenant's writers off: from here on this
      // process sends the tenant's sessions to its own place.
      CachePlace(r.tenant_id, next.place);
    });
  } catch (...) {
    CachePlace(r.tenant_id, r.place);
    throw;
  }
  r = next;
}

bool PlacedStore::Walk(const std::string& tenant, const TenantTable& t, const BatchFn& batch) {
  std::optional<Key> after;
  for (;;) {
    std::optional<Key> upto;
    Both(tenant, false, [&](StoreSession& s, const MovePlaces& at) {
      const std::string shared = at.shared + "." + t.name;
      upto = UpperKey(s, shared, t, tenant, after, options_.batch_rows);
      std::vector<StoreValue> params{tenant};
      const std::string range = RangeSql(t, {after, upto}, params);
      std::string rows = shared;
      rows.append(" AS s WHERE s.tenant = $1").append(range);
      batch(s, at, rows, params);
    });
    if (Stopping()) return false;
    Pause();
    if (!upto) return true;
    after = std::move(upto);
  }
}

void PlacedStore::Clean(IsolationStatus& r) {
  for (const auto& t : tables_) {
    const bool whole = Walk(r.tenant_id, t,
                            [&](StoreSession& s, const MovePlaces&, const std::string& rows,
                                const auto& params) { s.Run("DELETE FROM " + rows, params); });
    if (!whole) return;
  }
  r.phase = "done";
  Shared([&](StoreSession& s) { SaveRecord(s, r); });
}

}  // namespace internal
}  // namespace breakpilot::sdk
