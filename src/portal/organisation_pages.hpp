// The organisation's own settings at <slug>.D/settings/organisation (M14.1 UI), and /billing
// (its plan, status, trial end and subscriptions; the plans sold through Polar, each a form that
// makes a Polar checkout (billing.manage) and leads there; the Polar subscription and payments;
// a link to Polar's customer portal): what the
// registry knows of it, and cancelling (a reason, and the slug typed to confirm) that freezes
// it read-only. Reactivation is staff's (tenant.activate, as on the API): the backstage's
// tenant page (backstage_pages.cpp) offers it while the 30-day window is open.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class OrganisationPages : public PageModule {
 public:
  explicit OrganisationPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Show(http::Request& req, const Visit& v);
  Result<http::Response> Cancel(http::Request& req, const Visit& v);
  Result<http::Response> Billing(http::Request& req, const Visit& v);
  Result<http::Response> RenderBilling(http::Request& req, const Visit& v,
                                       const boost::json::object& extra, int status);
  Result<http::Response> Upgrade(http::Request& req, const Visit& v);
  Result<http::Response> PaymentMethods(http::Request& req, const Visit& v);
  http::Response Render(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

// The lifecycle facts of a tenant both sites show: status, plan, trial end, and when frozen the
// reason and the last day to reactivate.
boost::json::object LifecycleFacts(Lang lang, const tenants::Tenant& t);

}  // namespace breakpilot::portal
