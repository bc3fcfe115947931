// The back office (M8.2): ERPNext's signed Sales Order webhook (`POST /erpnext/webhook`).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class BackofficeRoutes : public Module {
 public:
  explicit BackofficeRoutes(const Services& s) : erpnext_(s.erpnext) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> ErpNextWebhook(http::Request& req, const Caller& caller);

  backoffice::ErpNext& erpnext_;
};

}  // namespace breakpilot::api
