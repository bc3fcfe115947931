#include "app/platform.hpp"

#include <algorithm>
#include <thread>

#include "audit/trail.hpp"
#include "core/log.hpp"

namespace breakpilot::app {
namespace {

const Logger kJobsLog("jobs");

std::unique_ptr<identity::KeycloakAdmin> KeycloakFor(const PlatformOptions& o, const Clock& clock) {
  if (o.keycloak.base_url.empty()) return nullptr;
  return std::make_unique<identity::KeycloakAdmin>(o.keycloak, o.fetch, clock);
}

std::unique_ptr<identity::OidcIssuer> OidcIssuerFor(const PlatformOptions& o, const Clock& clock) {
  if (o.oidc_issuer.empty()) return nullptr;
  return std::make_unique<identity::OidcIssuer>(o.oidc_issuer, o.fetch, clock);
}

int PasswordThreads(const PlatformOptions& o) {
  if (o.password_threads > 0) return o.password_threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
}

}  // namespace

Platform::Platform(PlatformOptions options, storage::Database& db, const Clock& clock,
                   const catalog::Catalog& catalog)
    : options_(std::move(options)),
      db_(db),
      clock_(clock),
      catalog_(catalog),
      keycloak_(KeycloakFor(options_, clock)),
      provisioner_(keycloak_ ? std::make_unique<identity::Provisioner>(db, clock, *keycloak_)
                             : nullptr),
      tenants_(db, clock, provisioner_ ? provisioner_->CreateHook() : tenants::TenantCreatedHook{}),
      projects_(db, clock),
      subscriptions_(db, clock, catalog),
      directory_(db, clock, options_.password_cost),
      keys_(db, clock, options_.keys),
      issuer_(db, clock, directory_, keys_,
              {.issuer = options_.public_url, .ttl = options_.token_ttl}),
      oidc_issuer_(OidcIssuerFor(options_, clock)),
      oidc_login_(
          oidc_issuer_ && !options_.oidc_client_id.empty()
              ? std::make_unique<identity::OidcLogin>(
                    db, clock, *oidc_issuer_,
                    identity::OidcClientSettings{.client_id = options_.oidc_client_id,
                                                 .client_secret = options_.oidc_client_secret})
              : nullptr),
      auth_(keys_, issuer_, clock, options_.admin_token,
            oidc_issuer_
                ? std::optional<identity::ExternalIssuer>(identity::ExternalIssuer{
                      .rules = {.issuer = options_.oidc_issuer, .audience = options_.oidc_audience},
                      .keys = [this](bool refresh) { return oidc_issuer_->Keys(refresh); }})
                : std::nullopt),
      web_sessions_(db, clock, options_.web_sessions),
      api_keys_(db, clock),
      claims_(db),
      ingestor_(db, clock),
      exports_(options_.max_exports),
      queue_(db, clock, options_.jobs),
      mailer_(db, clock, options_.mail_transport, options_.mail_from),
      products_(
          options_.fetch,
          [this](const std::string& product) -> Result<std::string> {
            auto t = issuer_.PlatformToken(product);
            if (!t) return std::move(t).error();
            return t->access_token;
          },
          options_.product_hosts),
      engine_(db, clock, catalog, tenants_, mailer_, products_, options_.lifecycle),
      trials_(db, clock, tenants_, mailer_, options_.trial_requests_per_hour),
      leads_(db, clock, catalog, tenants_, subscriptions_),
      usage_(db, clock, catalog, tenants_),
      webhooks_(db, clock, options_.fetch, options_.webhooks, &mailer_),
      billing_(db, clock, tenants_, billing::PolarClient(options_.polar, options_.fetch)),
      erpnext_(db, clock, tenants_, options_.erpnext, options_.fetch),
      support_(db, clock, tenants_, options_.support, options_.fetch),
      unleash_(options_.unleash.on()
                   ? std::make_unique<flags::UnleashSource>(options_.unleash, options_.fetch, clock)
                   : nullptr),
      flags_(db, clock, tenants_, unleash_.get()),
      domains_(db, clock, tenants_, options_.domains),
      isolation_(db, clock, catalog, tenants_, products_),
      mcp_(db, clock, catalog, issuer_, options_.fetch,
           [this](const catalog::Manifest& m) { return products_.Reachable(m); }),
      members_(db, clock, directory_),
      password_pool_("password", PasswordThreads(options_),
                     static_cast<std::size_t>(options_.password_queue)) {
  tenants_.EnableReadCache();  // the status gate and tenant reads, on every tenant-scoped route
  tenants_.OnStatusChanged([this](storage::Session& s, const tenants::Tenant& t) {
    engine_.OnStatusChanged(s, t);
    // A cancellation (it carries its reason) loses the tenant's Opportunity in ERPNext.
    if (t.status == tenants::Status::kFrozen && t.cancel_reason)
      erpnext_.QueueOpportunityLost(s, t);
  });
  // The back office hears of what sales and billing do, in the same transactions.
  tenants_.OnInserted(
      [this](storage::Session& s, const tenants::Tenant& t) { erpnext_.QueueCustomer(s, t); });
  leads_.OnCreated([this](storage::Session& s, const sales::Lead& lead) {
    erpnext_.QueueLead(s, {.lead_id = lead.id,
                           .tenant_id = lead.tenant_id,
                           .tenant_name = lead.tenant_name,
                           .product_id = lead.product_id,
                           .sales_owner = lead.sales_owner,
                           .requested_by_name = lead.requested_by_name,
                           .note = lead.note,
                           .prospect_company = lead.prospect_company,
                           .prospect_name = lead.prospect_name,
                           .prospect_email = lead.prospect_email});
  });
  billing_.OnOrderPaid(
      [this](storage::Session& s, const std::string& tenant_id, const boost::json::object& order) {
        erpnext_.QueueInvoice(s, tenant_id, order);
      });
  keys_.Refresh();
  last_key_refresh_us_ = clock.Now().micros;
  if (!options_.public_url.empty()) SetPublicUrl(options_.public_url);
}

Platform::~Platform() = default;

api::Services Platform::services() {
  return {.db = db_,
          .clock = clock_,
          .catalog = catalog_,
          .provisioner = provisioner_.get(),
          .tenants = tenants_,
          .projects = projects_,
          .subscriptions = subscriptions_,
          .directory = directory_,
          .keys = keys_,
          .issuer = issuer_,
          .oidc_issuer = oidc_issuer_.get(),
          .oidc_login = oidc_login_.get(),
          .auth = auth_,
          .web_sessions = web_sessions_,
          .api_keys = api_keys_,
          .claims = claims_,
          .ingestor = ingestor_,
          .exports = exports_,
          .queue = queue_,
          .mailer = mailer_,
          .engine = engine_,
          .trials = trials_,
          .leads = leads_,
          .usage = usage_,
          .webhooks = webhooks_,
          .billing = billing_,
          .erpnext = erpnext_,
          .support = support_,
          .flags = flags_,
          .domains = domains_,
          .isolation = isolation_,
          .integrations = [this] { return Integrations(); },
          .mcp = mcp_,
          .members = members_,
          .password_pool = password_pool_,
          .test_clock = options_.test_clock};
}

void Platform::StartPolling() {
  if (unleash_) unleash_->Start();
}

void Platform::RegisterJobs(jobs::Runner& runner) {
  runner.Register(std::string(mail::kSendJob),
                  [this](jobs::JobContext& ctx) { mailer_.SendJob(ctx); });
  engine_.Register(runner);
  webhooks_.Register(runner);
  billing_.Register(runner);
  erpnext_.Register(runner);
  support_.Register(runner);
  isolation_.Register(runner);
}

std::vector<std::string> Platform::ProductsNotCalled() const {
  std::vector<std::string> out;
  for (const auto& p : catalog_.products()) {
    if (!products_.Reachable(p)) out.push_back(p.id);
  }
  return out;
}

void Platform::SetPublicUrl(const std::string& url) {
  if (oidc_login_) oidc_login_->SetPublicUrl(url);
  mailer_.SetPublicUrl(url);
  issuer_.SetIssuer(url);
}

void Platform::Maintain() {
  api_keys_.FlushLastUsed();
  if (provisioner_) provisioner_->RunDue();
  const auto now = clock_.Now().micros;
  // True once every `seconds`, keeping `last` (the micros of the last time it was).
  const auto due = [now](std::int64_t& last, std::int64_t seconds) {
    if (now - last < seconds * kMicrosPerSecond) return false;
    last = now;
    return true;
  };
  if (due(last_key_refresh_us_, 60)) keys_.Refresh();
  webhooks_.FanOut();  // the "webhooks" event wakes it sooner; this catches a missed one
  if (options_.polar.inbound()) billing_.FreezeEnded();       // cancelled periods that ended
  if (due(last_schedule_us_, 60)) engine_.EnsureSchedules();  // the next nightly demo reset
  if (due(last_domains_us_, 60)) domains_.CheckDue({.id = "system:domains"});  // DNS records
  if (due(last_retention_us_, 3600)) {  // audit retention, hourly
    audit::PruneByRetention(db_, clock_);
    engine_.PruneExpiredExports();
    directory_.PruneThrottle();
    web_sessions_.Prune();
    usage_.Compact();
    if (const auto n = queue_.PruneDone(); n > 0) {
      kJobsLog.Info("done jobs pruned", {{"count", n}});
    }
  }
}

std::vector<backoffice::IntegrationStatus> Platform::Integrations() const {
  const auto polar = billing_.stats();
  std::vector<backoffice::IntegrationStatus> out{
      {.name = "polar",
       .configured = options_.polar.inbound() || options_.polar.outbound(),
       .failures = polar.failures,
       .last_success_us = polar.last_success_us,
       .last_failure_us = polar.last_failure_us,
       .job_kind = std::string(billing::kPolarJob)}};
  out.push_back(erpnext_.Status());
  for (auto& s : support_.Status()) out.push_back(std::move(s));
  if (unleash_) {
    const auto u = unleash_->stats();
    out.push_back({.name = "unleash",
                   .configured = true,
                   .failures = u.failures,
                   .last_success_us = u.last_success_us,
                   .last_failure_us = u.last_failure_us,
                   .last_error = u.last_error,
                   .fallback = unleash_->Current() ? "" : "the built-in flag store answers"});
  }
  return out;
}

void Platform::WriteIntegrationMetrics(std::string& out) const {
  const auto all = Integrations();
  const auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
    for (const auto& i : all) {
      if (!i.configured) continue;
      out +=
          std::string(name) + "{integration=\"" + i.name + "\"} " + std::to_string(value(i)) + "\n";
    }
  };
  family("breakpilot_integration_failures_total", "counter",
         "Calls to an integration that failed (each retry counts).",
         [](const backoffice::IntegrationStatus& i) { return i.failures; });
  family(
      "breakpilot_integration_last_success_seconds", "gauge",
      "When a call to an integration last succeeded (Unix time; 0: not since the start).",
      [](const backoffice::IntegrationStatus& i) { return i.last_success_us / kMicrosPerSecond; });
  family("breakpilot_integration_queued", "gauge",
         "Calls to an integration waiting in the job queue.",
         [](const backoffice::IntegrationStatus& i) { return i.queued; });
}

