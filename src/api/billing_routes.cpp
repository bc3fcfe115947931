#include "api/billing_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

json::value OptionalTime(const std::optional<Timestamp>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

Result<Ok> CheckReturnUrl(const std::string& url, const char* field) {
  if (url.size() <= 2000 && (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0)) {
    return Ok{};
  }
  return ValidationFailed({{std::string("/") + field, "must be an http(s) URL"}});
}

}  // namespace

json::object ToJson(const billing::TenantBilling& b) {
  json::array subs;
  for (const auto& s : b.subscriptions) {
    subs.push_back(json::object{{"id", s.id},
                                {"status", s.status},
                                {"plan", s.plan ? json::value(*s.plan) : nullptr},
                                {"cancel_at_period_end", s.cancel_at_period_end},
                                {"current_period_end", OptionalTime(s.current_period_end)},
                                {"ended_at", OptionalTime(s.ended_at)},
                                {"modified_at", FormatRfc3339(s.modified_at)}});
  }
  json::array orders;
  for (const auto& o : b.orders) {
    orders.push_back(json::object{
        {"id", o.id},
        {"status", o.status},
        {"subscription_id", o.subscription_id ? json::value(*o.subscription_id) : nullptr},
        {"currency", o.currency},
        {"total_amount", o.total_amount},
        {"tax_amount", o.tax_amount},
        {"created_at", FormatRfc3339(o.created_at)}});
  }
  return {{"subscriptions", std::move(subs)}, {"orders", std::move(orders)}};
}

Result<http::Response> BillingRoutes::PolarWebhook(http::Request& req, const Caller&) {
  const auto header = [&](std::string_view name) { return req.headers.Get(name).value_or(""); };
  auto fresh = billing_.ReceivePolar({.id = header("webhook-id"),
                                      .timestamp = header("webhook-timestamp"),
                                      .signature = header("webhook-signature")},
                                     req.body);
  if (!fresh) return fresh.error();
  // 202: stored, applied by a job; 200: a repeat of a stored message, which changes nothing.
  return http::Response::Json(
      *fresh ? 202 : 200, json::serialize(json::object{{"received", true}, {"repeat", !*fresh}}));
}

Result<http::Response> BillingRoutes::Checkout(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto plan = r.String("plan", Required::kYes).value_or("");
  const auto seats = r.Integer("seats", Required::kNo);
  const auto email = r.String("customer_email", Required::kNo);
  const auto success = r.String("success_url", Required::kYes).value_or("");
  const auto back = r.String("return_url", Required::kNo);
  if (auto ok = r.Finish({"plan", "seats", "customer_email", "success_url", "return_url"}); !ok) {
    return ok.error();
  }
  if (auto ok = CheckReturnUrl(success, "success_url"); !ok) return ok.error();
  if (back) {
    if (auto ok = CheckReturnUrl(*back, "return_url"); !ok) return ok.error();
  }
  std::optional<int> n;
  if (seats) n = static_cast<int>(std::clamp<std::int64_t>(*seats, -1, 1'000'000));
  auto made =
      billing_.StartCheckout(caller.actor, *id, plan, email, n, success, back.value_or(success));
  if (!made) return made.error();
  return http::Response::Json(201,
                              json::serialize(json::object{{"id", made->id}, {"url", made->url}}));
}

Result<http::Response> BillingRoutes::PortalSession(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto back = r.String("return_url", Required::kYes).value_or("");
  if (auto ok = r.Finish({"return_url"}); !ok) return ok.error();
  if (auto ok = CheckReturnUrl(back, "return_url"); !ok) return ok.error();
  auto url = billing_.CustomerPortal(*id, back);
  if (!url) return url.error();
  return http::Response::Json(201, json::serialize(json::object{{"url", *url}}));
}

Result<http::Response> BillingRoutes::TenantBilling(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto b = billing_.Of(*id);
  if (!b) return b.error();
  return http::Response::Json(200, json::serialize(ToJson(*b)));
}

std::vector<Endpoint> BillingRoutes::Routes() {
  std::vector<Endpoint> routes;
  // Polar signs; no bearer. The signature, the timestamp and the message id are the checks.
  routes.push_back({.method = "POST",
                    .pattern = "/polar/webhook",
                    .name = "polar_webhook",
                    .action = identity::Action::kPublic,
                    .body = {kJson},
                    .handler = Bind(this, &BillingRoutes::PolarWebhook)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/billing",
                    .name = "tenant_billing",
                    .action = identity::Action::kSubscriptionRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &BillingRoutes::TenantBilling)});
  // A frozen tenant may pay its way out: the gate lets these through.
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/billing/checkout",
                    .name = "billing_checkout",
                    .action = identity::Action::kBillingManage,
                    .tenant = TenantFrom::kPathId,
                    .gate = Gate::kLiftsFreeze,
                    .body = {kJson},
                    .handler = Bind(this, &BillingRoutes::Checkout)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/billing/portal-session",
                    .name = "billing_portal_session",
                    .action = identity::Action::kBillingManage,
                    .tenant = TenantFrom::kPathId,
                    .gate = Gate::kLiftsFreeze,
                    .body = {kJson},
                    .handler = Bind(this, &BillingRoutes::PortalSession)});
  return routes;
}

}  // namespace breakpilot::api
