// A tenant's own portal at <slug>.D (M5.2, M15.1): the dashboard and the API keys.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class TenantPages : public PageModule {
 public:
  explicit TenantPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Root(http::Request& req, const Visit& v);
  Result<http::Response> Dashboard(http::Request& req, const Visit& v);
  Result<http::Response> ApiKeys(http::Request& req, const Visit& v);
  Result<http::Response> ApiKeyCreate(http::Request& req, const Visit& v);
  Result<http::Response> ApiKeyRotate(http::Request& req, const Visit& v);
  Result<http::Response> ApiKeyRevoke(http::Request& req, const Visit& v);
  // The keys page, with what a form left to say.
  Result<http::Response> KeysPage(const Visit& v, const boost::json::object& extra, int status);
  // The scopes a key of this tenant may carry: its products' and the platform's.
  std::vector<std::string> Scopes(const std::string& tenant_id);
  api::Services services_;
};

}  // namespace breakpilot::portal
