// Self-serve trials on the public site (M12.1, P15): /start asks for the company, its address
// (the slug) and a mail address, through the same TrialService as the API's
// /catalog/trial-request; the mailed link opens /start/confirm here, where the new admin picks
// a password, and the confirmation creates the trial tenant, makes them its IT_ADMIN and lands
// them signed in on <slug>.D/dashboard. An address that already has an account is added to the
// new organisation instead and signs in with its own password.
#pragma once

#include "portal/page.hpp"
#include "portal/portal.hpp"

namespace breakpilot::portal {

class StartPages : public PageModule {
 public:
  StartPages(const api::Services& s, const PortalOptions& options)
      : services_(s), options_(options) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Form(http::Request& req, const Visit& v);
  Result<http::Response> Request(http::Request& req, const Visit& v);
  Result<http::Response> ConfirmForm(http::Request& req, const Visit& v);
  Result<http::Response> Confirm(http::Request& req, const Visit& v);
  // The request form with what was typed, and a fresh CSRF token.
  http::Response RequestForm(const Visit& v, boost::json::object data, int status);
  // The confirmation form for `token`, or the link's refusal as a page.
  http::Response ConfirmPage(const Visit& v, const std::string& token, std::string_view error,
                             int status);
  api::Services services_;
  PortalOptions options_;
};

}  // namespace breakpilot::portal
