#include "portal/organisation_pages.hpp"

#include <cctype>
#include <charconv>

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
  // The trial's end only while on trial (an activated tenant keeps the date it no longer has).
  if (t.status == tenants::Status::kTrial) {
    for (auto& [k, x] : TimeFields("trial_ends", t.trial_ends_at)) o[k] = x;
  }
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

namespace {

// "58.31 EUR": Polar's minor units.
std::string Money(std::int64_t minor, const std::string& currency) {
  std::string upper = currency;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto whole = std::to_string(minor / 100);
  const auto cents = std::to_string(100 + (minor % 100)).substr(1);
  return whole + "." + cents + " " + upper;
}

}  // namespace

Result<http::Response> OrganisationPages::Billing(http::Request& req, const Visit& v) {
  return RenderBilling(req, v, {}, 200);
}

Result<http::Response> OrganisationPages::RenderBilling(http::Request& req, const Visit& v,
                                                        const boost::json::object& extra,
                                                        int status) {
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
  // Plans sold through Polar, for who may buy (a frozen tenant too: paying lifts the freeze).
  const auto& polar = services_.billing.settings();
  const bool can_buy = polar.outbound() && May(v, identity::Action::kBillingManage) &&
                       v.tenant->kind != tenants::Kind::kDemo;
  data["can_buy"] = can_buy;
  if (can_buy) {
    boost::json::array plans;
    for (const char* plan : billing::kPolarPlans) {
      if (!polar.products.contains(plan)) continue;
      plans.push_back({{"plan", plan},
                       {"label", std::string(String(v.lang, std::string("billing_plan_") + plan))},
                       {"per_seat", std::string_view(plan) == "per_seat"},
                       {"seats", 1}});
    }
    data["plans"] = std::move(plans);
  }
  auto paid = services_.billing.Of(v.tenant->id);
  if (!paid) return paid.error();
  boost::json::array polar_subs;
  for (const auto& s : paid->subscriptions) {
    boost::json::object row{
        {"plan", s.plan.value_or("")}, {"status", s.status}, {"cancels", s.cancel_at_period_end}};
    for (auto& [k, x] : TimeFields("period_end", s.current_period_end)) row[k] = x;
    polar_subs.push_back(std::move(row));
  }
  boost::json::array orders;
  for (const auto& o : paid->orders) {
    boost::json::object row{{"total", Money(o.total_amount, o.currency)},
                            {"tax", Money(o.tax_amount, o.currency)}};
    for (auto& [k, x] : TimeFields("at", o.created_at)) row[k] = x;
    orders.push_back(std::move(row));
  }
  data["has_polar"] = !polar_subs.empty() || !orders.empty();
  data["polar_subscriptions"] = std::move(polar_subs);
  data["polar_orders"] = std::move(orders);
  // Invoices live in ERPNext: read through a minute's cache; while ERPNext does not answer,
  // the last list read (if any) with a notice, never an error page.
  if (services_.erpnext.on()) {
    const auto invoices = services_.erpnext.Invoices(v.tenant->id);
    boost::json::array invoice_rows;
    for (const auto& i : invoices.invoices) {
      invoice_rows.push_back({{"name", i.name},
                              {"date", i.posting_date},
                              {"total", i.grand_total},
                              {"currency", i.currency},
                              {"status", i.status}});
    }
    data["erp_on"] = true;
    data["has_invoices"] = !invoice_rows.empty();
    data["invoices"] = std::move(invoice_rows);
    data["invoices_unavailable"] = invoices.unavailable;
  }
  for (const auto& [k, x] : NoticeIf(req, v, "paid", "billing_paid")) data[k] = x;
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "billing", "billing_nav", std::move(data), status);
}

Result<http::Response> OrganisationPages::Upgrade(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return RenderBilling(req, v, {{"error", form.error().detail}}, 400);
  const std::string plan = FormField(*form, "plan");
  std::optional<int> seats;
  if (plan == "per_seat") {
    const auto text = FormField(*form, "seats");
    int n = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    seats = ec == std::errc() && p == text.data() + text.size() ? n : 0;
  }
  // Polar sends the receipt to the buyer: the signed-in user's address, else the tenant's.
  std::optional<std::string> email = v.tenant->contact_email;
  if (v.user && v.user->username.find('@') != std::string::npos) email = v.user->username;
  auto made = services_.billing.StartCheckout(v.actor, v.tenant->id, plan, email, seats,
                                              v.origin + "/billing?paid=1", v.origin + "/billing");
  if (!made) {
    const int status = made.error().kind == ErrorKind::kUnavailable ? 503 : 422;
    return RenderBilling(req, v, {{"error", DomainMessage(v.lang, made.error())}}, status);
  }
  return PageResponse(v, "billing_continue", "billing_continue_title",
                      {{"url", made->url}, {"text", String(v.lang, "billing_checkout_ready")}});
}

Result<http::Response> OrganisationPages::PaymentMethods(http::Request& req, const Visit& v) {
  auto url = services_.billing.CustomerPortal(v.tenant->id, v.origin + "/billing");
  if (!url) {
    const int status = url.error().kind == ErrorKind::kUnavailable ? 503 : 404;
    return RenderBilling(req, v, {{"error", DomainMessage(v.lang, url.error())}}, status);
  }
  return PageResponse(v, "billing_continue", "billing_continue_title",
                      {{"url", *url}, {"text", String(v.lang, "billing_portal_ready")}});
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
           .handler = Bind(this, &OrganisationPages::Billing)},
          // Buying a plan is billing.manage, as on the API; no status gate: a frozen tenant may
          // pay its way out.
          {.method = "POST",
           .pattern = "/billing/upgrade",
           .name = "billing_upgrade",
           .sites = kOnTenant,
           .action = identity::Action::kBillingManage,
           .handler = Bind(this, &OrganisationPages::Upgrade)},
          {.method = "POST",
           .pattern = "/billing/payment-methods",
           .name = "billing_payment_methods",
           .sites = kOnTenant,
           .action = identity::Action::kBillingManage,
           .handler = Bind(this, &OrganisationPages::PaymentMethods)}};
}

}  // namespace breakpilot::portal
