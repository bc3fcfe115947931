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
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/ingest.hpp"
#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/rate_limiter.hpp"
#include "core/work_pool.hpp"
#include "http/client.hpp"
#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "identity/api_keys.hpp"
#include "identity/authenticator.hpp"
#include "identity/claims.hpp"
#include "identity/directory.hpp"
#include "identity/oidc_login.hpp"
#include "identity/permissions.hpp"
#include "identity/provisioning.hpp"
#include "identity/token_issuer.hpp"
#include "jobs/runner.hpp"
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
  // A route's handler: its answer, or the Error that dispatch turns into problem+json (the one
  // place, http/problem.cpp). A handler that needs more than a problem (a header, an OAuth
  // error) answers a Response itself.
  std::function<Result<http::Response>(http::Request&, const Caller&)> handler;
};

struct ApiOptions {
  std::string admin_token;  // the bootstrap staff token (compared by SHA-256, constant time)
  std::string docs_dir;     // swagger-ui-dist, for GET /
  bool access_log = true;
  // Reads (GET, HEAD) are answered on the I/O thread, writes on the blocking pool, where they
  // meet in SQLite's group commit (storage/sqlite_database.hpp). Set on SQLite, whose reads are
  // local and take microseconds.
  bool inline_reads = false;
  std::string public_url;  // our issuer URL; empty: http://<listen address>, set by SetPublicUrl
  std::chrono::seconds token_ttl{900};
  identity::PasswordCost password_cost{};
  // Password checks and hashes run on a pool of their own (0 threads: half the cores, at least
  // one), with at most `password_queue` waiting (503 beyond); one client address may try at
  // most `password_attempts_per_minute` password grants (429 beyond).
  int password_threads = 0;
  int password_queue = 32;
  int password_attempts_per_minute = 30;
  int portal_logins_per_minute = 30;  // portal sign-ins one client address may begin (429 beyond)
  identity::KeyRingOptions keys{};
  // An external OpenID provider: its access tokens are accepted (audience below), and the
  // portal signs in through it when a client id and secret are set.
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string oidc_audience = "breakpilot";
  identity::KeycloakSettings keycloak;    // base_url set: Keycloak mode (tenants get organizations)
  outbound::Fetcher fetch = http::Fetch;  // outbound HTTP; a test may answer instead
  std::shared_ptr<mail::Transport> mail_transport;  // null: mail stays queued (unit tests)
  std::string mail_from = "Breakpilot <noreply@breakpilot.localhost>";
  lifecycle::EngineSettings lifecycle{};
  lifecycle::ProductHosts product_hosts = lifecycle::ProductHosts::kAny;
  jobs::QueueOptions jobs{};
  int trial_requests_per_hour = 5;
  int max_exports = 4;                         // audit exports built at once (429 beyond)
  lifecycle::TestClock* test_clock = nullptr;  // set: POST /internal/clock moves the clock
};

class Api {
 public:
  Api(ApiOptions options, storage::Database& db, const Clock& clock,
      const catalog::Catalog& catalog);
  ~Api();

