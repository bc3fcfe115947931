#include "identity/permissions.hpp"

#include <algorithm>

#include "core/enum_names.hpp"

namespace breakpilot::identity {
namespace {

using A = Action;

struct RoleRow {  // NOLINT(clang-analyzer-optin.performance.Padding): a small constant table
  Role role;
  std::string_view name;
  bool realm;
  std::initializer_list<Action> actions;
};

// THE permission table (M2.2). Read it as: this role may perform these actions. Tenant reach is
// separate (Authorize): realm roles reach every tenant, SALES_REP only the demo tenant, org
// roles only their own organization.
const RoleRow kTable[] = {
    {Role::kBreakpilotAdmin,
     "BREAKPILOT_ADMIN",
     true,
     {A::kTenantCreate, A::kTenantList,       A::kTenantRead,        A::kTenantUpdate,
      A::kTenantCancel, A::kTenantActivate,   A::kTenantPlan,        A::kProjectRead,
      A::kProjectWrite, A::kSubscriptionRead, A::kSubscriptionWrite, A::kCatalogRead,
      A::kApiKeyRead,   A::kApiKeyWrite,      A::kUserRead,          A::kUserWrite,
      A::kAuditRead,    A::kAuditAdmin,       A::kJobsAdmin,         A::kClockAdvance,
      A::kMailInbound,  A::kLeadRead,         A::kDemoReset,         A::kMemberRead,
      A::kMemberWrite,  A::kWebhookRead,      A::kWebhookWrite,      A::kBillingManage,
      A::kSupportUse,   A::kSupportEscalate,  A::kLeadCreate,        A::kFlagRead,
      A::kFlagManage,   A::kFlagEvaluate,     A::kDomainManage,      A::kTenantIsolate}},
    {Role::kSupportEngineer,
     "SUPPORT_ENGINEER",
     true,
     {A::kTenantList, A::kTenantRead, A::kProjectRead, A::kProjectWrite, A::kSubscriptionRead,
      A::kCatalogRead, A::kApiKeyRead, A::kUserRead, A::kAuditRead, A::kMemberRead, A::kWebhookRead,
      A::kSupportUse, A::kSupportEscalate, A::kFlagRead}},
    {Role::kSalesRep,
     "SALES_REP",
     true,
     {A::kTenantList, A::kTenantRead, A::kTenantUpdate, A::kTenantPlan, A::kProjectRead,
      A::kProjectWrite, A::kSubscriptionRead, A::kSubscriptionWrite, A::kCatalogRead,
      A::kApiKeyRead, A::kApiKeyWrite, A::kAuditRead, A::kLeadRead, A::kDemoReset, A::kLeadCreate}},
    {Role::kService,
     "SERVICE",
     true,
     {A::kCatalogRead, A::kApiKeyVerify, A::kClaimsRead, A::kAuditWrite, A::kMailInbound,
      A::kUsageWrite, A::kMcpUse, A::kFlagEvaluate}},
    {Role::kItAdmin,
     "IT_ADMIN",
     false,
     {A::kTenantRead, A::kTenantUpdate, A::kTenantCancel, A::kProjectRead, A::kProjectWrite,
      A::kSubscriptionRead, A::kSubscriptionWrite, A::kCatalogRead, A::kApiKeyRead, A::kApiKeyWrite,
      A::kAuditRead, A::kMemberRead, A::kMemberWrite, A::kWebhookRead, A::kWebhookWrite,
      A::kBillingManage, A::kSupportUse, A::kDomainManage}},
    {Role::kCxo,
     "CXO",
     false,
     {A::kTenantRead, A::kTenantCancel, A::kProjectRead, A::kSubscriptionRead,
      A::kSubscriptionWrite, A::kCatalogRead, A::kAuditRead, A::kMemberRead, A::kBillingManage,
      A::kSupportUse}},
    {Role::kFinance,
     "FINANCE",
     false,
     {A::kTenantRead, A::kSubscriptionRead, A::kCatalogRead, A::kBillingManage, A::kSupportUse}},
    {Role::kLegal,
     "LEGAL",
     false,
     {A::kTenantRead, A::kProjectRead, A::kCatalogRead, A::kAuditRead, A::kSupportUse}},
    {Role::kUser,
     "USER",
     false,
     {A::kTenantRead, A::kProjectRead, A::kCatalogRead, A::kSupportUse}},
};

const RoleRow& RowOf(Role r) {
  for (const auto& row : kTable) {
    if (row.role == r) return row;
  }
  return kTable[0];  // unreachable: every Role has a row (checked by the unit test)
}

constexpr std::pair<Action, std::string_view> kActionNames[] = {
    {A::kPublic, "public"},
    {A::kSession, "session"},
    {A::kTenantCreate, "tenant.create"},
    {A::kTenantList, "tenant.list"},
    {A::kTenantRead, "tenant.read"},
    {A::kTenantUpdate, "tenant.update"},
    {A::kTenantCancel, "tenant.cancel"},
    {A::kTenantActivate, "tenant.activate"},
    {A::kTenantPlan, "tenant.plan"},
    {A::kBillingManage, "billing.manage"},
    {A::kLeadCreate, "lead.create"},
    {A::kSupportUse, "support.use"},
    {A::kSupportEscalate, "support.escalate"},
    {A::kProjectRead, "project.read"},
    {A::kProjectWrite, "project.write"},
    {A::kSubscriptionRead, "subscription.read"},
    {A::kSubscriptionWrite, "subscription.write"},
    {A::kCatalogRead, "catalog.read"},
    {A::kApiKeyRead, "apikey.read"},
    {A::kApiKeyWrite, "apikey.write"},
    {A::kApiKeyVerify, "apikey.verify"},
    {A::kClaimsRead, "claims.read"},
    {A::kUserRead, "user.read"},
    {A::kUserWrite, "user.write"},
    {A::kAuditWrite, "audit.write"},
    {A::kAuditRead, "audit.read"},
    {A::kAuditAdmin, "audit.admin"},
    {A::kJobsAdmin, "jobs.admin"},
    {A::kClockAdvance, "clock.advance"},
    {A::kMailInbound, "mail.inbound"},
    {A::kLeadRead, "lead.read"},
    {A::kDemoReset, "demo.reset"},
    {A::kMemberRead, "member.read"},
    {A::kMemberWrite, "member.write"},
    {A::kUsageWrite, "usage.write"},
    {A::kWebhookRead, "webhook.read"},
    {A::kWebhookWrite, "webhook.write"},
    {A::kMcpUse, "mcp.use"},
    {A::kFlagRead, "flag.read"},
    {A::kFlagManage, "flag.manage"},
    {A::kFlagEvaluate, "flag.evaluate"},
    {A::kDomainManage, "domain.manage"},
    {A::kTenantIsolate, "tenant.isolate"},
};

constexpr std::pair<std::string_view, Action> kScopeActions[] = {
    {"audit:write", A::kAuditWrite},
    {"usage:write", A::kUsageWrite},
    {"mcp:use", A::kMcpUse},
    {"flags:read", A::kFlagEvaluate},
};

bool Has(const std::vector<Role>& roles, Role r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

}  // namespace

std::string_view Name(Role r) {
  return RowOf(r).name;
}

std::optional<Role> ParseRole(std::string_view s) {
  for (const auto& row : kTable) {
    if (row.name == s) return row.role;
  }
  return std::nullopt;
}

bool IsRealmRole(Role r) {
  return RowOf(r).realm;
}

std::string_view Name(Action a) {
  return NameIn<Action>(kActionNames, a, "unknown");
}

std::optional<Action> ParseAction(std::string_view s) {
  return ValueIn<Action>(kActionNames, s);
}

bool RoleAllows(Role role, Action action) {
  if (action == A::kPublic) return true;
  if (action == A::kSession) return false;  // a cookie, not a role, opens these
  const auto& actions = RowOf(role).actions;
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

std::optional<Action> ScopeAction(std::string_view scope) {
  for (const auto& [name, action] : kScopeActions) {
    if (name == scope) return action;
  }
  return std::nullopt;
}

bool SeesAllTenants(const Principal& p) {
  return Has(p.realm_roles, Role::kBreakpilotAdmin) || Has(p.realm_roles, Role::kSupportEngineer);
}

bool DemoOnly(const Principal& p) {
  return !SeesAllTenants(p) && Has(p.realm_roles, Role::kSalesRep);
}

Result<Ok> Authorize(const Principal& p, Action action, const std::optional<TenantRef>& tenant) {
  if (action == A::kPublic) return Ok{};
  // A role grants an action only where that role reaches: realm roles everywhere they reach,
  // org roles inside their organization. Every role that allows the action is tried.
  bool allowed_somewhere = false;
  for (Role r : p.realm_roles) {
    if (!RoleAllows(r, action)) continue;
    allowed_somewhere = true;
    if (!tenant) return Ok{};
    if (r == Role::kSalesRep ? tenant->is_demo : r != Role::kService) return Ok{};
  }
  for (Role r : p.org_roles) {
    if (!RoleAllows(r, action)) continue;
    allowed_somewhere = true;
    if (!p.org_id) continue;
    if (!tenant || *p.org_id == tenant->id) return Ok{};
  }
  for (const auto& scope : p.scopes) {  // an API key: its tenant only
    if (ScopeAction(scope) != action) continue;
    allowed_somewhere = true;
    if (p.org_id && (!tenant || *p.org_id == tenant->id)) return Ok{};
  }
  if (!allowed_somewhere) {
    return Error{.kind = ErrorKind::kForbidden,
                 .type = "forbidden",
                 .title = "Forbidden",
                 .detail = "none of your roles allows " + std::string(Name(action))};
  }
  // Byte for byte the answer for a tenant that does not exist.
  return NotFound("tenant-not-found", "no tenant with id " + (tenant ? tenant->id : std::string()));
}

}  // namespace breakpilot::identity
