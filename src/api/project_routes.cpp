// /tenants/{id}/projects: a tenant's projects.
#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "api/project_routes.hpp"
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
  in.archived = r.Boolean("archived", Required::kNo);
  if (!patch && in.archived) r.Fail("archived", "a new project is not archived; PATCH archives it");
  if (auto ok = r.Finish({"name", "description", "archived"}); !ok) return std::move(ok).error();
  return in;
}

}  // namespace

ProjectRoutes::ProjectRoutes(const Services& s) : projects_(s.projects) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> ProjectRoutes::ProjectCreate(http::Request& req, const Caller& caller) {
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

Result<http::Response> ProjectRoutes::ProjectList(http::Request& req, const Caller&) {
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

Result<http::Response> ProjectRoutes::ProjectGet(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto pid = UuidParam(req, "project_id");
  if (!pid) return pid.error();
  auto p = projects_.Get(*id, *pid);
  if (!p) return p.error();
  return ProjectResponse(200, *p);
}

Result<http::Response> ProjectRoutes::ProjectUpdate(http::Request& req, const Caller& caller) {
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

Result<http::Response> ProjectRoutes::ProjectDelete(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto pid = UuidParam(req, "project_id");
  if (!pid) return pid.error();
  auto done = projects_.Delete(caller.actor, *id, *pid);
  if (!done) return done.error();
  return http::Response::Empty(204);
}

std::vector<Endpoint> ProjectRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/projects",
                    .name = "project_create",
                    .action = identity::Action::kProjectWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &ProjectRoutes::ProjectCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/projects",
                    .name = "project_list",
                    .action = identity::Action::kProjectRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &ProjectRoutes::ProjectList)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/projects/{project_id}",
                    .name = "project_get",
                    .action = identity::Action::kProjectRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &ProjectRoutes::ProjectGet)});
  routes.push_back({.method = "PATCH",
                    .pattern = "/tenants/{id}/projects/{project_id}",
                    .name = "project_update",
                    .action = identity::Action::kProjectWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson, kMergePatch},
                    .handler = Bind(this, &ProjectRoutes::ProjectUpdate)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/tenants/{id}/projects/{project_id}",
                    .name = "project_delete",
                    .action = identity::Action::kProjectWrite,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &ProjectRoutes::ProjectDelete)});
  return routes;
}

}  // namespace breakpilot::api
