// The product catalog and a tenant's subscriptions to its products.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class ProductRoutes : public Module {
 public:
  explicit ProductRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> CatalogList(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionCreate(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionList(http::Request& req, const Caller& caller);
  Result<http::Response> SubscriptionDelete(http::Request& req, const Caller& caller);

  const catalog::Catalog& catalog_;
  tenants::SubscriptionService& subscriptions_;
  tenants::TenantService& tenants_;
};

}  // namespace breakpilot::api
