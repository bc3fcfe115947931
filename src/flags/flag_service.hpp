// The built-in flag store (§1.12, M19.1): flags kept in the database and in every replica's
// memory, and the one call site that answers them for a tenant.
//
//   POST/GET/PATCH/DELETE /flags[/{key}], backstage /flags   Create, List, Get, Patch, Delete
//   OFREP /ofrep/v1/evaluate/flags[/{key}], the product SDK   Evaluate, EvaluateAll
//
// Every replica holds all flags in memory (one snapshot, read whole); a change publishes the
// storage event "flags", which drops the snapshot on every replica (LISTEN/NOTIFY on
// PostgreSQL), so the next evaluation reads the new definitions: a change is seen everywhere
// within the event's delay (milliseconds).
//
// An evaluation whose variant differs from the last one that tenant got from that flag is
// recorded in the audit trail (action flag.result: flag, variant, value, reason, flag version),
// once per change whichever replica sees it first: the row in flag_results is updated only when
// the variant differs, and the audit event goes with that update. Each replica remembers the
// results it has seen, so an unchanged answer costs no database work.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/trail.hpp"
#include "core/event_guarded.hpp"
#include "core/result.hpp"
#include "flags/flag.hpp"
#include "flags/unleash.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::flags {

inline constexpr std::string_view kFlagsEvent = "flags";

class FlagService {
 public:
  // `unleash`: the Unleash backend, asked first while it answers (null: the built-in store only).
  FlagService(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
              const UnleashSource* unleash = nullptr);
  ~FlagService();
  FlagService(const FlagService&) = delete;
  FlagService& operator=(const FlagService&) = delete;

  // A new flag from its definition (ParseFlag); 409 when the key is taken.
  Result<Flag> Create(const audit::Actor& actor, const boost::json::value& definition);
  Result<Flag> Get(const std::string& key);
  std::vector<Flag> List();
  // Applies a JSON merge patch (RFC 7396) to the definition; the key cannot change.
  // expected_version: from If-Match; a mismatch is 412.
  Result<Flag> Patch(const audit::Actor& actor, const std::string& key,
                     const boost::json::value& merge_patch,
                     std::optional<std::int64_t> expected_version);
  Result<Ok> Delete(const audit::Actor& actor, const std::string& key);

  // evaluate(tenant, flag): the flag's answer for the tenant; 404 flag-not-found, or the
  // tenant's own 404. A changed result is recorded (see above) by `actor`.
  Result<Evaluation> Evaluate(const audit::Actor& actor, const std::string& tenant_id,
                              const std::string& key);
  // Every flag for the tenant, by key.
  Result<std::vector<Evaluation>> EvaluateAll(const audit::Actor& actor,
                                              const std::string& tenant_id);

 private:
  struct Snapshot {
    std::vector<Flag> flags;  // by key
    const Flag* Find(std::string_view key) const;
  };
  std::shared_ptr<const Snapshot> Current();
  Result<Evaluation> EvaluateIn(const Snapshot& snap, const UnleashState* unleash,
                                const audit::Actor& actor, const tenants::Tenant& tenant,
                                const std::string& key);
  void RecordIfChanged(const audit::Actor& actor, const std::string& tenant_id,
                       const Evaluation& e);
  void OnEvent(std::string_view event);

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  const UnleashSource* unleash_;
  // The snapshot (null: read it on next use) and, per tenant and flag, the last variant this
  // replica saw recorded.
  struct State {
    std::shared_ptr<const Snapshot> snapshot;
    std::unordered_map<std::string, std::string> seen;  // tenant id + '/' + key -> variant
  };
  EventGuarded<State> state_;
  std::uint64_t subscription_ = 0;
};

}  // namespace breakpilot::flags
