// /tenants: create, list, read, update, and the lifecycle actions (M4.2).
#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "api/representation.hpp"
#include "api/tenant_routes.hpp"

namespace breakpilot::api {
namespace {

http::Response TenantResponse(int status, const tenants::Tenant& t) {
  auto r = http::Response::Json(status, boost::json::serialize(ToJson(t)));
  r.headers.Set("ETag", ETagFor(t.version));
  return r;
}

}  // namespace

TenantRoutes::TenantRoutes(const Services& s) : provisioner_(s.provisioner), tenants_(s.tenants) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> TenantRoutes::TenantCreate(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  tenants::CreateTenantInput in;
  in.slug = r.String("slug", Required::kYes).value_or("");
  in.name = r.String("name", Required::kYes).value_or("");
  in.kind = r.String("kind", Required::kNo);
  in.plan = r.String("plan", Required::kNo);
  in.initial_status = r.String("initial_status", Required::kNo);
  in.admin_email = r.String("admin_email", Required::kNo);
  in.contact_email = r.String("contact_email", Required::kNo);
  if (auto ok = r.Finish(
          {"slug", "name", "kind", "plan", "initial_status", "admin_email", "contact_email"});
      !ok) {
    return ok.error();
  }
  auto t = tenants_.Create(caller.actor, in);
  if (!t) return t.error();
  auto res = TenantResponse(201, *t);
  res.headers.Set("Location", "/tenants/" + t->id);
  return res;
}

Result<http::Response> TenantRoutes::TenantList(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(req, {"status", "kind", "slug", "q", "cursor", "limit"}); !ok) {
    return ok.error();
  }
  tenants::ListTenantsInput in;
  for (auto [name, slot] : {std::pair{"status", &in.status},
                            {"kind", &in.kind},
                            {"slug", &in.slug},
                            {"q", &in.q},
                            {"cursor", &in.cursor}}) {
    auto v = StringQuery(req, name);
    if (!v) return v.error();
    *slot = *v;
  }
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  in.limit = *limit;
  // SALES_REP guardrail: the demo tenant is the only one such a caller sees.
  if (identity::DemoOnly(caller.principal)) {
    if (in.kind == "customer" || in.kind == "internal") {
      return http::Response::Json(
          200, boost::json::serialize(PageToJson(tenants::Page<tenants::Tenant>{})));
    }
    if (!in.kind) in.kind = "demo";  // a bad kind stays bad: 400 as for anyone
  }
  auto page = tenants_.List(in);
  if (!page) return page.error();
  return http::Response::Json(200, boost::json::serialize(PageToJson(*page)));
}

Result<http::Response> TenantRoutes::TenantGet(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto t = tenants_.Get(*id);
  if (!t) return t.error();
  auto inm = req.headers.Get("if-none-match");
  if (inm && *inm == ETagFor(t->version)) {
    auto r = http::Response::Empty(304);
    r.headers.Set("ETag", ETagFor(t->version));
    return r;
  }
  return TenantResponse(200, *t);
}

Result<http::Response> TenantRoutes::TenantUpdate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto version = IfMatchVersion(req);
  if (!version) return version.error();
  auto body = ParseJsonObject(req, false, true);
  if (!body) return body.error();
  BodyReader r(*body);
  tenants::TenantPatch patch;
  patch.name = r.String("name", Required::kNo);
  patch.plan = r.String("plan", Required::kNo);
  patch.contact_email = r.String("contact_email", Required::kNo);
  patch.sales_owner = r.String("sales_owner", Required::kNo);
  if (auto ok = r.Finish({"name", "plan", "contact_email", "sales_owner"}); !ok) return ok.error();
  // The plan is what the tenant pays for: it needs tenant.plan, not just tenant.update; who
  // sells to the tenant is staff's to say, the same way.
  if (patch.plan || patch.sales_owner) {
    if (auto ok = CheckTenant(tenants_, caller, identity::Action::kTenantPlan, *id); !ok) {
      return ok.error();
    }
  }
  auto t = tenants_.Update(caller.actor, *id, patch, *version);
  if (!t) return t.error();
  return TenantResponse(200, *t);
}

