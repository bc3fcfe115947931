#include "fake_polar.hpp"

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"
#include "loopback_server.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

constexpr const char* kOrganization = "5b1f3a62-7c1e-4a57-9b7e-2d1c0c0f0001";

std::string Iso(Timestamp t) {
  return FormatRfc3339(t);
}

http::Response JsonAnswer(int status, const json::value& v) {
  return http::Response::Json(status, json::serialize(v));
}

http::Response PolarError(int status, const char* error, const std::string& detail) {
  return JsonAnswer(status, json::object{{"error", error}, {"detail", detail}});
}

// FastAPI's 422, as Polar answers a body it cannot take.
http::Response Invalid(const std::string& field, const std::string& msg) {
  return JsonAnswer(
      422, json::object{{"detail", json::array{json::object{{"loc", json::array{"body", field}},
                                                            {"msg", msg},
                                                            {"type", "value_error"}}}}});
}

}  // namespace

struct FakePolar::State {
  mutable std::mutex mu;
  std::map<std::string, json::object> checkouts;      // id -> Checkout
  std::map<std::string, json::object> customers;      // id -> Customer
  std::map<std::string, json::object> subscriptions;  // id -> Subscription
  std::map<std::string, int> calls;
  int port = 0;

  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port); }

  json::object* CustomerByExternal(const std::string& external) {
    for (auto& [id, c] : customers) {
      if (c.at("external_id").is_string() && c.at("external_id").as_string() == external) {
        return &c;
      }
    }
    return nullptr;
  }

  static json::object Product(const std::string& id) {
    const auto now = Iso(SystemClock().Now());
    return {{"id", id},
            {"created_at", now},
            {"modified_at", nullptr},
            {"name", "Breakpilot plan"},
            {"description", nullptr},
            {"recurring_interval", "month"},
            {"is_recurring", true},
            {"is_archived", false},
            {"organization_id", kOrganization},
            {"metadata", json::object{}},
            {"prices", json::array{}},
            {"benefits", json::array{}},
            {"medias", json::array{}}};
  }

  http::Response CreateCheckout(const json::object& in) {
    const auto* products = in.if_contains("products");
    if (products == nullptr || !products->is_array() || products->as_array().empty()) {
      return Invalid("products", "Field required");
    }
    for (const auto& p : products->as_array()) {
      if (!p.is_string() ||
          (p.as_string() != kProductStarter && p.as_string() != kProductProfessional &&
           p.as_string() != kProductPerSeat)) {
        return Invalid("products", "Product does not exist.");
      }
    }
    const auto product = std::string(products->as_array()[0].as_string());
    const auto now = SystemClock().Now();
    const auto id = NewUuidV7(SystemClock().Now());
    const auto secret = "polar_c_" + RandomToken(18);
    const auto get = [&](const char* k) -> json::value {
      const auto* v = in.if_contains(k);
      return v != nullptr ? *v : json::value(nullptr);
    };
    json::object c{{"id", id},
                   {"created_at", Iso(now)},
                   {"modified_at", nullptr},
                   {"payment_processor", "stripe"},
                   {"status", "open"},
                   {"client_secret", secret},
                   {"url", Base() + "/checkout/" + secret},
                   {"expires_at", Iso(Timestamp{now.micros + 3600 * kMicrosPerSecond})},
                   {"success_url", get("success_url")},
                   {"return_url", get("return_url")},
                   {"embed_origin", nullptr},
                   {"amount", 4900},
                   {"seats", get("seats")},
                   {"discount_amount", 0},
                   {"net_amount", 4900},
                   {"tax_amount", 931},
                   {"total_amount", 5831},
                   {"currency", "eur"},
                   {"allow_trial", false},
                   {"organization_id", kOrganization},
                   {"product_id", product},
                   {"product_price_id", NewUuidV7(SystemClock().Now())},
                   {"discount_id", nullptr},
                   {"customer_id", nullptr},
                   {"is_business_customer", false},
                   {"customer_name", nullptr},
                   {"customer_email", get("customer_email")},
                   {"metadata", in.contains("metadata") ? in.at("metadata") : json::object{}},
                   {"external_customer_id", get("external_customer_id")},
                   {"customer_metadata", json::object{}},
                   {"products", json::array{Product(product)}},
                   {"product", Product(product)},
                   {"subscription_id", nullptr},
                   {"attached_custom_fields", json::array{}}};
    checkouts[id] = c;
    return JsonAnswer(201, c);
  }

  http::Response CustomerSession(const json::object& in) {
    json::object* customer = nullptr;
    if (const auto* e = in.if_contains("external_customer_id"); e && e->is_string()) {
      customer = CustomerByExternal(std::string(e->as_string()));
    } else if (const auto* c = in.if_contains("customer_id"); c && c->is_string()) {
      const auto it = customers.find(std::string(c->as_string()));
      if (it != customers.end()) customer = &it->second;
    } else {
      return Invalid("customer_id", "Field required");
    }
    if (customer == nullptr) {
      return Invalid(in.contains("customer_id") ? "customer_id" : "external_customer_id",
                     "Customer does not exist.");
    }
    const auto now = SystemClock().Now();
    const auto token = "polar_cst_" + RandomToken(18);
    return JsonAnswer(
        201,
        json::object{{"created_at", Iso(now)},
                     {"modified_at", nullptr},
                     {"id", NewUuidV7(SystemClock().Now())},
                     {"token", token},
                     {"expires_at", Iso(Timestamp{now.micros + 3600 * kMicrosPerSecond})},
                     {"return_url", in.contains("return_url") ? in.at("return_url") : nullptr},
                     {"customer_portal_url", Base() + "/portal?customer_session_token=" + token},
                     {"customer_id", customer->at("id")},
                     {"customer", *customer}});
  }

  static PolarMessage Message(const std::string& type, const json::object& data) {
    json::object envelope{{"type", type}, {"timestamp", Iso(SystemClock().Now())}, {"data", data}};
    return {.id = "msg_" + RandomToken(18), .type = type, .body = json::serialize(envelope)};
  }
};

