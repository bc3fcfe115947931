#include "api/isolation_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"

namespace breakpilot::api {

namespace json = boost::json;

json::object ToJson(const isolation::TenantIsolation& t) {
  json::array products;
  for (const auto& p : t.products) {
    products.push_back(
        json::object{{"product", p.product_id},
                     {"phase", p.phase},
                     {"copied", p.copied},
                     {"total", p.total},
                     {"error", p.error.empty() ? json::value(nullptr) : json::value(p.error)},
                     {"updated", FormatRfc3339(p.updated_at)}});
  }
  return {{"tenant_id", t.tenant_id},
          {"isolation", t.isolation},
          {"state", t.state},
          {"products", std::move(products)}};
}

Result<http::Response> IsolationRoutes::Get(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto t = isolation_.Get(*id);
  if (!t) return t.error();
  return http::Response::Json(200, json::serialize(ToJson(*t)));
}

Result<http::Response> IsolationRoutes::Put(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto isolation = r.String("isolation", Required::kYes).value_or("");
  if (auto ok = r.Finish({"isolation"}); !ok) return ok.error();
  auto t = isolation_.Request(caller.actor, *id, isolation);
  if (!t) return t.error();
  return http::Response::Json(t->state == "moving" ? 202 : 200, json::serialize(ToJson(*t)));
}

std::vector<Endpoint> IsolationRoutes::Routes() {
  using A = identity::Action;
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/isolation",
                    .name = "tenant_isolation",
                    .action = A::kTenantRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &IsolationRoutes::Get)});
  routes.push_back({.method = "PUT",
                    .pattern = "/tenants/{id}/isolation",
                    .name = "tenant_isolation_set",
                    .action = A::kTenantIsolate,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &IsolationRoutes::Put)});
  return routes;
}

}  // namespace breakpilot::api
