// Billing through Polar (M8.3): Polar's signed webhooks in (`POST /polar/webhook`), a checkout
// for a plan and the customer portal out, and what a tenant pays for.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class BillingRoutes : public Module {
 public:
  explicit BillingRoutes(const Services& s) : billing_(s.billing) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> PolarWebhook(http::Request& req, const Caller& caller);
  Result<http::Response> Checkout(http::Request& req, const Caller& caller);
  Result<http::Response> PortalSession(http::Request& req, const Caller& caller);
  Result<http::Response> TenantBilling(http::Request& req, const Caller& caller);

  billing::Billing& billing_;
};

// What a tenant pays for, as the API and the billing page show it.
boost::json::object ToJson(const billing::TenantBilling& b);

}  // namespace breakpilot::api
