#include "api/api.hpp"

#include <boost/json.hpp>

#include "api/api_key_routes.hpp"
#include "api/audit_routes.hpp"
#include "api/backoffice_routes.hpp"
#include "api/billing_routes.hpp"
#include "api/domain_routes.hpp"
#include "api/flag_routes.hpp"
#include "api/form.hpp"
#include "api/idempotency.hpp"
#include "api/identity_routes.hpp"
#include "api/isolation_routes.hpp"
#include "api/json_body.hpp"
#include "api/lifecycle_routes.hpp"
#include "api/mcp_routes.hpp"
#include "api/member_routes.hpp"
#include "api/portal_routes.hpp"
#include "api/product_routes.hpp"
#include "api/project_routes.hpp"
#include "api/sales_routes.hpp"
#include "api/support_routes.hpp"
#include "api/system_routes.hpp"
#include "api/tenant_routes.hpp"
#include "api/usage_routes.hpp"
#include "api/webhook_routes.hpp"
#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/memory_only.hpp"
#include "core/uuid.hpp"
#include "http/problem.hpp"

namespace breakpilot::api {
namespace {

const Logger kAccessLog("access");

}  // namespace

Api::Api(ApiOptions options, Services services)
    : options_(std::move(options)), services_(std::move(services)) {
  const std::string store =
      services_.db.dialect() == storage::Dialect::kSqlite ? "sqlite" : "postgresql";
  metrics_.AddCollector([store](std::string& out) {
    out += "# HELP breakpilot_build_info The running build; always 1.\n";
    out += "# TYPE breakpilot_build_info gauge\n";
    out += "breakpilot_build_info{version=\"" BREAKPILOT_VERSION "\",store=\"" + store + "\"} 1\n";
  });
  modules_.push_back(std::make_unique<SystemRoutes>(services_, metrics_, options_.docs_dir));
  modules_.push_back(std::make_unique<TenantRoutes>(services_));
  modules_.push_back(std::make_unique<ProjectRoutes>(services_));
  modules_.push_back(std::make_unique<ProductRoutes>(services_));
  modules_.push_back(
      std::make_unique<IdentityRoutes>(services_, options_.password_attempts_per_minute));
  modules_.push_back(std::make_unique<ApiKeyRoutes>(services_));
  modules_.push_back(std::make_unique<PortalRoutes>(services_, options_.portal_logins_per_minute));
  modules_.push_back(std::make_unique<AuditRoutes>(services_));
  modules_.push_back(std::make_unique<LifecycleRoutes>(services_));
  modules_.push_back(std::make_unique<SalesRoutes>(services_));
  modules_.push_back(std::make_unique<UsageRoutes>(services_));
  modules_.push_back(std::make_unique<WebhookRoutes>(services_));
  modules_.push_back(std::make_unique<BillingRoutes>(services_));
  modules_.push_back(std::make_unique<BackofficeRoutes>(services_));
  modules_.push_back(std::make_unique<SupportRoutes>(services_));
  modules_.push_back(std::make_unique<FlagRoutes>(services_));
  modules_.push_back(std::make_unique<DomainRoutes>(services_));
  modules_.push_back(std::make_unique<IsolationRoutes>(services_));
  modules_.push_back(std::make_unique<McpRoutes>(services_));
  modules_.push_back(std::make_unique<MemberRoutes>(services_));
  for (const auto& module : modules_) {
    for (auto& endpoint : module->Routes()) Add(std::move(endpoint));
  }
  metrics_.AddCollector([this](std::string& out) {
    out +=
        "# HELP breakpilot_http_inline_total Requests to memory-first routes tried on the I/O "
        "thread: answered there, or declined to the blocking pool (a cache miss).\n";
    out += "# TYPE breakpilot_http_inline_total counter\n";
    out += "breakpilot_http_inline_total{outcome=\"answered\"} " +
           std::to_string(inline_answered_.load()) + "\n";
    out += "breakpilot_http_inline_total{outcome=\"declined\"} " +
           std::to_string(inline_declined_.load()) + "\n";
  });
}

Api::~Api() = default;

namespace {

// A handler's result as an answer: its Error as problem+json (the one place errors become
// answers; http/problem.cpp chooses the status).
http::Response Answer(Result<http::Response> result, const http::Request& req) {
  if (!result) return ProblemFor(result.error(), req);
  return std::move(result).value();
}

void SetNoSniff(http::Response& res) {
  res.headers.Set("X-Content-Type-Options", "nosniff");
}

http::Response WithNoSniff(http::Response res) {
  SetNoSniff(res);
  return res;
}

}  // namespace

http::Response Api::Handle(http::Request& req) {
  http::Response res = Route(req);
  res.Finally(SetNoSniff);
  return res;
}

std::optional<http::Response> Api::HandleInline(http::Request& req) {
  http::Match m = router_.Find(req.method, req.path);
  if (!m.route) return std::nullopt;
  // SQLite: a read is local and takes microseconds, cheaper here than a thread hop; writes go
  // to the pool, to be committed together.
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (options_.inline_reads ? !read && !m.route->memory_first : !m.route->memory_first) {
    return std::nullopt;
  }
  req.route = m.route->name;
  req.route_pattern = m.route->pattern;
  req.path_params = std::move(m.params);
  if (options_.inline_reads) {
    http::Response res = m.route->handler(req);
    res.Finally(SetNoSniff);
    return res;
  }
  try {
    MemoryOnly scope;
    http::Response res = WithNoSniff(m.route->handler(req));
    inline_answered_.fetch_add(1, std::memory_order_relaxed);
    return res;
  } catch (const WouldBlock&) {
    inline_declined_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;  // Handle routes it again, on the pool
  }
}

void Api::Add(Endpoint endpoint) {
  if (!endpoint.action) {
    throw std::logic_error("route " + endpoint.name + " declares no permission");
  }
  if (!endpoint.body.empty()) {
    endpoint.handler = [accepts = endpoint.body, refusal = endpoint.refusal,
                        handler = std::move(endpoint.handler)](
                           http::Request& req, const Caller& caller) -> Result<http::Response> {
      if (auto ok = CheckMediaType(req, accepts); !ok) {
        if (refusal) return refusal(ok.error());
        return ok.error();
      }
      return handler(req, caller);
    };
  }
  const std::size_t index = endpoints_.size();
  router_.Add(
      {.method = endpoint.method,
       .pattern = endpoint.pattern,
       .name = endpoint.name,
       .handler = [this, index](http::Request& req) { return Dispatch(endpoints_[index], req); },
       .memory_first = endpoint.memory_first});
  endpoints_.push_back(std::move(endpoint));
}

Result<identity::Principal> Api::Authenticate(const http::Request& req) {
  const auto unauthenticated = [](std::string detail) {
    return Error{ErrorKind::kUnauthenticated, "unauthenticated", "Authentication required",
                 std::move(detail)};
  };
  const auto h = req.headers.Get("authorization");
  if (!h) return unauthenticated("send a bearer token as 'Authorization: Bearer <token>'");
  if (req.headers.Count("authorization") != 1) {
    return unauthenticated("send exactly one Authorization header");
  }
  // Bearer, and the two forms Retraced's clients send ("token=<t>", "Token token=<t>").
  const auto strip = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (h->size() <= prefix.size() || !AsciiIStartsWith(*h, prefix)) return std::nullopt;
    return h->substr(prefix.size());
  };
  auto token = strip("bearer ");
  if (!token) token = strip("token=");
  if (!token) token = strip("token token=");
  if (!token) return unauthenticated("the Authorization scheme must be Bearer");
  if (!identity::LooksLikeApiKey(*token)) return services_.auth.Authenticate(*token);
  // An API key with a platform scope (audit:write) is a credential of its tenant.
  auto v = services_.api_keys.Verify(*token);
  if (!v.valid) return unauthenticated("the API key is " + v.reason);
  identity::Principal p{.subject = "apikey:" + v.key_id, .name = "apikey:" + v.key_id};
  p.org_id = v.tenant_id;
  for (const auto& scope : v.scopes) {
    if (identity::ScopeAction(scope)) p.scopes.push_back(scope);
  }
  if (p.scopes.empty()) {
    return unauthenticated("the API key has no platform scope (such as audit:write)");
  }
  return p;
}

