// Physical isolation (M18.2): `GET /tenants/{id}/isolation` (where the tenant's data lives and
// each product's progress with a move) and `PUT /tenants/{id}/isolation {"isolation"}` (staff:
// "schema" or "database"; 202 with the progress while the products move it).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class IsolationRoutes : public Module {
 public:
  explicit IsolationRoutes(const Services& s) : isolation_(s.isolation) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> Get(http::Request& req, const Caller& caller);
  Result<http::Response> Put(http::Request& req, const Caller& caller);

  isolation::IsolationService& isolation_;
};

boost::json::object ToJson(const isolation::TenantIsolation& t);

}  // namespace breakpilot::api
