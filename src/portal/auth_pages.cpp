#include "portal/auth_pages.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "api/form.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"

namespace breakpilot::portal {
namespace {

// The sign-in forms' own CSRF token (FormTokenCookie), for the paths under /login.
const Logger kLog("portal");
constexpr std::string_view kLoginPath = "/login";
constexpr std::string_view kTicketPurpose = "portal-sign-in-ticket";
constexpr auto kTicketLifetime = std::chrono::seconds(300);
constexpr std::size_t kMaxUsername = 254;
constexpr std::size_t kMaxPassword = 1024;

std::string LoginCookie(bool secure, const std::string& value) {
  return FormTokenCookie(secure, kLoginPath, value);
}

// Single sign-on: the PKCE verifier lives in the browser that began (for the callback only), and
// while the organisation picker is open, the provider's grant too, sealed under the ticket key.
constexpr std::string_view kSsoCookie = "bp_sso";
constexpr std::string_view kSsoCallbackPath = "/login/callback";
constexpr std::string_view kGrantCookie = "bp_sso_grant";
constexpr std::string_view kGrantPurpose = "portal-sso-grant";
constexpr std::size_t kMaxCookie = 3800;  // what every browser keeps of one cookie, with room

// Where to go after signing in: a path of this site, nothing else (no open redirect).
std::string SafeNext(std::string_view next) {
  const bool ok =
      !next.empty() && next.size() <= 512 && next.front() == '/' &&
      next.find("//") == std::string_view::npos && next.find('\\') == std::string_view::npos &&
      std::all_of(next.begin(), next.end(),
                  [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>'; });
  return ok ? std::string(next) : std::string();
}

bool IsStaff(const identity::User& u) {
  return std::any_of(u.realm_roles.begin(), u.realm_roles.end(), [](identity::Role r) {
    // A sales rep works on the demo tenant's site and sees their leads on the backstage.
    return r == identity::Role::kBreakpilotAdmin || r == identity::Role::kSupportEngineer ||
           r == identity::Role::kSalesRep;
  });
}

bool HasRole(const identity::User& u, identity::Role role) {
  return std::find(u.realm_roles.begin(), u.realm_roles.end(), role) != u.realm_roles.end();
}

}  // namespace

AuthPages::AuthPages(const api::Services& s, const PortalOptions& options)
    : services_(s),
      options_(options),
      attempts_(options.logins_per_minute, std::chrono::minutes(1)) {}

std::string AuthPages::TicketKey() {
  return ticket_key_.Get(services_.db, services_.clock.Now());
}

http::Response AuthPages::FormAgain(const Visit& v, std::string_view error_key, int status,
                                    const std::string& username, const std::string& next) {
  const std::string token = RandomToken(24);
  boost::json::object data{{"login_csrf", token}, {"username", username}, {"next", next}};
  if (services_.oidc_login != nullptr) data["sso"] = PublicOrigin(v) + "/login/sso";
  if (!error_key.empty()) data["error"] = String(v.lang, error_key);
  auto r = PageResponse(v, "login", "sign_in", std::move(data), status);
  r.headers.Add("Set-Cookie", LoginCookie(v.secure, token));
  return r;
}

Result<http::Response> AuthPages::LoginForm(http::Request& req, const Visit& v) {
  if (v.session) return SeeOther(v.tenant ? "/dashboard" : "/");
  return FormAgain(v, "", 200, "", SafeNext(req.QueryValue("next").value_or("")));
}

std::vector<AuthPages::Target> AuthPages::Targets(const identity::User& user) {
  std::vector<Target> out;
  for (const auto& m : user.memberships) {
    auto t = services_.tenants.Get(m.tenant_id);
    if (!t || t->status == tenants::Status::kArchived) continue;
    out.push_back({identity::TenantSite(t->id), t->slug, t->name});
  }
  if (HasRole(user, identity::Role::kSalesRep)) {
    if (auto demo = services_.tenants.GetBySlug("demo")) {
      const auto site = identity::TenantSite(demo->id);
      if (std::none_of(out.begin(), out.end(),
                       [&](const Target& x) { return x.site_key == site; })) {
        out.push_back({site, demo->slug, demo->name});
      }
    }
  }
  if (IsStaff(user))
    out.push_back({std::string(identity::kBackstageSite), "backstage", "Backstage"});
  return out;
}

http::Response AuthPages::HandoffTo(const Visit& v, const identity::User& user,
                                    const Target& target, std::string_view user_agent,
                                    const identity::IdpGrant* grant) {
  const auto code = services_.web_sessions.CreateForHandoff(
      audit::Actor{"user:" + user.id, v.actor.request_id, v.actor.source_ip, user.username},
      user.id, target.site_key, user_agent, grant);
  auto r = SeeOther(SiteOrigin(v, target.label) + "/auth/handoff?code=" + code);
  r.headers.Add("Set-Cookie", LoginCookie(v.secure, ""));
  return r;
}

http::Response AuthPages::SignedIn(const Visit& v, const identity::User& user,
                                   const std::string& next, std::string_view user_agent,
                                   const identity::IdpGrant* grant) {
  const audit::Actor actor{"user:" + user.id, v.actor.request_id, v.actor.source_ip, user.username};
  if (v.site.kind != SiteKind::kPublic) {
    // Signing in on a tenant's site or the backstage: only if the user may be here.
    bool may = false;
    if (v.tenant) {
      identity::Principal p{.realm_roles = user.realm_roles};
      for (const auto& m : user.memberships) {
        if (m.tenant_id == v.tenant->id) may = true;
      }
      may = may || identity::Authorize(p, identity::Action::kTenantRead, RefOf(*v.tenant)).ok();
    } else {
      may = IsStaff(user);
    }
    if (!may) return FormAgain(v, "sign_in_no_access", 403, user.username, next);
    auto s = services_.web_sessions.Create(actor, user.id, v.site_key, user_agent);
    auto r = SeeOther(next.empty() ? (v.tenant ? "/dashboard" : "/") : next);
    r.headers.Add("Set-Cookie",
                  SessionCookie(v.secure, s.token, services_.web_sessions.settings().absolute));
    r.headers.Add("Set-Cookie", LoginCookie(v.secure, ""));
    return r;
  }
  const auto targets = Targets(user);
  if (targets.empty()) return FormAgain(v, "sign_in_no_access", 403, user.username, next);
  if (targets.size() == 1) return HandoffTo(v, user, targets.front(), user_agent, grant);
  // Several: the picker, with a signed ticket that names the user for a few minutes.
  const std::string login_csrf = RandomToken(24);
  const auto expires = services_.clock.Now().micros / kMicrosPerSecond + kTicketLifetime.count();
  const std::string ticket =
      SignToken(TicketKey(), kTicketPurpose, user.id + "|" + std::to_string(expires));
  boost::json::array choices;
  for (const auto& t : targets) {
    choices.push_back(boost::json::object{
        {"site", t.site_key}, {"name", t.name}, {"ticket", ticket}, {"login_csrf", login_csrf}});
  }
  auto r = PageResponse(v, "choose", "choose_org", {{"choices", std::move(choices)}});
  r.headers.Add("Set-Cookie", LoginCookie(v.secure, login_csrf));
  if (grant != nullptr) {
    // Kept in the browser until the choice, sealed: the picker's form never shows it. An ID
    // token too large to keep is left out (sign-out then ends the session here only).
    const auto seal = [&](const std::string& id_token) {
      return Seal(
          TicketKey(), kGrantPurpose,
          boost::json::serialize(boost::json::object{
              {"user", user.id}, {"id_token", id_token}, {"refresh_token", grant->refresh_token}}));
    };
    std::string sealed = seal(grant->id_token);
    if (sealed.size() > kMaxCookie) sealed = seal("");
    if (sealed.size() <= kMaxCookie) {
      r.headers.Add("Set-Cookie", HttpOnlyCookie(v.secure, kGrantCookie, kLoginPath, "Strict",
                                                 sealed, kTicketLifetime));
    }
  }
  return r;
}

Result<http::Response> AuthPages::Login(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return FormAgain(v, "sign_in_failed", 400, "", "");
  const std::string username = FormField(*form, "username");
  const std::string password = FormField(*form, "password");
  const std::string next = SafeNext(FormField(*form, "next"));
  const std::string shown = username.substr(0, kMaxUsername);
  if (!FormTokenMatches(req, *form)) {
    return FormAgain(v, "error", 403, shown, next);  // a stale or forged form: a fresh one
  }
  if (username.empty() || password.empty() || username.size() > kMaxUsername ||
      password.size() > kMaxPassword) {
    return FormAgain(v, "sign_in_failed", 400, shown, next);
  }
  if (attempts_.Admit(req.remote_ip)) return FormAgain(v, "sign_in_throttled", 429, shown, next);
  std::string user_agent(req.headers.Get("user-agent").value_or(""));
  // argon2 takes tens of milliseconds of CPU: on the password pool, not here.
  auto busy = FormAgain(v, "sign_in_throttled", 503, shown, next);
  return http::Response::Defer(
      services_.password_pool,
      [this, v, username, password, next, shown, user_agent] {
        auto user = services_.directory.CheckPassword(username, password);
        if (!user) {
          const bool throttled = user.error().kind == ErrorKind::kTooManyRequests;
          return FormAgain(v, throttled ? "sign_in_throttled" : "sign_in_failed",
                           throttled ? 429 : 401, shown, next);
        }
        return SignedIn(v, *user, next, user_agent);
      },
      std::move(busy));
}

Result<http::Response> AuthPages::Choose(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return FormAgain(v, "error", 400, "", "");
  if (!FormTokenMatches(req, *form)) return FormAgain(v, "error", 403, "", "");
  std::string payload;
  if (!VerifySignedToken(TicketKey(), kTicketPurpose, FormField(*form, "ticket"), payload)) {
    return FormAgain(v, "error", 403, "", "");
  }
  const auto bar = payload.find('|');
  const auto expires = bar == std::string::npos ? 0 : std::atoll(payload.c_str() + bar + 1);
  if (expires < services_.clock.Now().micros / kMicrosPerSecond) {
    return FormAgain(v, "error", 403, "", "");
  }
  auto user = services_.directory.GetUser(payload.substr(0, bar));
  if (!user || user->disabled) return FormAgain(v, "sign_in_no_access", 403, "", "");
  const std::string site = FormField(*form, "site");
  // A single sign-on brings the provider's grant along (for this user only).
  std::optional<identity::IdpGrant> grant;
  std::string opened;
  if (Unseal(TicketKey(), kGrantPurpose, api::CookieValue(req, kGrantCookie), opened)) {
    boost::system::error_code ec;
    const auto j = boost::json::parse(opened, ec);
    if (!ec && j.is_object() && j.as_object().contains("user") &&
        j.at("user").as_string() == user->id) {
      grant = identity::IdpGrant{.id_token = std::string(j.at("id_token").as_string()),
                                 .refresh_token = std::string(j.at("refresh_token").as_string())};
    }
  }
  for (const auto& t : Targets(*user)) {
    if (t.site_key == site) {
      auto r = HandoffTo(v, *user, t, req.headers.Get("user-agent").value_or(""),
                         grant ? &*grant : nullptr);
      r.headers.Add("Set-Cookie",
                    HttpOnlyCookie(v.secure, kGrantCookie, kLoginPath, "Strict", "", {}));
      return r;
    }
  }
  return FormAgain(v, "sign_in_no_access", 403, user->username, "");
}

// Single sign-on begins on the public site: the browser goes to the provider with PKCE, state
// and nonce, and comes back to /login/callback there.
Result<http::Response> AuthPages::SsoStart(http::Request& req, const Visit& v) {
  if (services_.oidc_login == nullptr) return ErrorPage(v, 404);
  if (attempts_.Admit(req.remote_ip)) return FormAgain(v, "sign_in_throttled", 429, "", "");
  auto begun = services_.oidc_login->BeginAt(PublicOrigin(v) + std::string(kSsoCallbackPath));
  if (!begun) {
    kLog.Warn("single sign-on could not begin", {{"error", begun.error().detail}});
    return FormAgain(v, "sign_in_sso_unavailable", 503, "", "");
  }
  auto r = SeeOther(begun->url);
  r.headers.Add("Set-Cookie", HttpOnlyCookie(v.secure, kSsoCookie, kSsoCallbackPath, "Lax",
                                             begun->browser_secret, begun->lifetime));
  return r;
}

// The provider sends the browser back here with a code: the ID token names the user by its
// subject, which is a user's id in the directory (users who sign in at the provider are created
// with it). A subject the directory does not know gets no session: an admin adds the user first.
Result<http::Response> AuthPages::SsoCallback(http::Request& req, const Visit& v) {
  if (services_.oidc_login == nullptr) return ErrorPage(v, 404);
  auto failed = [&](std::string_view key, int status) {
    auto r = FormAgain(v, key, status, "", "");
    r.headers.Add("Set-Cookie",
                  HttpOnlyCookie(v.secure, kSsoCookie, kSsoCallbackPath, "Lax", "", {}));
    return r;
  };
  if (req.QueryValue("error")) return failed("sign_in_sso_failed", 401);  // refused there
  auto in = services_.oidc_login->Exchange(std::string(req.QueryValue("code").value_or("")),
                                           std::string(req.QueryValue("state").value_or("")),
                                           api::CookieValue(req, kSsoCookie),
                                           PublicOrigin(v) + std::string(kSsoCallbackPath));
  if (!in) {
    kLog.Info("single sign-on refused", {{"error", in.error().detail}});
    return failed(in.error().kind == ErrorKind::kUnauthenticated ? "sign_in_sso_failed"
                                                                 : "sign_in_sso_unavailable",
                  in.error().kind == ErrorKind::kUnauthenticated ? 401 : 503);
  }
  if (!IsCanonicalUuid(in->subject)) return failed("sign_in_sso_no_account", 403);
  auto user = services_.directory.GetUser(NormalizeUuid(in->subject));
  if (!user || user->disabled) return failed("sign_in_sso_no_account", 403);
  auto r = SignedIn(v, *user, "", req.headers.Get("user-agent").value_or(""), &in->grant);
  r.headers.Add("Set-Cookie",
                HttpOnlyCookie(v.secure, kSsoCookie, kSsoCallbackPath, "Lax", "", {}));
  return r;
}

Result<http::Response> AuthPages::Handoff(http::Request& req, const Visit& v) {
  auto s = services_.web_sessions.TakeHandoff(req.QueryValue("code").value_or(""), v.site_key);
  if (!s) return FormAgain(v, "error", 403, "", "");
  auto r = SeeOther(v.tenant ? "/dashboard" : "/");
  r.headers.Add("Set-Cookie",
                SessionCookie(v.secure, s->token, services_.web_sessions.settings().absolute));
  return r;
}

Result<http::Response> AuthPages::Logout(http::Request& req, const Visit& v) {
  services_.web_sessions.End(v.actor, api::CookieValue(req, SessionCookieName(v.secure)));
  // A session begun at the provider ends there too (RP-initiated logout), which then sends the
  // browser to the public site's sign-in.
  std::string to = "/login";
  if (services_.oidc_login != nullptr && v.session && !v.session->idp_id_token.empty()) {
    auto url =
        services_.oidc_login->EndSessionUrl(v.session->idp_id_token, PublicOrigin(v) + "/login");
    if (!url.empty()) to = std::move(url);
  }
  auto r = SeeOther(to);
  r.headers.Add("Set-Cookie", SessionCookie(v.secure, "", {}));
  return r;
}

Result<http::Response> AuthPages::SessionList(http::Request&, const Visit& v) {
  boost::json::array rows;
  for (const auto& s : services_.web_sessions.ListForUser(v.user->id)) {
    boost::json::object row{{"id", s.id},
                            {"user_agent", s.user_agent},
                            {"current", s.id == v.session->id},
                            {"csrf", v.session->csrf_token}};
    for (auto& [k, x] : TimeFields("created", s.created_at)) row[k] = x;
    rows.push_back(std::move(row));
  }
  return PageResponse(v, "sessions", "sessions", {{"sessions", std::move(rows)}});
}

Result<http::Response> AuthPages::SessionEnd(http::Request& req, const Visit& v) {
  services_.web_sessions.EndById(v.actor, v.user->id,
                                 std::string(req.Param("session_id").value_or("")));
  return SeeOther("/settings/sessions");
}

Result<http::Response> AuthPages::SessionEndAll(http::Request&, const Visit& v) {
  services_.web_sessions.EndAllForUser(v.actor, v.user->id);
  auto r = SeeOther("/login");
  r.headers.Add("Set-Cookie", SessionCookie(v.secure, "", {}));
  return r;
}

std::vector<Page> AuthPages::Pages() {
  constexpr unsigned kEverySite = kOnPublic | kOnBackstage | kOnTenant;
  constexpr unsigned kSignedInSites = kOnBackstage | kOnTenant;
  using A = identity::Action;
  return {
      {.method = "GET",
       .pattern = "/login",
       .name = "login_form",
       .sites = kEverySite,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::LoginForm)},
      {.method = "POST",
       .pattern = "/login",
       .name = "login",
       .sites = kEverySite,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::Login)},
      {.method = "POST",
       .pattern = "/login/choose",
       .name = "login_choose",
       .sites = kOnPublic,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::Choose)},
      {.method = "GET",
       .pattern = "/login/sso",
       .name = "login_sso",
       .sites = kOnPublic,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::SsoStart)},
      {.method = "GET",
       .pattern = "/login/callback",
       .name = "login_callback",
       .sites = kOnPublic,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::SsoCallback)},
      {.method = "GET",
       .pattern = "/auth/handoff",
       .name = "handoff",
       .sites = kSignedInSites,
       .action = A::kPublic,
       .handler = Bind(this, &AuthPages::Handoff)},
      {.method = "POST",
       .pattern = "/logout",
       .name = "logout",
       .sites = kSignedInSites,
       .action = A::kSession,
       .handler = Bind(this, &AuthPages::Logout)},
      {.method = "GET",
       .pattern = "/settings/sessions",
       .name = "sessions",
       .sites = kSignedInSites,
       .action = A::kSession,
       .nav = "sessions",
       .handler = Bind(this, &AuthPages::SessionList)},
      {.method = "POST",
       .pattern = "/settings/sessions/{session_id}/end",
       .name = "session_end",
       .sites = kSignedInSites,
       .action = A::kSession,
       .handler = Bind(this, &AuthPages::SessionEnd)},
      {.method = "POST",
       .pattern = "/settings/sessions/end-all",
       .name = "sessions_end_all",
       .sites = kSignedInSites,
       .action = A::kSession,
       .handler = Bind(this, &AuthPages::SessionEndAll)},
  };
}

}  // namespace breakpilot::portal
