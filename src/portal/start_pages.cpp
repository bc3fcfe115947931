#include "portal/start_pages.hpp"

#include <boost/json.hpp>

#include "core/crypto.hpp"
#include "http/problem.hpp"
#include "identity/directory.hpp"

namespace breakpilot::portal {
namespace {

// The forms' own CSRF token (FormTokenCookie), for the paths under /start.
constexpr std::string_view kStartPath = "/start";
constexpr std::size_t kMaxField = 254;  // the longest a mail address may be
constexpr std::size_t kMaxToken = 128;

std::string Cut(const std::string& s) {
  return s.substr(0, kMaxField);
}

}  // namespace

http::Response StartPages::RequestForm(const Visit& v, boost::json::object data, int status) {
  const std::string csrf = RandomToken(24);
  data["form_csrf"] = csrf;
  data["domain"] = options_.domain;
  auto r = PageResponse(v, "start", "start_title", std::move(data), status);
  r.headers.Add("Set-Cookie", FormTokenCookie(v.secure, kStartPath, csrf));
  return r;
}

Result<http::Response> StartPages::Form(http::Request& req, const Visit& v) {
  return RequestForm(v, NoticeIf(req, v, "sent", "start_sent"), 200);
}

Result<http::Response> StartPages::Request(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return RequestForm(v, {{"error", form.error().detail}}, 400);
  boost::json::object typed{{"company_name", Cut(FormField(*form, "company_name"))},
                            {"slug", Cut(FormField(*form, "slug"))},
                            {"email", Cut(FormField(*form, "email"))}};
  if (!FormTokenMatches(req, *form)) {
    typed["error"] = String(v.lang, "form_stale");
    return RequestForm(v, std::move(typed), 403);
  }
  // The mailed link opens /start/confirm on this site: its address from the configured public
  // URL, never from the request's Host header (which a client chooses).
  const std::string confirm_url =
      SiteUrl(services_.mailer.public_url(), options_.domain, "") + "/start/confirm";
  auto ok = services_.trials.Request(v.actor, {.email = FormField(*form, "email"),
                                               .company_name = FormField(*form, "company_name"),
                                               .slug = FormField(*form, "slug"),
                                               .confirm_url = confirm_url});
  if (!ok) {
    typed["error"] = DomainMessage(v.lang, ok.error());
    return RequestForm(v, std::move(typed), FormStatus(ok.error()));
  }
  auto r = SeeOther("/start?sent=1");
  r.headers.Add("Set-Cookie", FormTokenCookie(v.secure, kStartPath, ""));
  return r;
}

http::Response StartPages::ConfirmPage(const Visit& v, const std::string& token,
                                       std::string_view error, int status) {
  auto pending = services_.trials.Find(token);
  if (!pending) {
    // The link is unknown, used or expired: say which, and offer the way on.
    const int code = http::StatusFor(pending.error().kind);
    return PageResponse(v, "start_confirm", "start_confirm_title",
                        {{"refused", DomainMessage(v.lang, pending.error())}},
                        code >= 500 ? 503 : code);
  }
  const bool has_account = services_.directory.GetUserByName(pending->email).ok();
  const std::string csrf = RandomToken(24);
  boost::json::object data{
      {"company_name", pending->company_name},
      {"slug", pending->slug},
      {"email", pending->email},
      {"address", SiteUrl(services_.mailer.public_url(), options_.domain, pending->slug)},
      {"token", token},
      {"new_account", !has_account},
      {"form_csrf", csrf}};
  if (!error.empty()) data["error"] = error;
  auto r = PageResponse(v, "start_confirm", "start_confirm_title", std::move(data), status);
  r.headers.Add("Set-Cookie", FormTokenCookie(v.secure, kStartPath, csrf));
  return r;
}

Result<http::Response> StartPages::ConfirmForm(http::Request& req, const Visit& v) {
  // GET changes nothing: mail scanners follow links. The button posts.
  return ConfirmPage(v, std::string(req.QueryValue("token").value_or("").substr(0, kMaxToken)), "",
                     200);
}

Result<http::Response> StartPages::Confirm(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return ConfirmPage(v, "", form.error().detail, 400);
  const std::string token = FormField(*form, "token").substr(0, kMaxToken);
  if (!FormTokenMatches(req, *form)) {
    return ConfirmPage(v, token, String(v.lang, "form_stale"), 403);
  }
  auto pending = services_.trials.Find(token);
  if (!pending) return ConfirmPage(v, token, "", 200);  // the page says why
  // Everything that could still refuse is checked before the tenant exists, so a refusal leaves
  // nothing behind: the address must be a user name, the password long enough and typed twice.
  auto existing = services_.directory.GetUserByName(pending->email);
  const std::string password = FormField(*form, "password");
  if (auto bad = identity::ValidateUsername(pending->email); bad && !existing) {
    return ConfirmPage(v, token, String(v.lang, "start_bad_address"), 422);
  }
  if (!existing) {
    if (password.size() < identity::kMinPasswordLength ||
        password.size() > identity::kMaxPasswordLength) {
      return ConfirmPage(v, token, String(v.lang, "start_password_length"), 422);
    }
    if (password != FormField(*form, "password_again")) {
      return ConfirmPage(v, token, String(v.lang, "start_password_mismatch"), 422);
    }
  }
  auto tenant = services_.trials.Confirm(v.actor, token);
  if (!tenant) return ConfirmPage(v, token, DomainMessage(v.lang, tenant.error()), 409);
  const identity::NewMembership owner{.tenant_id = tenant->id, .org_roles = {"IT_ADMIN"}};
  const std::string site_url =
      SiteUrl(services_.mailer.public_url(), options_.domain, tenant->slug);
  if (existing) {
    // Their own password signs them in; the link proved the address, not the password.
    auto added = services_.directory.AddMembership(v.actor, existing->id, owner);
    if (!added) return ConfirmPage(v, token, DomainMessage(v.lang, added.error()), 409);
    auto r = SeeOther(site_url + "/login?next=/dashboard");
    r.headers.Add("Set-Cookie", FormTokenCookie(v.secure, kStartPath, ""));
    return r;
  }
  auto user = services_.directory.CreateUser(
      v.actor, {.username = pending->email, .password = password, .memberships = {owner}});
  if (!user) return ConfirmPage(v, token, DomainMessage(v.lang, user.error()), 409);
  // Signed in on the new tenant's site at once: the same single-use handoff as the sign-in.
  const auto code = services_.web_sessions.CreateForHandoff(
      audit::Actor{"user:" + user->id, v.actor.request_id, v.actor.source_ip, user->username},
      user->id, identity::TenantSite(tenant->id), req.headers.Get("user-agent").value_or(""));
  auto r = SeeOther(SiteOrigin(v, tenant->slug) + "/auth/handoff?code=" + code);
  r.headers.Add("Set-Cookie", FormTokenCookie(v.secure, kStartPath, ""));
  return r;
}

std::vector<Page> StartPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/start",
           .name = "start",
           .sites = kOnPublic,
           .action = A::kPublic,
           .handler = Bind(this, &StartPages::Form)},
          {.method = "POST",
           .pattern = "/start",
           .name = "start_request",
           .sites = kOnPublic,
           .action = A::kPublic,
           .handler = Bind(this, &StartPages::Request)},
          {.method = "GET",
           .pattern = "/start/confirm",
           .name = "start_confirm_form",
           .sites = kOnPublic,
           .action = A::kPublic,
           .handler = Bind(this, &StartPages::ConfirmForm)},
          {.method = "POST",
           .pattern = "/start/confirm",
           .name = "start_confirm",
           .sites = kOnPublic,
           .action = A::kPublic,
           .handler = Bind(this, &StartPages::Confirm)}};
}

}  // namespace breakpilot::portal
