#include "lifecycle/engine.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "audit/export.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "lifecycle/export_zip.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::lifecycle {
namespace {

const Logger kLog("lifecycle");
using storage::Query;
using storage::Session;
using tenants::Status;
using tenants::Tenant;

const audit::Actor kSystem{"system:lifecycle", "", "", "lifecycle engine"};
constexpr std::string_view kDownloadPurpose = "export.download";

constexpr Query kStartOffboarding{
    "offboarding_start",
    "INSERT INTO offboardings (tenant_id, state, started_at, updated_at) VALUES ($1, 'exporting',"
    " $2, $2) ON CONFLICT (tenant_id) DO NOTHING"};
constexpr Query kSelectOffboarding{
    "offboarding_select", "SELECT state, export_id FROM offboardings WHERE tenant_id = $1"};
constexpr Query kSetOffboarding{
    "offboarding_set",
    "UPDATE offboardings SET state = $2, export_id = COALESCE($3, export_id), updated_at = $4"
    " WHERE tenant_id = $1"};
constexpr Query kSelectOffboardingProducts{
    "offboarding_products_select",
    "SELECT product_id, export_type, export_body, exported_at, deleted_at"
    " FROM offboarding_products WHERE tenant_id = $1 ORDER BY product_id"};
constexpr Query kStoreProductExport{
    "offboarding_product_export",
    "INSERT INTO offboarding_products (tenant_id, product_id, export_type, export_body,"
    " exported_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, product_id) DO UPDATE SET"
    " export_type = excluded.export_type, export_body = excluded.export_body,"
    " exported_at = excluded.exported_at"};
// Once the ZIP holds them, the products' exports are not kept a second time.
constexpr Query kDropProductExports{
    "offboarding_products_drop_bodies",
    "UPDATE offboarding_products SET export_body = NULL WHERE tenant_id = $1"};
constexpr Query kMarkProductDeleted{
    "offboarding_product_deleted",
    "UPDATE offboarding_products SET deleted_at = $3 WHERE tenant_id = $1 AND product_id = $2"};
constexpr Query kInsertExport{
    "export_insert",
    "INSERT INTO exports (id, tenant_id, filename, size_bytes, sha256, content, created_at,"
    " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Query kExpiredExports{
    "export_expired_select",
    "SELECT id, tenant_id, filename FROM exports WHERE expires_at <= $1 ORDER BY expires_at"
    " LIMIT 100"};
constexpr Query kDeleteExport{"export_delete", "DELETE FROM exports WHERE id = $1"};
constexpr Query kDescribeExport{"export_describe",
                                "SELECT t.name, e.filename, e.sha256, e.size_bytes FROM exports e"
                                " JOIN tenants t ON t.id = e.tenant_id WHERE e.id = $1"};
constexpr Query kSelectExport{
    "export_select",
    "SELECT tenant_id, filename, sha256, content, expires_at FROM exports WHERE id = $1"};

struct ProductProgress {
  bool exported = false;
  bool deleted = false;
  std::string type;
  std::string body;  // base64
};

std::string Day(Timestamp t) {
  return FormatRfc3339(t).substr(0, 10);
}

boost::json::object Payload(const jobs::Job& job) {
  return boost::json::parse(job.payload).as_object();
}

std::string Field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    throw std::invalid_argument("job payload lacks " + std::string(key));
  }
  return std::string(v->as_string());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Engine::Engine(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog,
               tenants::TenantService& tenants, mail::Mailer& mailer, ProductClient& products,
               EngineSettings settings)
    : db_(db),
      clock_(clock),
      catalog_(catalog),
      tenants_(tenants),
      mailer_(mailer),
      products_(products),
      settings_(std::move(settings)) {}

void Engine::Register(jobs::Runner& runner) {
  runner.Register(std::string(kTrialReminderJob),
                  [this](jobs::JobContext& ctx) { TrialReminder(ctx); });
  runner.Register(std::string(kTrialExpireJob),
                  [this](jobs::JobContext& ctx) { TrialExpire(ctx); });
  runner.Register(std::string(kOffboardJob), [this](jobs::JobContext& ctx) { Offboard(ctx); });
  runner.Register(std::string(kDemoResetJob), [this](jobs::JobContext& ctx) { DemoReset(ctx); });
}

