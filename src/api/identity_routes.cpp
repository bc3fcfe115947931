// The built-in identity over HTTP: OpenID discovery and JWKS, the OAuth 2 token endpoint,
// users and service clients (staff), and the claims endpoint a Keycloak mapper calls.
#include <boost/json.hpp>

#include "api/form.hpp"
#include "api/identity_routes.hpp"
#include "api/json_body.hpp"
#include "identity/claims.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::api {
namespace {

boost::json::object UserJson(const identity::User& u) {
  boost::json::array orgs;
  for (const auto& m : u.memberships) {
    orgs.push_back({{"tenant_id", m.tenant_id}, {"org_roles", identity::RoleNames(m.org_roles)}});
  }
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"realm_roles", identity::RoleNames(u.realm_roles)},
          {"memberships", std::move(orgs)},
          {"has_password", u.has_password},
          {"disabled", u.disabled},
          {"created_at", FormatRfc3339(u.created_at)}};
}

// RFC 6749 §5.2: the token endpoint answers errors in its own JSON shape, not problem+json,
// because OAuth clients read `error`.
http::Response OAuthError(int status, std::string_view error, std::string_view description) {
  auto r = http::Response::Json(status, boost::json::serialize(boost::json::object{
                                            {"error", error}, {"error_description", description}}));
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

http::Response OAuthErrorFor(const Error& e, bool basic_used) {
  if (e.type == "invalid-client") {
    auto r = OAuthError(401, "invalid_client", e.detail);
    if (basic_used) r.headers.Set("WWW-Authenticate", "Basic realm=\"breakpilot\"");
    return r;
  }
  if (e.kind == ErrorKind::kTooManyRequests) {
    auto r = OAuthError(429, "invalid_grant", e.detail);
    if (const auto* s = e.extensions.if_contains("retry_after")) {
      r.headers.Set("Retry-After", boost::json::serialize(*s));
    }
    return r;
  }
  if (e.kind == ErrorKind::kUnavailable)
    return OAuthError(503, "temporarily_unavailable", e.detail);
  if (e.type == "invalid-target") return OAuthError(400, "invalid_target", e.detail);  // RFC 8707
  if (e.kind == ErrorKind::kMalformed || e.type == "org-required") {
    return OAuthError(400, "invalid_request", e.detail);
  }
  return OAuthError(400, "invalid_grant", e.detail);
}

// The token endpoint's answer (RFC 6749 §5.1), or its error (§5.2).
http::Response TokenAnswer(const Result<identity::IssuedToken>& token, bool basic_used) {
  if (!token) return OAuthErrorFor(token.error(), basic_used);
  auto r = http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"access_token", token->access_token},
                                                      {"token_type", "Bearer"},
                                                      {"expires_in", token->expires_in}}));
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

}  // namespace

IdentityRoutes::IdentityRoutes(const Services& s, int password_attempts_per_minute)
    : claims_(s.claims),
      directory_(s.directory),
      issuer_(s.issuer),
      keys_(s.keys),
      password_pool_(s.password_pool),
      password_attempts_(password_attempts_per_minute, std::chrono::minutes(1)) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> IdentityRoutes::OidcDiscovery(http::Request&, const Caller&) {
  auto r = http::Response::Json(200, boost::json::serialize(issuer_.Discovery()));
  r.headers.Set("Cache-Control", "public, max-age=300");
  return r;
}

Result<http::Response> IdentityRoutes::Jwks(http::Request&, const Caller&) {
  auto r = http::Response::Json(200, keys_.state()->jwks);
  r.headers.Set("Content-Type", "application/jwk-set+json");
  r.headers.Set("Cache-Control", "public, max-age=300");
  return r;
}

