// A tenant's integrations at /settings/integrations (M15.2): its webhook endpoints (add, send a
// test, rotate the secret, disable, enable, delete), the deliveries that went out lately and the
// dead letter with replay. The pages call the same webhooks::Webhooks as the API's
// /tenants/{id}/webhooks routes, under the same webhook.read and webhook.write permissions.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class IntegrationPages : public PageModule {
 public:
  explicit IntegrationPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Show(http::Request& req, const Visit& v);
  Result<http::Response> Create(http::Request& req, const Visit& v);
  Result<http::Response> SendTest(http::Request& req, const Visit& v);
  Result<http::Response> Rotate(http::Request& req, const Visit& v);
  Result<http::Response> Enable(http::Request& req, const Visit& v);
  Result<http::Response> Disable(http::Request& req, const Visit& v);
  Result<http::Response> Remove(http::Request& req, const Visit& v);
  Result<http::Response> Replay(http::Request& req, const Visit& v);
  // Enable or disable: the endpoint's status, set by the page's button.
  Result<http::Response> SetStatus(http::Request& req, const Visit& v, const std::string& status);
  // The page, with what a form left to say.
  Result<http::Response> Render(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