void Engine::OnStatusChanged(Session& s, const Tenant& t) {
  if (t.status == Status::kTrial && t.trial_ends_at) {
    const Timestamp ends = *t.trial_ends_at;
    for (const int day : {7, 12}) {
      jobs::Enqueue(s, clock_,
                    {.kind = std::string(kTrialReminderJob),
                     .dedupe_key = "trial.reminder:" + t.id + ":" + std::to_string(day),
                     .payload = boost::json::serialize(
                         boost::json::object{{"tenant_id", t.id}, {"day", day}}),
                     .run_at = AddSeconds(ends, -(tenants::kTrialDays - day) * 86400LL)});
    }
    jobs::Enqueue(s, clock_,
                  {.kind = std::string(kTrialExpireJob),
                   .dedupe_key = "trial.expire:" + t.id,
                   .payload = boost::json::serialize(boost::json::object{{"tenant_id", t.id}}),
                   .run_at = ends});
  } else if (t.status == Status::kFrozen) {
    // Keyed by the moment it froze: a tenant that reactivates and freezes again gets a new one,
    // and the old one finds the tenant changed and does nothing.
    const std::string frozen_at = std::to_string(t.status_changed_at.micros);
    jobs::Enqueue(s, clock_,
                  {.kind = std::string(kOffboardJob),
                   .dedupe_key = "tenant.offboard:" + t.id + ":" + frozen_at,
                   .payload = boost::json::serialize(
                       boost::json::object{{"tenant_id", t.id}, {"frozen_at", frozen_at}}),
                   .run_at = AddSeconds(t.status_changed_at, tenants::kFrozenDays * 86400LL),
                   .max_attempts = 50});
  }
}

void Engine::TrialReminder(jobs::JobContext& ctx) {
  const auto p = Payload(ctx.job());
  const std::string id = Field(p, "tenant_id");
  const std::int64_t day = p.at("day").to_number<std::int64_t>();
  ctx.Complete([&](Session& s) {
    auto t = tenants::store::SelectTenant(s, id);
    // Too late (activated, cancelled) or nowhere to write: nothing to remind of.
    if (!t || t->status != Status::kTrial || !t->contact_email || !t->trial_ends_at) return;
    mailer_.Queue(s, {.template_name = "trial_day" + std::to_string(day),
                      .category = mail::Category::kLifecycle,
                      .to = *t->contact_email,
                      .tenant_id = t->id,
                      .vars = {{"tenant_name", t->name}, {"trial_ends_at", Day(*t->trial_ends_at)}},
                      .dedupe_key = "trial.day" + std::to_string(day) + ":" + t->id});
  });
}

void Engine::TrialExpire(jobs::JobContext& ctx) {
  const std::string id = Field(Payload(ctx.job()), "tenant_id");
  ctx.Complete([&](Session& s) {
    auto t = tenants::store::SelectTenantForUpdate(s, id);
    if (!t || t->status != Status::kTrial || !t->trial_ends_at) return;  // activated meanwhile
    if (clock_.Now() < *t->trial_ends_at) {
      jobs::FailAttempt("trial of " + t->slug + " ends later; retried");
    }
    auto frozen = tenants_.ApplyIn(s, kSystem, id, tenants::lifecycle::Action::kExpireTrial, {});
    if (!frozen) jobs::FailAttempt(frozen.error());
    if (!frozen->contact_email) return;
    mailer_.Queue(s, {.template_name = "trial_day14",
                      .category = mail::Category::kLifecycle,
                      .to = *frozen->contact_email,
                      .tenant_id = id,
                      .vars = {{"tenant_name", frozen->name},
                               {"archive_after", Day(AddSeconds(frozen->status_changed_at,
                                                                tenants::kFrozenDays * 86400LL))}},
                      .dedupe_key = "trial.day14:" + id});
  });
}

