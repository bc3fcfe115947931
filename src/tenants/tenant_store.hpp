// Named SQL for the registry tables, on a storage::Session (so callers choose the transaction).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/database.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::tenants::store {

struct TenantFilter {
  std::optional<Status> status;
  std::optional<Kind> kind;
  std::optional<std::string> slug;
  std::optional<std::string>
      like;  // a LIKE pattern (escape '\\') on the slug or the lower-case name
  std::optional<std::string> before_id;  // keyset cursor: ids are time-ordered UUIDv7
  int limit = 50;
};

void InsertTenant(storage::Session& s, const Tenant& t);  // throws UniqueViolation on slug
std::optional<Tenant> SelectTenant(storage::Session& s, const std::string& id);
// Locks the row until the transaction ends (PostgreSQL; SQLite has one writer anyway).
std::optional<Tenant> SelectTenantForUpdate(storage::Session& s, const std::string& id);
std::optional<Tenant> SelectTenantBySlug(storage::Session& s, const std::string& slug);
std::vector<Tenant> SelectTenants(storage::Session& s, const TenantFilter& f);
// The event UpdateTenant and the subscription writes publish (storage::Session::Notify) when a
// tenant, or what its tokens' claims say, changes.
inline std::string TenantChangedEvent(const std::string& id) {
  return "tenant:" + id;
}
// Writes every mutable column and bumps the version, if the stored version is `expected`.
bool UpdateTenant(storage::Session& s, const Tenant& t, std::int64_t expected_version);
// Sets how many days the tenant's audit events are kept (nullopt: for ever).
void SetAuditRetention(storage::Session& s, const std::string& id,
                       std::optional<std::int64_t> days);

void InsertProject(storage::Session& s, const Project& p);  // UniqueViolation on (tenant, name)
std::int64_t CountProjects(storage::Session& s, const std::string& tenant_id);
std::optional<Project> SelectProject(storage::Session& s, const std::string& tenant_id,
                                     const std::string& id);
std::vector<Project> SelectProjects(storage::Session& s, const std::string& tenant_id,
                                    const std::optional<std::string>& before_id, int limit);
bool UpdateProject(storage::Session& s, const Project& p, std::int64_t expected_version);
bool DeleteProject(storage::Session& s, const std::string& tenant_id, const std::string& id);

bool InsertSubscription(storage::Session& s, const Subscription& sub);  // false if present
std::vector<Subscription> SelectSubscriptions(storage::Session& s, const std::string& tenant_id);
bool DeleteSubscription(storage::Session& s, const std::string& tenant_id,
                        const std::string& product_id);

}  // namespace breakpilot::tenants::store
