// The lifecycle engine's routes (M12.1, M13.3, M14.2, M3.2): trial requests, the final export's
// download, one-click unsubscribe, bounce feedback, the job queue and the test clock.
#include <boost/json.hpp>

#include "api/form.hpp"
#include "api/json_body.hpp"
#include "api/lifecycle_routes.hpp"
#include "api/representation.hpp"

namespace breakpilot::api {
namespace {

boost::json::object JobJson(const jobs::Job& j) {
  const auto opt = [](const std::optional<std::string>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  return {{"id", j.id},
          {"kind", j.kind},
          {"dedupe_key", opt(j.dedupe_key)},
          {"state", jobs::ToString(j.state)},
          {"run_at", FormatRfc3339(j.run_at)},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"last_error", opt(j.last_error)},
          {"created_at", FormatRfc3339(j.created_at)},
          {"updated_at", FormatRfc3339(j.updated_at)}};
}

// A page for a person who clicked a link in a mail: GET never changes anything (mail scanners
// follow links), the button POSTs.
http::Response ConfirmPage(std::string_view title, std::string_view text, std::string_view action,
                           std::string_view token, std::string_view button) {
  std::string html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     HtmlEscape(title) + "</title></head><body><h1>" + HtmlEscape(title) +
                     "</h1><p>" + HtmlEscape(text) + "</p><form method=\"post\" action=\"" +
                     HtmlEscape(action) + "\"><input type=\"hidden\" name=\"token\" value=\"" +
                     HtmlEscape(token) + "\"><button type=\"submit\">" + HtmlEscape(button) +
                     "</button></form></body></html>";
  auto r = Text(200, "text/html; charset=utf-8", std::move(html));
  r.headers.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'");
  r.headers.Set("Referrer-Policy", "no-referrer");
  return r;
}

// The token of a link: in the query (one-click, RFC 8058) or in a posted form (the page above).
Result<std::string> LinkToken(const http::Request& req) {
  auto q = StringQuery(req, "token");
  if (!q) return std::move(q).error();
  if (*q) return **q;
  if (req.method == "POST" && !req.body.empty()) {
    auto form = ParseForm(req);
    if (!form) return std::move(form).error();
    auto v = FormValue(*form, "token");
    if (!v) return std::move(v).error();
    if (*v) return **v;
  }
  return Malformed("missing-token", "Missing token", "the link's token is missing",
                   {{"token", "is required"}});
}

}  // namespace

LifecycleRoutes::LifecycleRoutes(const Services& s)
    : clock_(s.clock),
      db_(s.db),
      engine_(s.engine),
      mailer_(s.mailer),
      queue_(s.queue),
      test_clock_(s.test_clock),
      trials_(s.trials) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> LifecycleRoutes::TrialRequest(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  lifecycle::TrialRequestInput in;
  in.email = r.String("email", Required::kYes).value_or("");
  in.company_name = r.String("company_name", Required::kYes).value_or("");
  in.slug = r.String("slug", Required::kYes).value_or("");
  if (auto ok = r.Finish({"email", "company_name", "slug"}); !ok) return ok.error();
  auto ok = trials_.Request(caller.actor, in);
  if (!ok) {
    auto res = ProblemFor(ok.error(), req);
    if (ok.error().kind == ErrorKind::kTooManyRequests) res.headers.Set("Retry-After", "3600");
    return res;
  }
  return http::Response::Json(
      202, boost::json::serialize(boost::json::object{
               {"status", "verification_sent"},
               {"detail", "follow the link mailed to the address within 24 hours"}}));
}

Result<http::Response> LifecycleRoutes::TrialConfirmPage(http::Request& req, const Caller&) {
  auto token = LinkToken(req);
  if (!token) return token.error();
  return ConfirmPage("Start your Breakpilot trial", "Confirm to create your 14-day trial account.",
                     "/catalog/trial-request/confirm", *token, "Start my trial");
}

Result<http::Response> LifecycleRoutes::TrialConfirm(http::Request& req, const Caller& caller) {
  std::optional<std::string> token;
  if (req.headers.Get("content-type").value_or("").find("json") != std::string_view::npos) {
    auto body = ParseJsonObject(req);
    if (!body) return body.error();
    BodyReader r(*body);
    token = r.String("token", Required::kYes);
    if (auto ok = r.Finish({"token"}); !ok) return ok.error();
  } else {
    auto t = LinkToken(req);
    if (!t) return t.error();
    token = *t;
  }
  auto t = trials_.Confirm(caller.actor, *token);
  if (!t) return t.error();
  auto res = http::Response::Json(201, boost::json::serialize(ToJson(*t)));
  res.headers.Set("Location", "/tenants/" + t->id);
  return res;
}

Result<http::Response> LifecycleRoutes::ExportDownload(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto token = StringQuery(req, "token");
  if (!token) return token.error();
  auto f = engine_.Download(*id, token->value_or(""));
  if (!f) return f.error();
  auto r = Text(200, "application/zip", std::move(f->content));
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + f->filename + "\"");
  r.headers.Set("Digest", "sha-256=" + f->sha256);
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Referrer-Policy", "no-referrer");
  return r;
}