std::string Engine::BuildFinalExport(const Tenant& t) {
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("tenant.json", boost::json::serialize(tenants::TenantJson(t)));
  std::vector<tenants::Subscription> subs;
  db_.Read([&](Session& s) { subs = tenants::store::SelectSubscriptions(s, t.id); });
  boost::json::array sub_list;
  for (const auto& sub : subs) {
    sub_list.push_back({{"product_id", sub.product_id},
                        {"plan", sub.plan},
                        {"subscribed_at", FormatRfc3339(sub.subscribed_at)}});
  }
  files.emplace_back("subscriptions.json", boost::json::serialize(sub_list));
  std::vector<storage::Row> rows;
  db_.Read([&](Session& s) { rows = s.Fetch(kSelectOffboardingProducts, {t.id}); });
  for (const auto& r : rows) {
    std::string body;
    if (!r.IsNull(2) && !Base64Decode(r.Text(2), body)) {
      throw std::runtime_error("stored export of " + r.Text(0) + " is not base64");
    }
    const std::string type = r.Optional(1).value_or("");
    const bool json = type.find("json") != std::string::npos;
    files.emplace_back("products/" + r.Text(0) + (json ? ".json" : ".bin"), std::move(body));
  }
  std::string csv = audit::CsvHeader();
  audit::Filter filter;
  filter.tenant_id = t.id;
  filter.received_by = clock_.Now();
  audit::PageWriter pages(db_, filter, audit::AppendCsv);
  for (auto page = pages.Next(); !page.empty(); page = pages.Next()) csv += page;
  files.emplace_back("audit.csv", std::move(csv));
  return BuildZip(files);
}

