// GET /catalog and /tenants/{id}/products: the product catalog and a tenant's subscriptions.
#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "api/product_routes.hpp"
#include "api/representation.hpp"

namespace breakpilot::api {

ProductRoutes::ProductRoutes(const Services& s)
    : catalog_(s.catalog), subscriptions_(s.subscriptions), tenants_(s.tenants) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> ProductRoutes::CatalogList(http::Request&, const Caller&) {
  boost::json::array items;
  for (const auto& m : catalog_.products()) items.push_back(ToJson(m));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> ProductRoutes::SubscriptionCreate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  auto product = r.String("product_id", Required::kYes);
  auto plan = r.String("plan", Required::kNo);
  if (auto ok = r.Finish({"product_id", "plan"}); !ok) return ok.error();
  // Another plan than the tenant's own is a purchase: staff (tenant.plan) or billing.
  const auto choice = !CheckTenant(tenants_, caller, identity::Action::kTenantPlan, *id)
                          ? tenants::PlanChoice::kTenantsOwn
                          : tenants::PlanChoice::kAny;
  auto sub = subscriptions_.Subscribe(caller.actor, *id, *product, plan, choice);
  if (!sub) return sub.error();
  auto res =
      http::Response::Json(sub->second ? 201 : 200, boost::json::serialize(ToJson(sub->first)));
  res.headers.Set("Location", "/tenants/" + *id + "/products/" + *product);
  return res;
}

Result<http::Response> ProductRoutes::SubscriptionList(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto subs = subscriptions_.List(*id);
  if (!subs) return subs.error();
  boost::json::array items;
  for (const auto& s : *subs) items.push_back(ToJson(s));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> ProductRoutes::SubscriptionDelete(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto done = subscriptions_.Unsubscribe(caller.actor, *id,
                                         std::string(req.Param("product_id").value_or("")));
  if (!done) return done.error();
  return http::Response::Empty(204);
}

std::vector<Endpoint> ProductRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/catalog",
                    .name = "catalog_list",
                    .action = identity::Action::kCatalogRead,
                    .handler = Bind(this, &ProductRoutes::CatalogList)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/products",
                    .name = "subscription_create",
                    .action = identity::Action::kSubscriptionWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &ProductRoutes::SubscriptionCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/products",
                    .name = "subscription_list",
                    .action = identity::Action::kSubscriptionRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &ProductRoutes::SubscriptionList)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/tenants/{id}/products/{product_id}",
                    .name = "subscription_delete",
                    .action = identity::Action::kSubscriptionWrite,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &ProductRoutes::SubscriptionDelete)});
  return routes;
}

}  // namespace breakpilot::api
