// Who may do what (M2.2): roles, actions and the one table between them. The API declares the
// action each route needs; Authorize decides, with the tenant the request touches.
//
//   Principal p = ...;                         // from a verified token
//   if (auto e = Authorize(p, Action::kTenantRead, TenantRef{id, is_demo})) return *e;
//
// Realm roles are staff (any tenant, except SALES_REP: the demo tenant only). Org roles act only
// inside the principal's own organization, which is a tenant. SERVICE is a machine client.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace breakpilot::identity {

enum class Role {
  kBreakpilotAdmin,  // realm
  kSupportEngineer,  // realm
  kSalesRep,         // realm: demo tenant only
  kService,          // realm: products and the Keycloak mapper calling /internal/*
  kItAdmin,          // org
  kCxo,              // org
  kFinance,          // org
  kLegal,            // org
  kUser,             // org
};
inline constexpr std::array kAllRoles = {
    Role::kBreakpilotAdmin, Role::kSupportEngineer, Role::kSalesRep,
    Role::kService,         Role::kItAdmin,         Role::kCxo,
    Role::kFinance,         Role::kLegal,           Role::kUser};

std::string_view Name(Role r);  // "BREAKPILOT_ADMIN"
std::optional<Role> ParseRole(std::string_view s);
bool IsRealmRole(Role r);

enum class Action {
  kPublic,   // no credentials at all
  kSession,  // the portal session cookie (identity::OidcLogin), found and checked by dispatch
  kTenantCreate,
  kTenantList,
  kTenantRead,
  kTenantUpdate,     // name and contact
  kTenantCancel,     // trial|active -> frozen: a customer may leave
  kTenantActivate,   // trial -> active, frozen -> active: staff or billing, never the customer
  kTenantPlan,       // a tenant's plan, and a subscription on another plan: staff or billing
  kBillingManage,    // buy a plan through Polar, open Polar's customer portal
  kLeadCreate,       // the demo's "Request trial": a prospect's lead, owned by the rep
  kSupportUse,       // a tenant's helpdesk tickets: list, open
  kSupportEscalate,  // every tenant's tickets; escalate one to Gitea (staff)
  kProjectRead,
  kProjectWrite,
  kSubscriptionRead,
  kSubscriptionWrite,
  kCatalogRead,
  kApiKeyRead,
  kApiKeyWrite,
  kApiKeyVerify,
  kClaimsRead,
  kUserRead,
  kUserWrite,
  kAuditWrite,     // publish events (products)
  kAuditRead,      // search, export, verify
  kAuditAdmin,     // retention and erase
  kJobsAdmin,      // the job queue: list, retry; a demo reset by hand
  kClockAdvance,   // the test clock (only with --enable-test-clock)
  kMailInbound,    // bounce and complaint feedback from the mail server
  kLeadRead,       // the leads of the catalog's requests (a sales rep: the ones they own)
  kDemoReset,      // reset the demo tenant now (the sales team's, between two demos)
  kMemberRead,     // an organisation's members and their roles
  kMemberWrite,    // add, change the roles of and remove an organisation's members
  kUsageWrite,     // report a tenant's usage (products)
  kWebhookRead,    // a tenant's webhook endpoints and deliveries
  kWebhookWrite,   // add, change, rotate, test and delete endpoints; replay dead deliveries
  kMcpUse,         // a product's MCP tools through the gateway (enterprise tenants)
  kFlagRead,       // the feature flags' definitions (staff)
  kFlagManage,     // create, change and delete feature flags (staff)
  kFlagEvaluate,   // a tenant's flag answers over OFREP (products; an API key: its tenant's)
  kDomainManage,   // a tenant's own domains for its portal: add, check, remove
  kTenantIsolate,  // move a tenant's data to a place of its own in each product (staff)
};
inline constexpr std::array kAllActions = {
    Action::kPublic,         Action::kTenantCreate,     Action::kTenantList,
    Action::kTenantRead,     Action::kTenantUpdate,     Action::kTenantCancel,
    Action::kTenantActivate, Action::kTenantPlan,       Action::kProjectRead,
    Action::kProjectWrite,   Action::kSubscriptionRead, Action::kSubscriptionWrite,
    Action::kCatalogRead,    Action::kApiKeyRead,       Action::kApiKeyWrite,
    Action::kApiKeyVerify,   Action::kClaimsRead,       Action::kUserRead,
    Action::kUserWrite,      Action::kAuditWrite,       Action::kAuditRead,
    Action::kAuditAdmin,     Action::kJobsAdmin,        Action::kClockAdvance,
    Action::kMailInbound,    Action::kLeadRead,         Action::kDemoReset,
    Action::kMemberRead,     Action::kMemberWrite,      Action::kUsageWrite,
    Action::kWebhookRead,    Action::kWebhookWrite,     Action::kMcpUse,
    Action::kFlagRead,       Action::kFlagManage,       Action::kFlagEvaluate,
    Action::kDomainManage,   Action::kTenantIsolate};

std::string_view Name(Action a);  // "tenant.read": the OpenAPI document's x-permission
std::optional<Action> ParseAction(std::string_view s);

// The table: may a role perform an action at all (before looking at the tenant)?
bool RoleAllows(Role role, Action action);

// Who is calling, once authenticated.
struct Principal {
  std::string subject;  // "user:0192...", "client:certifai", "staff:bootstrap"
  std::string name;     // for audit: username or client id
  std::vector<Role> realm_roles;
  std::vector<Role> org_roles;        // roles inside org_id
  std::optional<std::string> org_id;  // the tenant this principal belongs to
  std::vector<std::string> products;  // token claims, passed through
  // An API key's scopes (an API key principal has no roles): "audit:write" lets a product
  // publish audit events for the key's tenant (org_id) with nothing but that key.
  std::vector<std::string> scopes;
};

// The action a platform scope of an API key grants, inside the key's tenant.
std::optional<Action> ScopeAction(std::string_view scope);

// The tenant a request touches, when it touches one.
struct TenantRef {
  std::string id;
  bool is_demo = false;
};

// Ok when allowed. Otherwise 403 (no role allows the action) or 404 (the tenant is out of
// the principal's reach: we do not confirm that another organization's tenant exists).
Result<Ok> Authorize(const Principal& p, Action action, const std::optional<TenantRef>& tenant);

// True when the principal can act on every tenant (BREAKPILOT_ADMIN, SUPPORT_ENGINEER).
bool SeesAllTenants(const Principal& p);
// True when the principal's tenant reach is the demo tenant only (SALES_REP, no wider role).
bool DemoOnly(const Principal& p);

}  // namespace breakpilot::identity
