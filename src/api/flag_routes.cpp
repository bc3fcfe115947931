#include "api/flag_routes.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "api/json_body.hpp"
#include "api/representation.hpp"
#include "core/crypto.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

http::Response FlagResponse(int status, const flags::Flag& f) {
  auto r = http::Response::Json(status, json::serialize(flags::ToJson(f)));
  r.headers.Set("ETag", ETagFor(f.version));
  return r;
}

// An OFREP failure: {"key"?, "errorCode", "errorDetails"} with the status the spec names.
http::Response OfrepError(int status, std::string_view key, std::string_view code,
                          std::string_view details) {
  json::object o;
  if (!key.empty()) o["key"] = key;
  o["errorCode"] = code;
  o["errorDetails"] = details;
  return http::Response::Json(status, json::serialize(o));
}

// The tenant an OFREP request is about: the context's targetingKey, a tenant the caller
// reaches. An unknown tenant and another organisation's get the same answer, so a key learns
// nothing about tenants it cannot reach.
struct OfrepTarget {
  std::string tenant_id;
  std::optional<http::Response> refusal;
};

OfrepTarget ReadTarget(const http::Request& req, const Caller& caller,
                       tenants::TenantService& tenants, std::string_view key) {
  auto body = ParseJsonObject(req, true);
  if (!body) return {.refusal = OfrepError(400, key, "PARSE_ERROR", body.error().detail)};
  const auto* context = body->if_contains("context");
  if (context && !context->is_object()) {
    return {.refusal = OfrepError(400, key, "INVALID_CONTEXT", "context must be an object")};
  }
  const auto* target = context ? context->as_object().if_contains("targetingKey") : nullptr;
  if (!target || (target->is_string() && target->as_string().empty())) {
    return {.refusal = OfrepError(400, key, "TARGETING_KEY_MISSING",
                                  "context.targetingKey must name the tenant (its id)")};
  }
  if (!target->is_string() || !IsCanonicalUuid(target->as_string())) {
    return {.refusal = OfrepError(400, key, "INVALID_CONTEXT",
                                  "context.targetingKey must be a tenant id (a UUID)")};
  }
  std::string id = NormalizeUuid(target->as_string());
  const auto unreachable = [&] {
    return OfrepTarget{.refusal = OfrepError(400, key, "INVALID_CONTEXT",
                                             "context.targetingKey names no tenant this "
                                             "credential may evaluate flags for")};
  };
  // A product's service client evaluates for whichever tenant calls it (as the MCP gateway
  // trusts it); everyone else within their reach (an API key: its own tenant).
  const auto& roles = caller.principal.realm_roles;
  const bool service =
      std::find(roles.begin(), roles.end(), identity::Role::kService) != roles.end();
  if (!service && !CheckTenant(tenants, caller, identity::Action::kFlagEvaluate, id)) {
    return unreachable();
  }
  if (!tenants.Get(id)) return unreachable();
  return {.tenant_id = std::move(id)};
}

}  // namespace

json::object ToJson(const flags::Evaluation& e) {
  return {{"key", e.key},
          {"value", flags::ToJson(e.value)},
          {"reason", flags::Name(e.reason)},
          {"variant", e.variant},
          {"metadata", json::object{{"version", e.version}}}};
}

Result<http::Response> FlagRoutes::FlagCreate(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  auto made = flags_.Create(caller.actor, *body);
  if (!made) return made.error();
  auto r = FlagResponse(201, *made);
  r.headers.Set("Location", "/flags/" + made->key);
  return r;
}

Result<http::Response> FlagRoutes::FlagList(http::Request& req, const Caller&) {
  if (auto ok = OnlyKnownQuery(req, {}); !ok) return ok.error();
  json::array items;
  for (const auto& f : flags_.List()) items.push_back(flags::ToJson(f));
  return http::Response::Json(200, json::serialize(json::object{{"items", std::move(items)}}));
}

Result<http::Response> FlagRoutes::FlagGet(http::Request& req, const Caller&) {
  auto f = flags_.Get(std::string(req.Param("key").value_or("")));
  if (!f) return f.error();
  return FlagResponse(200, *f);
}

