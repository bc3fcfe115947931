// Outgoing webhooks (M15.2): a tenant's endpoints (`/tenants/{id}/webhooks`), their secrets,
// test-sends, and the deliveries with the dead letter (`/webhooks/deliveries`) and its replay.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class WebhookRoutes : public Module {
 public:
  explicit WebhookRoutes(const Services& s) : hooks_(s.webhooks), tenants_(s.tenants) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> WebhookCreate(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookList(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookGet(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookUpdate(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookDelete(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookRotate(http::Request& req, const Caller& caller);
  Result<http::Response> WebhookTest(http::Request& req, const Caller& caller);
  Result<http::Response> DeliveryList(http::Request& req, const Caller& caller);
  Result<http::Response> DeliveryReplay(http::Request& req, const Caller& caller);

  webhooks::Webhooks& hooks_;
  tenants::TenantService& tenants_;
};

boost::json::object ToJson(const webhooks::Endpoint& e);
boost::json::object ToJson(const webhooks::Delivery& d);

}  // namespace breakpilot::api
