// OpenID Connect sign-in for the customer portal (M5.1): authorization code flow with PKCE
// (S256), state and nonce, against any OpenID provider (Keycloak in production). A successful
// sign-in becomes a portal session; the browser holds only a random token (cookie), the
// database its SHA-256. Logout ends the session here and, RP-initiated, at the provider.
//
// A sign-in is bound to the browser that began it: the PKCE code verifier lives only in that
// browser (a short-lived HttpOnly cookie), the database keeps its SHA-256. A callback that
// arrives without it (a victim made to open an attacker's callback URL) is refused.
//
//   OidcLogin login(db, clock, issuer, {.client_id = ..., .redirect_uri = ...});
//   auto begun = login.Begin("/portal");            // redirect to begun->url, set the cookie
//   auto s = login.Complete(code, state, cookie);   // at the redirect_uri
//   auto who = login.Find(session_cookie);          // on later requests
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "identity/oidc_issuer.hpp"
#include "identity/web_sessions.hpp"
#include "storage/database.hpp"

namespace breakpilot::identity {

struct OidcClientSettings {
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;              // <public_url>/portal/callback
  std::string post_logout_redirect_uri;  // <public_url>/portal
  std::chrono::seconds session_ttl{8 * 3600};
};

struct LoginStart {
  std::string url;                // the provider's authorization URL: redirect the browser there
  std::string browser_secret;     // the PKCE verifier: an HttpOnly cookie for the callback
  std::chrono::seconds lifetime;  // how long the sign-in may take (the cookie's Max-Age)
};

struct PortalSession {
  std::string token;  // the cookie value: only when just created
  std::string subject;
  boost::json::object claims;  // of the ID token: name, email, org_id, org_roles, ...
  std::string csrf_token;
  std::string return_to;
  Timestamp expires_at;
};

// A finished code exchange: the ID token verified (issuer, audience, signature, nonce).
struct IdpSignIn {
  std::string subject;
  boost::json::object claims;
  IdpGrant grant;
  std::string return_to;
};

class OidcLogin {
 public:
  OidcLogin(storage::Database& db, const Clock& clock, OidcIssuer& issuer,
            OidcClientSettings settings)
      : db_(db), clock_(clock), issuer_(issuer), settings_(std::move(settings)) {}

  // A new login. `return_to` must be /portal or a path under it (anything else becomes
  // /portal: no open redirects).
  Result<LoginStart> Begin(const std::string& return_to);
  // `browser_secret`: the cookie Begin's browser_secret went into ("" when the browser sent none).
  Result<PortalSession> Complete(const std::string& code, const std::string& state,
                                 const std::string& browser_secret, const audit::Actor& from);
  std::optional<PortalSession> Find(const std::string& token);

  // The same flow for the portal's sites, back at `redirect_uri` (the public site's
  // /login/callback); the caller decides where the user goes afterwards.
  Result<LoginStart> BeginAt(const std::string& redirect_uri);
  Result<IdpSignIn> Exchange(const std::string& code, const std::string& state,
                             const std::string& browser_secret, const std::string& redirect_uri);
  // A refresh of the grant (RFC 6749 §6). kUnauthenticated: the provider refused it (the user
  // is gone or the grant revoked: end the session); any other error: it could not be asked.
  Result<IdpGrant> Refresh(const std::string& refresh_token);
  // The provider's end-session URL for RP-initiated logout, or "" when it has none.
  std::string EndSessionUrl(const std::string& id_token, const std::string& post_logout_uri);
  // Ends the session (the caller checked its CSRF token); returns where to send the browser
  // (the provider's end-session endpoint when it has one).
  Result<std::string> Logout(const std::string& token, const audit::Actor& from);

  const OidcClientSettings& settings() const { return settings_; }
  // Sets redirect_uri and post_logout_redirect_uri under our public URL (known after listen).
  void SetPublicUrl(const std::string& url) {
    settings_.redirect_uri = url + "/portal/callback";
    settings_.post_logout_redirect_uri = url + "/portal";
  }

 private:
  storage::Database& db_;
  const Clock& clock_;
  OidcIssuer& issuer_;
  OidcClientSettings settings_;

  Result<LoginStart> Start(const std::string& return_to, const std::string& redirect_uri);
};

}  // namespace breakpilot::identity