http::Response Api::Dispatch(const Endpoint& endpoint, http::Request& req) {
  if (*endpoint.action == identity::Action::kPublic) {
    // No principal yet; the request id and address still go into any audit event.
    const Caller anonymous{.principal = {.subject = "anonymous"},
                           .actor = {"anonymous", req.request_id, req.remote_ip}};
    return Answer(endpoint.handler(req, anonymous), req);
  }
  if (*endpoint.action == identity::Action::kSession) return DispatchSession(endpoint, req);
  auto principal = Authenticate(req);
  if (!principal) {
    auto r = ProblemFor(principal.error(), req);
    r.headers.Set("WWW-Authenticate", "Bearer realm=\"breakpilot\"");
    return r;
  }
  Caller caller{.principal = std::move(*principal)};
  caller.actor =
      audit::Actor{caller.principal.subject, req.request_id, req.remote_ip, caller.principal.name};
  Result<Ok> allowed = Ok{};
  if (endpoint.tenant == TenantFrom::kPathId) {
    auto id = UuidParam(req, "id");
    if (!id) return ProblemFor(id.error(), req);
    allowed = CheckTenant(services_.tenants, caller, *endpoint.action, *id);
    // The status gate: whoever acts as the tenant itself meets its lifecycle status (staff keep
    // reaching a frozen or archived tenant, to help, reactivate and audit it).
    if (allowed && caller.principal.realm_roles.empty()) {
      if (auto t = services_.tenants.Get(*id)) {
        const bool write = req.method != "GET" && req.method != "HEAD";
        allowed = tenants::lifecycle::Gate(*t, write, endpoint.gate == Gate::kLiftsFreeze);
      }
    }
  } else {
    allowed = identity::Authorize(caller.principal, *endpoint.action, std::nullopt);
  }
  http::Response res;
  if (!allowed) {
    res = ProblemFor(allowed.error(), req);
  } else if (req.method == "POST") {
    const auto run = [&] { return Answer(endpoint.handler(req, caller), req); };
    // By reference: a std::function holds a reference_wrapper without allocating.
    res = WithIdempotency(services_.db, services_.clock, req, caller.principal.subject,
                          endpoint.secrets, std::cref(run));
  } else {
    res = Answer(endpoint.handler(req, caller), req);
  }
  // Answers to authenticated requests carry tenant data: no shared cache may keep them.
  res.Finally([](http::Response& r) { r.headers.Set("Cache-Control", "no-store"); });
  return res;
}

