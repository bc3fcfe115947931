// The catalog on a tenant's site (M11.1): every product, the subscribed ones marked, and a
// "Request" on another that makes a lead for the tenant's sales owner (sales::LeadService, the
// same as POST /tenants/{id}/leads); the leads on the backstage (M13.2), a sales rep seeing
// the ones they own.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class SalesPages : public PageModule {
 public:
  explicit SalesPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Catalog(http::Request& req, const Visit& v);
  Result<http::Response> Request(http::Request& req, const Visit& v);
  Result<http::Response> Leads(http::Request& req, const Visit& v);
  Result<http::Response> TrialForm(http::Request& req, const Visit& v);
  Result<http::Response> TrialRequest(http::Request& req, const Visit& v);
  http::Response RenderTrial(const Visit& v, const boost::json::object& extra, int status);
  http::Response RenderCatalog(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
