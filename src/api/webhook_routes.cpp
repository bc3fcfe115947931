#include "api/webhook_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

json::value OptionalTime(const std::optional<Timestamp>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

Result<std::string> WebhookParam(http::Request& req) {
  const auto id = req.Param("webhook_id").value_or("");
  if (!IsCanonicalUuid(id)) {
    return NotFound("webhook-not-found", "no webhook endpoint " + std::string(id));
  }
  return NormalizeUuid(id);
}

}  // namespace

json::object ToJson(const webhooks::Endpoint& e) {
  json::array types;
  for (const auto& t : e.event_types) types.emplace_back(t);
  return {{"id", e.id},
          {"tenant_id", e.tenant_id},
          {"url", e.url},
          {"event_types", std::move(types)},
          {"status", e.status},
          {"disabled_reason", e.disabled_reason ? json::value(*e.disabled_reason) : nullptr},
          {"failing_since", OptionalTime(e.failing_since)},
          {"previous_secret_until", OptionalTime(e.previous_secret_until)},
          {"created_at", FormatRfc3339(e.created_at)},
          {"updated_at", FormatRfc3339(e.updated_at)}};
}

json::object ToJson(const webhooks::Delivery& d) {
  return {{"id", d.id},
          {"event_id", d.event_id},
          {"endpoint_id", d.endpoint_id},
          {"tenant_id", d.tenant_id},
          {"type", d.type},
          {"state", d.state},
          {"attempts", d.attempts},
          {"next_attempt_at", OptionalTime(d.next_at)},
          {"last_status", d.last_status ? json::value(*d.last_status) : nullptr},
          {"last_error", d.last_error ? json::value(*d.last_error) : nullptr},
          {"created_at", FormatRfc3339(d.created_at)},
          {"updated_at", FormatRfc3339(d.updated_at)}};
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> WebhookRoutes::WebhookCreate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  webhooks::NewEndpoint in;
  in.url = r.String("url", Required::kYes).value_or("");
  in.event_types = r.Strings("event_types", Required::kNo, 16).value_or(std::vector<std::string>{});
  if (auto ok = r.Finish({"url", "event_types"}); !ok) return ok.error();
  auto made = hooks_.Create(caller.actor, *id, in);
  if (!made) return made.error();
  json::object out = ToJson(made->first);
  out["secret"] = made->second;
  auto res = http::Response::Json(201, json::serialize(out));
  res.headers.Set("Location", "/tenants/" + *id + "/webhooks/" + made->first.id);
  return res;
}

Result<http::Response> WebhookRoutes::WebhookList(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto list = hooks_.List(*id);
  if (!list) return list.error();
  json::array items;
  for (const auto& e : *list) items.push_back(ToJson(e));
  return http::Response::Json(200, json::serialize(json::object{{"items", std::move(items)}}));
}

Result<http::Response> WebhookRoutes::WebhookGet(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto wid = WebhookParam(req);
  if (!wid) return wid.error();
  auto e = hooks_.Get(*id, *wid);
  if (!e) return e.error();
  return http::Response::Json(200, json::serialize(ToJson(*e)));
}

Result<http::Response> WebhookRoutes::WebhookUpdate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto wid = WebhookParam(req);
  if (!wid) return wid.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  webhooks::EndpointPatch patch;
  patch.url = r.String("url", Required::kNo);
  patch.event_types = r.Strings("event_types", Required::kNo, 16);
  patch.status = r.String("status", Required::kNo);
  if (auto ok = r.Finish({"url", "event_types", "status"}); !ok) return ok.error();
  auto e = hooks_.Update(caller.actor, *id, *wid, patch);
  if (!e) return e.error();
  return http::Response::Json(200, json::serialize(ToJson(*e)));
}

Result<http::Response> WebhookRoutes::WebhookDelete(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto wid = WebhookParam(req);
  if (!wid) return wid.error();
  if (auto ok = hooks_.Delete(caller.actor, *id, *wid); !ok) return ok.error();
  return http::Response::Empty(204);
}

Result<http::Response> WebhookRoutes::WebhookRotate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto wid = WebhookParam(req);
  if (!wid) return wid.error();
  std::int64_t grace = 86'400;
  if (!req.body.empty()) {
    auto body = ParseJsonObject(req);
    if (!body) return body.error();
    BodyReader r(*body);
    grace = r.Integer("grace_seconds", Required::kNo).value_or(grace);
    if (auto ok = r.Finish({"grace_seconds"}); !ok) return ok.error();
  }
  auto secret = hooks_.RotateSecret(caller.actor, *id, *wid, std::chrono::seconds(grace));
  if (!secret) return secret.error();
  auto e = hooks_.Get(*id, *wid);
  if (!e) return e.error();
  json::object out = ToJson(*e);
  out["secret"] = *secret;
  return http::Response::Json(200, json::serialize(out));
}

Result<http::Response> WebhookRoutes::WebhookTest(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto wid = WebhookParam(req);
  if (!wid) return wid.error();
  auto d = hooks_.SendTest(caller.actor, *id, *wid);
  if (!d) return d.error();
  return http::Response::Json(202, json::serialize(ToJson(*d)));
}

