// Custom domains on a tenant's portal (M18.1): `/settings/domains` lists the organisation's own
// domains with the DNS record that proves each, checks one now, adds and removes them: the same
// DomainService calls and permission (domain.manage) as the API's /tenants/{id}/domains.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class DomainPages : public PageModule {
 public:
  explicit DomainPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> List(http::Request& req, const Visit& v);
  Result<http::Response> Add(http::Request& req, const Visit& v);
  Result<http::Response> Check(http::Request& req, const Visit& v);
  Result<http::Response> Remove(http::Request& req, const Visit& v);
  http::Response Render(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
