// The REST API: the route table, authentication, idempotency, the access log and metrics.
// Handlers are thin: read the request, call a use case, shape the answer. Every error becomes
// problem+json through http::Problem.
//
//   Api api(deps);
//   http::Server server(opts, [&](http::Request& r) { return api.Handle(r); },
//                       [&](const http::Exchange& x) { api.Observe(x); });
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/export_slots.hpp"
#include "audit/ingest.hpp"
#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/rate_limiter.hpp"
#include "core/work_pool.hpp"
#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "identity/api_keys.hpp"
#include "identity/authenticator.hpp"
#include "identity/claims.hpp"
#include "identity/directory.hpp"
#include "identity/oidc_issuer.hpp"
#include "identity/oidc_login.hpp"
#include "identity/permissions.hpp"
#include "identity/provisioning.hpp"
#include "identity/token_issuer.hpp"
#include "jobs/queue.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/products.hpp"
#include "lifecycle/test_clock.hpp"
#include "lifecycle/trial.hpp"
#include "mail/outbox.hpp"
#include "outbound/fetch.hpp"
#include "storage/database.hpp"
#include "tenants/project_service.hpp"
#include "tenants/tenant_service.hpp"

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

// The media types a route's request body may have (Endpoint::body).
inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kMergePatch = "application/merge-patch+json";
inline constexpr std::string_view kForm = "application/x-www-form-urlencoded";

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
  std::function<Result<http::Response>(http::Request&, const Caller&)> handler;
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
  identity::ApiKeyService& api_keys;
  identity::ClaimsService& claims;
  audit::Ingestor& ingestor;
  audit::ExportSlots& exports;
  jobs::Queue& queue;
  mail::Mailer& mailer;
  lifecycle::Engine& engine;
  lifecycle::TrialService& trials;
  WorkPool& password_pool;           // argon2: off the I/O threads and the blocking pool
  lifecycle::TestClock* test_clock;  // set: POST /internal/clock moves the clock
};

// The API's own settings: HTTP concerns, not the services'.
struct ApiOptions {
  std::string docs_dir;  // swagger-ui-dist, for GET /
  bool access_log = true;
  // Reads (GET, HEAD) are answered on the I/O thread, writes on the blocking pool, where they
  // meet in SQLite's group commit (storage/sqlite_database.hpp). Set on SQLite, whose reads are
  // local and take microseconds.
  bool inline_reads = false;
  // One client address may try at most this many password grants a minute (429 beyond).
  int password_attempts_per_minute = 30;
  int portal_logins_per_minute = 30;  // portal sign-ins one client address may begin (429 beyond)
};

