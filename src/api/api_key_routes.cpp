// /api-keys (M15.1): create, list, rotate, revoke; and POST /internal/api-keys/verify for
// products, which answers from the cache of identity::ApiKeyService.
#include <boost/json.hpp>

#include <array>

#include "api/api_key_routes.hpp"
#include "api/json_body.hpp"
#include "api/representation.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {
namespace {

boost::json::value OptionalTime(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return boost::json::value(FormatRfc3339(*t));
}

boost::json::array Strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

boost::json::object KeyJson(const identity::ApiKey& k) {
  return {{"id", k.id},
          {"tenant_id", k.tenant_id},
          {"name", k.name},
          {"prefix", k.prefix},
          {"scopes", Strings(k.scopes)},
          {"expires_at", OptionalTime(k.expires_at)},
          {"revoked_at", OptionalTime(k.revoked_at)},
          {"last_used_at", OptionalTime(k.last_used_at)},
          {"replaced_by", k.replaced_by ? boost::json::value(*k.replaced_by) : nullptr},
          {"created_at", FormatRfc3339(k.created_at)}};
}

http::Response NewKeyResponse(const identity::NewApiKey& k) {
  auto o = KeyJson(k.key);
  o["secret"] = k.secret;
  auto r = http::Response::Json(201, boost::json::serialize(o));
  r.headers.Set("Location", "/api-keys/" + k.key.id);
  return r;
}

}  // namespace

ApiKeyRoutes::ApiKeyRoutes(const Services& s) : api_keys_(s.api_keys), tenants_(s.tenants) {}

// Loads a key and checks the caller reaches its tenant; a key out of reach is "not found".
Result<identity::ApiKey> ApiKeyRoutes::ReachableKey(const http::Request& req, const Caller& caller,
                                                    identity::Action action) {
  auto id = UuidParam(req, "key_id");
  if (!id) return std::move(id).error();
  auto k = api_keys_.Get(*id);
  if (!k) return k;
  if (auto ok = CheckTenant(tenants_, caller, action, k->tenant_id); !ok) {
    if (ok.error().kind == ErrorKind::kNotFound)
      return NotFound("api-key-not-found", "no API key with id " + *id);
    return ok.error();
  }
  return k;
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> ApiKeyRoutes::ApiKeyCreate(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  identity::CreateApiKeyInput in;
  in.tenant_id = r.String("tenant_id", Required::kYes).value_or("");
  in.name = r.String("name", Required::kYes).value_or("");
  in.scopes = r.Strings("scopes", Required::kYes, 32).value_or(std::vector<std::string>{});
  in.expires_at = r.String("expires_at", Required::kNo);
  if (auto ok = r.Finish({"tenant_id", "name", "scopes", "expires_at"}); !ok) {
    return ok.error();
  }
  if (IsCanonicalUuid(in.tenant_id)) {
    if (auto ok = CheckTenant(tenants_, caller, identity::Action::kApiKeyWrite,
                              NormalizeUuid(in.tenant_id));
        !ok) {
      return ok.error();
    }
  }
  auto k = api_keys_.Create(caller.actor, in);
  if (!k) return k.error();
  return NewKeyResponse(*k);
}

Result<http::Response> ApiKeyRoutes::ApiKeyList(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(req, {"tenant_id", "cursor", "limit"}); !ok) {
    return ok.error();
  }
  auto tenant = StringQuery(req, "tenant_id");
  if (!tenant) return tenant.error();
  if (!*tenant || !IsCanonicalUuid(**tenant)) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     "tenant_id must be given, as a UUID",
                     {{"tenant_id", "is required and must be a UUID"}});
  }
  const std::string tenant_id = NormalizeUuid(**tenant);
  if (auto ok = CheckTenant(tenants_, caller, identity::Action::kApiKeyRead, tenant_id); !ok) {
    return ok.error();
  }
  auto cursor = StringQuery(req, "cursor");
  if (!cursor) return cursor.error();
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  auto page = api_keys_.List(tenant_id, *cursor, *limit);
  if (!page) return page.error();
  boost::json::array items;
  for (const auto& k : page->items) items.push_back(KeyJson(k));
  return http::Response::Json(
      200,
      boost::json::serialize(boost::json::object{
          {"items", std::move(items)},
          {"next_cursor", page->next_cursor ? boost::json::value(*page->next_cursor) : nullptr}}));
}

Result<http::Response> ApiKeyRoutes::ApiKeyRotate(http::Request& req, const Caller& caller) {
  auto k = ReachableKey(req, caller, identity::Action::kApiKeyWrite);
  if (!k) return k.error();
  auto body = ParseJsonObject(req, true);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto grace =
      r.Integer("grace_seconds", Required::kNo).value_or(identity::kDefaultRotationGraceSeconds);
  if (auto ok = r.Finish({"grace_seconds"}); !ok) return ok.error();
  auto next = api_keys_.Rotate(caller.actor, k->id, grace);
  if (!next) return next.error();
  return NewKeyResponse(*next);
}

Result<http::Response> ApiKeyRoutes::ApiKeyRevoke(http::Request& req, const Caller& caller) {
  auto k = ReachableKey(req, caller, identity::Action::kApiKeyWrite);
  if (!k) return k.error();
  auto done = api_keys_.Revoke(caller.actor, k->id);
  if (!done) return done.error();
  return http::Response::Empty(204);
}

Result<http::Response> ApiKeyRoutes::ApiKeyVerify(http::Request& req, const Caller&) {
  // Parsed into a buffer on the stack: this route is called per product request, and a
  // heap allocation per value shows in its cost.
  std::array<unsigned char, 1024> scratch;
  boost::json::monotonic_resource arena(scratch.data(), scratch.size());
  auto body = ParseJsonObject(req, false, false, &arena);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto key = r.String("key", Required::kYes);
  if (auto ok = r.Finish({"key"}); !ok) return ok.error();
  return http::Response::Json(200, api_keys_.VerifyJson(*key));
}

std::vector<Endpoint> ApiKeyRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/api-keys",
                    .name = "api_key_create",
                    .action = identity::Action::kApiKeyWrite,
                    .secrets = {"secret"},
                    .body = {kJson},
                    .handler = Bind(this, &ApiKeyRoutes::ApiKeyCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/api-keys",
                    .name = "api_key_list",
                    .action = identity::Action::kApiKeyRead,
                    .handler = Bind(this, &ApiKeyRoutes::ApiKeyList)});
  routes.push_back({.method = "POST",
                    .pattern = "/api-keys/{key_id}/rotate",
                    .name = "api_key_rotate",
                    .action = identity::Action::kApiKeyWrite,
                    .secrets = {"secret"},
                    .body = {kJson},
                    .handler = Bind(this, &ApiKeyRoutes::ApiKeyRotate)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/api-keys/{key_id}",
                    .name = "api_key_revoke",
                    .action = identity::Action::kApiKeyWrite,
                    .handler = Bind(this, &ApiKeyRoutes::ApiKeyRevoke)});
  routes.push_back({.method = "POST",
                    .pattern = "/internal/api-keys/verify",
                    .name = "api_key_verify",
                    .action = identity::Action::kApiKeyVerify,
                    .memory_first = true,
                    .body = {kJson},
                    .handler = Bind(this, &ApiKeyRoutes::ApiKeyVerify)});
  return routes;
}

}  // namespace breakpilot::api
