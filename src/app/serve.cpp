#include "app/serve.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <array>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/api.hpp"
#include "app/platform.hpp"
#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/log.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "jobs/runner.hpp"
#include "lifecycle/test_clock.hpp"
#include "mail/transport.hpp"
#include "portal/portal.hpp"
#include "portal/site.hpp"
#include "storage/migrations.hpp"
#include "storage/sqlite_database.hpp"
#include "tenants/project_service.hpp"
#include "tenants/tenant_service.hpp"
#include "tracing/otlp_exporter.hpp"

namespace breakpilot::app {
namespace {

const Logger kLog("app");

}  // namespace

std::unique_ptr<storage::Database> OpenMigrated(const config::Config& config) {
  std::unique_ptr<storage::Database> db;
  try {
    db = storage::OpenDatabase(config.database, {.pool_size = config.db_pool_size});
    auto report = storage::Migrate(*db);
    if (!report) {
      kLog.Error("schema check failed", {{"error", report.error().detail}});
      return nullptr;
    }
    if (report->from != report->to) {
      kLog.Info("migrated",
                {{"from", report->from}, {"to", report->to}, {"database", db->Describe()}});
    }
    audit::SealUnchained(*db);  // events recorded before 0003 join their chains
  } catch (const std::exception& e) {
    kLog.Error("database unavailable", {{"error", ErrorText(e)}});
    return nullptr;
  }
  return db;
}

namespace {

// The mail transport the settings name: SMTP submission, or .eml files in mail_dir.
std::shared_ptr<mail::Transport> OpenMailTransport(const config::Config& config) {
  try {
    if (config.smtp_url.empty()) return std::make_shared<mail::FileTransport>(config.mail_dir);
    return std::make_shared<mail::SmtpTransport>(
        mail::SmtpSettings{.url = config.smtp_url,
                           .username = config.smtp_username,
                           .password = config.smtp_password,
                           .starttls = config.smtp_starttls,
                           .ca_file = config.smtp_ca_file});
  } catch (const std::exception& e) {
    kLog.Error("mail transport unavailable", {{"error", ErrorText(e)}});
    return nullptr;
  }
}

// The catalog from catalog_dir, mirrored to the products table; nullopt (logged) when invalid.
std::optional<catalog::Catalog> LoadCatalog(const config::Config& config, storage::Database& db,
                                            const Clock& clock) {
  auto catalog = catalog::LoadCatalog(config.catalog_dir);
  if (!catalog) {
    boost::json::array problems;
    for (const auto& fe : catalog.error().errors)
      problems.push_back({{"field", fe.field}, {"message", fe.message}});
    kLog.Error("catalog invalid", {{"error", catalog.error().detail}, {"problems", problems}});
    return std::nullopt;
  }
  catalog::SyncProducts(db, clock, *catalog);
  return *std::move(catalog);
}

// The demo tenant, and the products it books (`demo_products`); both idempotent.
Result<Ok> SeedDemoTenant(storage::Database& db, const Clock& clock,
                          const catalog::Catalog& catalog, const std::string& products) {
  const audit::Actor actor{"system:seed", "", ""};
  auto demo = tenants::TenantService(db, clock).EnsureDemoTenant(actor);
  if (!demo) {
    kLog.Warn("demo tenant not seeded", {{"error", demo.error().detail}});
    return Ok{};
  }
  tenants::SubscriptionService subscriptions(db, clock, catalog);
  std::string_view rest = products;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string id(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (id.empty()) continue;
    if (catalog.Find(id) == nullptr) {
      return InvalidInput("invalid-config", "Invalid configuration",
                          "demo_products: no product '" + id + "' in the catalog");
    }
    if (auto r = subscriptions.Subscribe(actor, demo->id, id, std::nullopt); !r) {
      return std::move(r).error();
    }
  }
  return Ok{};
}

webhooks::Options WebhookOptions(const config::Config& config) {
  webhooks::Options o;
  o.policy = {.https_only = config.environment == "production",
              .allow_private = config.allow_private_webhook_targets};
  if (auto schedule = webhooks::ParseSchedule(config.webhook_schedule)) o.schedule = *schedule;
  o.attempt_timeout = std::chrono::seconds(config.webhook_timeout_seconds);
  return o;
}

billing::PolarSettings PolarSettingsFrom(const config::Config& config) {
  billing::PolarSettings polar{.api_url = config.polar_api_url,
                               .access_token = config.polar_access_token,
                               .webhook_secret = config.polar_webhook_secret};
  for (const auto& [plan, id] : {std::pair{"starter", &config.polar_product_starter},
                                 std::pair{"professional", &config.polar_product_professional},
                                 std::pair{"per_seat", &config.polar_product_per_seat}}) {
    if (!id->empty()) polar.products[plan] = *id;
  }
  return polar;
}

PlatformOptions PlatformOptionsFrom(const config::Config& config,
                                    std::shared_ptr<mail::Transport> transport,
                                    lifecycle::TestClock* test_clock) {
  return PlatformOptions{
      .admin_token = config.admin_token,
      .public_url = config.public_url,
      .token_ttl = std::chrono::seconds(config.token_ttl_seconds),
      .password_cost = {.memory_kib = static_cast<std::uint32_t>(config.password_memory_kib)},
      .password_threads = config.password_threads,
      .password_queue = config.password_queue,
      .keys = {.rotation = std::chrono::seconds(config.key_rotation_days * 86400LL),
               .overlap = std::chrono::seconds(config.token_ttl_seconds + 3600)},
      .oidc_issuer = config.oidc_issuer,
      .oidc_client_id = config.oidc_client_id,
      .oidc_client_secret = config.oidc_client_secret,
      .oidc_audience = config.oidc_audience,
      .keycloak = {.base_url = config.keycloak_url,
                   .realm = config.keycloak_realm,
                   .client_id = config.keycloak_client_id,
                   .client_secret = config.keycloak_client_secret},
      .mail_transport = std::move(transport),
      .mail_from = config.mail_from,
      .lifecycle = {.catalog_dir = config.catalog_dir,
                    .demo_reset_zone = config.demo_reset_zone,
                    .demo_reset_hour = config.demo_reset_hour,
                    .demo_reset_minute = config.demo_reset_minute},
      .product_hosts = config.product_hosts == "any" ? lifecycle::ProductHosts::kAny
                                                     : lifecycle::ProductHosts::kLoopback,
      .webhooks = WebhookOptions(config),
      .polar = PolarSettingsFrom(config),
      .erpnext = {.frappe = {.url = config.erpnext_url,
                             .api_key = config.erpnext_api_key,
                             .api_secret = config.erpnext_api_secret},
                  .webhook_secret = config.erpnext_webhook_secret,
                  .item_code = config.erpnext_item_code,
                  .tax_account = config.erpnext_tax_account},
      .support = {.helpdesk = {.url = config.helpdesk_url,
                               .api_key = config.helpdesk_api_key,
                               .api_secret = config.helpdesk_api_secret},
                  .gitea = {.url = config.gitea_url, .token = config.gitea_token},
                  .gitea_repo = config.gitea_repo,
                  .gitea_webhook_secret = config.gitea_webhook_secret,
                  .public_url = config.public_url},
      .unleash = {.url = config.unleash_url,
                  .client_token = config.unleash_client_token,
                  .app_name = config.unleash_app_name,
                  .interval = std::chrono::milliseconds(config.unleash_poll_ms)},
      .domains = {.portal_domain = config.portal_domain, .resolver = config.dns_resolver},
      .jobs = {.lease = std::chrono::seconds(config.job_lease_seconds),
               .backoff_base = std::chrono::seconds(config.job_backoff_seconds),
               .keep_done = std::chrono::hours(24) * config.job_keep_done_days},
      .trial_requests_per_hour = config.trial_requests_per_hour,
      .max_exports = config.max_exports,
      .test_clock = test_clock,
      .web_sessions = {.idle = std::chrono::minutes(config.portal_session_idle_minutes),
                       .absolute = std::chrono::hours(config.portal_session_hours)}};
}

api::ApiOptions ApiOptionsFrom(const config::Config& config, storage::Dialect dialect) {
  return api::ApiOptions{.docs_dir = config.docs_dir,
                         .access_log = config.access_log,
                         .inline_reads = dialect == storage::Dialect::kSqlite,
                         .password_attempts_per_minute = config.password_attempts_per_minute,
                         .portal_logins_per_minute = config.portal_logins_per_minute};
}

portal::PortalOptions PortalOptionsFrom(const config::Config& config) {
  return portal::PortalOptions{.domain = config.portal_domain,
                               .secure = config.public_url.rfind("https://", 0) == 0,
                               .logins_per_minute = config.portal_logins_per_minute};
}

http::ServerOptions ServerOptionsFrom(const config::Config& config, storage::Dialect dialect) {
  http::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.io_threads = config.threads;
  // PostgreSQL waits on the network: a pool keeps the I/O threads free meanwhile. On SQLite,
  // reads answer from local memory in microseconds on the I/O threads (inline_reads), and writes
  // go to the pool, where many wait together for SQLite's one writer and are committed
  // together (group commit): two I/O threads alone would never offer it more than two.
  // The SQLite pool is larger: its threads mostly wait for a commit, and the more wait, the more
  // each commit holds (64 connections of POST /tenants on 2 cores: 8 threads, 2 writes per
  // commit, 1,500/s; 64 threads, 19 per commit, 2,400/s; bench/NOTES.md).
  options.blocking_threads = config.blocking_threads;
  if (options.blocking_threads < 0) {
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    options.blocking_threads = (dialect == storage::Dialect::kSqlite ? 32 : 4) * cores;
  }
  options.body_limit = config.max_body_bytes;
  options.header_limit = config.max_header_bytes;
  options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  options.drain_timeout = std::chrono::milliseconds(config.drain_timeout_ms);
  options.max_connections = config.max_connections;
  options.max_connections_per_address = config.max_connections_per_address;
  return options;
}

// What /metrics adds beyond the API's own: the services, the job runner, the connections,
// SQLite's commits.
void AddCollectors(api::Api& api, const Platform& platform, jobs::Runner& runner,
                   http::Server& server, storage::Database& db) {
  api.metrics().AddCollector([&platform](std::string& out) { platform.WriteMetrics(out); });
  api.metrics().AddCollector([&runner](std::string& out) { runner.WriteMetrics(out); });
  api.metrics().AddCollector([&server](std::string& out) { server.WriteMetrics(out); });
  if (auto* sqlite = dynamic_cast<storage::SqliteDatabase*>(&db)) {
    api.metrics().AddCollector([sqlite](std::string& out) {
      const auto c = sqlite->commit_stats();
      out +=
          "# HELP breakpilot_sqlite_commits_total Write transactions committed (group commit: "
          "each holds one or more write calls).\n";
      out += "# TYPE breakpilot_sqlite_commits_total counter\n";
      out += "breakpilot_sqlite_commits_total " + std::to_string(c.commits) + "\n";
      out += "# HELP breakpilot_sqlite_writes_total Write calls committed or refused.\n";
      out += "# TYPE breakpilot_sqlite_writes_total counter\n";
      out += "breakpilot_sqlite_writes_total " + std::to_string(c.writes) + "\n";
    });
  }
}

// Periodic work (API key use times, signing key rotation, the job gauges) on a thread of its
// own, every 5 s until Stop.
class Maintenance {
 public:
  Maintenance(Platform& platform, jobs::Runner& runner)
      : thread_([this, &platform, &runner] { Run(platform, runner); }) {}
  ~Maintenance() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run(Platform& platform, jobs::Runner& runner) {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return stopping_; })) {
      lock.unlock();
      try {
        platform.Maintain();
        runner.RefreshCounts();
      } catch (const std::exception& e) {
        kLog.Error("maintenance failed", {{"error", ErrorText(e)}});
      }
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// SIGTERM and SIGINT, blocked here so that every thread started later inherits the block; one
// thread takes them with sigwait.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The start-up line: where we listen and what we run with, said once.
void Announce(const std::string& url, const storage::Database& db, const mail::Transport& transport,
              const config::Config& config, const catalog::Catalog& catalog,
              const Platform& platform, std::int64_t ready_us) {
  boost::json::array not_called;
  for (const auto& id : platform.ProductsNotCalled()) not_called.emplace_back(id);
  kLog.Info("listening", {{"url", url},
                          {"database", db.Describe()},
                          {"mail", transport.Describe()},
                          {"job_workers", config.job_workers},
                          {"products", catalog.products().size()},
                          // The lifecycle skips these (product_hosts).
                          {"products_not_called", std::move(not_called)},
                          {"ready_us", ready_us},
                          {"version", BREAKPILOT_VERSION}});
}

// The shared test clock when it is enabled (never in production: Validate refuses it).
std::unique_ptr<lifecycle::TestClock> OpenTestClock(const config::Config& config,
                                                    storage::Database& db, OffsetClock& clock) {
  if (!config.enable_test_clock) return nullptr;
  auto test_clock = std::make_unique<lifecycle::TestClock>(db, clock);
  kLog.Warn("test clock enabled: staff may move the platform's clock forward",
            {{"offset_seconds", clock.offset() / kMicrosPerSecond}});
  return test_clock;
}

// Traces (§1.9): while it is installed, every request, job and outbound call makes a span and
// the exporter sends them to the collector. Removed before the exporter's last flush.
class Tracing {
 public:
  Tracing(const config::Config& config, int port) {
    if (config.otlp_endpoint.empty()) return;
    std::array<char, 256> host{};
    gethostname(host.data(), host.size() - 1);
    exporter_ = std::make_unique<tracing::Exporter>(
        tracing::ExporterOptions{
            .endpoint = config.otlp_endpoint,
            .service_version = BREAKPILOT_VERSION,
            .instance_id = std::string(host.data()) + ":" + std::to_string(port),
            .sample_ratio = config.otlp_sample_percent / 100.0},
        http::Fetch);
    tracing::InstallSink(exporter_.get());
  }
  ~Tracing() { tracing::InstallSink(nullptr); }  // the exporter flushes as it goes
  Tracing(const Tracing&) = delete;
  Tracing& operator=(const Tracing&) = delete;
  void AddCollector(api::Api& api) const {
    if (!exporter_) return;
    api.metrics().AddCollector([e = exporter_.get()](std::string& out) { out += e->Metrics(); });
  }

 private:
  std::unique_ptr<tracing::Exporter> exporter_;
};

}  // namespace

int Serve(const config::Config& config, std::chrono::steady_clock::time_point started) {
  sigset_t signals = BlockStopSignals();

  if (config.admin_token.empty()) {
    kLog.Error("no staff token: set BREAKPILOT_ADMIN_TOKEN (make run generates one)");
    return 2;
  }
  auto db = OpenMigrated(config);
  if (!db) return 1;
  // One clock for the whole platform: the wall clock, moved forward only by the test clock.
  OffsetClock clock;
  auto test_clock = OpenTestClock(config, *db, clock);
  auto transport = OpenMailTransport(config);
  if (!transport) return 1;
  auto catalog = LoadCatalog(config, *db, clock);
  if (!catalog) return 2;
  if (config.seed_demo) {
    if (auto seeded = SeedDemoTenant(*db, clock, *catalog, config.demo_products); !seeded) {
      kLog.Error("demo tenant not seeded", {{"error", seeded.error().detail}});
      return 2;
    }
  }
  // The services subscribe to database events and load signing keys: both can fail at start.
  std::unique_ptr<Platform> platform_holder;
  std::unique_ptr<api::Api> api_holder;
  try {
    platform_holder = std::make_unique<Platform>(
        PlatformOptionsFrom(config, transport, test_clock.get()), *db, clock, *catalog);
    api_holder = std::make_unique<api::Api>(ApiOptionsFrom(config, db->dialect()),
                                            platform_holder->services());
  } catch (const std::exception& e) {
    kLog.Error("cannot start the API", {{"error", ErrorText(e)}});
    return 1;
  }
  Platform& platform = *platform_holder;
  api::Api& api = *api_holder;
  // The portal's host names get pages; every other host the API (portal/site.hpp).
  portal::Portal portal(platform.services(), PortalOptionsFrom(config));
  // Which face a request's host asks for, once per request on the API's paths.
  const auto site_of = [&](const http::Request& r) { return portal.SiteOf(r).kind; };
  http::Server server(
      ServerOptionsFrom(config, db->dialect()),
      [&](http::Request& r) {
        const auto site = site_of(r);
        if (site == portal::SiteKind::kMcp) portal::ToMcpGateway(r.path, r.target);
        if (site != portal::SiteKind::kApi && site != portal::SiteKind::kMcp) {
          if (auto page = portal.Handle(r)) return std::move(*page);
        }
        return api.Handle(r);
      },
      [&](const http::Exchange& x) { api.Observe(x); },
      // Pages, and the MCP host's requests (rewritten once, above), run on the blocking pool.
      [&](http::Request& r) -> std::optional<http::Response> {
        if (site_of(r) != portal::SiteKind::kApi) return std::nullopt;
        return api.HandleInline(r);
      });
  try {
    server.Listen();
  } catch (const std::exception& e) {
    kLog.Error("cannot listen", {{"listen", config.listen}, {"error", ErrorText(e)}});
    return 1;
  }
  const std::string host =
      config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
  const std::string public_url = config.public_url.empty()
                                     ? "http://" + host + ":" + std::to_string(server.port())
                                     : config.public_url;
  if (config.public_url.empty()) platform.SetPublicUrl(public_url);
  // The final export's mailed link opens the portal's download page on D, where there is one.
  if (!config.portal_domain.empty()) {
    platform.engine().SetDownloadBase(portal::SiteUrl(public_url, config.portal_domain, ""));
  }
  const auto ready_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  const Tracing traces(config, server.port());
  traces.AddCollector(api);
  // Scheduled work: mail, trial reminders and expiry, offboarding, the nightly demo reset.
  jobs::Runner runner(platform.job_queue(), {.workers = config.job_workers});
  platform.RegisterJobs(runner);
  platform.StartPolling();
  AddCollectors(api, platform, runner, server, *db);
  try {
    platform.engine().EnsureSchedules();
  } catch (const std::exception& e) {
    kLog.Error("cannot schedule the nightly demo reset", {{"error", ErrorText(e)}});
    return 1;
  }
  if (config.job_workers > 0) runner.Start();
  Announce("http://" + host + ":" + std::to_string(server.port()), *db, *transport, config,
           *catalog, platform, ready_us);
  Maintenance maintenance(platform, runner);
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    kLog.Info("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.Stop();
  });
  server.Run();
  signal_thread.join();
  runner.Stop();  // running jobs finish; the rest wait in the database for any replica
  maintenance.Stop();
  platform.Maintain();  // the last API key use times
  kLog.Info("stopped");
  return 0;
}

}  // namespace breakpilot::app
