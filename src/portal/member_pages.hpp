// A tenant's members at <slug>.D/settings/users (M5.2): who belongs to the organisation with
// which roles; an IT admin adds an existing account, changes roles and removes members, over
// the same identity::Members as /tenants/{id}/members. /settings/identity shows how the
// members sign in: the built-in identity, or the Keycloak organisation and its provisioning
// state (what GET /tenants/{id}/idp answers), and the OpenID provider when one is configured.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class MemberPages : public PageModule {
 public:
  explicit MemberPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Show(http::Request& req, const Visit& v);
  Result<http::Response> Add(http::Request& req, const Visit& v);
  Result<http::Response> SetRoles(http::Request& req, const Visit& v);
  Result<http::Response> Remove(http::Request& req, const Visit& v);
  Result<http::Response> Identity(http::Request& req, const Visit& v);
  // The page, with what a form left to say.
  Result<http::Response> Render(const Visit& v, const boost::json::object& extra, int status);
  // A use case's refusal as the page with its message (a 5xx as a 503 page).
  Result<http::Response> Refused(const Visit& v, const Error& e, boost::json::object extra = {});
  api::Services services_;
};

}  // namespace breakpilot::portal
