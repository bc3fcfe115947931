#include "api/member_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"

namespace breakpilot::api {

boost::json::object ToJson(const identity::Member& m) {
  return {{"user_id", m.user_id},           {"username", m.username},
          {"display_name", m.display_name}, {"org_roles", identity::RoleNames(m.org_roles)},
          {"disabled", m.disabled},         {"since", FormatRfc3339(m.since)}};
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> MemberRoutes::MemberList(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  if (auto ok = OnlyKnownQuery(req, {}); !ok) return ok.error();
  auto members = members_.List(*id);
  if (!members) return members.error();
  boost::json::array items;
  for (const auto& m : *members) items.push_back(ToJson(m));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> MemberRoutes::MemberAdd(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto username = r.String("username", Required::kYes).value_or("");
  const auto roles = r.Strings("org_roles", Required::kYes).value_or(std::vector<std::string>{});
  if (auto ok = r.Finish({"username", "org_roles"}); !ok) return ok.error();
  auto m = members_.Add(caller.actor, *id, username, roles);
  if (!m) return m.error();
  auto res = http::Response::Json(201, boost::json::serialize(ToJson(*m)));
  res.headers.Set("Location", "/tenants/" + *id + "/members/" + m->user_id);
  return res;
}

Result<http::Response> MemberRoutes::MemberSetRoles(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto user = UuidParam(req, "user_id");
  if (!user) return user.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto roles = r.Strings("org_roles", Required::kYes).value_or(std::vector<std::string>{});
  if (auto ok = r.Finish({"org_roles"}); !ok) return ok.error();
  auto m = members_.SetRoles(caller.actor, *id, *user, roles);
  if (!m) return m.error();
  return http::Response::Json(200, boost::json::serialize(ToJson(*m)));
}

Result<http::Response> MemberRoutes::MemberRemove(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto user = UuidParam(req, "user_id");
  if (!user) return user.error();
  if (auto done = members_.Remove(caller.actor, *id, *user); !done) return done.error();
  return http::Response::Empty(204);
}

std::vector<Endpoint> MemberRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/members",
                    .name = "member_list",
                    .action = identity::Action::kMemberRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &MemberRoutes::MemberList)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/members",
                    .name = "member_add",
                    .action = identity::Action::kMemberWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &MemberRoutes::MemberAdd)});
  routes.push_back({.method = "PUT",
                    .pattern = "/tenants/{id}/members/{user_id}",
                    .name = "member_set_roles",
                    .action = identity::Action::kMemberWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &MemberRoutes::MemberSetRoles)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/tenants/{id}/members/{user_id}",
                    .name = "member_remove",
                    .action = identity::Action::kMemberWrite,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &MemberRoutes::MemberRemove)});
  return routes;
}

}  // namespace breakpilot::api
