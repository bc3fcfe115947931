// What a route module is made of. The API's routes come in modules, one per area
// (tenant_routes.hpp, audit_routes.hpp, ...): each a class holding the services its handlers
// call, with one named handler per route returning Result<http::Response>, and its routes
// declared as data (Routes()): method, path template, permission, tenant and gate policy, body
// media types. api::Api collects them and dispatches: authentication, authorization, the
// status gate, the session and CSRF checks, idempotency, the body's media type, and the one
// mapping of an Error to problem+json.
//
//   std::vector<Endpoint> TenantRoutes::Routes() {
//     return {{.method = "GET", .pattern = "/tenants/{id}", .name = "tenant_get",
//              .action = identity::Action::kTenantRead, .tenant = TenantFrom::kPathId,
//              .handler = Bind(this, &TenantRoutes::TenantGet)}};
//   }
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/json_body.hpp"
#include "audit/export_slots.hpp"
#include "audit/ingest.hpp"
#include "audit/trail.hpp"
#include "backoffice/erpnext.hpp"
#include "billing/billing.hpp"
#include "catalog/catalog.hpp"
#include "core/work_pool.hpp"
#include "domains/domain_service.hpp"
#include "flags/flag_service.hpp"
#include "http/message.hpp"
#include "identity/api_keys.hpp"
#include "identity/authenticator.hpp"
#include "identity/claims.hpp"
#include "identity/directory.hpp"
#include "identity/members.hpp"
#include "identity/oidc_issuer.hpp"
#include "identity/oidc_login.hpp"
#include "identity/permissions.hpp"
#include "identity/provisioning.hpp"
#include "identity/token_issuer.hpp"
#include "identity/web_sessions.hpp"
#include "isolation/isolation_service.hpp"
#include "jobs/queue.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/products.hpp"
#include "lifecycle/test_clock.hpp"
#include "lifecycle/trial.hpp"
#include "mail/outbox.hpp"
#include "mcp/gateway.hpp"
#include "outbound/fetch.hpp"
#include "sales/lead_service.hpp"
#include "storage/database.hpp"
#include "support/support.hpp"
#include "tenants/project_service.hpp"
#include "tenants/tenant_service.hpp"
#include "usage/meter.hpp"
#include "webhooks/webhooks.hpp"

