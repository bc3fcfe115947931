// Usage (M12.1): products report what tenants used (`POST /usage`); a tenant's usage against its
// limits (`GET /tenants/{id}/usage`).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class UsageRoutes : public Module {
 public:
  explicit UsageRoutes(const Services& s) : meter_(s.usage) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> UsageReport(http::Request& req, const Caller& caller);
  Result<http::Response> TenantUsage(http::Request& req, const Caller& caller);

  usage::Meter& meter_;
};

// A tenant's usage as the API and the dashboard show it.
boost::json::object ToJson(const usage::TenantUsage& u);

}  // namespace breakpilot::api