void Engine::Offboard(jobs::JobContext& ctx) {
  const auto p = Payload(ctx.job());
  const std::string id = Field(p, "tenant_id");
  const std::string frozen_at = Field(p, "frozen_at");
  std::optional<Tenant> tenant;
  db_.Read([&](Session& s) { tenant = tenants::store::SelectTenant(s, id); });
  // Reactivated (or frozen again later, with a job of its own): this offboarding is void.
  if (!tenant || tenant->status != Status::kFrozen ||
      std::to_string(tenant->status_changed_at.micros) != frozen_at) {
    return;
  }
  const Tenant& t = *tenant;
  ctx.Checkpoint([&](Session& s) {
    if (s.Execute(kStartOffboarding, {id, FormatStorage(clock_.Now())}) > 0) {
      audit::Record(s, clock_, kSystem,
                    {id, "tenant.offboarding_started", 'u', "tenant", id,
                     "offboarding of " + t.slug + " started after " +
                         std::to_string(tenants::kFrozenDays) + " days frozen"});
    }
  });

  // 1. Each subscribed product's export, stored as it arrives.
  std::vector<tenants::Subscription> subs;
  std::map<std::string, ProductProgress> progress;
  std::optional<std::string> export_id;
  const auto load = [&] {
    db_.Read([&](Session& s) {
      subs = tenants::store::SelectSubscriptions(s, id);
      progress.clear();
      for (const auto& r : s.Fetch(kSelectOffboardingProducts, {id})) {
        progress[r.Text(0)] = {.exported = !r.IsNull(3), .deleted = !r.IsNull(4)};
      }
      auto o = s.FetchOne(kSelectOffboarding, {id});
      export_id = o ? o->Optional(1) : std::nullopt;
    });
  };
  load();
  for (const auto& sub : subs) {
    if (progress[sub.product_id].exported) continue;
    const catalog::Manifest* product = catalog_.Find(sub.product_id);
    if (product == nullptr) {
      jobs::FailAttempt("product " + sub.product_id + " is not in the catalog");
    }
    if (!products_.Reachable(*product)) {  // never called from here: it holds nothing of ours
      ctx.Checkpoint([&](Session& s) {
        s.Execute(kStoreProductExport,
                  {id, sub.product_id, "application/json",
                   Base64Encode(R"({"not_called":"this product is not on this machine"})"),
                   FormatStorage(clock_.Now())});
        audit::Record(s, clock_, kSystem,
                      {id, "tenant.product_not_called", 'r', "product", sub.product_id,
                       sub.product_id + " is not on this machine (product_hosts: loopback): " +
                           "no export asked for, no data to delete"});
      });
      continue;
    }
    auto data = products_.Export(*product, id);
    if (!data) jobs::FailAttempt(data.error());
    ctx.Checkpoint([&](Session& s) {
      s.Execute(kStoreProductExport, {id, sub.product_id, data->content_type,
                                      Base64Encode(data->body), FormatStorage(clock_.Now())});
      audit::Record(s, clock_, kSystem,
                    {id, "tenant.product_exported", 'r', "product", sub.product_id,
                     "exported the data of " + t.slug + " from " + sub.product_id});
    });
  }

  // 2. One final ZIP, stored, and its link mailed, all in one step.
  if (!export_id) {
    const std::string zip = BuildFinalExport(t);
    const Timestamp now = clock_.Now();
    const std::string new_id = NewUuidV7(now);
    const std::string sha = Sha256Hex(zip);
    const Timestamp expires = AddSeconds(now, settings_.export_ttl_days * 86400LL);
    ctx.Checkpoint([&](Session& s) {
      const std::string filename = "breakpilot-export-" + t.slug + "-" + Day(now) + ".zip";
      s.Execute(kInsertExport, {new_id, id, filename, std::to_string(zip.size()), sha,
                                Base64Encode(zip), FormatStorage(now), FormatStorage(expires)});
      s.Execute(kSetOffboarding, {id, "exported", new_id, FormatStorage(now)});
      s.Execute(kDropProductExports, {id});
      audit::Record(
          s, clock_, kSystem,
          {id, "tenant.export_stored", 'c', "export", new_id,
           "final export of " + t.slug + " stored (" + std::to_string(zip.size()) + " bytes)",
           boost::json::serialize(
               boost::json::object{{"sha256", sha}, {"expires_at", FormatRfc3339(expires)}})});
      if (t.contact_email) {
        const std::string key = download_secret_.Get(s, now);
        const std::string token =
            SignToken(key, kDownloadPurpose, new_id + "|" + std::to_string(expires.micros));
        mailer_.Queue(
            s,
            {.template_name = "export_ready",
             .category = mail::Category::kTransactional,
             .to = *t.contact_email,
             .tenant_id = id,
             .vars = {{"tenant_name", t.name},
                      {"download_url", DownloadBase() + "/exports/" + new_id + "?token=" + token},
                      {"size", std::to_string(zip.size())},
                      {"sha256", sha},
                      {"expires_at", FormatRfc3339(expires)}},
             .dedupe_key = "export_ready:" + new_id,
             .secret_vars = {"download_url"}});
      }
    });
    load();
  }
  if (!export_id) throw std::runtime_error("the final export of " + t.slug + " is not stored");

  // 3. Only now, with the export stored: each product deletes the tenant's data.
  for (const auto& sub : subs) {
    if (progress[sub.product_id].deleted) continue;
    const catalog::Manifest* product = catalog_.Find(sub.product_id);
    if (product == nullptr) {
      jobs::FailAttempt("product " + sub.product_id + " is not in the catalog");
    }
    if (!products_.Reachable(*product)) {
      ctx.Checkpoint([&](Session& s) {
        s.Execute(kMarkProductDeleted, {id, sub.product_id, FormatStorage(clock_.Now())});
      });
      continue;
    }
    if (auto r = products_.DeleteData(*product, id); !r) {
      jobs::FailAttempt(r.error());
    }
    ctx.Checkpoint([&](Session& s) {
      s.Execute(kMarkProductDeleted, {id, sub.product_id, FormatStorage(clock_.Now())});
      audit::Record(s, clock_, kSystem,
                    {id, "tenant.product_data_deleted", 'd', "product", sub.product_id,
                     "deleted the data of " + t.slug + " in " + sub.product_id});
    });
  }

  // 4. Archived, once nothing is left anywhere.
  ctx.Complete([&](Session& s) {
    auto archived = tenants_.ApplyIn(s, kSystem, id, tenants::lifecycle::Action::kArchive, {});
    if (!archived) jobs::FailAttempt(archived.error());
    s.Execute(kSetOffboarding, {id, "archived", std::nullopt, FormatStorage(clock_.Now())});
  });
  kLog.Info("tenant offboarded", {{"tenant_id", id}, {"slug", t.slug}});
}

