// API keys: create, list, rotate, revoke, verify.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class ApiKeyRoutes : public Module {
 public:
  explicit ApiKeyRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> ApiKeyCreate(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyList(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyRotate(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyRevoke(http::Request& req, const Caller& caller);
  Result<http::Response> ApiKeyVerify(http::Request& req, const Caller& caller);
  Result<identity::ApiKey> ReachableKey(const http::Request& req, const Caller& caller,
                                        identity::Action action);
  identity::ApiKeyService& api_keys_;
  tenants::TenantService& tenants_;
};

}  // namespace breakpilot::api
