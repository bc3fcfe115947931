#include "portal/organisation_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {

boost::json::object LifecycleFacts(Lang lang, const tenants::Tenant& t) {
  const bool frozen = t.status == tenants::Status::kFrozen;
  boost::json::object o{{"name", t.name},
                        {"slug", t.slug},
                        {"status", tenants::ToString(t.status)},
                        {"status_text", StatusText(lang, t.status)},
                        {"plan", tenants::ToString(t.plan)},
                        {"frozen", frozen}};
  // Set only when known: the template's section tests presence, and "" counts as present.
  if (t.contact_email && !t.contact_email->empty()) o["contact_email"] = *t.contact_email;
  for (auto& [k, x] : TimeFields("trial_ends", t.trial_ends_at)) o[k] = x;
  if (frozen) {
    if (t.cancel_reason) o["reason"] = *t.cancel_reason;
    const auto by = AddSeconds(t.status_changed_at, std::int64_t{tenants::kFrozenDays} * 86'400);
    for (auto& [k, x] : TimeFields("reactivate_by", by)) o[k] = x;
  }
  return o;
}

http::Response OrganisationPages::Render(const Visit& v, const boost::json::object& extra,
                                         int status) {
  boost::json::object data = LifecycleFacts(v.lang, *v.tenant);
  data["can_cancel"] =
      May(v, identity::Action::kTenantCancel) &&
      (v.tenant->status == tenants::Status::kTrial || v.tenant->status == tenants::Status::kActive);
  data["csrf"] = v.session->csrf_token;
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "organisation", "organisation", std::move(data), status);
}

Result<http::Response> OrganisationPages::Show(http::Request& req, const Visit& v) {
  return Render(v, NoticeIf(req, v, "cancelled", "cancelled_notice"), 200);
}

Result<http::Response> OrganisationPages::Cancel(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}, {"open", true}}, 400);
  const std::string reason = FormField(*form, "reason");
  auto done = services_.tenants.Apply(v.actor, v.tenant->id, tenants::lifecycle::Action::kCancel,
                                      {.reason = reason, .confirm = FormField(*form, "confirm")});
  if (!done) {
    // The form again, open, with the reason as typed (cut to what the field takes).
    const int status = done.error().kind == ErrorKind::kConflict ? 409 : 422;
    return Render(v,
                  {{"error", DomainMessage(v.lang, done.error())},
                   {"open", true},
                   {"form_reason", reason.substr(0, 2000)}},
                  status);
  }
  return SeeOther("/settings/organisation?cancelled=1");
}

Result<http::Response> OrganisationPages::Billing(http::Request&, const Visit& v) {
  boost::json::object data = LifecycleFacts(v.lang, *v.tenant);
  auto subs = services_.subscriptions.List(v.tenant->id);
  if (!subs) return subs.error();
  boost::json::array rows;
  for (const auto& s : *subs) {
    const auto* m = services_.catalog.Find(s.product_id);
    boost::json::object row{{"product", m != nullptr ? m->name : s.product_id}, {"plan", s.plan}};
    for (auto& [k, x] : TimeFields("since", s.subscribed_at)) row[k] = x;
    rows.push_back(std::move(row));
  }
  data["has_subscriptions"] = !rows.empty();
  data["subscriptions"] = std::move(rows);
  return PageResponse(v, "billing", "billing_nav", std::move(data));
}

std::vector<Page> OrganisationPages::Pages() {
  // The page shows what only those who may cancel need; a USER sees no settings at all.
  return {{.method = "GET",
           .pattern = "/settings/organisation",
           .name = "organisation",
           .sites = kOnTenant,
           .action = identity::Action::kTenantCancel,
           .nav = "organisation",
           .handler = Bind(this, &OrganisationPages::Show)},
          // Cancel leads out of a freeze like the API's route: no status gate (the use case
          // refuses what the lifecycle table does not allow).
          {.method = "POST",
           .pattern = "/settings/organisation/cancel",
           .name = "organisation_cancel",
           .sites = kOnTenant,
           .action = identity::Action::kTenantCancel,
           .handler = Bind(this, &OrganisationPages::Cancel)},
          // Who may read the subscriptions (FINANCE among them) sees the billing page.
          {.method = "GET",
           .pattern = "/billing",
           .name = "billing",
           .sites = kOnTenant,
           .action = identity::Action::kSubscriptionRead,
           .nav = "billing_nav",
           .handler = Bind(this, &OrganisationPages::Billing)}};
}

}  // namespace breakpilot::portal
