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
  if (auto e = r.Finish({"name", "description"})) return *std::move(e);
  return in;
}

}  // namespace

void Api::AddProjectRoutes() {
  Add({.method = "POST",
       .pattern = "/tenants/{id}/projects",
       .name = "project_create",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller& caller) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto in = ReadProject(req, false);
         if (!in) return ProblemFor(in.error(), req);
         auto p = projects_.Create(caller.actor, *id, *in);
         if (!p) return ProblemFor(p.error(), req);
         auto r = ProjectResponse(201, *p);
         r.headers.Set("Location", "/tenants/" + *id + "/projects/" + p->id);
         return r;
       }});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/projects",
       .name = "project_list",
       .action = identity::Action::kProjectRead,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller&) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         if (auto e = OnlyKnownQuery(req, {"cursor", "limit"})) return ProblemFor(*e, req);
         auto cursor = StringQuery(req, "cursor");
         if (!cursor) return ProblemFor(cursor.error(), req);
         auto limit = IntQuery(req, "limit");
         if (!limit) return ProblemFor(limit.error(), req);
         auto page = projects_.List(*id, *cursor, *limit);
         if (!page) return ProblemFor(page.error(), req);
         return http::Response::Json(200, boost::json::serialize(PageToJson(*page)));
       }});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_get",
       .action = identity::Action::kProjectRead,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller&) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto pid = UuidParam(req, "project_id");
         if (!pid) return ProblemFor(pid.error(), req);
         auto p = projects_.Get(*id, *pid);
         if (!p) return ProblemFor(p.error(), req);
         return ProjectResponse(200, *p);
       }});
  Add({.method = "PATCH",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_update",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller& caller) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto pid = UuidParam(req, "project_id");
         if (!pid) return ProblemFor(pid.error(), req);
         auto version = IfMatchVersion(req);
         if (!version) return ProblemFor(version.error(), req);
         auto in = ReadProject(req, true);
         if (!in) return ProblemFor(in.error(), req);
         auto p = projects_.Update(caller.actor, *id, *pid, *in, *version);
         if (!p) return ProblemFor(p.error(), req);
         return ProjectResponse(200, *p);
       }});
  Add({.method = "DELETE",
       .pattern = "/tenants/{id}/projects/{project_id}",
       .name = "project_delete",
       .action = identity::Action::kProjectWrite,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller& caller) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto pid = UuidParam(req, "project_id");
         if (!pid) return ProblemFor(pid.error(), req);
         auto done = projects_.Delete(caller.actor, *id, *pid);
         if (!done) return ProblemFor(done.error(), req);
         return http::Response::Empty(204);
       }});
}

void Api::AddProductRoutes() {
  Add({.method = "GET",
       .pattern = "/catalog",
       .name = "catalog_list",
       .action = identity::Action::kCatalogRead,
       .handler = [this](http::Request&, const Caller&) {
         boost::json::array items;
         for (const auto& m : catalog_.products()) items.push_back(ToJson(m));
         return http::Response::Json(
             200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
       }});
  Add({.method = "POST",
       .pattern = "/tenants/{id}/products",
       .name = "subscription_create",
       .action = identity::Action::kSubscriptionWrite,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller& caller) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto body = ParseJsonObject(req);
         if (!body) return ProblemFor(body.error(), req);
         BodyReader r(*body);
         auto product = r.String("product_id", Required::kYes);
         auto plan = r.String("plan", Required::kNo);
         if (auto e = r.Finish({"product_id", "plan"})) return ProblemFor(*e, req);
         // Another plan than the tenant's own is a purchase: staff (tenant.plan) or billing.
         const auto choice = CheckTenant(caller, identity::Action::kTenantPlan, *id)
                                 ? tenants::PlanChoice::kTenantsOwn
                                 : tenants::PlanChoice::kAny;
         auto sub = subscriptions_.Subscribe(caller.actor, *id, *product, plan, choice);
         if (!sub) return ProblemFor(sub.error(), req);
         auto res = http::Response::Json(sub->second ? 201 : 200,
                                         boost::json::serialize(ToJson(sub->first)));
         res.headers.Set("Location", "/tenants/" + *id + "/products/" + *product);
         return res;
       }});
  Add({.method = "GET",
       .pattern = "/tenants/{id}/products",
       .name = "subscription_list",
       .action = identity::Action::kSubscriptionRead,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller&) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto subs = subscriptions_.List(*id);
         if (!subs) return ProblemFor(subs.error(), req);
         boost::json::array items;
         for (const auto& s : *subs) items.push_back(ToJson(s));
         return http::Response::Json(
             200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
       }});
  Add({.method = "DELETE",
       .pattern = "/tenants/{id}/products/{product_id}",
       .name = "subscription_delete",
       .action = identity::Action::kSubscriptionWrite,
       .tenant = TenantFrom::kPathId,
       .handler = [this](http::Request& req, const Caller& caller) {
         auto id = UuidParam(req, "id");
         if (!id) return ProblemFor(id.error(), req);
         auto done = subscriptions_.Unsubscribe(caller.actor, *id,
                                                std::string(req.Param("product_id").value_or("")));
         if (!done) return ProblemFor(done.error(), req);
         return http::Response::Empty(204);
       }});
}

}  // namespace breakpilot::api
