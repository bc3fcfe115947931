#include "api/usage_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

// One event of a report, its problems named by their JSON pointer.
usage::Event ReadEvent(const json::object& o, const std::string& at,
                       std::vector<FieldError>& errors) {
  usage::Event e;
  for (const auto& [key, value] : o) {
    const std::string k(key);
    std::string field = at;
    field.append("/").append(k);
    if (k == "id" || k == "tenant_id" || k == "metric" || k == "at") {
      if (!value.is_string()) {
        errors.push_back({field, "must be a string"});
        continue;
      }
      const std::string v(value.as_string());
      if (k == "id") e.id = v;
      if (k == "metric") e.metric = v;
      if (k == "tenant_id") {
        if (IsCanonicalUuid(v)) {
          e.tenant_id = NormalizeUuid(v);
        } else {
          errors.push_back({field, "must be a UUID"});
        }
      }
      if (k == "at") {
        e.at = ParseTimestamp(v);
        if (!e.at) errors.push_back({field, "must be an RFC 3339 timestamp"});
      }
    } else if (k == "quantity") {
      if (!value.is_int64()) {
        errors.push_back({field, "must be an integer"});
      } else {
        e.quantity = value.as_int64();
      }
    } else {
      errors.push_back({field, "is not a known member"});
    }
  }
  for (const char* required : {"id", "tenant_id", "metric"}) {
    if (!o.contains(required)) errors.push_back({at + "/" + std::string(required), "is required"});
  }
  return e;
}

}  // namespace

json::object ToJson(const usage::TenantUsage& u) {
  json::array items;
  for (const auto& t : u.totals) {
    items.push_back({{"product", t.product},
                     {"metric", t.metric},
                     {"today", t.today},
                     {"this_month", t.this_month}});
  }
  json::object limits{
      {"api_calls_per_day", u.api_calls_per_day > 0 ? json::value(u.api_calls_per_day) : nullptr}};
  if (u.seats) limits["seats"] = *u.seats;
  if (u.projects) limits["projects"] = *u.projects;
  return {{"tenant_id", u.tenant_id},
          {"day", u.day},
          {"month", u.month},
          {"limits", std::move(limits)},
          {"items", std::move(items)}};
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> UsageRoutes::UsageReport(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto product = r.String("product", Required::kYes);
  const json::array* list = r.Objects("events", Required::kYes, usage::kMaxBatch);
  if (auto ok = r.Finish({"product", "events"}); !ok) return ok.error();
  std::vector<FieldError> errors;
  std::vector<usage::Event> events;
  events.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    events.push_back(ReadEvent((*list)[i].as_object(), "/events/" + std::to_string(i), errors));
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  // An API key reports for its own tenant only; a service client (a product) for any tenant.
  if (!caller.principal.scopes.empty()) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!caller.principal.org_id || events[i].tenant_id != *caller.principal.org_id) {
        return Error{
            ErrorKind::kForbidden, "other-tenant", "Forbidden",
            "an API key reports usage for its own tenant only (events/" + std::to_string(i) + ")"};
      }
    }
  }
  auto recorded = meter_.Record(*product, events);
  if (!recorded) return recorded.error();
  return http::Response::Json(200,
                              json::serialize(json::object{{"accepted", recorded->accepted},
                                                           {"duplicates", recorded->duplicates}}));
}

Result<http::Response> UsageRoutes::TenantUsage(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto u = meter_.ForTenant(*id);
  if (!u) return u.error();
  return http::Response::Json(200, json::serialize(ToJson(*u)));
}

std::vector<Endpoint> UsageRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/usage",
                    .name = "usage_report",
                    .action = identity::Action::kUsageWrite,
                    .body = {kJson},
                    .handler = Bind(this, &UsageRoutes::UsageReport)});
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/usage",
                    .name = "tenant_usage",
                    .action = identity::Action::kTenantRead,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &UsageRoutes::TenantUsage)});
  return routes;
}

}  // namespace breakpilot::api