void Engine::ScheduleDemoReset(Session& s, Timestamp after) {
  const auto at = NextLocalTime(after, settings_.demo_reset_zone, settings_.demo_reset_hour,
                                settings_.demo_reset_minute);
  if (!at) throw std::runtime_error("unknown time zone " + settings_.demo_reset_zone);
  jobs::Enqueue(s, clock_,
                {.kind = std::string(kDemoResetJob),
                 .dedupe_key = "demo.reset:" + FormatRfc3339(*at),
                 .payload = boost::json::serialize(boost::json::object{
                     {"scheduled_for", FormatRfc3339(*at)}, {"recurring", true}}),
                 .run_at = *at,
                 .max_attempts = 5});
}

void Engine::EnsureSchedules() {
  db_.Write([&](Session& s) {
    ScheduleDemoReset(s, clock_.Now());
    // A new demo tenant is seeded at once: its products load their fixtures (M13.1).
    if (auto demo = tenants::store::SelectTenantBySlug(s, "demo")) {
      jobs::Enqueue(s, clock_,
                    {.kind = std::string(kDemoResetJob),
                     .dedupe_key = "demo.reset:seed:" + demo->id,
                     .payload = boost::json::serialize(boost::json::object{
                         {"scheduled_for", FormatRfc3339(clock_.Now())}, {"recurring", false}}),
                     .run_at = clock_.Now(),
                     .max_attempts = 5});
    }
  });
}

std::string QueueDemoReset(storage::Database& db, const Clock& clock, const audit::Actor& actor) {
  const Timestamp now = clock.Now();
  std::string key = "demo.reset:manual:" + NewUuidV7(now);
  db.Write([&](Session& s) {
    jobs::Enqueue(s, clock,
                  {.kind = std::string(kDemoResetJob),
                   .dedupe_key = key,
                   .payload = boost::json::serialize(boost::json::object{
                       {"scheduled_for", FormatRfc3339(now)}, {"recurring", false}}),
                   .run_at = now,
                   .max_attempts = 5});
    audit::Record(s, clock, actor,
                  {std::nullopt, "demo.reset_requested", 'c', "demo", "demo",
                   "demo reset requested by hand"});
  });
  return key;
}

void Engine::DemoReset(jobs::JobContext& ctx) {
  const auto p = Payload(ctx.job());
  // The next night is scheduled first, so a failing reset never stops the schedule.
  if (const auto* r = p.if_contains("recurring"); r != nullptr && r->is_bool() && r->as_bool()) {
    ctx.Checkpoint([&](Session& s) { ScheduleDemoReset(s, clock_.Now()); });
  }
  std::optional<Tenant> demo;
  db_.Read([&](Session& s) { demo = tenants::store::SelectTenantBySlug(s, "demo"); });
  std::vector<std::string> failed;
  std::string first_error;
  std::size_t reset = 0;
  for (const auto& product : catalog_.products()) {
    if (!products_.Reachable(product)) continue;  // not on this machine: said once at start
    ++reset;
    const std::string fixture =
        ReadFile(settings_.catalog_dir + "/" + product.id + "/demo/seed.json");
    if (auto r = products_.DemoReset(product, fixture); !r) {
      failed.push_back(product.id);
      if (first_error.empty()) first_error = r.error().detail;
    }
  }
  const std::optional<std::string> tenant_id =
      demo ? std::optional<std::string>(demo->id) : std::nullopt;
  if (!failed.empty()) {
    demo_reset_failures_.fetch_add(1, std::memory_order_relaxed);
    std::string names;
    for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
    ctx.Checkpoint([&](Session& s) {
      audit::Record(s, clock_, kSystem,
                    {tenant_id, "demo.reset_failed", 'u', "demo", "demo",
                     "demo reset failed on " + names + " (attempt " +
                         std::to_string(ctx.job().attempts) + "): " + first_error,
                     "{}", true});
    });
    jobs::FailAttempt("demo reset failed on " + names + ": " + first_error);
  }
  demo_resets_.fetch_add(1, std::memory_order_relaxed);
  ctx.Complete([&](Session& s) {
    audit::Record(s, clock_, kSystem,
                  {tenant_id, "demo.reset", 'u', "demo", "demo",
                   "demo tenant reset on " + std::to_string(reset) + " products (scheduled for " +
                       Field(p, "scheduled_for") + ")"});
  });
}