void Platform::WriteMetrics(std::string& out) const {
  engine_.WriteMetrics(out);
  billing_.WriteMetrics(out);
  WriteIntegrationMetrics(out);
  out +=
      "# HELP breakpilot_audit_exports Audit exports being built or sent (at most "
      "max_exports).\n";
  out += "# TYPE breakpilot_audit_exports gauge\n";
  out += "breakpilot_audit_exports " + std::to_string(exports_.taken()) + "\n";
  const auto pool = password_pool_.stats();
  out +=
      "# HELP breakpilot_password_checks Password checks and hashes waiting for or running on "
      "their pool.\n";
  out += "# TYPE breakpilot_password_checks gauge\n";
  out += "breakpilot_password_checks{state=\"queued\"} " + std::to_string(pool.queued) + "\n";
  out += "breakpilot_password_checks{state=\"running\"} " + std::to_string(pool.running) + "\n";
  out +=
      "# HELP breakpilot_password_checks_total Password checks and hashes: done, or refused "
      "with 503 because the queue was full.\n";
  out += "# TYPE breakpilot_password_checks_total counter\n";
  out += "breakpilot_password_checks_total{outcome=\"done\"} " + std::to_string(pool.done) + "\n";
  out += "breakpilot_password_checks_total{outcome=\"refused\"} " + std::to_string(pool.refused) +
         "\n";
}

}  // namespace breakpilot::app
