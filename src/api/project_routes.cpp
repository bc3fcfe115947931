// /tenants/{id}/projects CRUD, /tenants/{id}/products subscriptions, and GET /catalog.
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/json_body.hpp"
#include "api/representation.hpp"

namespace breakpilot::api {
namespace {

http::Response ProjectResponse(int status, const tenants::Project& p) {
  auto r = http::Response::Json(status, boost::json::serialize(ToJson(p)));
  r.headers.Set("ETag", ETagFor(p.version));
  return r;
}

Result<tenants::ProjectInput> ReadProject(const http::Request& req, bool patch) {
  auto body = ParseJsonObject(req, false, patch);
  if (!body) return std::move(body).error();
  BodyReader r(*body);
  tenants::ProjectInput in;
  in.name = r.String("name", patch ? Required::kNo : Required::kYes);
  in.description = r.String("description", Required::kNo);
  if (auto ok = r.Finish({"name", "description"}); !ok) return std::move(ok).error();
  return in;
}

}  // namespace

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> Api::ProjectCreate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto in = ReadProject(req, false);
  if (!in) return in.error();
  auto p = projects_.Create(caller.actor, *id, *in);
  if (!p) return p.error();
  auto r = ProjectResponse(201, *p);
  r.headers.Set("Location", "/tenants/" + *id + "/projects/" + p->id);
  return r;
}

Result<http::Response> Api::ProjectList(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  if (auto ok = OnlyKnownQuery(req, {"cursor", "limit"}); !ok) return ok.error();
  auto cursor = StringQuery(req, "cursor");
  if (!cursor) return cursor.error();
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  auto page = projects_.List(*id, *cursor, *limit);
  if (!page) return page.error();
  return http::Response::Json(200, boost::json::serialize(PageToJson(*page)));
}

Result<http::Response> Api::ProjectGet(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto pid = UuidParam(req, "project_id");
  if (!pid) return pid.error();
  auto p = projects_.Get(*id, *pid);
  if (!p) return p.error();
  return ProjectResponse(200, *p);
}

Result<http::Response> Api::ProjectUpdate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto pid = UuidParam(req, "project_id");
  if (!pid) return pid.error();
  auto version = IfMatchVersion(req);
  if (!version) return version.error();
  auto in = ReadProject(req, true);
  if (!in) return in.error();
  auto p = projects_.Update(caller.actor, *id, *pid, *in, *version);
  if (!p) return p.error();
  return ProjectResponse(200, *p);
}

Result<http::Response> Api::ProjectDelete(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto pid = UuidParam(req, "project_id");
  if (!pid) return pid.error();
  auto done = projects_.Delete(caller.actor, *id, *pid);
  if (!done) return done.error();
  return http::Response::Empty(204);
}

Result<http::Response> Api::CatalogList(http::Request&, const Caller&) {
  boost::json::array items;
  for (const auto& m : catalog_.products()) items.push_back(ToJson(m));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> Api::SubscriptionCreate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  auto product = r.String("product_id", Required::kYes);
  auto plan = r.String("plan", Required::kNo);
  if (auto ok = r.Finish({"product_id", "plan"}); !ok) return ok.error();
  // Another plan than the tenant's own is a purchase: staff (tenant.plan) or billing.
  const auto choice = !CheckTenant(caller, identity::Action::kTenantPlan, *id)
                          ? tenants::PlanChoice::kTenantsOwn
                          : tenants::PlanChoice::kAny;
  auto sub = subscriptions_.Subscribe(caller.actor, *id, *product, plan, choice);
  if (!sub) return sub.error();
  auto res =
      http::Response::Json(sub->second ? 201 : 200, boost::json::serialize(ToJson(sub->first)));
  res.headers.Set("Location", "/tenants/" + *id + "/products/" + *product);
  return res;
}

Result<http::Response> Api::SubscriptionList(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto subs = subscriptions_.List(*id);
  if (!subs) return subs.error();
  boost::json::array items;
  for (const auto& s : *subs) items.push_back(ToJson(s));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> Api::SubscriptionDelete(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto done = subscriptions_.Unsubscribe(caller.actor, *id,
                                         std::string(req.Param("product_id").value_or("")));
  if (!done) return done.error();
  return http::Response::Empty(204);
}

void Api::AddProjectRoutes() {
  Add({.method = "POST",
       .pattern = "/tenants/{id}/projects",
       .name = "project_create",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .body = {kJson},
       .handler = Handler(&Api::ProjectCreate)});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/projects",
       .name = "project_list",
       .action = identity::Action::kProjectRead,
       .tenant = TenantFrom::kPathId,
       .handler = Handler(&Api::ProjectList)});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_get",
       .action = identity::Action::kProjectRead,
       .tenant = TenantFrom::kPathId,
       .handler = Handler(&Api::ProjectGet)});
  Add({.method = "PATCH",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_update",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .body = {kJson, kMergePatch},
       .handler = Handler(&Api::ProjectUpdate)});
  Add({.method = "DELETE",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_delete",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .handler = Handler(&Api::ProjectDelete)});
}

void Api::AddProductRoutes() {
  Add({.method = "GET",
       .pattern = "/catalog",
       .name = "catalog_list",
       .action = identity::Action::kCatalogRead,
       .handler = Handler(&Api::CatalogList)});
  Add({.method = "POST",
       .pattern = "/tenants/{id}/products",
       .name = "subscription_create",
       .action = identity::Action::kSubscriptionWrite,
       .tenant = TenantFrom::kPathId,
       .body = {kJson},
       .handler = Handler(&Api::SubscriptionCreate)});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/products",
       .name = "subscription_list",
       .action = identity::Action::kSubscriptionRead,
       .tenant = TenantFrom::kPathId,
       .handler = Handler(&Api::SubscriptionList)});
  Add({.method = "DELETE",
       .pattern = "/tenants/{id}/products/{product_id}",
       .name = "subscription_delete",
       .action = identity::Action::kSubscriptionWrite,
       .tenant = TenantFrom::kPathId,
       .handler = Handler(&Api::SubscriptionDelete)});
}

}  // namespace breakpilot::api
