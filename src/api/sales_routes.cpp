#include "api/sales_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {

boost::json::object ToJson(const sales::Lead& l) {
  return {{"id", l.id},
          {"tenant_id", l.tenant_id},
          {"tenant_slug", l.tenant_slug},
          {"product_id", l.product_id},
          {"status", l.status},
          {"sales_owner", l.sales_owner ? boost::json::value(*l.sales_owner) : nullptr},
          {"requested_by", l.requested_by},
          {"requested_by_name", l.requested_by_name},
          {"note", l.note},
          {"prospect", l.prospect_email ? boost::json::value(boost::json::object{
                                              {"company", l.prospect_company.value_or("")},
                                              {"name", l.prospect_name.value_or("")},
                                              {"email", *l.prospect_email}})
                                        : nullptr},
          {"created_at", FormatRfc3339(l.created_at)}};
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> SalesRoutes::LeadCreate(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  sales::LeadRequest in;
  in.product_id = r.String("product_id", Required::kYes).value_or("");
  in.note = r.String("note", Required::kNo).value_or("");
  if (auto ok = r.Finish({"product_id", "note"}); !ok) return ok.error();
  auto lead = leads_.Request(caller.actor, *id, in);
  if (!lead) return lead.error();
  auto res =
      http::Response::Json(lead->second ? 201 : 200, boost::json::serialize(ToJson(lead->first)));
  res.headers.Set("Location", "/leads?tenant_id=" + *id);
  return res;
}

Result<http::Response> SalesRoutes::LeadList(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(req, {"tenant_id", "limit"}); !ok) return ok.error();
  auto tenant = StringQuery(req, "tenant_id");
  if (!tenant) return tenant.error();
  if (*tenant && !IsCanonicalUuid(**tenant)) {
    return Malformed("invalid-query", "Invalid query", "tenant_id must be a UUID",
                     {{"tenant_id", "must be a UUID"}});
  }
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  if (*limit && (**limit < 1 || **limit > 500)) {
    return Malformed("invalid-parameter", "Invalid query parameter", "limit must be 1 to 500",
                     {{"limit", "must be 1 to 500"}});
  }
  boost::json::array items;
  for (const auto& l :
       leads_.List(caller.principal,
                   {.tenant_id = *tenant ? std::optional(NormalizeUuid(**tenant)) : std::nullopt,
                   .limit = limit->value_or(100)})) {
    items.push_back(ToJson(l));
  }
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"items", std::move(items)}}));
}

Result<http::Response> SalesRoutes::TrialLead(http::Request& req, const Caller& caller) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  sales::TrialLeadRequest in;
  in.company = r.String("company", Required::kYes).value_or("");
  in.name = r.String("name", Required::kYes).value_or("");
  in.email = r.String("email", Required::kYes).value_or("");
  in.product_id = r.String("product_id", Required::kYes).value_or("");
  in.note = r.String("note", Required::kNo).value_or("");
  if (auto ok = r.Finish({"company", "name", "email", "product_id", "note"}); !ok) {
    return ok.error();
  }
  // The rep who met the prospect owns the lead.
  auto lead = leads_.RequestTrial(caller.actor, caller.principal.name, in);
  if (!lead) return lead.error();
  auto res = http::Response::Json(201, boost::json::serialize(ToJson(*lead)));
  res.headers.Set("Location", "/leads?tenant_id=" + lead->tenant_id);
  return res;
}

std::vector<Endpoint> SalesRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/leads",
                    .name = "lead_create",
                    .action = identity::Action::kSubscriptionWrite,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &SalesRoutes::LeadCreate)});
  routes.push_back({.method = "GET",
                    .pattern = "/leads",
                    .name = "lead_list",
                    .action = identity::Action::kLeadRead,
                    .handler = Bind(this, &SalesRoutes::LeadList)});
  routes.push_back({.method = "POST",
                    .pattern = "/leads",
                    .name = "trial_lead_create",
                    .action = identity::Action::kLeadCreate,
                    .body = {kJson},
                    .handler = Bind(this, &SalesRoutes::TrialLead)});
  return routes;
}

}  // namespace breakpilot::api