class Api {
 public:
  Api(ApiOptions options, Services services);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  http::Response Handle(http::Request& req);
  // For a route marked memory_first: its answer when it needs no wait (core/memory_only.hpp);
  // with inline_reads, any GET or HEAD's answer; nullopt when the request must go to Handle on
  // the blocking pool (or is no such route).
  std::optional<http::Response> HandleInline(http::Request& req);
  void Observe(const http::Exchange& exchange);
  const http::Router& router() const { return router_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  http::Metrics& metrics() { return metrics_; }
  void AddForTest(Endpoint endpoint) { Add(std::move(endpoint)); }

 private:
  // The handlers, one named function per route, in the route files (src/api/*_routes.cpp).
  using HandlerFn = Result<http::Response> (Api::*)(http::Request&, const Caller&);
  std::function<Result<http::Response>(http::Request&, const Caller&)> Handler(HandlerFn f) {
    return [this, f](http::Request& req, const Caller& caller) { return (this->*f)(req, caller); };
  }
  Result<http::Response> ApiKeyCreate(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyList(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyRotate(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyRevoke(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyVerify(http::Request& req, const Caller& caller);
  Result<http::Response> AuditPublish(http::Request& req, const Caller& caller);
  Result<http::Response> AuditPublishBulk(http::Request& req, const Caller& caller);
  Result<http::Response> RetracedPublish(http::Request& req, const Caller& caller);
  Result<http::Response> RetracedPublishBulk(http::Request& req, const Caller& caller);
  Result<http::Response> AuditSearch(http::Request& req, const Caller& caller);
  Result<http::Response> AuditExport(http::Request& req, const Caller& caller);
  Result<http::Response> AuditVerify(http::Request& req, const Caller& caller);
  Result<http::Response> AuditRetentionSet(http::Request& req, const Caller& caller);
  Result<http::Response> AuditErase(http::Request& req, const Caller& caller);
  Result<http::Response> OidcDiscovery(http::Request& req, const Caller& caller);
  Result<http::Response> Jwks(http::Request& req, const Caller& caller);
  Result<http::Response> OauthToken(http::Request& req, const Caller& caller);
  Result<http::Response> UserCreate(http::Request& req, const Caller& caller);
  Result<http::Response> UserGet(http::Request& req, const Caller& caller);
  Result<http::Response> ServiceClientCreate(http::Request& req, const Caller& caller);
  Result<http::Response> Claims(http::Request& req, const Caller& caller);
  Result<http::Response> TrialRequest(http::Request& req, const Caller& caller);
  Result<http::Response> TrialConfirmPage(http::Request& req, const Caller& caller);
  Result<http::Response> TrialConfirm(http::Request& req, const Caller& caller);
  Result<http::Response> ExportDownload(http::Request& req, const Caller& caller);
  Result<http::Response> MailUnsubscribePage(http::Request& req, const Caller& caller);
  Result<http::Response> MailUnsubscribe(http::Request& req, const Caller& caller);
  Result<http::Response> MailPostmaster(http::Request& req, const Caller& caller);
  Result<http::Response> TestClockAdvance(http::Request& req, const Caller& caller);
  Result<http::Response> JobList(http::Request& req, const Caller& caller);
  Result<http::Response> JobRetry(http::Request& req, const Caller& caller);
  Result<http::Response> DemoReset(http::Request& req, const Caller& caller);
  Result<http::Response> PortalLogin(http::Request& req, const Caller& caller);
  Result<http::Response> PortalCallback(http::Request& req, const Caller& caller);
  Result<http::Response> PortalMe(http::Request& req, const Caller& caller);
  Result<http::Response> PortalLogout(http::Request& req, const Caller& caller);
  bool SecureCookies() const;  // the issuer is https: cookies get Secure
  Result<http::Response> PortalHome(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectCreate(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectList(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectGet(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectUpdate(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectDelete(http::Request& req, const Caller& caller);
  Result<http::Response> CatalogList(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionCreate(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionList(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionDelete(http::Request& req, const Caller& caller);
  Result<http::Response> Healthz(http::Request& req, const Caller& caller);
  Result<http::Response> Readyz(http::Request& req, const Caller& caller);
  Result<http::Response> Metrics(http::Request& req, const Caller& caller);
  Result<http::Response> Openapi(http::Request& req, const Caller& caller);
  Result<http::Response> Reference(http::Request& req, const Caller& caller);
  Result<http::Response> ReferenceAsset(http::Request& req, const Caller& caller);
  Result<http::Response> TenantCreate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantList(http::Request& req, const Caller& caller);
  Result<http::Response> TenantGet(http::Request& req, const Caller& caller);
  Result<http::Response> TenantUpdate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantIdp(http::Request& req, const Caller& caller);
  Result<http::Response> TenantActivate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantCancel(http::Request& req, const Caller& caller);
  Result<http::Response> TenantReactivate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantTransition(http::Request& req, const Caller& caller,
                                          tenants::lifecycle::Action action, bool needs_reason);
  void AddSystemRoutes();
  void AddTenantRoutes();
  void AddProjectRoutes();
  void AddProductRoutes();
  void AddIdentityRoutes();
  void AddApiKeyRoutes();
  void AddPortalRoutes();
  void AddAuditRoutes();
  void AddLifecycleRoutes();
  Result<Ok> ScopeAuditFilter(const Caller& caller, audit::Filter& f);
  Result<http::Response> PublishAudit(http::Request& req, const Caller& caller, std::string product,
                                      bool bulk, bool retraced);
  Result<identity::ApiKey> ReachableKey(const http::Request& req, const Caller& caller,
                                        identity::Action action);
  void Add(Endpoint endpoint);
  Result<identity::Principal> Authenticate(const http::Request& req);
  // Checks that the caller may perform `action` on tenant `tenant_id` (403/404 otherwise).
  Result<Ok> CheckTenant(const Caller& caller, identity::Action action,
                         const std::string& tenant_id);
  http::Response Dispatch(const Endpoint& endpoint, http::Request& req);
  http::Response DispatchSession(const Endpoint& endpoint, http::Request& req);
  http::Response Route(http::Request& req);

  ApiOptions options_;
  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  identity::Provisioner* provisioner_;
  tenants::TenantService& tenants_;
  tenants::ProjectService& projects_;
  tenants::SubscriptionService& subscriptions_;
  identity::Directory& directory_;
  identity::KeyRing& keys_;
  identity::TokenIssuer& issuer_;
  identity::OidcIssuer* oidc_issuer_;
  identity::OidcLogin* oidc_login_;
  identity::Authenticator& auth_;
  identity::ApiKeyService& api_keys_;
  identity::ClaimsService& claims_;
  audit::Ingestor& ingestor_;
  audit::ExportSlots& exports_;
  jobs::Queue& queue_;
  mail::Mailer& mailer_;
  lifecycle::Engine& engine_;
  lifecycle::TrialService& trials_;
  WorkPool& password_pool_;
  lifecycle::TestClock* test_clock_;
  RateLimiter password_attempts_;  // password grants per client address
  RateLimiter portal_logins_;      // portal sign-ins begun per client address
  std::atomic<std::uint64_t> inline_answered_{0};
  std::atomic<std::uint64_t> inline_declined_{0};
  http::Router router_;
  std::vector<Endpoint> endpoints_;
  http::Metrics metrics_;
};

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