Result<Timestamp> Engine::CheckDownloadLink(const std::string& export_id,
                                            const std::string& token) {
  const std::string& key = download_secret_.Get(db_, clock_.Now());
  std::string payload;
  const auto bar = [&] { return payload.find('|'); };
  if (!VerifySignedToken(key, kDownloadPurpose, token, payload) || bar() == std::string::npos ||
      payload.substr(0, bar()) != export_id) {
    return NotFound("export-not-found", "no export at this link");
  }
  std::int64_t expires = 0;
  try {
    expires = std::stoll(payload.substr(bar() + 1));
  } catch (const std::exception&) {
    return NotFound("export-not-found", "no export at this link");
  }
  if (clock_.Now().micros >= expires) {
    return Error{ErrorKind::kGone, "export-link-expired", "Download link expired",
                 "this download link expired on " + FormatRfc3339(Timestamp{expires})};
  }
  return Timestamp{expires};
}

Result<ExportFile> Engine::Download(const std::string& export_id, const std::string& token) {
  if (auto link = CheckDownloadLink(export_id, token); !link) return link.error();
  std::optional<storage::Row> row;
  db_.Read([&](Session& s) { row = s.FetchOne(kSelectExport, {export_id}); });
  if (!row) return NotFound("export-not-found", "no export at this link");
  ExportFile f{.id = export_id, .filename = row->Text(1), .sha256 = row->Text(2)};
  if (!Base64Decode(row->Text(3), f.content)) {
    throw std::runtime_error("stored export " + export_id + " is not base64");
  }
  return f;
}

Result<ExportInfo> Engine::DescribeExport(const std::string& export_id, const std::string& token) {
  auto link = CheckDownloadLink(export_id, token);
  if (!link) return link.error();
  std::optional<storage::Row> row;
  db_.Read([&](Session& s) { row = s.FetchOne(kDescribeExport, {export_id}); });
  if (!row) return NotFound("export-not-found", "no export at this link");
  return ExportInfo{.id = export_id,
                    .tenant_name = row->Text(0),
                    .filename = row->Text(1),
                    .sha256 = row->Text(2),
                    .size_bytes = row->Int(3),
                    .expires_at = *link};
}

int Engine::PruneExpiredExports() {
  int pruned = 0;
  db_.Write([&](Session& s) {
    for (const auto& r : s.Fetch(kExpiredExports, {FormatStorage(clock_.Now())})) {
      if (s.Execute(kDeleteExport, {r.Text(0)}) == 0) continue;  // another replica was first
      audit::Record(s, clock_, kSystem,
                    {r.Text(1), "export.expired", 'd', "export", r.Text(0),
                     "final export " + r.Text(2) + " deleted: its download link expired"});
      ++pruned;
    }
  });
  return pruned;
}

void Engine::WriteMetrics(std::string& out) const {
  out += "# HELP breakpilot_demo_resets_total Nightly or manual demo resets, by outcome.\n";
  out += "# TYPE breakpilot_demo_resets_total counter\n";
  out +=
      "breakpilot_demo_resets_total{outcome=\"ok\"} " + std::to_string(demo_resets_.load()) + "\n";
  out += "breakpilot_demo_resets_total{outcome=\"failed\"} " +
         std::to_string(demo_reset_failures_.load()) + "\n";
}

}  // namespace breakpilot::lifecycle
