#include "portal/backstage_pages.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "api/form.hpp"
#include "core/uuid.hpp"
#include "jobs/queue.hpp"
#include "lifecycle/engine.hpp"
#include "portal/organisation_pages.hpp"

namespace breakpilot::portal {
namespace {

constexpr int kMaxJobsListed = 100;  // the newest; the filters find the rest
constexpr std::size_t kMaxJobKindLength = 100;

// The tenant a backstage page names; a sales rep reaches only the demo tenant (Authorize).
Result<tenants::Tenant> Named(tenants::TenantService& tenants, const http::Request& req,
                              const Visit& v, identity::Action action) {
  auto t = tenants.GetBySlug(std::string(req.Param("slug").value_or("")));
  if (!t) return t.error();
  if (auto ok = identity::Authorize(v.principal, action, RefOf(*t)); !ok) return ok.error();
  return t;
}

}  // namespace

Result<http::Response> BackstagePages::Tenants(http::Request& req, const Visit& v) {
  // The same search as GET /tenants: free text, a status, a cursor for the next page.
  tenants::ListTenantsInput in{.limit = tenants::kDefaultPageSize};
  const auto query = [&](std::string_view name) -> std::optional<std::string> {
    auto value = req.QueryValue(name);
    if (!value || value->empty()) return std::nullopt;
    return std::string(*value);
  };
  in.q = query("q");
  in.status = query("status");
  in.cursor = query("cursor");
  if (identity::DemoOnly(v.principal)) in.kind = "demo";
  boost::json::object data{{"q", in.q.value_or("")}};
  boost::json::array statuses;
  for (const auto s : {tenants::Status::kTrial, tenants::Status::kActive, tenants::Status::kFrozen,
                       tenants::Status::kArchived, tenants::Status::kDemo}) {
    const std::string value(tenants::ToString(s));
    statuses.push_back(
        {{"value", value}, {"label", StatusText(v.lang, s)}, {"selected", in.status == value}});
  }
  data["statuses"] = std::move(statuses);
  auto page = services_.tenants.List(in);
  if (!page) {
    // A made-up status or cursor: the form again with the message.
    data["error"] = DomainMessage(v.lang, page.error());
    data["tenants"] = boost::json::array{};
    return PageResponse(v, "backstage", "tenants", std::move(data), FormStatus(page.error()));
  }
  if (page->next_cursor) data["next_cursor"] = *page->next_cursor;
  boost::json::array rows;
  for (const auto& t : page->items) {
    if (!identity::Authorize(v.principal, identity::Action::kTenantRead, RefOf(t))) continue;
    rows.push_back(boost::json::object{{"name", t.name},
                                       {"slug", t.slug},
                                       {"status", StatusText(v.lang, t.status)},
                                       {"plan", tenants::ToString(t.plan)}});
  }
  data["has_tenants"] = !rows.empty();
  data["tenants"] = std::move(rows);
  data["status"] = in.status.value_or("");
  return PageResponse(v, "backstage", "tenants", std::move(data));
}

Result<http::Response> BackstagePages::TenantPage(const Visit& v, const tenants::Tenant& t,
                                                  const boost::json::object& extra, int status) {
  boost::json::object data = LifecycleFacts(v.lang, t);
  // On the backstage the visit has no tenant: the permission is checked on the one shown.
  data["can_reactivate"] =
      identity::Authorize(v.principal, identity::Action::kTenantActivate, RefOf(t)).ok() &&
      t.status == tenants::Status::kFrozen;
  data["csrf"] = v.session->csrf_token;
  if (t.sales_owner) data["sales_owner"] = *t.sales_owner;
  // Who sells to it is staff's to say (tenant.plan, as PATCH /tenants/{id} sales_owner).
  if (identity::Authorize(v.principal, identity::Action::kTenantPlan, RefOf(t))) {
    boost::json::array reps{
        {{"value", ""}, {"label", String(v.lang, "no_sales_owner")}, {"selected", !t.sales_owner}}};
    for (const auto& name : services_.directory.UsernamesWithRole(identity::Role::kSalesRep)) {
      reps.push_back({{"value", name}, {"label", name}, {"selected", t.sales_owner == name}});
    }
    data["sales_reps"] = std::move(reps);
    data["can_set_owner"] = true;
  }
  auto subs = services_.subscriptions.List(t.id);
  if (!subs) return subs.error();
  boost::json::array products;
  for (const auto& s : *subs) products.emplace_back(s.product_id + " (" + s.plan + ")");
  data["products"] = std::move(products);
  // Where its data lives in the products, and how far a move has come (GET /tenants/{id}/
  // isolation); staff may start one (tenant.isolate) while it is shared.
  auto iso = services_.isolation.Get(t.id);
  if (!iso) return iso.error();
  data["isolation_state"] = String(v.lang, "isolation_" + iso->state);
  boost::json::array moves;
  for (const auto& p : iso->products) {
    moves.push_back({{"product", p.product_id},
                     {"phase", String(v.lang, "phase_" + p.phase)},
                     {"copied", p.copied},
                     {"total", p.total},
                     {"error", p.error}});
  }
  data["has_isolation_products"] = !moves.empty();
  data["isolation_products"] = std::move(moves);
  data["can_isolate"] =
      identity::Authorize(v.principal, identity::Action::kTenantIsolate, RefOf(t)).ok() &&
      iso->isolation == "shared" && t.status != tenants::Status::kArchived;
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "backstage_tenant", "tenants", std::move(data), status);
}

