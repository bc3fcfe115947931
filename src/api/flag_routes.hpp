// Feature flags (§1.12, M19.1): the built-in store managed by staff (`/flags`), and the
// OpenFeature Remote Evaluation Protocol for products and the portal (`/ofrep/v1/...`), which
// answers in OFREP's own shapes (errorCode, errorDetails), not problem+json.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class FlagRoutes : public Module {
 public:
  explicit FlagRoutes(const Services& s) : flags_(s.flags), tenants_(s.tenants) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> FlagCreate(http::Request& req, const Caller& caller);
  Result<http::Response> FlagList(http::Request& req, const Caller& caller);
  Result<http::Response> FlagGet(http::Request& req, const Caller& caller);
  Result<http::Response> FlagPatch(http::Request& req, const Caller& caller);
  Result<http::Response> FlagDelete(http::Request& req, const Caller& caller);
  Result<http::Response> OfrepEvaluate(http::Request& req, const Caller& caller);
  Result<http::Response> OfrepBulk(http::Request& req, const Caller& caller);

  flags::FlagService& flags_;
  tenants::TenantService& tenants_;
};

// An evaluation in OFREP's success shape: key, value, reason, variant, metadata.
boost::json::object ToJson(const flags::Evaluation& e);

}  // namespace breakpilot::api