Result<http::Response> FlagRoutes::FlagPatch(http::Request& req, const Caller& caller) {
  auto version = IfMatchVersion(req);
  if (!version) return version.error();
  auto body = ParseJsonObject(req, false, true);
  if (!body) return body.error();
  auto f = flags_.Patch(caller.actor, std::string(req.Param("key").value_or("")), *body, *version);
  if (!f) return f.error();
  return FlagResponse(200, *f);
}

Result<http::Response> FlagRoutes::FlagDelete(http::Request& req, const Caller& caller) {
  auto done = flags_.Delete(caller.actor, std::string(req.Param("key").value_or("")));
  if (!done) return done.error();
  return http::Response::Empty(204);
}

Result<http::Response> FlagRoutes::OfrepEvaluate(http::Request& req, const Caller& caller) {
  const std::string key(req.Param("key").value_or(""));
  auto target = ReadTarget(req, caller, tenants_, key);
  if (target.refusal) return *std::move(target.refusal);
  auto e = flags_.Evaluate(caller.actor, target.tenant_id, key);
  if (!e) {
    if (e.error().type == "flag-not-found") {
      return OfrepError(404, key, "FLAG_NOT_FOUND", e.error().detail);
    }
    return e.error();
  }
  return http::Response::Json(200, json::serialize(ToJson(*e)));
}

Result<http::Response> FlagRoutes::OfrepBulk(http::Request& req, const Caller& caller) {
  auto target = ReadTarget(req, caller, tenants_, "");
  if (target.refusal) return *std::move(target.refusal);
  auto all = flags_.EvaluateAll(caller.actor, target.tenant_id);
  if (!all) return all.error();
  json::array items;
  items.reserve(all->size());
  for (const auto& e : *all) items.push_back(ToJson(e));
  std::string body = json::serialize(json::object{{"flags", std::move(items)}});
  // The same answers give the same tag on every replica.
  const std::string etag = "\"" + Sha256Hex(body).substr(0, 32) + "\"";
  if (req.headers.Get("if-none-match") == std::optional<std::string_view>(etag)) {
    auto r = http::Response::Empty(304);
    r.headers.Set("ETag", etag);
    return r;
  }
  auto r = http::Response::Json(200, std::move(body));
  r.headers.Set("ETag", etag);
  return r;
}

std::vector<Endpoint> FlagRoutes::Routes() {
  using A = identity::Action;
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/flags",
                    .name = "flag_create",
                    .action = A::kFlagManage,
                    .body = {kJson},
                    .handler = Bind(this, &FlagRoutes::FlagCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/flags",
                    .name = "flag_list",
                    .action = A::kFlagRead,
                    .handler = Bind(this, &FlagRoutes::FlagList)});
  routes.push_back({.method = "GET",
                    .pattern = "/flags/{key}",
                    .name = "flag_get",
                    .action = A::kFlagRead,
                    .handler = Bind(this, &FlagRoutes::FlagGet)});
  routes.push_back({.method = "PATCH",
                    .pattern = "/flags/{key}",
                    .name = "flag_update",
                    .action = A::kFlagManage,
                    .body = {kMergePatch, kJson},
                    .handler = Bind(this, &FlagRoutes::FlagPatch)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/flags/{key}",
                    .name = "flag_delete",
                    .action = A::kFlagManage,
                    .handler = Bind(this, &FlagRoutes::FlagDelete)});
  // Answered from memory once the flags and the tenant are cached: tried on the I/O thread.
  routes.push_back({.method = "POST",
                    .pattern = "/ofrep/v1/evaluate/flags/{key}",
                    .name = "ofrep_evaluate",
                    .action = A::kFlagEvaluate,
                    .memory_first = true,
                    .body = {kJson},
                    .handler = Bind(this, &FlagRoutes::OfrepEvaluate)});
  routes.push_back({.method = "POST",
                    .pattern = "/ofrep/v1/evaluate/flags",
                    .name = "ofrep_evaluate_bulk",
                    .action = A::kFlagEvaluate,
                    .memory_first = true,
                    .body = {kJson},
                    .handler = Bind(this, &FlagRoutes::OfrepBulk)});
  return routes;
}

}  // namespace breakpilot::api
