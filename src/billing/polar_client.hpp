// The calls we make to Polar's API (https://docs.polar.sh/api-reference), with an organization
// access token: a checkout session for a plan, with the tenant's id in its metadata and as the
// customer's external id (Polar copies both onto the order and the subscription, which is how
// the webhooks find the tenant), and a customer session, whose customer_portal_url lets the
// customer manage payment methods and invoices at Polar.
//
//   PolarClient polar(settings, fetch);
//   auto url = polar.CreateCheckout({.tenant_id = id, .plan = "professional", ...});
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::billing {

// The plans sold through Polar, as the portal offers them; each maps to a Polar product id.
inline constexpr const char* kPolarPlans[] = {"starter", "professional", "per_seat"};

struct PolarSettings {
  std::string api_url = "https://api.polar.sh";  // "https://sandbox-api.polar.sh" for tests
  std::string access_token;                      // empty: no checkout (Polar out is off)
  std::string webhook_secret;                    // empty: POST /polar/webhook is off
  std::map<std::string, std::string> products;   // plan -> Polar product id
  bool outbound() const { return !access_token.empty(); }
  bool inbound() const { return !webhook_secret.empty(); }
};

struct CheckoutInput {
  std::string tenant_id;
  std::string plan;  // one of kPolarPlans
  std::optional<std::string> customer_email;
  std::optional<int> seats;  // per_seat only
  std::string success_url;   // where Polar sends the customer back after paying
  std::string return_url;    // the back link on Polar's checkout page
};

struct Checkout {
  std::string id;
  std::string url;
};

class PolarClient {
 public:
  PolarClient(PolarSettings settings, outbound::Fetcher fetch)
      : settings_(std::move(settings)), fetch_(std::move(fetch)) {}

  const PolarSettings& settings() const { return settings_; }
  // kInvalidInput for a plan without a product id; kUnavailable when Polar cannot be reached
  // or refuses (its message in the detail, never the token).
  Result<Checkout> CreateCheckout(const CheckoutInput& in) const;
  // The customer portal's URL for the tenant's Polar customer (found by its external id).
  Result<std::string> CustomerPortalUrl(const std::string& tenant_id,
                                        const std::string& return_url) const;

 private:
  // The answer's body when Polar says 2xx.
  Result<std::string> Post(const std::string& path, const std::string& body) const;
  PolarSettings settings_;
  outbound::Fetcher fetch_;
};

}  // namespace breakpilot::billing