Result<http::Response> LifecycleRoutes::MailUnsubscribePage(http::Request& req, const Caller&) {
  auto token = LinkToken(req);
  if (!token) return token.error();
  return ConfirmPage("Unsubscribe", "Stop trial reminder mail to this address?",
                     "/mail/unsubscribe", *token, "Unsubscribe");
}

Result<http::Response> LifecycleRoutes::MailUnsubscribe(http::Request& req, const Caller& caller) {
  auto token = LinkToken(req);
  if (!token) return token.error();
  auto address = mailer_.Unsubscribe(caller.actor, *token);
  if (!address) return address.error();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"unsubscribed", *address}}));
}

Result<http::Response> LifecycleRoutes::MailPostmaster(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto type = r.String("type", Required::kYes).value_or("");
  const auto recipient = r.String("recipient", Required::kYes).value_or("");
  const auto detail = r.String("detail", Required::kNo).value_or("");
  if (auto ok = r.Finish({"type", "recipient", "detail"}); !ok) return ok.error();
  const auto reason = mail::ParseSuppressReason(type);
  if (!reason || *reason == mail::SuppressReason::kUnsubscribe) {
    return ValidationFailed({{"/type", "must be bounce or complaint"}});
  }
  auto address = mailer_.Suppress(caller.actor, recipient, *reason, detail);
  if (!address) return address.error();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"suppressed", *address}, {"reason", type}}));
}

Result<http::Response> LifecycleRoutes::TestClockAdvance(http::Request& req, const Caller& caller) {
  if (test_clock_ == nullptr) {
    return NotFound("test-clock-disabled", "the test clock is off (serve --enable-test-clock)");
  }
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto seconds = r.Integer("advance_seconds", Required::kYes);
  if (auto ok = r.Finish({"advance_seconds"}); !ok) return ok.error();
  auto now = test_clock_->Advance(caller.actor, seconds.value_or(0));
  if (!now) return now.error();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{
               {"now", FormatRfc3339(*now)}, {"offset_seconds", test_clock_->offset_seconds()}}));
}

Result<http::Response> LifecycleRoutes::JobList(http::Request& req, const Caller&) {
  if (auto ok = OnlyKnownQuery(req, {"state", "kind", "limit"}); !ok) return ok.error();
  jobs::JobFilter f;
  auto state = StringQuery(req, "state");
  auto kind = StringQuery(req, "kind");
  auto limit = IntQuery(req, "limit");
  if (!state) return state.error();
  if (!kind) return kind.error();
  if (!limit) return limit.error();
  if (*state) {
    f.state = jobs::ParseState(**state);
    if (!f.state) {
      return Malformed("invalid-parameter", "Invalid query parameter",
                       "state must be pending, running, done or dead",
                       {{"state", "must be pending, running, done or dead"}});
    }
  }
  f.kind = *kind;
  if (*limit) {
    if (**limit < 1 || **limit > 1000) {
      return Malformed("invalid-parameter", "Invalid query parameter",
                       "limit must be between 1 and 1000",
                       {{"limit", "must be between 1 and 1000"}});
    }
    f.limit = **limit;
  }
  boost::json::array items;
  for (const auto& j : queue_.List(f)) items.push_back(JobJson(j));
  const auto c = queue_.Counts();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)},
                                                      {"counts",
                                                       {{"pending", c.pending},
                                                        {"due", c.due},
                                                        {"running", c.running},
                                                        {"done", c.done},
                                                        {"dead", c.dead}}}}));
}