Result<http::Response> WebhookRoutes::DeliveryList(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(req, {"tenant_id", "state", "endpoint_id", "limit"}); !ok) {
    return ok.error();
  }
  auto tenant = StringQuery(req, "tenant_id");
  if (!tenant) return tenant.error();
  auto state = StringQuery(req, "state");
  if (!state) return state.error();
  auto endpoint = StringQuery(req, "endpoint_id");
  if (!endpoint) return endpoint.error();
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  std::vector<FieldError> bad;
  if (*tenant && !IsCanonicalUuid(**tenant)) bad.push_back({"tenant_id", "must be a UUID"});
  if (*endpoint && !IsCanonicalUuid(**endpoint)) bad.push_back({"endpoint_id", "must be a UUID"});
  if (*state && **state != "pending" && **state != "succeeded" && **state != "dead") {
    bad.push_back({"state", "must be pending, succeeded or dead"});
  }
  if (*limit && (**limit < 1 || **limit > 500)) bad.push_back({"limit", "must be 1 to 500"});
  if (!bad.empty()) {
    return Malformed("invalid-query", "Invalid query", "the query has invalid parameters",
                     std::move(bad));
  }
  webhooks::DeliveryFilter f{.state = *state, .limit = limit->value_or(100)};
  if (*endpoint) f.endpoint_id = NormalizeUuid(**endpoint);
  if (*tenant) {
    f.tenant_id = NormalizeUuid(**tenant);
  } else if (!identity::SeesAllTenants(caller.principal)) {
    f.tenant_id = caller.principal.org_id;  // a tenant's people see their own tenant's only
  }
  if (f.tenant_id) {
    if (auto ok = CheckTenant(tenants_, caller, identity::Action::kWebhookRead, *f.tenant_id);
        !ok) {
      return ok.error();
    }
  } else if (!identity::SeesAllTenants(caller.principal)) {
    return InvalidInput("tenant-required", "Tenant required", "name a tenant_id");
  }
  json::array items;
  for (const auto& d : hooks_.Deliveries(f)) items.push_back(ToJson(d));
  return http::Response::Json(200, json::serialize(json::object{{"items", std::move(items)}}));
}

Result<http::Response> WebhookRoutes::DeliveryReplay(http::Request& req, const Caller& caller) {
  const auto id = std::string(req.Param("delivery_id").value_or(""));
  std::optional<std::string> only;
  if (!identity::SeesAllTenants(caller.principal)) {
    if (!caller.principal.org_id) {
      return InvalidInput("tenant-required", "Tenant required", "the caller has no tenant");
    }
    only = caller.principal.org_id;
  }
  auto d = hooks_.Replay(caller.actor, id, only);
  if (!d) return d.error();
  return http::Response::Json(202, json::serialize(ToJson(*d)));
}

std::vector<Endpoint> WebhookRoutes::Routes() {
  using identity::Action;
  std::vector<Endpoint> routes;
  const auto add = [&](const char* method, const char* pattern, const char* name, Action action,
                       TenantFrom tenant, const std::vector<std::string_view>& body, auto handler) {
    const std::string_view n = name;
    routes.push_back({.method = method,
                      .pattern = pattern,
                      .name = name,
                      .action = action,
                      .tenant = tenant,
                      .secrets = n == "webhook_create" || n == "webhook_rotate"
                                     ? std::vector<std::string_view>{"secret"}
                                     : std::vector<std::string_view>{},
                      .body = body,
                      .handler = Bind(this, handler)});
  };
  add("POST", "/tenants/{id}/webhooks", "webhook_create", Action::kWebhookWrite,
      TenantFrom::kPathId, {kJson}, &WebhookRoutes::WebhookCreate);
  add("GET", "/tenants/{id}/webhooks", "webhook_list", Action::kWebhookRead, TenantFrom::kPathId,
      {}, &WebhookRoutes::WebhookList);
  add("GET", "/tenants/{id}/webhooks/{webhook_id}", "webhook_get", Action::kWebhookRead,
      TenantFrom::kPathId, {}, &WebhookRoutes::WebhookGet);
  add("PATCH", "/tenants/{id}/webhooks/{webhook_id}", "webhook_update", Action::kWebhookWrite,
      TenantFrom::kPathId, {kJson, kMergePatch}, &WebhookRoutes::WebhookUpdate);
  add("DELETE", "/tenants/{id}/webhooks/{webhook_id}", "webhook_delete", Action::kWebhookWrite,
      TenantFrom::kPathId, {}, &WebhookRoutes::WebhookDelete);
  add("POST", "/tenants/{id}/webhooks/{webhook_id}/rotate", "webhook_rotate", Action::kWebhookWrite,
      TenantFrom::kPathId, {kJson}, &WebhookRoutes::WebhookRotate);
  add("POST", "/tenants/{id}/webhooks/{webhook_id}/test", "webhook_test", Action::kWebhookWrite,
      TenantFrom::kPathId, {}, &WebhookRoutes::WebhookTest);
  add("GET", "/webhooks/deliveries", "webhook_deliveries", Action::kWebhookRead, TenantFrom::kNone,
      {}, &WebhookRoutes::DeliveryList);
  add("POST", "/webhooks/deliveries/{delivery_id}/replay", "webhook_replay", Action::kWebhookWrite,
      TenantFrom::kNone, {}, &WebhookRoutes::DeliveryReplay);
  return routes;
}

}  // namespace breakpilot::api
