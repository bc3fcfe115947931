#include "billing/polar_client.hpp"

#include <boost/json.hpp>

#include "core/json.hpp"

namespace breakpilot::billing {
namespace {

namespace json = boost::json;

Error Unavailable(std::string detail) {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "billing-unavailable",
               .title = "Billing provider unavailable",
               .detail = std::move(detail)};
}

// Polar's error bodies: {"error": "...", "detail": "..."} or FastAPI's {"detail": [{"msg"}]}.
std::string PolarMessage(const std::string& body) {
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 8}, problem);
  if (!v || !v->is_object()) return "";
  const auto& o = v->as_object();
  if (const auto* d = o.if_contains("detail")) {
    if (d->is_string()) return std::string(d->as_string()).substr(0, 200);
    if (d->is_array() && !d->as_array().empty() && d->as_array()[0].is_object()) {
      return StringMember(d->as_array()[0].as_object(), "msg").substr(0, 200);
    }
  }
  return StringMember(o, "error").substr(0, 200);
}

Result<json::object> ParseObject(const std::string& body) {
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 32}, problem);
  if (!v || !v->is_object()) return Unavailable("Polar answered with a body that is not JSON");
  return std::move(v->as_object());
}

}  // namespace

Result<std::string> PolarClient::Post(const std::string& path, const std::string& body) const {
  if (!settings_.outbound()) return Unavailable("Polar is not configured on this platform");
  auto r = fetch_({.method = "POST",
                   .url = settings_.api_url + path,
                   .headers = {{"Authorization", "Bearer " + settings_.access_token},
                               {"Content-Type", "application/json"},
                               {"Accept", "application/json"}},
                   .body = body,
                   .timeout = std::chrono::milliseconds(10'000)});
  if (!r) return Unavailable("Polar cannot be reached: " + r.error().detail);
  if (r->status < 200 || r->status > 299) {
    const auto why = PolarMessage(r->body);
    if (r->status == 404 || r->status == 422) {  // the request's fault, not Polar's
      auto e = Unavailable("Polar refused the request: " + why);
      e.type = "billing-refused";
      return e;
    }
    return Unavailable("Polar answered " + std::to_string(r->status) +
                       (why.empty() ? std::string() : ": " + why));
  }
  return std::move(r->body);
}

Result<Checkout> PolarClient::CreateCheckout(const CheckoutInput& in) const {
  const auto product = settings_.products.find(in.plan);
  if (product == settings_.products.end() || product->second.empty()) {
    return Error{.kind = ErrorKind::kInvalidInput,
                 .type = "plan-not-sold",
                 .title = "Plan not sold here",
                 .detail = "the plan " + in.plan + " has no Polar product on this platform"};
  }
  json::object body{{"products", json::array{json::value(product->second)}},
                    {"metadata", json::object{{"tenant_id", in.tenant_id}, {"plan", in.plan}}},
                    {"external_customer_id", in.tenant_id},
                    {"success_url", in.success_url},
                    {"return_url", in.return_url}};
  if (in.customer_email) body["customer_email"] = *in.customer_email;
  if (in.seats) body["seats"] = *in.seats;
  auto answer = Post("/v1/checkouts/", json::serialize(body));
  if (!answer) return std::move(answer).error();
  auto o = ParseObject(*answer);
  if (!o) return std::move(o).error();
  Checkout out{.id = StringMember(*o, "id"), .url = StringMember(*o, "url")};
  if (out.id.empty() || (out.url.rfind("https://", 0) != 0 && out.url.rfind("http://", 0) != 0)) {
    return Unavailable("Polar's checkout has no id or no URL");
  }
  return out;
}

Result<std::string> PolarClient::CustomerPortalUrl(const std::string& tenant_id,
                                                   const std::string& return_url) const {
  json::object body{{"external_customer_id", tenant_id}, {"return_url", return_url}};
  auto answer = Post("/v1/customer-sessions/", json::serialize(body));
  if (!answer && answer.error().type == "billing-refused") {
    // Polar knows no customer with this external id: nothing has been paid yet.
    return NotFound("billing-customer-not-found",
                    "Polar has no customer for this tenant yet: buy a plan first");
  }
  if (!answer) return std::move(answer).error();
  auto o = ParseObject(*answer);
  if (!o) return std::move(o).error();
  auto url = StringMember(*o, "customer_portal_url");
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return Unavailable("Polar's customer session has no portal URL");
  }
  return url;
}

}  // namespace breakpilot::billing
