// Tenant use cases (M4.2): create, read, list, update, and lifecycle actions. Validates input,
// enforces the lifecycle table, and writes each change with its audit event in one transaction.
// Knows no HTTP: callers map ErrorKind to a status in one place.
//
//   TenantService svc(db, clock);
//   auto t = svc.Create(actor, {.slug = "acme", .name = "Acme GmbH"});
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "storage/database.hpp"
#include "tenants/lifecycle.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::tenants {

struct CreateTenantInput {
  std::string slug;
  std::string name;
  std::optional<std::string> kind;            // default customer
  std::optional<std::string> plan;            // default starter
  std::optional<std::string> initial_status;  // trial (default) or active, customers only
  std::optional<std::string> admin_email;     // the first IT_ADMIN to invite (Keycloak mode)
  std::optional<std::string> contact_email;   // where lifecycle mail goes
};

// Work another area does inside the transaction that creates a tenant (the Keycloak adapter
// queues the organization's provisioning). Returning an error aborts the creation.
using TenantCreatedHook = std::function<Result<Ok>(storage::Session&, const audit::Actor&,
                                                   const Tenant&, const CreateTenantInput&)>;

// Work another area does inside the transaction of every status change, and of a tenant's
// creation (the lifecycle engine schedules trial reminders, expiry and offboarding).
using StatusChangedHook = std::function<void(storage::Session&, const Tenant&)>;

struct TenantPatch {
  std::optional<std::string> name;
  std::optional<std::string> plan;
  std::optional<std::string> contact_email;
  // A user name; "" clears it. Like the plan, staff's to set (tenant.plan).
  std::optional<std::string> sales_owner;
};

// What a lifecycle action carries: cancel needs a reason and the tenant's slug typed again.
struct LifecycleInput {
  std::optional<std::string> reason;
  std::optional<std::string> confirm;
};

struct ListTenantsInput {
  std::optional<std::string> status;
  std::optional<std::string> kind;
  std::optional<std::string> slug;
  std::optional<std::string> q;  // free text: part of the slug or the name, any case
  std::optional<std::string> cursor;
  std::optional<int> limit;
};

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 200;

// Shared validation helpers for request fields (also used by projects).
Result<Ok> ValidateDisplayName(std::string_view name, std::size_t max_len);
// Decodes an opaque list cursor into the last id seen; error kInvalidInput "invalid-cursor".
Result<std::optional<std::string>> DecodeCursor(const std::optional<std::string>& cursor);
std::string EncodeCursor(const std::string& last_id);
Result<int> CheckLimit(std::optional<int> limit);
Error TenantNotFound(std::string_view id);
Error TenantArchived(std::string_view id);
// 403 trial-limit-reached naming the limit ("projects", "seats") and its maximum.
Error TrialLimitReached(std::string_view limit, int maximum);
// 412 "stale-etag": `what` changed since the caller read it.
Error StaleVersion(std::string_view what);
// Ok, or Invalid: what is wrong with an optional mail address (mail::NormalizeAddress's rules).
Result<Ok> ValidateContactEmail(const std::optional<std::string>& email);

class TenantService {
 public:
  TenantService(storage::Database& db, const Clock& clock, TenantCreatedHook on_created = {});
  ~TenantService();
  TenantService(const TenantService&) = delete;
  TenantService& operator=(const TenantService&) = delete;

  // From now on Get answers from memory after a tenant's first read, kept right by the storage
  // event every change to a tenant publishes ("tenant:<id>"; "*" drops all), on every replica
  // (LISTEN/NOTIFY on PostgreSQL; in-process before the writer returns on both stores). For the
  // API's hot reads; tools and tests read through.
  void EnableReadCache();

  Result<Tenant> Create(const audit::Actor& actor, const CreateTenantInput& in);
  // Creates the demo tenant (kind demo, status demo, slug "demo") unless present; the slug is
  // reserved against POST /tenants, so only the platform itself can create it.
  Result<Tenant> EnsureDemoTenant(const audit::Actor& actor);
  Result<Tenant> Get(const std::string& id);
  // The tenant a portal host name names (<slug>.D). Slugs never change: the slug's id is kept
  // in memory, the tenant itself comes through Get (and its cache). 404 for an unknown slug.
  Result<Tenant> GetBySlug(const std::string& slug);
  Result<Page<Tenant>> List(const ListTenantsInput& in);
  // expected_version: from If-Match; a mismatch is kPreconditionFailed.
  Result<Tenant> Update(const audit::Actor& actor, const std::string& id, const TenantPatch& patch,
                        std::optional<std::int64_t> expected_version);
  Result<Tenant> Apply(const audit::Actor& actor, const std::string& id, lifecycle::Action action,
                       const LifecycleInput& in);
  // The same inside the caller's transaction (a job completing).
  Result<Tenant> ApplyIn(storage::Session& s, const audit::Actor& actor, const std::string& id,
                         lifecycle::Action action, const LifecycleInput& in);
  void OnStatusChanged(StatusChangedHook hook) { on_status_ = std::move(hook); }
  // Called inside the transaction that creates a tenant (after OnStatusChanged's hook): the
  // ERPNext mirror queues the tenant's Customer there.
  void OnInserted(StatusChangedHook hook) { on_inserted_ = std::move(hook); }
  // How long the tenant's audit events are kept (audit::PruneByRetention); nullopt: for ever.
  Result<Ok> SetAuditRetention(const audit::Actor& actor, const std::string& id,
                               std::optional<std::int64_t> days);

 private:
  struct ReadCache;
  Result<Tenant> Insert(const audit::Actor& actor, Tenant t, const CreateTenantInput* in);

  storage::Database& db_;
  const Clock& clock_;
  TenantCreatedHook on_created_;
  StatusChangedHook on_status_;
  StatusChangedHook on_inserted_;
  std::unique_ptr<ReadCache> cache_;
};

}  // namespace breakpilot::tenants
