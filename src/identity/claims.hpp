// What a token says about a user in an organization (M2.2/M4.3): the tenant's products, plan and
// status, and the user's org roles. Used by the built-in identity when it issues a token and by
// POST /internal/claims, which a Keycloak protocol mapper calls at token issuance.
//
//   auto c = ClaimsFor(db, user_id, "acme");          // org by tenant id or slug
//
// SALES_REP guardrail: a sales rep gets claims for the demo tenant only (403 otherwise).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_guarded.hpp"
#include "core/result.hpp"
#include "identity/permissions.hpp"
#include "storage/database.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::identity {

struct OrgClaims {
  std::string org_id;  // the tenant id
  std::string org_slug;
  std::vector<Role> org_roles;
  std::vector<std::string> products;
  std::string plan;
  std::string tenant_status;
  std::optional<Timestamp> trial_ends_at;  // set while the tenant is on trial
};

// The claims as tokens and POST /internal/claims carry them. `trial_quota` is null unless the
// tenant is on trial; then it holds the limits products enforce (M12.1) and the end.
boost::json::object ClaimsJson(const OrgClaims& c);

// The organisation's part of the claims, without any user's roles (the MCP gateway's token).
OrgClaims TenantClaims(const tenants::Tenant& tenant,
                       const std::vector<tenants::Subscription>& subscriptions);

// `extra_realm_roles`: roles the IdP reports for the user beside the ones stored here.
Result<OrgClaims> ClaimsFor(storage::Database& db, const std::string& user_id,
                            const std::string& org, const std::vector<Role>& extra_realm_roles);

// ClaimsFor behind a cache, for POST /internal/claims (called at every token issuance).
// Entries are dropped by the events that change what they say: "tenant:<id>" (status, plan,
// subscriptions), "user:<id>" (roles, memberships) and "*". Refusals are not cached.
class ClaimsService {
 public:
  explicit ClaimsService(storage::Database& db);
  ~ClaimsService();
  ClaimsService(const ClaimsService&) = delete;
  ClaimsService& operator=(const ClaimsService&) = delete;

  // The claims as POST /internal/claims answers them: ClaimsJson, serialized. The cache keeps
  // that text, so a hit renders nothing.
  Result<std::string> JsonFor(const std::string& user_id, const std::string& org,
                              const std::vector<Role>& extra_realm_roles);
  void OnEvent(std::string_view event);

 private:
  struct Entry {
    std::string user_id;
    std::string org_id;
    std::string json;
  };
  storage::Database& db_;
  EventGuarded<std::unordered_map<std::string, Entry>> cache_;  // by user, org and extra roles
  std::uint64_t subscription_ = 0;
};

}  // namespace breakpilot::identity