Result<http::Response> IdentityRoutes::OauthToken(http::Request& req, const Caller&) {
  auto form = ParseForm(req);
  if (!form) {
    return OAuthError(400, "invalid_request", form.error().detail);
  }
  std::optional<std::string> values[7];
  const char* names[7] = {"grant_type", "username",      "password", "org_id",
                          "client_id",  "client_secret", "audience"};
  for (int i = 0; i < 7; ++i) {
    auto v = FormValue(*form, names[i]);
    if (!v) return OAuthError(400, "invalid_request", v.error().detail);
    values[i] = std::move(*v);
  }
  const auto& [grant, username, password, org, client_id, client_secret, audience] = values;
  if (!grant) return OAuthError(400, "invalid_request", "grant_type is required");
  if (*grant == "password") {
    if (!username || !password) {
      return OAuthError(400, "invalid_request", "username and password are required");
    }
    // Per client address, before any work: a storm from one address of made-up
    // usernames is refused here, whatever the per-username throttle says.
    if (auto wait = password_attempts_.Admit(req.remote_ip)) {
      Error e{
          ErrorKind::kTooManyRequests, "sign-in-throttled", "Too many sign-ins",
          "too many password sign-ins from this address; retry in " + std::to_string(*wait) + " s"};
      e.extensions["retry_after"] = *wait;
      return OAuthErrorFor(e, false);
    }
    // argon2 takes tens of milliseconds of CPU: on the password pool, not here.
    return http::Response::Defer(
        password_pool_,
        [this, username = *username, password = *password, org = org, audience = audience] {
          return TokenAnswer(issuer_.PasswordGrant(username, password, org, audience), false);
        },
        OAuthError(503, "temporarily_unavailable",
                   "too many sign-ins are being checked; retry in a second"));
  }
  if (*grant != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type",
                      "grant_type must be password or client_credentials");
  }
  auto basic = ParseBasicAuth(req);
  if (!basic) return OAuthErrorFor(basic.error(), true);
  const bool basic_used = basic->has_value();
  if (basic_used && (client_id || client_secret)) {
    return OAuthError(400, "invalid_request",
                      "authenticate the client one way: Basic or the form, not both");
  }
  const std::string id = basic_used ? (*basic)->user : client_id.value_or("");
  const std::string secret = basic_used ? (*basic)->password : client_secret.value_or("");
  if (id.empty()) return OAuthError(401, "invalid_client", "client_id is required");
  return TokenAnswer(issuer_.ClientCredentialsGrant(id, secret), basic_used);
}

Result<http::Response> IdentityRoutes::UserCreate(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  identity::NewUser in;
  in.id = r.String("id", Required::kNo);
  in.username = r.String("username", Required::kYes).value_or("");
  in.password = r.String("password", Required::kNo);
  in.display_name = r.String("display_name", Required::kNo).value_or("");
  in.realm_roles = r.Strings("realm_roles", Required::kNo).value_or(std::vector<std::string>{});
  if (const auto* ms = r.Objects("memberships", Required::kNo)) {
    for (std::size_t i = 0; i < ms->size(); ++i) {
      BodyReader m((*ms)[i].as_object());
      identity::NewMembership nm;
      nm.tenant_id = m.String("tenant_id", Required::kYes).value_or("");
      nm.org_roles = m.Strings("org_roles", Required::kYes).value_or(std::vector<std::string>{});
      if (auto ok = m.Finish({"tenant_id", "org_roles"}); !ok) {
        for (const auto& fe : ok.error().errors) {
          r.Fail("memberships/" + std::to_string(i) + fe.field, fe.message);
        }
      }
      in.memberships.push_back(std::move(nm));
    }
  }
  if (auto ok =
          r.Finish({"id", "username", "password", "display_name", "realm_roles", "memberships"});
      !ok) {
    return ok.error();
  }
  const auto create = [this, &req, actor = caller.actor, in] {
    auto u = directory_.CreateUser(actor, in);
    if (!u) return ProblemFor(u.error(), req);
    auto res = http::Response::Json(201, boost::json::serialize(UserJson(*u)));
    res.headers.Set("Location", "/users/" + u->id);
    return res;
  };
  // A password is hashed with argon2 (tens of milliseconds): on the password pool.
  if (in.password) {
    return http::Response::Defer(
        password_pool_, create,
        ProblemFor(Error{ErrorKind::kUnavailable, "server-busy", "Server busy",
                         "too many passwords are being hashed; retry in a second"},
                   req));
  }
  return create();
}

Result<http::Response> IdentityRoutes::UserGet(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "user_id");
  if (!id) return id.error();
  auto u = directory_.GetUser(*id);
  if (!u) return u.error();
  return http::Response::Json(200, boost::json::serialize(UserJson(*u)));
}

Result<http::Response> IdentityRoutes::UserList(http::Request& req, const Caller&) {
  if (auto ok = OnlyKnownQuery(req, {"q", "cursor", "limit"}); !ok) return ok.error();
  auto q = StringQuery(req, "q");
  if (!q) return q.error();
  auto cursor = StringQuery(req, "cursor");
  if (!cursor) return cursor.error();
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  const int n = limit->value_or(50);
  if (n < 1 || n > tenants::kMaxPageSize || q->value_or("").size() > 200 ||
      cursor->value_or("").size() > 128) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     "limit is 1 to 200, q at most 200 characters, cursor a username");
  }
  auto page = directory_.ListUsers(q->value_or(""), cursor->value_or(""), n);
  boost::json::array items;
  for (const auto& u : page.items) items.push_back(UserJson(u));
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{
               {"items", std::move(items)},
               {"next_cursor", page.next_after ? boost::json::value(*page.next_after) : nullptr}}));
}