Result<http::Response> BackstagePages::Tenant(http::Request& req, const Visit& v) {
  auto t = Named(services_.tenants, req, v, identity::Action::kTenantRead);
  if (!t) return t.error();
  auto notice = NoticeIf(req, v, "reactivated", "reactivated_notice");
  if (notice.empty()) notice = NoticeIf(req, v, "owner", "sales_owner_saved");
  if (notice.empty()) notice = NoticeIf(req, v, "isolation", "isolation_requested");
  return TenantPage(v, *t, notice, 200);
}

Result<http::Response> BackstagePages::Reactivate(http::Request& req, const Visit& v) {
  auto t = Named(services_.tenants, req, v, identity::Action::kTenantActivate);
  if (!t) return t.error();
  auto done = services_.tenants.Apply(v.actor, t->id, tenants::lifecycle::Action::kReactivate, {});
  if (!done) return TenantPage(v, *t, {{"error", DomainMessage(v.lang, done.error())}}, 409);
  return SeeOther("/tenants/" + t->slug + "?reactivated=1");
}

Result<http::Response> BackstagePages::SalesOwner(http::Request& req, const Visit& v) {
  auto t = Named(services_.tenants, req, v, identity::Action::kTenantPlan);
  if (!t) return t.error();
  auto form = api::ParseForm(req);
  if (!form) return form.error();
  const std::string owner = FormField(*form, "sales_owner");
  // Only a sales rep (or nobody) owns a tenant; the choice comes from the list on the page.
  const auto reps = services_.directory.UsernamesWithRole(identity::Role::kSalesRep);
  if (!owner.empty() && std::find(reps.begin(), reps.end(), owner) == reps.end()) {
    return TenantPage(v, *t, {{"error", String(v.lang, "sales_owner_invalid")}}, 422);
  }
  auto done = services_.tenants.Update(v.actor, t->id, {.sales_owner = owner}, t->version);
  if (!done) {
    return TenantPage(v, *t, {{"error", DomainMessage(v.lang, done.error())}},
                      FormStatus(done.error()));
  }
  return SeeOther("/tenants/" + t->slug + "?owner=1");
}

Result<http::Response> BackstagePages::Isolate(http::Request& req, const Visit& v) {
  auto t = Named(services_.tenants, req, v, identity::Action::kTenantIsolate);
  if (!t) return t.error();
  auto form = api::ParseForm(req);
  if (!form) return form.error();
  auto done = services_.isolation.Request(v.actor, t->id, FormField(*form, "isolation"));
  if (!done) {
    return TenantPage(v, *t, {{"error", DomainMessage(v.lang, done.error())}},
                      FormStatus(done.error()));
  }
  return SeeOther("/tenants/" + t->slug + "?isolation=1");
}

