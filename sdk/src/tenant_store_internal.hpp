// The part of a TenantStore both databases share: the place record (bp_tenant_places), the
// cache of where tenants live, and the move, written once over what each database provides.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "breakpilot/tenant_store.hpp"

namespace breakpilot::sdk::internal {

// The qualifiers a move uses: the shared tables and the tenant's own, seen from one connection.
struct MovePlaces {
  std::string shared;  // "public" / "main"
  std::string own;     // "\"tenant_acme\"" / "own"
};

class PlacedStore : public TenantStore {
 public:
  PlacedStore(std::vector<TenantTable> tables, TenantStoreOptions options);

  Outcome<IsolationStatus> Isolate(const std::string& tenant, const std::string& target) override;
  IsolationStatus Status(const std::string& tenant) override;
  void DropPlace(const std::string& tenant) override;
  bool WaitIdle(std::chrono::milliseconds timeout) override;

 protected:
  // The record table's DDL, for the backend's set-up.
  static constexpr const char* kPlacesDdl =
      "CREATE TABLE IF NOT EXISTS bp_tenant_places (tenant TEXT PRIMARY KEY, place TEXT NOT "
      "NULL, target TEXT NOT NULL, phase TEXT NOT NULL, copied BIGINT NOT NULL DEFAULT 0, total "
      "BIGINT NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '')";

  // Creates the tenant's own place and its tables; nothing when they exist.
  virtual void CreatePlace(const std::string& tenant) = 0;
  virtual void RemovePlace(const std::string& tenant) = 0;
  // `fn` in one write transaction on a connection that sees both places. `exclusive`: the
  // tenant's writers wait until it ends.
  virtual void Both(const std::string& tenant, bool exclusive,
                    const std::function<void(StoreSession&, const MovePlaces&)>& fn) = 0;
  // Runs `fn` unless another process is moving the tenant (replicas of a product on one
  // PostgreSQL each run a mover); SQLite has one process.
  virtual void Exclusively(const std::string& tenant, const std::function<void()>& fn) {
    (void)tenant;
    fn();
  }
  // After the switch's catch-up: the own table's numbering continues past its rows.
  virtual void ContinueIdentity(StoreSession& s, const MovePlaces& at, const TenantTable& t) = 0;

  // Starts the mover (which resumes unfinished moves); the derived store's constructor calls it
  // last, its destructor calls StopMover first.
  void StartMover();
  void StopMover();

  // Where the tenant lives, as far as this process knows ("shared" when never moved).
  std::string CachedPlace(const std::string& tenant);
  void CachePlace(const std::string& tenant, const std::string& place);
  void LoadPlaces();  // every record's place into the cache

  const std::vector<TenantTable>& tables() const { return tables_; }
  const TenantStoreOptions& options() const { return options_; }

 private:
  std::optional<IsolationStatus> Record(const std::string& tenant);
  void SaveRecord(StoreSession& s, const IsolationStatus& r);
  void MoverLoop();
  void Move(IsolationStatus r);
  void Copy(IsolationStatus& r);
  void Switch(IsolationStatus& r);
  void Clean(IsolationStatus& r);
  // Runs `batch` on the tenant's rows of `t` in key order, batch_rows at a time, each batch its
  // own transaction (Both), pausing after each: `rows` is "<shared table> AS s WHERE ..." and
  // `params` its values. False when the store stopped half way.
  using BatchFn = std::function<void(StoreSession& s, const MovePlaces& at, const std::string& rows,
                                     const std::vector<StoreValue>& params)>;
  bool Walk(const std::string& tenant, const TenantTable& t, const BatchFn& batch);
  void Pause();
  bool Stopping();

  std::vector<TenantTable> tables_;
  TenantStoreOptions options_;
  std::mutex places_mu_;
  std::map<std::string, std::string, std::less<>> places_;

  std::mutex move_mu_;  // held while one tenant moves, and by DropPlace
  std::mutex mover_mu_;
  std::condition_variable mover_cv_;
  bool wake_ = false;
  bool stop_ = false;
  bool busy_ = false;
  std::thread mover_;
};

// "$1" -> "?1" (SQLite's numbered parameters), outside nothing: product SQL keeps '$' out of
// its literals.
std::string SqliteParameters(std::string_view sql);
// A double-quoted SQL identifier.
std::string QuoteIdent(std::string_view name);

std::unique_ptr<TenantStore> OpenSqliteStore(const std::string& path,
                                             std::vector<TenantTable> tables,
                                             const std::vector<std::string>& shared_ddl,
                                             TenantStoreOptions options);
std::unique_ptr<TenantStore> OpenPostgresStore(const std::string& url,
                                               std::vector<TenantTable> tables,
                                               const std::vector<std::string>& shared_ddl,
                                               TenantStoreOptions options);

}  // namespace breakpilot::sdk::internal