Result<http::Response> IdentityRoutes::ServiceClientList(http::Request& req, const Caller&) {
  if (auto ok = OnlyKnownQuery(req, {}); !ok) return ok.error();
  boost::json::array items;
  for (const auto& c : directory_.ListClients()) {
    items.push_back({{"client_id", c.client_id},
                     {"realm_roles", identity::RoleNames(c.realm_roles)},
                     {"disabled", c.disabled},
                     {"created_at", FormatRfc3339(c.created_at)}});
  }
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> IdentityRoutes::ServiceClientCreate(http::Request& req,
                                                           const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto id = r.String("client_id", Required::kYes).value_or("");
  const auto roles = r.Strings("realm_roles", Required::kNo).value_or(std::vector<std::string>{});
  if (auto ok = r.Finish({"client_id", "realm_roles"}); !ok) return ok.error();
  auto c = directory_.CreateClient(caller.actor, id, roles);
  if (!c) return c.error();
  auto res =
      http::Response::Json(201, boost::json::serialize(boost::json::object{
                                    {"client_id", std::string_view(c->client.client_id)},
                                    {"client_secret", std::string_view(c->secret)},
                                    {"realm_roles", identity::RoleNames(c->client.realm_roles)}}));
  return res;
}

Result<http::Response> IdentityRoutes::Claims(http::Request& req, const Caller&) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto user = r.String("user_id", Required::kYes).value_or("");
  const auto org = r.String("org_id", Required::kYes).value_or("");
  const auto extra = r.Strings("realm_roles", Required::kNo).value_or(std::vector<std::string>{});
  if (auto ok = r.Finish({"user_id", "org_id", "realm_roles"}); !ok) return ok.error();
  std::vector<identity::Role> realm;
  for (const auto& n : extra) {
    if (auto role = identity::ParseRole(n); role && identity::IsRealmRole(*role)) {
      realm.push_back(*role);
    }
  }
  auto json = claims_.JsonFor(user, org, realm);
  if (!json) return json.error();
  return http::Response::Json(200, std::move(*json));
}

std::vector<Endpoint> IdentityRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/.well-known/openid-configuration",
                    .name = "oidc_discovery",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &IdentityRoutes::OidcDiscovery)});
  routes.push_back({.method = "GET",
                    .pattern = "/.well-known/jwks.json",
                    .name = "jwks",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &IdentityRoutes::Jwks)});
  routes.push_back(
      {.method = "POST",
       .pattern = "/oauth/token",
       .name = "oauth_token",
       .action = identity::Action::kPublic,
       .body = {kForm},
       // RFC 6749 §5.2: the token endpoint's every error is OAuth's JSON, a body in another
       // media type too.
       .refusal = [](const Error& e) { return OAuthError(400, "invalid_request", e.detail); },
       .handler = Bind(this, &IdentityRoutes::OauthToken)});
  routes.push_back({.method = "POST",
                    .pattern = "/users",
                    .name = "user_create",
                    .action = identity::Action::kUserWrite,
                    .secrets = {"password"},
                    .body = {kJson},
                    .handler = Bind(this, &IdentityRoutes::UserCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/users",
                    .name = "user_list",
                    .action = identity::Action::kUserRead,
                    .handler = Bind(this, &IdentityRoutes::UserList)});
  routes.push_back({.method = "GET",
                    .pattern = "/service-clients",
                    .name = "service_client_list",
                    .action = identity::Action::kUserRead,
                    .handler = Bind(this, &IdentityRoutes::ServiceClientList)});
  routes.push_back({.method = "GET",
                    .pattern = "/users/{user_id}",
                    .name = "user_get",
                    .action = identity::Action::kUserRead,
                    .handler = Bind(this, &IdentityRoutes::UserGet)});
  routes.push_back({.method = "POST",
                    .pattern = "/service-clients",
                    .name = "service_client_create",
                    .action = identity::Action::kUserWrite,
                    .secrets = {"client_secret"},
                    .body = {kJson},
                    .handler = Bind(this, &IdentityRoutes::ServiceClientCreate)});
  routes.push_back({.method = "POST",
                    .pattern = "/internal/claims",
                    .name = "claims",
                    .action = identity::Action::kClaimsRead,
                    .memory_first = true,
                    .body = {kJson},
                    .handler = Bind(this, &IdentityRoutes::Claims)});
  return routes;
}

}  // namespace breakpilot::api