  http::Response Handle(http::Request& req);
  // For a route marked memory_first: its answer when it needs no wait (core/memory_only.hpp);
  // with inline_reads, any GET or HEAD's answer; nullopt when the request must go to Handle on
  // the blocking pool (or is no such route).
  std::optional<http::Response> HandleInline(http::Request& req);
  void Observe(const http::Exchange& exchange);
  const http::Router& router() const { return router_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  http::Metrics& metrics() { return metrics_; }
  // The URL clients reach us at: the built-in identity's issuer.
  void SetPublicUrl(std::string url);
  const std::string& public_url() const { return issuer_.settings().issuer; }
  // Periodic work: API key last-use times (each call), signing key rotation and reload (each
  // minute). Called by a background thread every few seconds, and once at shutdown.
  void Maintain();
  identity::Directory& directory() { return directory_; }
  identity::KeyRing& key_ring() { return keys_; }
  void AddForTest(Endpoint endpoint) { Add(std::move(endpoint)); }
  // Gives the runner the handlers of every job kind (mail, lifecycle).
  void RegisterJobs(jobs::Runner& runner);
  jobs::Queue& job_queue() { return queue_; }
  lifecycle::Engine& engine() { return engine_; }
  // The catalog's products the lifecycle does not call (ProductHosts::kLoopback), for the banner.
  std::vector<std::string> ProductsNotCalled() const;

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
  std::optional<Error> ScopeAuditFilter(const Caller& caller, audit::Filter& f);
  http::Response PublishAudit(http::Request& req, const Caller& caller, std::string product,
                              bool bulk, bool retraced);
  Result<identity::ApiKey> ReachableKey(const http::Request& req, const Caller& caller,
                                        identity::Action action);
  void Add(Endpoint endpoint);
  Result<identity::Principal> Authenticate(const http::Request& req);
  // Checks that the caller may perform `action` on tenant `tenant_id` (403/404 otherwise).
  std::optional<Error> CheckTenant(const Caller& caller, identity::Action action,
                                   const std::string& tenant_id);
  http::Response Dispatch(const Endpoint& endpoint, http::Request& req);
  http::Response DispatchSession(const Endpoint& endpoint, http::Request& req);
  http::Response Route(http::Request& req);

  ApiOptions options_;
  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  std::unique_ptr<identity::KeycloakAdmin> keycloak_;  // null unless in Keycloak mode
  std::unique_ptr<identity::Provisioner> provisioner_;
  tenants::TenantService tenants_;
  tenants::ProjectService projects_;
  tenants::SubscriptionService subscriptions_;
  identity::Directory directory_;
  identity::KeyRing keys_;
  identity::TokenIssuer issuer_;
  std::unique_ptr<identity::OidcIssuer> oidc_issuer_;  // null without an external provider
  std::unique_ptr<identity::OidcLogin> oidc_login_;    // null without a portal client
  identity::Authenticator auth_;
  identity::ApiKeyService api_keys_;
  identity::ClaimsService claims_;
  audit::Ingestor ingestor_;
  jobs::Queue queue_;
  mail::Mailer mailer_;
  lifecycle::ProductClient products_;
  lifecycle::Engine engine_;
  lifecycle::TrialService trials_;
  WorkPool password_pool_;         // argon2: off the I/O threads and the blocking pool
  RateLimiter password_attempts_;  // password grants per client address
  RateLimiter portal_logins_;      // portal sign-ins begun per client address
  std::int64_t last_retention_us_ = 0;
  // A place among the max_exports exports being built, for the exports of `scope` (a tenant's
  // id, or "" for an export across tenants), which may hold at most half of the places (at
  // least one), so one tenant's downloads cannot keep every other tenant waiting. A 429 error
  // when no place is free. Held by the response until its last byte is written (a CSV stream)
  // or by the handler (a PDF).
  Result<std::shared_ptr<void>> TakeExportSlot(const std::string& scope);
  struct ExportPlaces {
    std::mutex mu;
    int taken = 0;
    std::unordered_map<std::string, int> by_scope;
  };
  std::shared_ptr<ExportPlaces> exports_ = std::make_shared<ExportPlaces>();
  std::atomic<std::uint64_t> inline_answered_{0};
  std::atomic<std::uint64_t> inline_declined_{0};
  std::int64_t last_key_refresh_us_ = 0;
  std::int64_t last_schedule_us_ = 0;
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
std::optional<Error> OnlyKnownQuery(const http::Request& req,
                                    std::initializer_list<std::string_view> known);
// Reads an integer query parameter; a repeated or non-numeric value is 400.
Result<std::optional<int>> IntQuery(const http::Request& req, std::string_view name);
Result<std::optional<std::string>> StringQuery(const http::Request& req, std::string_view name);

}  // namespace breakpilot::api
