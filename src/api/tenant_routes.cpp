// /tenants: create, list, read, update, and the lifecycle actions (M4.2).
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/json_body.hpp"
#include "api/representation.hpp"

namespace breakpilot::api {
namespace {

http::Response TenantResponse(int status, const tenants::Tenant& t) {
  auto r = http::Response::Json(status, boost::json::serialize(ToJson(t)));
  r.headers.Set("ETag", ETagFor(t.version));
  return r;
}

}  // namespace

void Api::AddTenantRoutes() {
  router_.Add({.method = "POST",
               .pattern = "/tenants",
               .name = "tenant_create",
               .handler = [this](http::Request& req) {
                 auto body = ParseJsonObject(req);
                 if (!body) return ProblemFor(body.error(), req);
                 BodyReader r(*body);
                 tenants::CreateTenantInput in;
                 in.slug = r.String("slug", Required::kYes).value_or("");
                 in.name = r.String("name", Required::kYes).value_or("");
                 in.kind = r.String("kind", Required::kNo);
                 in.plan = r.String("plan", Required::kNo);
                 in.initial_status = r.String("initial_status", Required::kNo);
                 if (auto e = r.Finish({"slug", "name", "kind", "plan", "initial_status"})) {
                   return ProblemFor(*e, req);
                 }
                 auto t = tenants_.Create(ActorOf(req), in);
                 if (!t) return ProblemFor(t.error(), req);
                 auto res = TenantResponse(201, *t);
                 res.headers.Set("Location", "/tenants/" + t->id);
                 return res;
               }});
  router_.Add({.method = "GET",
               .pattern = "/tenants",
               .name = "tenant_list",
               .handler = [this](http::Request& req) {
                 if (auto e = OnlyKnownQuery(req, {"status", "kind", "slug", "cursor", "limit"})) {
                   return ProblemFor(*e, req);
                 }
                 tenants::ListTenantsInput in;
                 for (auto [name, slot] : {std::pair{"status", &in.status},
                                           {"kind", &in.kind},
                                           {"slug", &in.slug},
                                           {"cursor", &in.cursor}}) {
                   auto v = StringQuery(req, name);
                   if (!v) return ProblemFor(v.error(), req);
                   *slot = *v;
                 }
                 auto limit = IntQuery(req, "limit");
                 if (!limit) return ProblemFor(limit.error(), req);
                 in.limit = *limit;
                 auto page = tenants_.List(in);
                 if (!page) return ProblemFor(page.error(), req);
                 return http::Response::Json(200, boost::json::serialize(PageToJson(*page)));
               }});
  router_.Add({.method = "GET",
               .pattern = "/tenants/{id}",
               .name = "tenant_get",
               .handler = [this](http::Request& req) {
                 auto id = UuidParam(req, "id");
                 if (!id) return ProblemFor(id.error(), req);
                 auto t = tenants_.Get(*id);
                 if (!t) return ProblemFor(t.error(), req);
                 auto inm = req.headers.Get("if-none-match");
                 if (inm && *inm == ETagFor(t->version)) {
                   auto r = http::Response::Empty(304);
                   r.headers.Set("ETag", ETagFor(t->version));
                   return r;
                 }
                 return TenantResponse(200, *t);
               }});
  router_.Add({.method = "PATCH",
               .pattern = "/tenants/{id}",
               .name = "tenant_update",
               .handler = [this](http::Request& req) {
                 auto id = UuidParam(req, "id");
                 if (!id) return ProblemFor(id.error(), req);
                 auto version = IfMatchVersion(req);
                 if (!version) return ProblemFor(version.error(), req);
                 auto body = ParseJsonObject(req, false, true);
                 if (!body) return ProblemFor(body.error(), req);
                 BodyReader r(*body);
                 tenants::TenantPatch patch;
                 patch.name = r.String("name", Required::kNo);
                 patch.plan = r.String("plan", Required::kNo);
                 if (auto e = r.Finish({"name", "plan"})) return ProblemFor(*e, req);
                 auto t = tenants_.Update(ActorOf(req), *id, patch, *version);
                 if (!t) return ProblemFor(t.error(), req);
                 return TenantResponse(200, *t);
               }});
  const auto action_route = [this](std::string pattern, std::string name,
                                   tenants::lifecycle::Action action, bool needs_reason) {
    router_.Add({.method = "POST",
                 .pattern = std::move(pattern),
                 .name = std::move(name),
                 .handler = [this, action, needs_reason](http::Request& req) {
                   auto id = UuidParam(req, "id");
                   if (!id) return ProblemFor(id.error(), req);
                   auto body = ParseJsonObject(req, !needs_reason);
                   if (!body) return ProblemFor(body.error(), req);
                   BodyReader r(*body);
                   std::optional<std::string> reason;
                   if (needs_reason) {
                     reason = r.String("reason", Required::kYes);
                     if (auto e = r.Finish({"reason"})) return ProblemFor(*e, req);
                   } else if (auto e = r.Finish({})) {
                     return ProblemFor(*e, req);
                   }
                   auto t = tenants_.Apply(ActorOf(req), *id, action, reason);
                   if (!t) return ProblemFor(t.error(), req);
                   return TenantResponse(200, *t);
                 }});
  };
  action_route("/tenants/{id}/activate", "tenant_activate", tenants::lifecycle::Action::kActivate,
               false);
  action_route("/tenants/{id}/cancel", "tenant_cancel", tenants::lifecycle::Action::kCancel, true);
}

}  // namespace breakpilot::api
