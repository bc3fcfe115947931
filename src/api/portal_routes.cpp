// The customer portal's sign-in (M5.1): /portal/login sends the browser to the OpenID provider,
// /portal/callback turns its answer into a session cookie, /portal/me says who is signed in,
// /portal/logout ends the session here and at the provider. The pages themselves come later;
// GET /portal is a minimal page to sign in and out.
#include <boost/json.hpp>

#include "api/form.hpp"
#include "api/portal_routes.hpp"
#include "core/json.hpp"

namespace breakpilot::api {
namespace {

constexpr std::string_view kCookie = kSessionCookie;
// The sign-in's PKCE verifier, only for the callback; it binds the callback to this browser.
constexpr std::string_view kLoginCookie = "bp_login";

std::string CookieAttributes(bool secure) {
  return std::string("; Path=/; HttpOnly; SameSite=Lax") + (secure ? "; Secure" : "");
}

http::Response Redirect(int status, const std::string& location) {
  auto r = http::Response::Empty(status);
  r.headers.Set("Location", location);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

// Portal sign-in is off until an OpenID provider and a client are configured.
Error SignInNotConfigured() {
  return {ErrorKind::kNotFound, "portal-sign-in-not-configured", "Not found",
          "portal sign-in needs oidc_issuer, oidc_client_id and oidc_client_secret"};
}

}  // namespace

PortalRoutes::PortalRoutes(const Services& s, int logins_per_minute)
    : issuer_(s.issuer),
      oidc_issuer_(s.oidc_issuer),
      oidc_login_(s.oidc_login),
      portal_logins_(logins_per_minute, std::chrono::minutes(1)) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> PortalRoutes::PortalMe(http::Request&, const Caller& caller) {
  const auto& s = *caller.session;  // dispatch found it, or answered 401
  boost::json::object o{{"subject", s.subject},
                        {"name", StringMember(s.claims, "name")},
                        {"email", StringMember(s.claims, "email")},
                        {"csrf_token", s.csrf_token},
                        {"expires_at", FormatRfc3339(s.expires_at)}};
  if (const auto* org = s.claims.if_contains("org_id")) o["org_id"] = *org;
  if (const auto* roles = s.claims.if_contains("org_roles")) o["org_roles"] = *roles;
  return http::Response::Json(200, boost::json::serialize(o));
}

Result<http::Response> PortalRoutes::PortalHome(http::Request& req, const Caller&) {
  auto s = oidc_login_ ? oidc_login_->Find(CookieValue(req, kCookie)) : std::nullopt;
  std::string body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Breakpilot portal</title></head><body><main>";
  if (s) {
    const auto name = StringMember(s->claims, "name");
    body += "<p>Signed in as <b id=\"who\">" + HtmlEscape(name.empty() ? s->subject : name) +
            "</b>.</p><form method=\"post\" action=\"/portal/logout\">"
            "<input type=\"hidden\" name=\"csrf\" value=\"" +
            HtmlEscape(s->csrf_token) + "\"><button type=\"submit\">Sign out</button></form>";
  } else {
    body += "<p><a id=\"sign-in\" href=\"/portal/login\">Sign in</a></p>";
  }
  body += "</main></body></html>";
  http::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "text/html; charset=utf-8");
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Content-Security-Policy",
                "default-src 'self'; form-action 'self' " +
                    (oidc_issuer_ ? oidc_issuer_->issuer() : std::string()));
  r.headers.Set("X-Frame-Options", "DENY");
  r.body = std::move(body);
  return r;
}

bool PortalRoutes::SecureCookies() const {
  return issuer_.settings().issuer.rfind("https://", 0) == 0;
}

Result<http::Response> PortalRoutes::PortalLogin(http::Request& req, const Caller&) {
  if (!oidc_login_) return SignInNotConfigured();
  auto to = StringQuery(req, "return_to");
  if (!to) return to.error();
  // Each sign-in writes a row until it finishes or expires: one address may begin only so many
  // a minute.
  if (auto wait = portal_logins_.Admit(req.remote_ip)) {
    Error e{ErrorKind::kTooManyRequests, "too-many-sign-ins", "Too many sign-ins",
            "too many sign-ins begun from this address; retry in " + std::to_string(*wait) + " s"};
    e.extensions["retry_after"] = *wait;
    return e;
  }
  auto begun = oidc_login_->Begin(to->value_or("/portal"));
  if (!begun) return begun.error();
  auto r = Redirect(302, begun->url);
  r.headers.Set("Set-Cookie", std::string(kLoginCookie) + "=" + begun->browser_secret +
                                  "; Path=/portal/callback; HttpOnly; SameSite=Lax" +
                                  (SecureCookies() ? "; Secure" : "") +
                                  "; Max-Age=" + std::to_string(begun->lifetime.count()));
  return r;
}

Result<http::Response> PortalRoutes::PortalCallback(http::Request& req, const Caller& caller) {
  if (!oidc_login_) return SignInNotConfigured();
  if (auto err = req.QueryValue("error")) {
    return Error{ErrorKind::kUnauthenticated, "sign-in-failed", "Sign-in failed",
                 "the provider answered " + std::string(*err)};
  }
  const auto code = req.QueryValue("code").value_or("");
  const auto state = req.QueryValue("state").value_or("");
  auto session = oidc_login_->Complete(std::string(code), std::string(state),
                                       CookieValue(req, kLoginCookie), caller.actor);
  if (!session) return session.error();
  const bool secure = SecureCookies();
  auto r = Redirect(302, session->return_to);
  r.headers.Set("Set-Cookie",
                std::string(kCookie) + "=" + session->token + CookieAttributes(secure) +
                    "; Max-Age=" + std::to_string(oidc_login_->settings().session_ttl.count()));
  r.headers.Add("Set-Cookie", std::string(kLoginCookie) +
                                  "=; Path=/portal/callback; HttpOnly; SameSite=Lax" +
                                  (secure ? "; Secure" : "") + "; Max-Age=0");
  return r;
}

Result<http::Response> PortalRoutes::PortalLogout(http::Request& req, const Caller& caller) {
  auto where = oidc_login_->Logout(CookieValue(req, kCookie), caller.actor);
  if (!where) return where.error();
  auto r = Redirect(303, *where);
  r.headers.Set("Set-Cookie",
                std::string(kCookie) + "=" + CookieAttributes(SecureCookies()) + "; Max-Age=0");
  return r;
}

std::vector<Endpoint> PortalRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/portal/login",
                    .name = "portal_login",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &PortalRoutes::PortalLogin)});
  routes.push_back({.method = "GET",
                    .pattern = "/portal/callback",
                    .name = "portal_callback",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &PortalRoutes::PortalCallback)});
  routes.push_back({.method = "GET",
                    .pattern = "/portal/me",
                    .name = "portal_me",
                    .action = identity::Action::kSession,
                    .handler = Bind(this, &PortalRoutes::PortalMe)});
  routes.push_back({.method = "POST",
                    .pattern = "/portal/logout",
                    .name = "portal_logout",
                    .action = identity::Action::kSession,
                    .csrf = true,
                    .body = {kForm},
                    .handler = Bind(this, &PortalRoutes::PortalLogout)});
  routes.push_back({.method = "GET",
                    .pattern = "/portal",
                    .name = "portal_home",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &PortalRoutes::PortalHome)});
  return routes;
}

}  // namespace breakpilot::api