FakePolar::FakePolar() : state_(std::make_unique<State>()) {
  server_ = std::make_unique<LoopbackServer>([this](http::Request& req) -> http::Response {
    std::lock_guard lock(state_->mu);
    if (req.method == "GET" && req.path.rfind("/checkout/", 0) == 0) {
      // Polar's checkout page, for a browser to land on.
      auto r = http::Response::Json(200, "");
      r.headers.Set("Content-Type", "text/html; charset=utf-8");
      r.body = "<!doctype html><title>Polar checkout (contract fake)</title><h1>Checkout</h1>";
      return r;
    }
    if (req.headers.Get("authorization").value_or("") != std::string("Bearer ") + kToken) {
      ++state_->calls["unauthorized"];
      return PolarError(401, "Unauthorized", "Unauthorized");
    }
    json::object body;
    if (req.method == "POST") {
      boost::system::error_code ec;
      auto v = json::parse(req.body, ec);
      if (ec || !v.is_object()) return Invalid("body", "JSON decode error");
      body = std::move(v.as_object());
    }
    if (req.method == "POST" && req.path == "/v1/checkouts/") {
      ++state_->calls["checkout"];
      return state_->CreateCheckout(body);
    }
    if (req.method == "GET" && req.path.rfind("/v1/checkouts/", 0) == 0) {
      const auto id = req.path.substr(std::string("/v1/checkouts/").size());
      const auto it = state_->checkouts.find(id);
      if (it == state_->checkouts.end()) {
        return PolarError(404, "ResourceNotFound", "Not found");
      }
      return JsonAnswer(200, it->second);
    }
    if (req.method == "POST" && req.path == "/v1/customer-sessions/") {
      ++state_->calls["customer_session"];
      return state_->CustomerSession(body);
    }
    return PolarError(404, "ResourceNotFound", "Not found");
  });
  state_->port = server_->port();
}

FakePolar::~FakePolar() = default;

std::string FakePolar::BaseUrl() const {
  return state_->Base();
}

std::vector<boost::json::object> FakePolar::Checkouts() const {
  std::lock_guard lock(state_->mu);
  std::vector<json::object> out;
  for (const auto& [id, c] : state_->checkouts) out.push_back(c);
  return out;
}

int FakePolar::Calls(const std::string& what) const {
  std::lock_guard lock(state_->mu);
  const auto it = state_->calls.find(what);
  return it == state_->calls.end() ? 0 : it->second;
}

