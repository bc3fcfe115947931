// The lifecycle engine (M12.2, M13.3, M14.1, M14.2): what happens to a tenant without a human.
//
//   trial created   -> reminders on day 7 and day 12, expiry on day 14 (trial -> frozen, mail)
//   frozen          -> offboarding on day 30 unless reactivated:
//                      each product's export, one final ZIP stored with a 7-day signed link
//                      mailed, each product's data deleted, the IdP org archived, -> archived
//   every night     -> the demo tenant is reset on every product at 03:00 Europe/Berlin
//
// Each of these is a durable job (jobs/queue.hpp) scheduled in the transaction of the change
// that makes it due, with a dedupe key, so several replicas schedule and run it once. Every
// step an offboarding finishes is checkpointed: a replica that takes over after a crash resumes
// at the next step, and no product is asked to delete before the export is stored.
#pragma once

#include <atomic>
#include <string>

#include "catalog/catalog.hpp"
#include "jobs/runner.hpp"
#include "lifecycle/products.hpp"
#include "mail/outbox.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::lifecycle {

inline constexpr std::string_view kTrialReminderJob = "trial.reminder";
inline constexpr std::string_view kTrialExpireJob = "trial.expire";
inline constexpr std::string_view kOffboardJob = "tenant.offboard";
inline constexpr std::string_view kDemoResetJob = "demo.reset";

struct EngineSettings {
  std::string catalog_dir;  // demo fixtures: <catalog_dir>/<product>/demo/seed.json
  std::string demo_reset_zone = "Europe/Berlin";
  int demo_reset_hour = 3;
  int demo_reset_minute = 0;
  int export_ttl_days = 7;
};

// What a download link leads to, before the file is fetched: what the download page shows.
struct ExportInfo {
  std::string id;
  std::string tenant_name;
  std::string filename;
  std::string sha256;
  std::int64_t size_bytes = 0;
  Timestamp expires_at;
};

struct ExportFile {
  std::string id;
  std::string filename;
  std::string sha256;
  std::string content;
};

// Queues a demo reset now (`breakpilot demo reset`, POST /demo/reset); returns its job key.
std::string QueueDemoReset(storage::Database& db, const Clock& clock, const audit::Actor& actor);

class Engine {
 public:
  Engine(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog,
         tenants::TenantService& tenants, mail::Mailer& mailer, ProductClient& products,
         EngineSettings settings);

  void Register(jobs::Runner& runner);
  // TenantService's status hook: schedules what the new status makes due.
  void OnStatusChanged(storage::Session& s, const tenants::Tenant& t);
  // Schedules the next nightly demo reset unless it is, and the first reset (the seeding) of a
  // demo tenant that never had one (idempotent; every replica may call it).
  void EnsureSchedules();
  // The final export behind a signed download link; 404/410 when unknown or expired.
  Result<ExportFile> Download(const std::string& export_id, const std::string& token);
  // The same link's export described without its content (404/410 alike).
  Result<ExportInfo> DescribeExport(const std::string& export_id, const std::string& token);
  // Where mailed download links point from now on: "<base>/exports/<id>?token=…": the portal's
  // public site (its download page) when the portal runs. Unset: the mailer's public URL (the
  // API, which answers with the ZIP itself). Set once at start-up, before the jobs run.
  void SetDownloadBase(std::string base) { download_base_ = std::move(base); }
  void WriteMetrics(std::string& out) const;
  // Deletes final exports whose link expired (hourly, from Api::Maintain); audited.
  int PruneExpiredExports();

 private:
  void TrialReminder(jobs::JobContext& ctx);
  void TrialExpire(jobs::JobContext& ctx);
  void Offboard(jobs::JobContext& ctx);
  void DemoReset(jobs::JobContext& ctx);
  void ScheduleDemoReset(storage::Session& s, Timestamp after);
  std::string BuildFinalExport(const tenants::Tenant& t);
  // Checks a download link's token for `export_id`: its expiry, or 404 (forged, another
  // export's) or 410 (expired).
  Result<Timestamp> CheckDownloadLink(const std::string& export_id, const std::string& token);
  std::string DownloadBase() const {
    return download_base_.empty() ? mailer_.public_url() : download_base_;
  }

  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  tenants::TenantService& tenants_;
  mail::Mailer& mailer_;
  ProductClient& products_;
  EngineSettings settings_;
  storage::SharedSecretCache download_secret_{"export.download"};
  std::string download_base_;
  std::atomic<std::int64_t> demo_reset_failures_{0};
  std::atomic<std::int64_t> demo_resets_{0};
};

}  // namespace breakpilot::lifecycle
