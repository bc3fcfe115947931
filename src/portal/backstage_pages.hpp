// The staff area at backstage.D (M5.2, M13.2): the tenants, and each tenant's page with its
// lifecycle (reactivate a frozen tenant), its sales owner (a sales rep, who gets its leads), its
// data isolation (each product's progress with a move, and the form that starts one) and a
// link to its audit trail; the demo tenant with
// "Reset now" (P14: the sales team's, between two demos); the durable jobs, with the dead letter
// and a retry button (the same queue as GET /jobs and POST /jobs/{id}/retry); the integrations
// (Polar, ERPNext, Helpdesk, Gitea): each one's state, last success and failure, last error and
// queue, and its failed calls (its durable jobs that failed and wait, or are dead) with their
// error and the same retry button.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class BackstagePages : public PageModule {
 public:
  explicit BackstagePages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Tenants(http::Request& req, const Visit& v);
  Result<http::Response> Tenant(http::Request& req, const Visit& v);
  Result<http::Response> Reactivate(http::Request& req, const Visit& v);
  Result<http::Response> SalesOwner(http::Request& req, const Visit& v);
  Result<http::Response> Isolate(http::Request& req, const Visit& v);
  Result<http::Response> Demo(http::Request& req, const Visit& v);
  Result<http::Response> DemoReset(http::Request& req, const Visit& v);
  Result<http::Response> Jobs(http::Request& req, const Visit& v);
  Result<http::Response> JobRetry(http::Request& req, const Visit& v);
  Result<http::Response> Integrations(http::Request& req, const Visit& v);
  Result<http::Response> TenantPage(const Visit& v, const tenants::Tenant& t,
                                    const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