std::vector<PolarMessage> FakePolar::Pay(const std::string& checkout_id) {
  std::lock_guard lock(state_->mu);
  auto& c = state_->checkouts.at(checkout_id);
  const auto now = SystemClock().Now();
  const auto external = c.at("external_customer_id");
  json::object* customer = external.is_string()
                               ? state_->CustomerByExternal(std::string(external.as_string()))
                               : nullptr;
  if (customer == nullptr) {
    const auto id = NewUuidV7(SystemClock().Now());
    state_->customers[id] = json::object{
        {"id", id},
        {"created_at", Iso(now)},
        {"modified_at", nullptr},
        {"metadata", json::object{}},
        {"external_id", external},
        {"email", c.at("customer_email").is_string() ? c.at("customer_email")
                                                     : json::value("buyer@example.com")},
        {"email_verified", true},
        {"type", "individual"},
        {"name", nullptr},
        {"billing_address", nullptr},
        {"tax_id", nullptr},
        {"organization_id", kOrganization},
        {"deleted_at", nullptr},
        {"avatar_url", "https://www.gravatar.com/avatar/0?d=404"}};
    customer = &state_->customers[id];
  }
  const auto sub_id = NewUuidV7(SystemClock().Now());
  const auto order_id = NewUuidV7(SystemClock().Now());
  const auto period_end = Timestamp{now.micros + 30LL * 86400 * kMicrosPerSecond};
  json::object sub{{"created_at", Iso(now)},
                   {"modified_at", Iso(now)},
                   {"id", sub_id},
                   {"amount", c.at("net_amount")},
                   {"currency", "eur"},
                   {"recurring_interval", "month"},
                   {"recurring_interval_count", 1},
                   {"status", "active"},
                   {"current_period_start", Iso(now)},
                   {"current_period_end", Iso(period_end)},
                   {"trial_start", nullptr},
                   {"trial_end", nullptr},
                   {"cancel_at_period_end", false},
                   {"canceled_at", nullptr},
                   {"started_at", Iso(now)},
                   {"ends_at", nullptr},
                   {"ended_at", nullptr},
                   {"customer_id", customer->at("id")},
                   {"product_id", c.at("product_id")},
                   {"discount_id", nullptr},
                   {"checkout_id", checkout_id},
                   {"seats", c.at("seats")},
                   {"customer_cancellation_reason", nullptr},
                   {"customer_cancellation_comment", nullptr},
                   {"metadata", c.at("metadata")},
                   {"customer", *customer},
                   {"product", c.at("product")},
                   {"discount", nullptr},
                   {"prices", json::array{}},
                   {"meters", json::array{}}};
  state_->subscriptions[sub_id] = sub;
  json::object order{
      {"id", order_id},
      {"created_at", Iso(now)},
      {"modified_at", Iso(now)},
      {"status", "paid"},
      {"paid", true},
      {"subtotal_amount", c.at("amount")},
      {"discount_amount", 0},
      {"net_amount", c.at("net_amount")},
      {"tax_amount", c.at("tax_amount")},
      {"total_amount", c.at("total_amount")},
      {"applied_balance_amount", 0},
      {"due_amount", 0},
      {"refunded_amount", 0},
      {"refunded_tax_amount", 0},
      {"currency", "eur"},
      {"billing_reason", "subscription_create"},
      {"billing_name", nullptr},
      {"billing_address", nullptr},
      {"invoice_number", "BP-0001"},
      {"is_invoice_generated", false},
      {"customer_id", customer->at("id")},
      {"product_id", c.at("product_id")},
      {"discount_id", nullptr},
      {"subscription_id", sub_id},
      {"checkout_id", checkout_id},
      {"metadata", c.at("metadata")},
      {"platform_fee_amount", 0},
      {"customer", *customer},
      {"product", c.at("product")},
      {"discount", nullptr},
      {"subscription", sub},
      {"items", json::array{json::object{{"created_at", Iso(now)},
                                         {"modified_at", nullptr},
                                         {"id", NewUuidV7(SystemClock().Now())},
                                         {"label", "Breakpilot plan"},
                                         {"amount", c.at("net_amount")},
                                         {"tax_amount", c.at("tax_amount")},
                                         {"proration", false},
                                         {"product_price_id", c.at("product_price_id")}}}},
      {"description", "Breakpilot plan"}};
  c["status"] = "succeeded";
  c["customer_id"] = customer->at("id");
  c["subscription_id"] = sub_id;
  c["modified_at"] = Iso(now);
  return {State::Message("checkout.updated", c), State::Message("order.paid", order),
          State::Message("subscription.created", sub), State::Message("subscription.active", sub)};
}

PolarMessage FakePolar::Next(const std::string& subscription_id, const std::string& type) {
  std::lock_guard lock(state_->mu);
  auto& sub = state_->subscriptions.at(subscription_id);
  const auto before = ParseTimestamp(std::string(sub.at("modified_at").as_string()));
  const auto at = Timestamp{before->micros + kMicrosPerSecond};
  sub["modified_at"] = Iso(at);
  if (type == "subscription.canceled") {
    sub["cancel_at_period_end"] = true;
    sub["canceled_at"] = Iso(at);
    sub["ends_at"] = sub.at("current_period_end");
    sub["customer_cancellation_reason"] = "too_expensive";
  } else if (type == "subscription.uncanceled") {
    sub["cancel_at_period_end"] = false;
    sub["canceled_at"] = nullptr;
    sub["ends_at"] = nullptr;
    sub["customer_cancellation_reason"] = nullptr;
  } else if (type == "subscription.revoked") {
    sub["status"] = "canceled";
    sub["cancel_at_period_end"] = false;
    sub["canceled_at"] = Iso(at);
    sub["ends_at"] = Iso(at);
    sub["ended_at"] = Iso(at);
  } else if (type == "customer.updated") {
    auto customer = sub.at("customer").as_object();
    customer["modified_at"] = Iso(at);
    return State::Message(type, customer);
  }
  return State::Message(type, sub);
}

}  // namespace breakpilot::testing
