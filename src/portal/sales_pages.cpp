#include "portal/sales_pages.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/crypto.hpp"

namespace breakpilot::portal {

http::Response SalesPages::RenderCatalog(const Visit& v, const boost::json::object& extra,
                                         int status) {
  std::vector<std::string> subscribed;
  if (auto subs = services_.subscriptions.List(v.tenant->id)) {
    for (const auto& s : *subs) subscribed.push_back(s.product_id);
  }
  const auto requested = services_.leads.OpenProducts(v.tenant->id);
  const auto has = [](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  const bool may_request = MayChange(v, identity::Action::kSubscriptionWrite);
  boost::json::array products;
  for (const auto& m : services_.catalog.products()) {
    const bool sub = has(subscribed, m.id);
    const bool asked = !sub && has(requested, m.id);
    products.push_back(boost::json::object{{"id", m.id},
                                           {"name", m.name},
                                           {"tagline", m.tagline},
                                           {"subscribed", sub},
                                           {"requested", asked},
                                           {"can_request", may_request && !sub && !asked},
                                           {"csrf", v.session->csrf_token}});
  }
  boost::json::object data{{"products", std::move(products)}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "catalog", "catalog_nav", std::move(data), status);
}

Result<http::Response> SalesPages::Catalog(http::Request& req, const Visit& v) {
  return RenderCatalog(v, NoticeIf(req, v, "requested", "requested_notice"), 200);
}

Result<http::Response> SalesPages::Request(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return RenderCatalog(v, {{"error", form.error().detail}}, 400);
  auto lead =
      services_.leads.Request(v.actor, v.tenant->id,
                              {.product_id = std::string(req.Param("product_id").value_or("")),
                               .note = FormField(*form, "note")});
  if (!lead)
    return RenderCatalog(v, {{"error", DomainMessage(v.lang, lead.error())}},
                         FormStatus(lead.error()));
  return SeeOther("/catalog?requested=1");
}

Result<http::Response> SalesPages::Leads(http::Request&, const Visit& v) {
  boost::json::array rows;
  for (const auto& l : services_.leads.List(v.principal, {.limit = 200})) {
    boost::json::object row{{"tenant", l.tenant_name},
                            {"slug", l.tenant_slug},
                            {"product", l.product_id},
                            {"status", l.status},
                            {"requested_by", l.requested_by_name},
                            {"note", l.note}};
    if (l.sales_owner) row["sales_owner"] = *l.sales_owner;
    if (l.prospect_company) {
      row["prospect"] = *l.prospect_company;
      row["prospect_email"] = l.prospect_email.value_or("");
    }
    for (auto& [k, x] : TimeFields("created", l.created_at)) row[k] = x;
    rows.push_back(std::move(row));
  }
  const bool any = !rows.empty();
  return PageResponse(v, "leads", "leads", {{"leads", std::move(rows)}, {"has_leads", any}});
}

http::Response SalesPages::RenderTrial(const Visit& v, const boost::json::object& extra,
                                       int status) {
  boost::json::array products;
  for (const auto& m : services_.catalog.products()) {
    products.push_back({{"id", m.id}, {"name", m.name}});
  }
  boost::json::object data{{"products", std::move(products)}, {"form_key", RandomToken(18)}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "request_trial", "request_trial_nav", std::move(data), status);
}

Result<http::Response> SalesPages::TrialForm(http::Request& req, const Visit& v) {
  if (v.tenant->kind != tenants::Kind::kDemo) {
    return NotFound("demo-not-found", "the demo's trial requests live on the demo site");
  }
  return RenderTrial(v, NoticeIf(req, v, "requested", "request_trial_sent"), 200);
}

Result<http::Response> SalesPages::TrialRequest(http::Request& req, const Visit& v) {
  if (v.tenant->kind != tenants::Kind::kDemo) {
    return NotFound("demo-not-found", "the demo's trial requests live on the demo site");
  }
  auto form = api::ParseForm(req);
  if (!form) return RenderTrial(v, {{"error", form.error().detail}}, 400);
  FormOnce once(services_.db, v, *form, "/request-trial", "trial_lead", services_.clock.Now());
  if (const auto& no = once.Refusal()) {
    return RenderTrial(v, {{"error", String(v.lang, no->second)}}, no->first);
  }
  const sales::TrialLeadRequest in{.company = FormField(*form, "company"),
                                   .name = FormField(*form, "name"),
                                   .email = FormField(*form, "email"),
                                   .product_id = FormField(*form, "product_id"),
                                   .note = FormField(*form, "note")};
  // The rep who walks the prospect through the demo owns the lead.
  auto lead = services_.leads.RequestTrial(v.actor, v.principal.name, in);
  if (!lead) {
    once.Failed();
    return RenderTrial(v,
                       {{"error", DomainMessage(v.lang, lead.error())},
                        {"form_company", in.company.substr(0, 200)},
                        {"form_name", in.name.substr(0, 200)},
                        {"form_email", in.email.substr(0, 254)},
                        {"form_note", in.note.substr(0, sales::kMaxLeadNote)}},
                       FormStatus(lead.error()));
  }
  once.Made(lead->id, 303);
  return SeeOther("/request-trial?requested=1");
}

std::vector<Page> SalesPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/catalog",
           .name = "catalog",
           .sites = kOnTenant,
           .action = A::kCatalogRead,
           .nav = "catalog_nav",
           .handler = Bind(this, &SalesPages::Catalog)},
          {.method = "POST",
           .pattern = "/catalog/{product_id}/request",
           .name = "catalog_request",
           .sites = kOnTenant,
           .action = A::kSubscriptionWrite,
           .tenant_write = true,
           .handler = Bind(this, &SalesPages::Request)},
          {.method = "GET",
           .pattern = "/leads",
           .name = "leads",
           .sites = kOnBackstage,
           .action = A::kLeadRead,
           .nav = "leads",
           .handler = Bind(this, &SalesPages::Leads)},
          // The demo site's "Request trial" (M13.2), for the rep walking a prospect through it.
          {.method = "GET",
           .pattern = "/request-trial",
           .name = "request_trial",
           .sites = kOnTenant,
           .action = A::kLeadCreate,
           .nav = "request_trial_nav",
           .nav_when =
               [](const Visit& v) { return v.tenant && v.tenant->kind == tenants::Kind::kDemo; },
           .handler = Bind(this, &SalesPages::TrialForm)},
          {.method = "POST",
           .pattern = "/request-trial",
           .name = "request_trial_send",
           .sites = kOnTenant,
           .action = A::kLeadCreate,
           .handler = Bind(this, &SalesPages::TrialRequest)}};
}

}  // namespace breakpilot::portal