Result<http::Response> BackstagePages::Demo(http::Request& req, const Visit& v) {
  boost::json::object data = NoticeIf(req, v, "reset", "demo_reset_queued");
  if (auto demo = services_.tenants.GetBySlug("demo")) {
    data["demo"] = boost::json::object{{"name", demo->name},
                                       {"status", StatusText(v.lang, demo->status)},
                                       {"url", SiteOrigin(v, "demo") + "/dashboard"},
                                       {"csrf", v.session->csrf_token}};
  }
  return PageResponse(v, "backstage_demo", "demo", std::move(data));
}

Result<http::Response> BackstagePages::DemoReset(http::Request&, const Visit& v) {
  // The same job as POST /demo/reset and the nightly run: every product resets its demo data.
  lifecycle::QueueDemoReset(services_.db, services_.clock, v.actor);
  return SeeOther("/demo?reset=1");
}

Result<http::Response> BackstagePages::Jobs(http::Request& req, const Visit& v) {
  // The dead letter first: what needs a person. `state` names another list; `kind` narrows it.
  boost::json::object data = NoticeIf(req, v, "retried", "job_retried");
  const std::string state(req.QueryValue("state").value_or("dead"));
  const std::string kind(req.QueryValue("kind").value_or(""));
  jobs::JobFilter filter{.state = jobs::ParseState(state), .limit = kMaxJobsListed};
  if (!kind.empty()) filter.kind = kind;
  const auto counts = services_.queue.Counts();
  boost::json::array states;
  for (const auto& [name, n] : {std::pair{"dead", counts.dead},
                                {"pending", counts.pending},
                                {"running", counts.running},
                                {"done", counts.done}}) {
    states.push_back({{"value", name}, {"count", n}, {"selected", state == name}});
  }
  data["states"] = std::move(states);
  data["kind"] = kind;
  data["due"] = counts.due;
  if (!filter.state || kind.size() > kMaxJobKindLength) {
    data["error"] = String(v.lang, "job_filter_invalid");
    return PageResponse(v, "backstage_jobs", "jobs", std::move(data), 400);
  }
  boost::json::array rows;
  for (const auto& j : services_.queue.List(filter)) {
    boost::json::object row{{"id", j.id},
                            {"kind", j.kind},
                            {"key", j.dedupe_key.value_or("")},
                            {"state", jobs::ToString(j.state)},
                            {"attempts", j.attempts},
                            {"max_attempts", j.max_attempts},
                            {"error", j.last_error.value_or("")},
                            {"can_retry", j.state == jobs::State::kDead},
                            {"csrf", v.session->csrf_token}};
    for (auto& [f, x] : TimeFields("run_at", j.run_at)) row[f] = x;
    rows.push_back(std::move(row));
  }
  data["has_jobs"] = !rows.empty();
  data["full"] = rows.size() == static_cast<std::size_t>(kMaxJobsListed);
  data["jobs"] = std::move(rows);
  data["state"] = state;
  return PageResponse(v, "backstage_jobs", "jobs", std::move(data));
}

Result<http::Response> BackstagePages::JobRetry(http::Request& req, const Visit& v) {
  // The same use case as POST /jobs/{id}/retry: pending now, a fresh attempt budget, audited.
  const std::string id(req.Param("id").value_or(""));
  if (!IsCanonicalUuid(id)) return NotFound("job-not-found", "no such job");
  auto job = services_.queue.Retry(v.actor, id);
  if (!job) return job.error();
  // From the integrations page, back there.
  auto form = api::ParseForm(req);
  if (form && FormField(*form, "back") == "integrations")
    return SeeOther("/integrations?retried=1");
  return SeeOther("/jobs?retried=1");
}

