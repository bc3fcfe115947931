// Leads (M11.1, M13.2): a tenant asks for a product of the catalog; a sales rep records the
// demo's "Request trial" of a prospect (POST /leads); staff list the leads.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class SalesRoutes : public Module {
 public:
  explicit SalesRoutes(const Services& s) : leads_(s.leads) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> LeadCreate(http::Request& req, const Caller& caller);
  Result<http::Response> LeadList(http::Request& req, const Caller& caller);
  Result<http::Response> TrialLead(http::Request& req, const Caller& caller);

  sales::LeadService& leads_;
};

// A lead as the API and the pages show it.
boost::json::object ToJson(const sales::Lead& lead);

}  // namespace breakpilot::api
