// Keycloak provisioning of tenants (M4.3). In Keycloak mode, creating a tenant queues, in the
// same transaction, the steps that follow: create the tenant's Keycloak organization (alias =
// slug), invite its first IT_ADMIN; archiving a tenant disables the organization. A background
// runner (several replicas may run it: rows are leased, claimed with FOR UPDATE SKIP LOCKED on
// PostgreSQL) takes due steps; a failed step is retried with exponential backoff (5 s doubling,
// at most 10 minutes), audited each time, and after 8 attempts the state is `failed`. Nothing is
// silently half done: the state is always readable (GET /tenants/{id}/idp).
//
//   Provisioner p(db, clock, keycloak);
//   TenantService tenants(db, clock, p.CreateHook());
//   p.RunDue();                                   // from the maintenance thread
#pragma once

#include <optional>
#include <string>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "identity/keycloak_admin.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::identity {

inline constexpr int kMaxProvisioningAttempts = 8;

struct ProvisioningStatus {
  std::string tenant_id;
  std::string provider;  // keycloak
  std::optional<std::string> org_id;
  std::string state;  // pending, org_created, ready, disabled, cancelled, failed
  int attempts = 0;
  std::optional<std::string> last_error;
  std::optional<Timestamp> next_attempt_at;
  std::optional<std::string> admin_email;
};

class Provisioner {
 public:
  Provisioner(storage::Database& db, const Clock& clock, KeycloakAdmin& keycloak)
      : db_(db), clock_(clock), keycloak_(keycloak) {}

  // For TenantService: queues the provisioning inside the tenant's transaction.
  tenants::TenantCreatedHook CreateHook();
  // Runs the due steps of up to `limit` tenants; returns how many steps ran.
  int RunDue(int limit = 20);
  Result<ProvisioningStatus> Status(const std::string& tenant_id);

 private:
  // One step for one claimed tenant; false when it failed (and was recorded as such).
  bool Step(const ProvisioningStatus& row, const tenants::Tenant& tenant);

  storage::Database& db_;
  const Clock& clock_;
  KeycloakAdmin& keycloak_;
};

}  // namespace breakpilot::identity
