// What a portal page is: like an API route (api/module.hpp), a named handler with its method,
// path template, the sites it lives on and the action it needs from the same permission table
// (identity/permissions.hpp). The portal's dispatch (portal.cpp) finds the tenant, the
// session, the user and their roles on this site, checks the action, the status gate, the
// Origin and the CSRF token, then calls the handler with a `Visit`.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/form.hpp"
#include "api/module.hpp"
#include "identity/web_sessions.hpp"
#include "portal/site.hpp"
#include "portal/view.hpp"
#include "storage/idempotency_store.hpp"

namespace breakpilot::portal {

// Everything dispatch learnt about the request before the handler runs.
struct Visit {
  Site site;
  std::string site_key;                         // the session's site: "tenant:<id>" or "backstage"
  std::optional<tenants::Tenant> tenant;        // on a tenant's site
  std::optional<std::int64_t> trial_days_left;  // a tenant on trial: for the banner
  std::optional<identity::WebSession> session;
  std::optional<identity::User> user;
  identity::Principal principal;  // the user's roles on this site
  audit::Actor actor;
  Lang lang = Lang::kEn;
  std::string origin;  // "http://acme.localhost:8080": this site's own origin
  std::string domain;  // the portal's domain D ("localhost")
  // The OpenID provider's origin, when the session began there: sign-out goes on to it.
  std::string sso_origin;
  bool secure = false;
  // The query of this GET but the language: the language switch (a GET form) sends it along,
  // so a page opened by a link with a token stays open in the other language.
  boost::json::array keep_query;
  boost::json::array nav;  // the pages of this site the visitor may open, for the layout
};

using PageHandler = std::function<Result<http::Response>(http::Request&, const Visit&)>;

// The sites a page lives on.
inline constexpr unsigned kOnPublic = 1U << 0U;
inline constexpr unsigned kOnBackstage = 1U << 1U;
inline constexpr unsigned kOnTenant = 1U << 2U;

// A page's action: kPublic needs no sign-in, kSession any signed-in user; any other comes from
// the permission table, exactly as the API route that does the same.
struct Page {
  std::string method;
  std::string pattern;
  std::string name;
  unsigned sites = 0;
  identity::Action action = identity::Action::kPublic;
  // Changes state as the tenant: meets the status gate (a frozen tenant is read-only).
  bool tenant_write = false;
  // Shown in the navigation, when the visitor may open it: the string key of its label.
  std::string nav;
  // When set, the navigation shows the link only where this is also true (a page that serves
  // some tenants only: /projects for a product that uses projects). The page itself still
  // opens by its permission and says why it is empty.
  std::function<bool(const Visit&)> nav_when;
  PageHandler handler;
};

// What the pages of one area share; each area is a class with its pages as data.
class PageModule {
 public:
  PageModule() = default;
  PageModule(const PageModule&) = delete;
  PageModule& operator=(const PageModule&) = delete;
  virtual ~PageModule() = default;
  virtual std::vector<Page> Pages() = 0;

