// The portal's sign-in through the OpenID provider, its session, its home page.
#pragma once

#include <vector>

#include "api/module.hpp"
#include "core/rate_limiter.hpp"

namespace breakpilot::api {

class PortalRoutes : public Module {
 public:
  // `logins_per_minute`: portal sign-ins one client address may begin (429 beyond).
  PortalRoutes(const Services& s, int logins_per_minute);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> PortalMe(http::Request& req, const Caller& caller);
  Result<http::Response> PortalHome(http::Request& req, const Caller& caller);
  Result<http::Response> PortalLogin(http::Request& req, const Caller& caller);
  Result<http::Response> PortalCallback(http::Request& req, const Caller& caller);
  Result<http::Response> PortalLogout(http::Request& req, const Caller& caller);
  bool SecureCookies() const;  // the issuer is https: cookies get Secure
  identity::TokenIssuer& issuer_;
  identity::OidcIssuer* oidc_issuer_;
  identity::OidcLogin* oidc_login_;
  RateLimiter portal_logins_;  // portal sign-ins begun per client address
};

}  // namespace breakpilot::api
