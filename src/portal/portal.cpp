#include "portal/portal.hpp"

#include <boost/json.hpp>

#include "api/form.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "http/problem.hpp"
#include "portal/audit_pages.hpp"
#include "portal/auth_pages.hpp"
#include "portal/backstage_pages.hpp"
#include "portal/domain_pages.hpp"
#include "portal/flag_pages.hpp"
#include "portal/integration_pages.hpp"
#include "portal/member_pages.hpp"
#include "portal/organisation_pages.hpp"
#include "portal/product_pages.hpp"
#include "portal/project_pages.hpp"
#include "portal/public_pages.hpp"
#include "portal/sales_pages.hpp"
#include "portal/staff_pages.hpp"
#include "portal/start_pages.hpp"
#include "portal/support_pages.hpp"
#include "portal/tenant_pages.hpp"

namespace breakpilot::portal {
namespace {

const Logger kLog("portal");

constexpr std::string_view kLangCookie = "bp_lang";

}  // namespace

std::string ContentSecurityPolicy(const Visit& v, const std::vector<std::string>& product_origins) {
  // A sign-in on the public site ends on a tenant's site: form-action must allow the redirect.
  std::string form_action = "'self'";
  if (v.site.kind == SiteKind::kPublic) {
    const auto at = v.origin.find("://");
    form_action += " " + v.origin.substr(0, at + 3) + "*." + v.origin.substr(at + 3);
  }
  // Sign-out of a session begun at the OpenID provider goes on to the provider's end-session
  // page (RP-initiated logout).
  if (!v.sso_origin.empty()) form_action += " " + v.sso_origin;
  std::string more;
  for (const auto& o : product_origins) more += " " + o;
  return "default-src 'none'; script-src 'self'" + more + "; style-src 'self'" + more +
         "; img-src 'self'" + more + "; connect-src 'self'" + more + "; form-action " +
         form_action + "; frame-ancestors 'none'; base-uri 'none'";
}

namespace {

void SetPageHeaders(http::Response& r, const Visit& v) {
  // A page that hosts a product's web component set its own, wider one.
  if (!r.headers.Get("content-security-policy")) {
    r.headers.Set("Content-Security-Policy", ContentSecurityPolicy(v));
  }
  // "same-origin": a token in a mailed link's address never leaves for another site, and a
  // form posted from that page still carries its Origin (under "no-referrer" it is "null").
  r.headers.Set("Referrer-Policy", "same-origin");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("X-Frame-Options", "DENY");
  r.headers.Set("Cross-Origin-Opener-Policy", "same-origin");
  if (!r.headers.Get("cache-control")) r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Content-Language", std::string(LangCode(v.lang)));
  r.headers.Set("Vary", "Cookie, Accept-Language");
}

bool IsWrite(const http::Request& req) {
  return req.method != "GET" && req.method != "HEAD";
}

// A state-changing request from another site is refused even with a valid token: the browser
// says where the form was (Origin; Sec-Fetch-Site).
bool CrossSite(const http::Request& req, const Visit& v) {
  if (auto site = req.headers.Get("sec-fetch-site")) {
    if (*site != "same-origin" && *site != "none") return true;
  }
  if (auto origin = req.headers.Get("origin")) return *origin != v.origin;
  return false;
}

int StatusOf(const Error& e) {
  return http::StatusFor(e.kind);
}

http::Response AssetResponse(const http::Request& req, const Asset& a) {
  http::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", a.content_type);
  r.headers.Set("Cache-Control", a.path.find('.') == a.path.rfind('.')
                                     ? "public, max-age=300"  // the fixed design-tokens.css
                                     : "public, max-age=31536000, immutable");
  r.headers.Set("ETag", a.etag);
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Vary", "Accept-Encoding");
  if (req.headers.Get("if-none-match").value_or("") == a.etag) {
    r.status = 304;
    return r;
  }
  const auto accept = req.headers.Get("accept-encoding").value_or("");
  if (!a.gzip.empty() && accept.find("gzip") != std::string_view::npos) {
    r.headers.Set("Content-Encoding", "gzip");
    r.body = a.gzip;
  } else {
    r.body = a.body;
  }
  if (req.method == "HEAD") r.body.clear();
  return r;
}

}  // namespace

std::string SessionCookieName(bool secure) {
  return secure ? "__Host-bp_portal" : "bp_portal";
}

std::string HttpOnlyCookie(bool secure, std::string_view name, std::string_view path,
                           std::string_view same_site, const std::string& value,
                           std::chrono::seconds max_age) {
  return std::string(name) + "=" + value + "; Path=" + std::string(path) +
         "; HttpOnly; SameSite=" + std::string(same_site) + (secure ? "; Secure" : "") +
         "; Max-Age=" + std::to_string(value.empty() ? 0 : max_age.count());
}

std::string SessionCookie(bool secure, const std::string& token, std::chrono::seconds max_age) {
  return HttpOnlyCookie(secure, SessionCookieName(secure), "/", "Lax", token, max_age);
}

http::Response SeeOther(const std::string& location) {
  auto r = http::Response::Empty(303);
  r.headers.Set("Location", location);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

identity::TenantRef RefOf(const tenants::Tenant& t) {
  return {t.id, t.kind == tenants::Kind::kDemo};
}

bool May(const Visit& v, identity::Action action) {
  std::optional<identity::TenantRef> ref;
  if (v.tenant) ref = RefOf(*v.tenant);
  return identity::Authorize(v.principal, action, ref).ok();
}

int FormStatus(const Error& e) {
  const int status = http::StatusFor(e.kind);
  return status >= 500 ? 503 : status;
}

bool MayChange(const Visit& v, identity::Action action) {
  if (!May(v, action)) return false;
  // As dispatch's status gate: staff may change a frozen tenant, its members may not.
  if (!v.tenant || !v.principal.realm_roles.empty()) return true;
  return tenants::lifecycle::Gate(*v.tenant, true, false).ok();
}

boost::json::object NoticeIf(const http::Request& req, const Visit& v, std::string_view flag,
                             std::string_view key) {
  boost::json::object o;
  if (req.QueryValue(flag)) o["notice"] = String(v.lang, key);
  return o;
}

std::string FormField(const api::Form& form, std::string_view name) {
  auto v = api::FormValue(form, name);
  return v && *v ? **v : std::string();
}

boost::json::object TimeFields(std::string_view key, const std::optional<Timestamp>& t) {
  boost::json::object o;
  if (!t) return o;
  const std::string iso = FormatRfc3339(*t);
  o[key] = iso;
  // Without JavaScript the time shows in UTC, to the minute; portal.js shows local time.
  o[std::string(key) + "_text"] = iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
  return o;
}

http::Response PageResponse(const Visit& v, std::string_view name, std::string_view title_key,
                            boost::json::object data, int status) {
  boost::json::object frame{{"lang", LangCode(v.lang)},        {"lang_en", v.lang == Lang::kEn},
                            {"lang_de", v.lang == Lang::kDe},  {"title", ""},
                            {"assets", Assets::Get().links()}, {"nav", v.nav},
                            {"has_nav", !v.nav.empty()},       {"keep_query", v.keep_query}};
  // A page named by its data (a product's page) rather than by a string of the language.
  if (!title_key.empty()) {
    frame["title"] = String(v.lang, title_key);
  } else if (const auto* n = data.if_contains("name"); n && n->is_string()) {
    frame["title"] = *n;
  }
  if (v.user && v.session) {
    frame["user"] = v.user->display_name.empty() ? v.user->username : v.user->display_name;
    frame["csrf"] = v.session->csrf_token;
  }
  if (v.tenant) {
    frame["org"] = v.tenant->name;
    if (v.trial_days_left) frame["banner_trial"] = std::to_string(*v.trial_days_left);
    frame["banner_frozen"] = v.tenant->status == tenants::Status::kFrozen;
  }
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "text/html; charset=utf-8");
  r.body = RenderPage(name, v.lang, std::move(data), frame);
  return r;
}

namespace {
constexpr std::string_view kFormCookie = "bp_form";
}  // namespace

namespace {

// `host` with this visit's scheme and port.
std::string OriginOf(const Visit& v, const std::string& host) {
  const auto at = v.origin.find("://") + 3;
  const auto colon = v.origin.find(':', at);
  return v.origin.substr(0, at) + host + (colon == std::string::npos ? "" : v.origin.substr(colon));
}

}  // namespace

std::string SiteOrigin(const Visit& v, std::string_view label) {
  return OriginOf(v, std::string(label) + "." + v.domain);
}

std::string PublicOrigin(const Visit& v) {
  return OriginOf(v, v.domain);
}

std::string FormTokenCookie(bool secure, std::string_view path, const std::string& value) {
  return HttpOnlyCookie(secure, kFormCookie, path, "Strict", value, std::chrono::hours(1));
}

FormOnce::FormOnce(storage::Database& db, const Visit& v, const api::Form& form,
                   std::string_view path, std::string_view name, Timestamp now)
    : store_(db), owner_("portal:" + v.session->id), key_(FormField(form, "form_key")) {
  if (key_.empty() || key_.size() > 64) {
    refusal_.emplace(400, "form_stale");
    return;
  }
  using Outcome = storage::IdempotencyStore::Outcome;
  const auto claim =
      store_.Reserve(owner_, key_, "POST", std::string(path), std::string(name), now);
  if (claim.outcome != Outcome::kReserved && claim.outcome != Outcome::kNoRecord) {
    refusal_.emplace(409, "form_sent_twice");
  }
  reserved_ = claim.outcome == Outcome::kReserved;
}

void FormOnce::Failed() {
  if (reserved_) store_.Release(owner_, key_);
  reserved_ = false;
}

void FormOnce::Made(const std::string& id, int status) {
  if (reserved_) store_.Complete(owner_, key_, status, id);
  reserved_ = false;
}

bool FormTokenMatches(const http::Request& req, const api::Form& form) {
  const std::string cookie = api::CookieValue(req, kFormCookie);
  return !cookie.empty() && ConstantTimeEquals(Sha256(cookie), Sha256(FormField(form, "csrf")));
}

http::Response ErrorPage(const Visit& v, int status, std::string_view detail) {
  std::string_view heading = "error", text = "error";
  if (status == 404) heading = "not_found", text = "not_found_text";
  if (status == 410) heading = "gone", text = "gone_text";
  if (status == 403) heading = "forbidden", text = "forbidden_text";
  if (status == 402) heading = "read_only", text = "frozen_banner";
  Visit bare = v;  // an error page shows no navigation into what failed
  bare.nav = {};
  auto r = PageResponse(bare, "error", heading,
                        {{"heading", String(v.lang, heading)},
                         {"text", detail.empty() ? String(v.lang, text) : detail}},
                        status);
  SetPageHeaders(r, v);
  return r;
}

Portal::Portal(const api::Services& services, PortalOptions options)
    : services_(services), options_(std::move(options)) {
  modules_.push_back(std::make_unique<PublicPages>(services_));
  modules_.push_back(std::make_unique<StartPages>(services_, options_));
  modules_.push_back(std::make_unique<TenantPages>(services_));
  modules_.push_back(std::make_unique<IntegrationPages>(services_));
  modules_.push_back(std::make_unique<ProductPages>(services_));
  modules_.push_back(std::make_unique<ProjectPages>(services_));
  modules_.push_back(std::make_unique<MemberPages>(services_));
  modules_.push_back(std::make_unique<BackstagePages>(services_));
  modules_.push_back(std::make_unique<StaffPages>(services_));
  modules_.push_back(std::make_unique<AuditPages>(services_));
  modules_.push_back(std::make_unique<OrganisationPages>(services_));
  modules_.push_back(std::make_unique<SalesPages>(services_));
  modules_.push_back(std::make_unique<SupportPages>(services_));
  modules_.push_back(std::make_unique<FlagPages>(services_));
  modules_.push_back(std::make_unique<DomainPages>(services_));
  modules_.push_back(std::make_unique<AuthPages>(services_, options_));
  for (const auto& m : modules_) {
    for (auto& p : m->Pages()) pages_.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < pages_.size(); ++i) {
    const auto& p = pages_[i];
    const auto add = [&](http::Router& router) {
      router.Add({.method = p.method,
                  .pattern = p.pattern,
                  .name = std::to_string(i),  // the page's index
                  .handler = {}});
    };
    if (p.sites & kOnPublic) add(public_router_);
    if (p.sites & kOnBackstage) add(backstage_router_);
    if (p.sites & kOnTenant) add(tenant_router_);
  }
}

Portal::~Portal() = default;

Site Portal::SiteOf(const http::Request& req) const {
  const auto host = req.headers.Get("host").value_or("");
  Site site = Classify(host, options_.domain);
  // A tenant's own verified domain is its portal (from memory: this runs on the I/O thread).
  if (site.kind == SiteKind::kApi && !options_.domain.empty()) {
    if (auto slug = services_.domains.SlugFor(HostName(host))) {
      site = Site{.kind = SiteKind::kTenant, .slug = *std::move(slug)};
    }
  }
  return site;
}

std::optional<http::Response> Portal::Handle(http::Request& req) {
  const Site site = SiteOf(req);
  if (site.kind == SiteKind::kApi || site.kind == SiteKind::kMcp) return std::nullopt;
  try {
    return Serve(req, site);
  } catch (const std::exception& e) {
    kLog.Error("page failed", {{"path", req.path}, {"error", ErrorText(e)}});
    Visit v;
    v.site = site;
    return ErrorPage(v, 500);
  }
}

boost::json::array Portal::Nav(const Visit& visit, std::string_view path) const {
  boost::json::array nav;
  if (!visit.session) return nav;
  const unsigned on = visit.site.kind == SiteKind::kTenant      ? kOnTenant
                      : visit.site.kind == SiteKind::kBackstage ? kOnBackstage
                                                                : kOnPublic;
  std::optional<identity::TenantRef> ref;
  if (visit.tenant) ref = RefOf(*visit.tenant);
  for (const auto& p : pages_) {
    if (p.nav.empty() || !(p.sites & on) || p.method != "GET") continue;
    if (p.action != identity::Action::kSession &&
        !identity::Authorize(visit.principal, p.action, ref)) {
      continue;  // a link the visitor may not use is not shown
    }
    if (p.nav_when && !p.nav_when(visit)) continue;
    nav.push_back(boost::json::object{
        {"href", p.pattern}, {"label", String(visit.lang, p.nav)}, {"current", p.pattern == path}});
  }
  return nav;
}

http::Response Portal::Serve(http::Request& req, const Site& site) {
  Visit v;
  v.site = site;
  v.secure = options_.secure;
  v.domain = options_.domain;
  const std::string host(req.headers.Get("host").value_or(""));
  v.origin = std::string(options_.secure ? "https://" : "http://") + HostName(host) +
             (host.find(':') != std::string::npos ? host.substr(host.find(':')) : "");
  v.actor = {"anonymous", req.request_id, req.remote_ip};
  // The language: ?lang= (remembered in a cookie), the cookie, or Accept-Language.
  std::optional<std::string> set_lang;
  if (auto q = req.QueryValue("lang"); q && ParseLang(*q)) set_lang = std::string(*q);
  v.lang = PickLang(set_lang ? *set_lang : api::CookieValue(req, kLangCookie),
                    req.headers.Get("accept-language").value_or(""));

  if (req.path.rfind("/assets/", 0) == 0 && (req.method == "GET" || req.method == "HEAD")) {
    if (const auto* a = Assets::Get().Find(req.path)) {
      req.route = "portal_asset";
      return AssetResponse(req, *a);
    }
    return ErrorPage(v, 404);
  }
  if (req.method == "GET") {  // for the language switch on the page
    constexpr std::size_t kMaxKept = 8, kMaxKeptValue = 1024;
    for (const auto& [name, value] : req.query) {
      if (name == "lang" || name.size() > 64 || value.size() > kMaxKeptValue) continue;
      if (v.keep_query.size() == kMaxKept) break;
      v.keep_query.push_back(boost::json::object{{"name", name}, {"value", value}});
    }
  }
  if (site.kind == SiteKind::kTenant) {
    auto t = services_.tenants.GetBySlug(site.slug);
    if (!t) return ErrorPage(v, 404);
    if (t->status == tenants::Status::kArchived) return ErrorPage(v, 410);
    v.tenant = std::move(*t);
    v.site_key = identity::TenantSite(v.tenant->id);
    if (v.tenant->status == tenants::Status::kTrial && v.tenant->trial_ends_at) {
      constexpr std::int64_t kDay = 86'400 * kMicrosPerSecond;
      const auto left = v.tenant->trial_ends_at->micros - services_.clock.Now().micros;
      v.trial_days_left = std::max<std::int64_t>(0, (left + kDay - 1) / kDay);
    }
  } else if (site.kind == SiteKind::kBackstage) {
    v.site_key = std::string(identity::kBackstageSite);
  }
  const http::Router& router = site.kind == SiteKind::kTenant      ? tenant_router_
                               : site.kind == SiteKind::kBackstage ? backstage_router_
                                                                   : public_router_;
  const auto lookup_method = req.method == "HEAD" ? std::string_view("GET") : req.method;
  http::Match m = router.Find(lookup_method, req.path);
  if (!m.route) {
    auto r = ErrorPage(v, m.allow.empty() ? 404 : 405);
    if (!m.allow.empty()) {
      std::string allow;
      for (const auto& a : m.allow) allow += (allow.empty() ? "" : ", ") + a;
      r.headers.Set("Allow", allow);
    }
    return r;
  }
  const Page& page = pages_.at(std::stoul(m.route->name));
  req.route = "page_" + page.name;
  req.route_pattern = m.route->pattern;
  req.path_params = std::move(m.params);
  auto res = Dispatch(page, req, v);
  if (set_lang) {
    res.headers.Add("Set-Cookie", std::string(kLangCookie) + "=" + *set_lang +
                                      "; Path=/; Max-Age=31536000; SameSite=Lax" +
                                      (options_.secure ? "; Secure" : ""));
  }
  SetPageHeaders(res, v);
  if (req.method == "HEAD") res.body.clear();
  return res;
}

// A session begun at the OpenID provider lasts only as long as the provider agrees: its grant is
// refreshed on the session's first request after idp_refresh, and a refusal (the user disabled
// or the grant revoked there) ends the session here. A provider that cannot be reached ends
// nothing: the refresh is tried again after idp_retry.
void Portal::KeepProviderGrant(const http::Request& req, std::string_view token, Visit& v) {
  if (services_.oidc_login == nullptr) return;
  auto refresh_token = services_.web_sessions.ClaimRefresh(*v.session, token);
  if (!refresh_token) return;
  auto grant = services_.oidc_login->Refresh(*refresh_token);
  if (grant) {
    services_.web_sessions.StoreGrant(*v.session, token, *grant);
    return;
  }
  if (grant.error().kind != ErrorKind::kUnauthenticated) {
    kLog.Warn("the OpenID provider could not refresh a portal session; tried again later",
              {{"session", v.session->id}, {"error", grant.error().detail}});
    return;
  }
  services_.web_sessions.End(
      audit::Actor{"system:oidc-refresh", req.request_id, req.remote_ip, "the OpenID provider"},
      token);
  kLog.Info("a portal session ended: the OpenID provider refused its refresh",
            {{"session", v.session->id}});
  v.session.reset();
}

http::Response Portal::Dispatch(const Page& page, http::Request& req, Visit& v) {
  if (IsWrite(req) && CrossSite(req, v)) return ErrorPage(v, 403);
  // The session of this site, its user, and the user's roles here.
  if (!v.site_key.empty()) {
    const std::string token = api::CookieValue(req, SessionCookieName(v.secure));
    v.session = services_.web_sessions.Find(token, v.site_key);
    if (v.session && v.session->idp_refresh_at) KeepProviderGrant(req, token, v);
    if (v.session && !v.session->idp_id_token.empty() && services_.oidc_issuer != nullptr) {
      v.sso_origin = services_.oidc_issuer->origin();
    }
  }
  if (v.session) {
    auto user = services_.directory.GetUser(v.session->user_id);
    if (user && !user->disabled) {
      v.user = std::move(*user);
      v.principal.subject = "user:" + v.user->id;
      v.principal.name = v.user->username;
      v.principal.realm_roles = v.user->realm_roles;
      if (v.tenant) {
        v.principal.org_id = v.tenant->id;
        for (const auto& m : v.user->memberships) {
          if (m.tenant_id == v.tenant->id) v.principal.org_roles = m.org_roles;
        }
      }
      v.actor = {v.principal.subject, req.request_id, req.remote_ip, v.user->username};
    } else {
      v.session.reset();
    }
  }
  if (page.action != identity::Action::kPublic) {
    if (!v.session) {
      if (IsWrite(req)) return ErrorPage(v, 403);
      return SeeOther("/login?next=" + std::string(req.path));
    }
    std::optional<identity::TenantRef> ref;
    if (v.tenant) ref = RefOf(*v.tenant);
    if (page.action != identity::Action::kSession) {
      if (auto ok = identity::Authorize(v.principal, page.action, ref); !ok) {
        return ErrorPage(v, StatusOf(ok.error()));
      }
    } else if (v.tenant && v.principal.org_roles.empty() &&
               !identity::Authorize(v.principal, identity::Action::kTenantRead, ref)) {
      return ErrorPage(v, 404);  // signed in here, yet no longer a member
    }
    if (IsWrite(req)) {
      // Every form that changes state carries the session's CSRF token.
      auto form = api::ParseForm(req);
      std::string token;
      if (form) {
        if (auto t = api::FormValue(*form, "csrf"); t && *t) token = **t;
      }
      if (!ConstantTimeEquals(Sha256(token), Sha256(v.session->csrf_token))) {
        return ErrorPage(v, 403);
      }
      if (page.tenant_write && v.tenant && v.principal.realm_roles.empty()) {
        if (auto ok = tenants::lifecycle::Gate(*v.tenant, true, false); !ok) {
          return ErrorPage(v, StatusOf(ok.error()));
        }
      }
    }
  }
  v.nav = Nav(v, req.path);
  auto result = page.handler(req, v);
  if (!result) {
    // A use case's refusal says what was refused ("this download link expired on …"); a 5xx
    // says nothing of our internals, a 402 or 403 the page's own words.
    const int status = StatusOf(result.error());
    const bool say = status < 500 && status != 402 && status != 403;
    return ErrorPage(v, status >= 500 ? 500 : status,
                     say ? DomainMessage(v.lang, result.error()) : "");
  }
  return std::move(result).value();
}

}  // namespace breakpilot::portal
