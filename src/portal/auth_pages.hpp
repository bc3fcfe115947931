// Signing in and out of the portal (M5.1): the password form of the built-in identity on every
// portal site, single sign-on through the OpenID provider when one is configured (code flow
// with PKCE on the public site, refresh, RP-initiated logout), the organisation picker on the
// public site, the handoff of a session from the public site to a tenant's, sign-out, and the
// visitor's own session list ("sign out everywhere").
#pragma once

#include "core/rate_limiter.hpp"
#include "portal/page.hpp"
#include "portal/portal.hpp"
#include "storage/shared_secret.hpp"

namespace breakpilot::portal {

class AuthPages : public PageModule {
 public:
  AuthPages(const api::Services& s, const PortalOptions& options);
  std::vector<Page> Pages() override;

 private:
  // A site a user may open: a tenant's or the backstage.
  struct Target {
    std::string site_key;  // "tenant:<id>" or "backstage"
    std::string label;     // its host name's first label: the slug, or "backstage"
    std::string name;      // what the picker shows
  };
  Result<http::Response> LoginForm(http::Request& req, const Visit& v);
  Result<http::Response> Login(http::Request& req, const Visit& v);
  Result<http::Response> Choose(http::Request& req, const Visit& v);
  Result<http::Response> SsoStart(http::Request& req, const Visit& v);
  Result<http::Response> SsoCallback(http::Request& req, const Visit& v);
  Result<http::Response> Handoff(http::Request& req, const Visit& v);
  Result<http::Response> Logout(http::Request& req, const Visit& v);
  Result<http::Response> SessionList(http::Request& req, const Visit& v);
  Result<http::Response> SessionEnd(http::Request& req, const Visit& v);
  Result<http::Response> SessionEndAll(http::Request& req, const Visit& v);

  // What happens once the password is right: a session here, a handoff, or the picker.
  // `grant`: the OpenID provider's, for a single sign-on.
  http::Response SignedIn(const Visit& v, const identity::User& user, const std::string& next,
                          std::string_view user_agent, const identity::IdpGrant* grant = nullptr);
  std::vector<Target> Targets(const identity::User& user);
  // The sign-in form again, with a message (`error_key`) and status.
  http::Response FormAgain(const Visit& v, std::string_view error_key, int status,
                           const std::string& username, const std::string& next);
  http::Response HandoffTo(const Visit& v, const identity::User& user, const Target& target,
                           std::string_view user_agent, const identity::IdpGrant* grant);
  std::string TicketKey();

  api::Services services_;
  PortalOptions options_;
  RateLimiter attempts_;  // password sign-ins per client address
  storage::SharedSecretCache ticket_key_{"portal.sign_in_ticket"};
};

}  // namespace breakpilot::portal
