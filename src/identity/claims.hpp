// What a token says about a user in an organization (M2.2/M4.3): the tenant's products, plan and
// status, and the user's org roles. Used by the built-in identity when it issues a token and by
// POST /internal/claims, which a Keycloak protocol mapper calls at token issuance.
//
//   auto c = ClaimsFor(db, user_id, "acme");          // org by tenant id or slug
//
// SALES_REP guardrail: a sales rep gets claims for the demo tenant only (403 otherwise).
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "identity/permissions.hpp"
#include "storage/database.hpp"

namespace breakpilot::identity {

struct OrgClaims {
  std::string org_id;  // the tenant id
  std::string org_slug;
  std::vector<Role> org_roles;
  std::vector<std::string> products;
  std::string plan;
  std::string tenant_status;
};

// `extra_realm_roles`: roles the IdP reports for the user beside the ones stored here.
Result<OrgClaims> ClaimsFor(storage::Database& db, const std::string& user_id,
                            const std::string& org, const std::vector<Role>& extra_realm_roles);

}  // namespace breakpilot::identity