// A route opened by the portal session cookie: the session is found here, once, and a route
// that changes state also needs the session's CSRF token.
http::Response Api::DispatchSession(const Endpoint& endpoint, http::Request& req) {
  Caller caller{.principal = {.subject = "anonymous"},
                .actor = {"anonymous", req.request_id, req.remote_ip}};
  if (services_.oidc_login)
    caller.session = services_.oidc_login->Find(CookieValue(req, kSessionCookie));
  if (!caller.session) {
    return http::Problem(401, "no-session", "Not signed in", "sign in at /portal/login first",
                         req.path);
  }
  caller.principal.subject = caller.session->subject;
  caller.actor.id = caller.session->subject;
  if (endpoint.csrf) {
    std::string csrf(req.headers.Get("x-csrf-token").value_or(""));
    if (csrf.empty()) {
      auto form = ParseForm(req);
      if (!form) return ProblemFor(form.error(), req);
      auto v = FormValue(*form, "csrf");
      if (!v) return ProblemFor(v.error(), req);
      csrf = v->value_or("");
    }
    if (!ConstantTimeEquals(Sha256(csrf), Sha256(caller.session->csrf_token))) {
      return http::Problem(403, "csrf-mismatch", "Forbidden",
                           "the CSRF token does not match this session", req.path);
    }
  }
  auto res = Answer(endpoint.handler(req, caller), req);
  res.Finally([](http::Response& r) { r.headers.Set("Cache-Control", "no-store"); });
  return res;
}

http::Response Api::Route(http::Request& req) {
  const http::Match m = router_.Find(req.method, req.path);
  if (!m.route) {
    if (!m.allow.empty()) {
      std::string allow;
      for (const auto& a : m.allow) allow += (allow.empty() ? "" : ", ") + a;
      auto r = http::Problem(405, "method-not-allowed", "Method not allowed",
                             req.method + " is not allowed on " + req.path + "; allowed: " + allow,
                             req.path);
      r.headers.Set("Allow", allow);
      return r;
    }
    return http::Problem(404, "not-found", "Not found", "no resource at " + req.path, req.path);
  }
  req.route = m.route->name;
  req.route_pattern = m.route->pattern;
  req.path_params = m.params;
  return m.route->handler(req);
}

void Api::Observe(const http::Exchange& x) {
  metrics_.Observe(x.request->route, x.request->method, x.response->status, x.seconds);
  if (!options_.access_log || !Logger::Enabled(LogLevel::kInfo)) return;
  boost::json::object f;
  f["method"] = x.request->method;
  f["path"] = x.request->path;
  f["route"] = x.request->route;
  f["status"] = x.response->status;
  f["duration_us"] = static_cast<std::int64_t>(x.seconds * 1e6);
  f["bytes"] = x.bytes;
  f["remote"] = x.request->remote_ip;
  f["request_id"] = x.request->request_id;
  if (!x.request->traceparent.empty()) f["trace_id"] = x.request->traceparent.substr(3, 32);
  kAccessLog.Info("request", f);
}

}  // namespace breakpilot::api