 protected:
  template <class M>
  static PageHandler Bind(M* self,
                          Result<http::Response> (M::*handler)(http::Request&, const Visit&)) {
    return [self, handler](http::Request& req, const Visit& v) { return (self->*handler)(req, v); };
  }
};

// Helpers the page modules share (portal.cpp).

// A whole page: `name`'s template in the layout, with the navigation, the user and the
// strings of the visitor's language (an empty `title_key`: the data's "name" is the title).
// `status`: 200, or a form's 4xx.
http::Response PageResponse(const Visit& v, std::string_view name, std::string_view title_key,
                            boost::json::object data, int status = 200);
// The portal's Content-Security-Policy for this visit: only our origin, and the origins of a
// product whose web component the page hosts (scripts, styles, images, connections).
std::string ContentSecurityPolicy(const Visit& v,
                                  const std::vector<std::string>& product_origins = {});
// A 303 to `location` (after a form, the browser's next GET).
http::Response SeeOther(const std::string& location);
// The origin of the site `label`.D as the browser reached this one, with its scheme and port
// ("http://acme.localhost:8080" from any site at port 8080): where a link to another of the
// portal's sites goes.
std::string SiteOrigin(const Visit& v, std::string_view label);
// The origin of the public site D as the browser reached this one ("http://localhost:8080").
std::string PublicOrigin(const Visit& v);
// The session cookie's name: __Host-bp_portal over https, bp_portal otherwise.
std::string SessionCookieName(bool secure);
// Set-Cookie for the session (an empty token: the cookie removed).
std::string SessionCookie(bool secure, const std::string& token, std::chrono::seconds max_age);
// Set-Cookie for one of the portal's HttpOnly cookies: `value` for `max_age` (an empty value
// removes it), Secure over https.
std::string HttpOnlyCookie(bool secure, std::string_view name, std::string_view path,
                           std::string_view same_site, const std::string& value,
                           std::chrono::seconds max_age);
// The permission table's view of a tenant: its id, and whether it is the demo tenant.
identity::TenantRef RefOf(const tenants::Tenant& t);
// True when the visitor may do `action` on this site's tenant (on the backstage: on none).
bool May(const Visit& v, identity::Action action);
// May, and the tenant's status lets the visitor change it now (a frozen tenant is read-only to
// its members): whether to show a form that changes state.
bool MayChange(const Visit& v, identity::Action action);
// {"notice": the string `key`} when the query has `flag` (set by the redirect after a form),
// else nothing: what a page says after its form did its work.
boost::json::object NoticeIf(const http::Request& req, const Visit& v, std::string_view flag,
                             std::string_view key);
// A form shown before there is a session (sign-in, /start) carries its own CSRF token: a random
// value both in the form and in a cookie for `path` (HttpOnly, SameSite=Strict) that must match
// (a site that cannot read our cookie cannot forge the form). FormTokenCookie is the Set-Cookie
// for `value` (RandomToken(24)); an empty value removes the cookie.
std::string FormTokenCookie(bool secure, std::string_view path, const std::string& value);
bool FormTokenMatches(const http::Request& req, const api::Form& form);
// A form field's value; empty when absent (the use case says whether that is wrong).
std::string FormField(const api::Form& form, std::string_view name);
// The status of a form's page after a use case refused: its own 4xx, a 503 for a 5xx (the
// page says what went wrong; retrying may work).
int FormStatus(const Error& e);
// A form whose answer shows a secret once is sent once: its one-time `form_key` (a hidden
// field, RandomToken(18) when the form is drawn) is recorded with what it made, so a double
// click or a reload of the answer makes nothing twice.
//   FormOnce once(services.db, v, form, "/settings/api-keys", "api_key_create", now);
//   if (auto no = once.Refusal()) return Page(v, {{"error", String(v.lang, no->second)}},
//   no->first);
//   ... made ? once.Made(id, 201) : once.Failed();
class FormOnce {
 public:
  FormOnce(storage::Database& db, const Visit& v, const api::Form& form, std::string_view path,
           std::string_view name, Timestamp now);
  // Why the form may not go on, as a status and a string key (form_stale, form_sent_twice).
  const std::optional<std::pair<int, std::string>>& Refusal() const { return refusal_; }
  // The use case refused: the same form may be sent again, corrected.
  void Failed();
  // The use case made `id`: the key is spent.
  void Made(const std::string& id, int status);

 private:
  storage::IdempotencyStore store_;
  std::string owner_, key_;
  bool reserved_ = false;
  std::optional<std::pair<int, std::string>> refusal_;
};

// A date-time for <time datetime>: RFC 3339, and the server's rendering in UTC for no-JS.
boost::json::object TimeFields(std::string_view key, const std::optional<Timestamp>& t);

}  // namespace breakpilot::portal
