// Custom domains (M18.1): a tenant's own domains for its portal (`/tenants/{id}/domains`), and
// the question Caddy's on-demand TLS asks before it makes a certificate
// (`GET /internal/tls/ask?domain=`: 200 for a verified domain of a live tenant, 404 otherwise).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class DomainRoutes : public Module {
 public:
  explicit DomainRoutes(const Services& s) : domains_(s.domains), tenants_(s.tenants) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> List(http::Request& req, const Caller& caller);
  Result<http::Response> Add(http::Request& req, const Caller& caller);
  Result<http::Response> Check(http::Request& req, const Caller& caller);
  Result<http::Response> Remove(http::Request& req, const Caller& caller);
  Result<http::Response> TlsAsk(http::Request& req, const Caller& caller);

  domains::DomainService& domains_;
  tenants::TenantService& tenants_;
};

// A domain as the API shows it, with the records that prove it.
boost::json::object ToJson(const domains::Domain& d, const domains::Proof& p);

}  // namespace breakpilot::api