Result<http::Response> TenantRoutes::TenantIdp(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  if (auto t = tenants_.Get(*id); !t) return t.error();
  if (!provisioner_) {
    return NotFound("idp-not-provisioned",
                    "the built-in identity needs no provisioning (no Keycloak)");
  }
  auto st = provisioner_->Status(*id);
  if (!st) return st.error();
  const auto opt = [](const std::optional<std::string>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{
               {"provider", st->provider},
               {"org_id", opt(st->org_id)},
               {"state", st->state},
               {"attempts", st->attempts},
               {"last_error", opt(st->last_error)},
               {"next_attempt_at", st->next_attempt_at
                                       ? boost::json::value(FormatRfc3339(*st->next_attempt_at))
                                       : boost::json::value(nullptr)},
               {"admin_email", opt(st->admin_email)}}));
}

Result<http::Response> TenantRoutes::TenantTransition(http::Request& req, const Caller& caller,
                                                      tenants::lifecycle::Action action,
                                                      bool needs_reason) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req, !needs_reason);
  if (!body) return body.error();
  BodyReader r(*body);
  tenants::LifecycleInput in;
  if (needs_reason) {
    in.reason = r.String("reason", Required::kYes);
    in.confirm = r.String("confirm", Required::kYes);
    if (auto ok = r.Finish({"reason", "confirm"}); !ok) return ok.error();
  } else if (auto ok = r.Finish({}); !ok) {
    return ok.error();
  }
  auto t = tenants_.Apply(caller.actor, *id, action, in);
  if (!t) return t.error();
  return TenantResponse(200, *t);
}

Result<http::Response> TenantRoutes::TenantActivate(http::Request& req, const Caller& caller) {
  return TenantTransition(req, caller, tenants::lifecycle::Action::kActivate, false);
}

Result<http::Response> TenantRoutes::TenantCancel(http::Request& req, const Caller& caller) {
  return TenantTransition(req, caller, tenants::lifecycle::Action::kCancel, true);
}

Result<http::Response> TenantRoutes::TenantReactivate(http::Request& req, const Caller& caller) {
  return TenantTransition(req, caller, tenants::lifecycle::Action::kReactivate, false);
}

std::vector<Endpoint> TenantRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/tenants",
                    .name = "tenant_create",
                    .action = identity::Action::kTenantCreate,
                    .body = {kJson},
                    .handler = Bind(this, &TenantRoutes::TenantCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants",
                    .name = "tenant_list",
                    .action = identity::Action::kTenantList,
                    .handler = Bind(this, &TenantRoutes::TenantList)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}",
                    .name = "tenant_get",
                    .action = identity::Action::kTenantRead,
                    .tenant = TenantFrom::kPathId,
                    .memory_first = true,
                    .handler = Bind(this, &TenantRoutes::TenantGet)});
  routes.push_back({.method = "PATCH",
                    .pattern = "/tenants/{id}",
                    .name = "tenant_update",
                    .action = identity::Action::kTenantUpdate,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson, kMergePatch},
                    .handler = Bind(this, &TenantRoutes::TenantUpdate)});
  // A customer may leave (cancel); becoming active again, or for the first time, is paid for:
  // staff or billing (tenant.activate). Cancel and reactivate lead out of a freeze: a frozen
  // tenant may still ask for them.
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/activate",
                    .name = "tenant_activate",
                    .action = identity::Action::kTenantActivate,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &TenantRoutes::TenantActivate)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/cancel",
                    .name = "tenant_cancel",
                    .action = identity::Action::kTenantCancel,
                    .tenant = TenantFrom::kPathId,
                    .gate = Gate::kLiftsFreeze,
                    .body = {kJson},
                    .handler = Bind(this, &TenantRoutes::TenantCancel)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/reactivate",
                    .name = "tenant_reactivate",
                    .action = identity::Action::kTenantActivate,
                    .tenant = TenantFrom::kPathId,
                    .gate = Gate::kLiftsFreeze,
                    .body = {kJson},
                    .handler = Bind(this, &TenantRoutes::TenantReactivate)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/idp",
                    .name = "tenant_idp",
                    .action = identity::Action::kTenantRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &TenantRoutes::TenantIdp)});
  return routes;
}

}  // namespace breakpilot::api
