// The tenant registry: create, list, read, update, the lifecycle actions, the identity provider
// state.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class TenantRoutes : public Module {
 public:
  explicit TenantRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> TenantCreate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantList(http::Request& req, const Caller& caller);
  Result<http::Response> TenantGet(http::Request& req, const Caller& caller);
  Result<http::Response> TenantUpdate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantIdp(http::Request& req, const Caller& caller);
  Result<http::Response> TenantActivate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantCancel(http::Request& req, const Caller& caller);
  Result<http::Response> TenantReactivate(http::Request& req, const Caller& caller);
  Result<http::Response> TenantTransition(http::Request& req, const Caller& caller,
                                          tenants::lifecycle::Action action, bool needs_reason);
  identity::Provisioner* provisioner_;
  tenants::TenantService& tenants_;
};

}  // namespace breakpilot::api