namespace breakpilot::api {

// The authenticated caller, as handlers see it.
struct Caller {
  identity::Principal principal;
  audit::Actor actor;
  // The portal session (a route whose action is `session`): found by dispatch from the cookie.
  std::optional<identity::PortalSession> session;
};

// Where a route finds the tenant it touches, for the tenant-reach check of Authorize.
enum class TenantFrom {
  kNone,    // not tenant-scoped, or the handler checks a tenant named in the body (CheckTenant)
  kPathId,  // the `{id}` path parameter
};

// How the lifecycle status gate (tenants::lifecycle::Gate) treats a tenant-scoped route for
// callers acting as the tenant: writes to a frozen tenant are 402, unless the route is one that
// leads out of the freeze (cancel, reactivate).
enum class Gate { kStatus, kLiftsFreeze };

// What a route does: its answer, or the Error that dispatch answers as problem+json.
using EndpointHandler = std::function<Result<http::Response>(http::Request&, const Caller&)>;

// One route of the API: what it needs, and what it does. Registered through Api::Add, which
// refuses a route that declares no action, so no route goes without a permission.
struct Endpoint {
  std::string method;
  std::string pattern;
  std::string name;
  std::optional<identity::Action> action;
  TenantFrom tenant = TenantFrom::kNone;
  // Answers mostly from memory (a cache): tried on the I/O thread first, see HandleInline.
  bool memory_first = false;
  // Top-level JSON members of its request or answer that are secrets (a new key's `secret`, a
  // user's `password`): idempotency never stores them (api/idempotency.hpp).
  std::vector<std::string_view> secrets = {};
  Gate gate = Gate::kStatus;
  // A `session` route that changes state: dispatch wants the session's CSRF token too (the
  // X-CSRF-Token header, or the form field `csrf`), 403 csrf-mismatch otherwise.
  bool csrf = false;
  // The media types its request body may have (kJson, kMergePatch, kForm), as the OpenAPI
  // document's requestBody lists them (routes_test checks): a body in another is 415 before the
  // handler runs. Empty: the route reads no body.
  std::vector<std::string_view> body = {};
  // How the route answers that refusal when it speaks another error format than problem+json
  // (the OAuth token endpoint); null: problem+json.
  http::Response (*refusal)(const Error&) = nullptr;
  // A route's handler: its answer, or the Error that dispatch turns into problem+json (the one
  // place, http/problem.cpp). A handler that needs more than a problem (a header, an OAuth
  // error) answers a Response itself.
  EndpointHandler handler;
};

// What the handlers call: the services of every area, built and wired in app/ (app::Platform),
// which outlives the Api. Null pointers are the parts that are off in this configuration.
struct Services {
  storage::Database& db;
  const Clock& clock;
  const catalog::Catalog& catalog;
  identity::Provisioner* provisioner;  // null unless in Keycloak mode
  tenants::TenantService& tenants;
  tenants::ProjectService& projects;
  tenants::SubscriptionService& subscriptions;
  identity::Directory& directory;
  identity::KeyRing& keys;
  identity::TokenIssuer& issuer;
  identity::OidcIssuer* oidc_issuer;  // null without an external provider
  identity::OidcLogin* oidc_login;    // null without a portal client
  identity::Authenticator& auth;
  identity::WebSessions& web_sessions;  // the portal's own sign-ins (src/portal/)
  identity::ApiKeyService& api_keys;
  identity::ClaimsService& claims;
  audit::Ingestor& ingestor;
  audit::ExportSlots& exports;
  jobs::Queue& queue;
  mail::Mailer& mailer;
  lifecycle::Engine& engine;
  lifecycle::TrialService& trials;
  sales::LeadService& leads;
  usage::Meter& usage;
  webhooks::Webhooks& webhooks;
  billing::Billing& billing;
  backoffice::ErpNext& erpnext;
  support::Support& support;
  flags::FlagService& flags;               // the built-in feature flags (src/flags/)
  domains::DomainService& domains;         // tenants' own domains (src/domains/)
  isolation::IsolationService& isolation;  // tenants' data apart in products (src/isolation/)
  // Each integration's state (app::Platform::Integrations): /readyz's detail, the backstage.
  std::function<std::vector<backoffice::IntegrationStatus>()> integrations;
  mcp::Gateway& mcp;
  identity::Members& members;
  WorkPool& password_pool;           // argon2: off the I/O threads and the blocking pool
  lifecycle::TestClock* test_clock;  // set: POST /internal/clock moves the clock
};

// A route module: the routes of one area and their handlers.
class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;
  // The module's routes, as data; api::Api registers each once, in order.
  virtual std::vector<Endpoint> Routes() = 0;

 protected:
  // A handler of the module as an Endpoint's handler.
  template <class M>
  static EndpointHandler Bind(M* self,
                              Result<http::Response> (M::*handler)(http::Request&, const Caller&)) {
    return [self, handler](http::Request& req, const Caller& caller) {
      return (self->*handler)(req, caller);
    };
  }
};

// Helpers the route modules share.

// Checks that the caller may perform `action` on tenant `tenant_id` (403/404 otherwise).
Result<Ok> CheckTenant(tenants::TenantService& tenants, const Caller& caller,
                       identity::Action action, const std::string& tenant_id);
// The portal session cookie (HttpOnly, SameSite=Lax; Secure under https).
inline constexpr std::string_view kSessionCookie = "bp_session";

// Helpers shared by the route files.
http::Response ProblemFor(const Error& e, const http::Request& req);
http::Response Text(int status, std::string_view content_type, std::string body);
std::string HtmlEscape(std::string_view s);
// Reads a `{name}` path parameter that must be a UUID; 400 otherwise.
Result<std::string> UuidParam(const http::Request& req, std::string_view name);
// Parses If-Match ("\"3\"" or "*"); nullopt when absent or "*". Malformed -> never matches.
Result<std::optional<std::int64_t>> IfMatchVersion(const http::Request& req);
// 400 naming the first query parameter that is not in `known`.
Result<Ok> OnlyKnownQuery(const http::Request& req, std::initializer_list<std::string_view> known);
// Reads an integer query parameter; a repeated or non-numeric value is 400.
Result<std::optional<int>> IntQuery(const http::Request& req, std::string_view name);
Result<std::optional<std::string>> StringQuery(const http::Request& req, std::string_view name);

}  // namespace breakpilot::api
