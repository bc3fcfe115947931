// What the program is made of: the services of every area, built once from the settings and
// wired together (tenant status changes reach the lifecycle engine, the lifecycle calls
// products with tokens of our issuer, tenants reach Keycloak in Keycloak mode), the periodic
// work they need, and the job handlers they offer. The API receives them as api::Services.
//
//   app::Platform platform(options, db, clock, catalog);
//   api::Api api(api_options, platform.services());
//   platform.RegisterJobs(runner);
//   platform.Maintain();  // every few seconds, and once at shutdown
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/module.hpp"
#include "audit/export_slots.hpp"
#include "audit/ingest.hpp"
#include "backoffice/erpnext.hpp"
#include "billing/billing.hpp"
#include "catalog/catalog.hpp"
#include "core/time.hpp"
#include "core/work_pool.hpp"
#include "domains/domain_service.hpp"
#include "flags/flag_service.hpp"
#include "http/client.hpp"
#include "identity/api_keys.hpp"
#include "identity/authenticator.hpp"
#include "identity/claims.hpp"
#include "identity/directory.hpp"
#include "identity/keycloak_admin.hpp"
#include "identity/members.hpp"
#include "identity/oidc_issuer.hpp"
#include "identity/oidc_login.hpp"
#include "identity/provisioning.hpp"
#include "identity/token_issuer.hpp"
#include "identity/web_sessions.hpp"
#include "isolation/isolation_service.hpp"
#include "jobs/queue.hpp"
#include "jobs/runner.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/products.hpp"
#include "lifecycle/test_clock.hpp"
#include "lifecycle/trial.hpp"
#include "mail/outbox.hpp"
#include "outbound/fetch.hpp"
#include "storage/database.hpp"
#include "support/support.hpp"
#include "tenants/project_service.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::app {

struct PlatformOptions {
  std::string admin_token;  // the bootstrap staff token (compared by SHA-256, constant time)
  std::string public_url;   // our issuer URL; empty: set later by SetPublicUrl
  std::chrono::seconds token_ttl{900};
  identity::PasswordCost password_cost{};
  // Password checks and hashes run on a pool of their own (0 threads: half the cores, at least
  // one), with at most `password_queue` waiting (503 beyond).
  int password_threads = 0;
  int password_queue = 32;
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
  webhooks::Options webhooks{};
  billing::PolarSettings polar{};         // each part off while its credential is empty
  backoffice::ErpNextSettings erpnext{};  // off while its URL is empty
  support::SupportSettings support{};     // Helpdesk and Gitea, each off while its URL is empty
  flags::UnleashSettings unleash{};       // the Unleash backend, off while its URL is empty
  domains::DomainSettings domains{};      // tenants' own domains: the portal domain, the resolver
  jobs::QueueOptions jobs{};
  int trial_requests_per_hour = 5;
  int max_exports = 4;                          // audit exports built at once (429 beyond)
  lifecycle::TestClock* test_clock = nullptr;   // set: POST /internal/clock moves the clock
  identity::WebSessionSettings web_sessions{};  // the portal's sign-ins: idle and absolute ends
};

class Platform {
 public:
  // Subscribes to database events and loads the signing keys: throws when they fail.
  Platform(PlatformOptions options, storage::Database& db, const Clock& clock,
           const catalog::Catalog& catalog);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // What the API's handlers call.
  api::Services services();
  // The URL clients reach us at: the built-in identity's issuer, the links in mail, the
  // portal's callback.
  void SetPublicUrl(const std::string& url);
  const std::string& public_url() const { return issuer_.settings().issuer; }
  // Periodic work: API key last-use times and Keycloak provisioning (each call), signing key
  // rotation and the next demo reset's schedule (each minute), audit retention and pruning
  // (each hour). Called by a background thread every few seconds, and once at shutdown.
  void Maintain();
  // Gives the runner the handlers of every job kind (mail, lifecycle).
  void RegisterJobs(jobs::Runner& runner);
  // Starts what polls in the background while serving (the Unleash backend).
  void StartPolling();
  // The lifecycle, the password pool and the exports, for /metrics.
  void WriteMetrics(std::string& out) const;
  // Each integration's state (Polar, ERPNext): /readyz's detail, /metrics, the backstage.
  std::vector<backoffice::IntegrationStatus> Integrations() const;
  jobs::Queue& job_queue() { return queue_; }
  lifecycle::Engine& engine() { return engine_; }
  // The catalog's products the lifecycle does not call (ProductHosts::kLoopback), for the banner.
  std::vector<std::string> ProductsNotCalled() const;

 private:
  PlatformOptions options_;
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
  identity::WebSessions web_sessions_;
  identity::ApiKeyService api_keys_;
  identity::ClaimsService claims_;
  audit::Ingestor ingestor_;
  audit::ExportSlots exports_;
  jobs::Queue queue_;
  mail::Mailer mailer_;
  lifecycle::ProductClient products_;
  lifecycle::Engine engine_;
  lifecycle::TrialService trials_;
  sales::LeadService leads_;
  usage::Meter usage_;
  webhooks::Webhooks webhooks_;
  billing::Billing billing_;
  backoffice::ErpNext erpnext_;
  support::Support support_;
  std::unique_ptr<flags::UnleashSource> unleash_;  // null unless Unleash is configured
  flags::FlagService flags_;
  domains::DomainService domains_;
  isolation::IsolationService isolation_;
  mcp::Gateway mcp_;
  identity::Members members_;
  WorkPool password_pool_;  // argon2: off the I/O threads and the blocking pool
  void WriteIntegrationMetrics(std::string& out) const;
  std::int64_t last_key_refresh_us_ = 0;
  std::int64_t last_schedule_us_ = 0;
  std::int64_t last_retention_us_ = 0;
  std::int64_t last_domains_us_ = 0;
};

}  // namespace breakpilot::app