Result<http::Response> LifecycleRoutes::JobRetry(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto j = queue_.Retry(caller.actor, *id);
  if (!j) return j.error();
  return http::Response::Json(200, boost::json::serialize(JobJson(*j)));
}

Result<http::Response> LifecycleRoutes::DemoReset(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req, true);
  if (!body) return body.error();
  if (auto ok = BodyReader(*body).Finish({}); !ok) return ok.error();
  const std::string key = lifecycle::QueueDemoReset(db_, clock_, caller.actor);
  return http::Response::Json(202, boost::json::serialize(boost::json::object{{"job_key", key}}));
}

std::vector<Endpoint> LifecycleRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/catalog/trial-request",
                    .name = "trial_request",
                    .action = identity::Action::kPublic,
                    .body = {kJson},
                    .handler = Bind(this, &LifecycleRoutes::TrialRequest)});
  routes.push_back({.method = "GET",
                    .pattern = "/catalog/trial-request/confirm",
                    .name = "trial_confirm_page",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &LifecycleRoutes::TrialConfirmPage)});
  routes.push_back({.method = "POST",
                    .pattern = "/catalog/trial-request/confirm",
                    .name = "trial_confirm",
                    .action = identity::Action::kPublic,
                    .body = {kJson, kForm},
                    .handler = Bind(this, &LifecycleRoutes::TrialConfirm)});
  routes.push_back({.method = "GET",
                    .pattern = "/exports/{id}",
                    .name = "export_download",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &LifecycleRoutes::ExportDownload)});
  routes.push_back({.method = "GET",
                    .pattern = "/mail/unsubscribe",
                    .name = "mail_unsubscribe_page",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &LifecycleRoutes::MailUnsubscribePage)});
  // RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL of the header; the
  // answer is the result itself, never a redirect.
  routes.push_back({.method = "POST",
                    .pattern = "/mail/unsubscribe",
                    .name = "mail_unsubscribe",
                    .action = identity::Action::kPublic,
                    .body = {kForm},
                    .handler = Bind(this, &LifecycleRoutes::MailUnsubscribe)});
  routes.push_back({.method = "POST",
                    .pattern = "/inbound/postmaster",
                    .name = "mail_postmaster",
                    .action = identity::Action::kMailInbound,
                    .body = {kJson},
                    .handler = Bind(this, &LifecycleRoutes::MailPostmaster)});
  routes.push_back({.method = "POST",
                    .pattern = "/internal/clock",
                    .name = "test_clock_advance",
                    .action = identity::Action::kClockAdvance,
                    .body = {kJson},
                    .handler = Bind(this, &LifecycleRoutes::TestClockAdvance)});
  routes.push_back({.method = "GET",
                    .pattern = "/jobs",
                    .name = "job_list",
                    .action = identity::Action::kJobsAdmin,
                    .handler = Bind(this, &LifecycleRoutes::JobList)});
  routes.push_back({.method = "POST",
                    .pattern = "/jobs/{id}/retry",
                    .name = "job_retry",
                    .action = identity::Action::kJobsAdmin,
                    .handler = Bind(this, &LifecycleRoutes::JobRetry)});
  routes.push_back({.method = "POST",
                    .pattern = "/demo/reset",
                    .name = "demo_reset",
                    .action = identity::Action::kDemoReset,
                    .body = {kJson},
                    .handler = Bind(this, &LifecycleRoutes::DemoReset)});
  return routes;
}

}  // namespace breakpilot::api