Result<http::Response> BackstagePages::Integrations(http::Request& req, const Visit& v) {
  boost::json::object data = NoticeIf(req, v, "retried", "job_retried");
  boost::json::array rows;
  const auto when = [](std::int64_t us) {
    return TimeFields("at", us == 0 ? std::nullopt : std::optional<Timestamp>(Timestamp{us}));
  };
  for (const auto& i : services_.integrations ? services_.integrations()
                                              : std::vector<backoffice::IntegrationStatus>{}) {
    static const std::map<std::string, std::string> kLabels = {{"polar", "Polar"},
                                                               {"erpnext", "ERPNext"},
                                                               {"helpdesk", "Frappe Helpdesk"},
                                                               {"gitea", "Gitea"}};
    const auto label = kLabels.find(i.name);
    boost::json::object row{{"name", i.name},
                            {"label", label == kLabels.end() ? i.name : label->second},
                            {"configured", i.configured},
                            {"has_error", !i.last_error.empty()},
                            {"failing", i.last_failure_us > i.last_success_us},
                            {"failures", i.failures},
                            {"queued", i.queued},
                            {"last_error", i.last_error}};
    for (auto& [k, x] : when(i.last_success_us)) row["success_" + std::string(k)] = x;
    for (auto& [k, x] : when(i.last_failure_us)) row["failure_" + std::string(k)] = x;
    // Its failed calls: jobs that failed and wait for their next attempt, and the dead ones.
    boost::json::array failed;
    if (i.configured && !i.job_kind.empty()) {
      for (const auto state : {jobs::State::kDead, jobs::State::kPending}) {
        for (const auto& j :
             services_.queue.List({.state = state, .kind = i.job_kind, .limit = 20})) {
          if (!j.last_error) continue;
          boost::json::object call{{"id", j.id},
                                   {"key", j.dedupe_key.value_or("")},
                                   {"state", jobs::ToString(j.state)},
                                   {"attempts", j.attempts},
                                   {"max_attempts", j.max_attempts},
                                   {"error", *j.last_error},
                                   {"csrf", v.session->csrf_token}};
          for (auto& [f, x] : TimeFields("run_at", j.run_at)) call[f] = x;
          failed.push_back(std::move(call));
        }
      }
    }
    row["has_failed"] = !failed.empty();
    row["failed"] = std::move(failed);
    rows.push_back(std::move(row));
  }
  data["integrations"] = std::move(rows);
  return PageResponse(v, "backstage_integrations", "integrations_nav", std::move(data));
}

std::vector<Page> BackstagePages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/",
           .name = "backstage_tenants",
           .sites = kOnBackstage,
           .action = A::kTenantList,
           .nav = "tenants",
           .handler = Bind(this, &BackstagePages::Tenants)},
          {.method = "GET",
           .pattern = "/tenants/{slug}",
           .name = "backstage_tenant",
           .sites = kOnBackstage,
           .action = A::kTenantList,
           .handler = Bind(this, &BackstagePages::Tenant)},
          {.method = "POST",
           .pattern = "/tenants/{slug}/reactivate",
           .name = "backstage_tenant_reactivate",
           .sites = kOnBackstage,
           .action = A::kTenantActivate,
           .handler = Bind(this, &BackstagePages::Reactivate)},
          {.method = "POST",
           .pattern = "/tenants/{slug}/sales-owner",
           .name = "backstage_tenant_sales_owner",
           .sites = kOnBackstage,
           .action = A::kTenantPlan,
           .handler = Bind(this, &BackstagePages::SalesOwner)},
          {.method = "POST",
           .pattern = "/tenants/{slug}/isolation",
           .name = "backstage_tenant_isolation",
           .sites = kOnBackstage,
           .action = A::kTenantIsolate,
           .handler = Bind(this, &BackstagePages::Isolate)},
          {.method = "GET",
           .pattern = "/demo",
           .name = "backstage_demo",
           .sites = kOnBackstage,
           .action = A::kDemoReset,
           .nav = "demo",
           .handler = Bind(this, &BackstagePages::Demo)},
          {.method = "POST",
           .pattern = "/demo/reset",
           .name = "backstage_demo_reset",
           .sites = kOnBackstage,
           .action = A::kDemoReset,
           .handler = Bind(this, &BackstagePages::DemoReset)},
          {.method = "GET",
           .pattern = "/jobs",
           .name = "backstage_jobs",
           .sites = kOnBackstage,
           .action = A::kJobsAdmin,
           .nav = "jobs",
           .handler = Bind(this, &BackstagePages::Jobs)},
          {.method = "GET",
           .pattern = "/integrations",
           .name = "backstage_integrations",
           .sites = kOnBackstage,
           .action = A::kJobsAdmin,
           .nav = "integrations_nav",
           .handler = Bind(this, &BackstagePages::Integrations)},
          {.method = "POST",
           .pattern = "/jobs/{id}/retry",
           .name = "backstage_job_retry",
           .sites = kOnBackstage,
           .action = A::kJobsAdmin,
           .handler = Bind(this, &BackstagePages::JobRetry)}};
}

}  // namespace breakpilot::portal
