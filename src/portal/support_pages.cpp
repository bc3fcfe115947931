#include "portal/support_pages.hpp"

#include <boost/json.hpp>

#include "core/crypto.hpp"

namespace breakpilot::portal {
namespace {

namespace json = boost::json;

// A ticket's row, with its escalation's issue when there is one.
json::object Row(const Visit& v, const support::Ticket& t) {
  json::object row{{"id", t.id},
                   {"subject", t.subject},
                   {"status", t.status},
                   {"raised_by", t.raised_by},
                   {"opened", t.opened}};
  if (t.escalation) {
    row["issue"] = t.escalation->repo + "#" + std::to_string(t.escalation->number);
    row["issue_url"] = t.escalation->url;
    row["issue_closed"] = t.escalation->state == "closed";
  }
  row["csrf"] = v.session ? v.session->csrf_token : "";
  return row;
}

}  // namespace

http::Response SupportPages::RenderSupport(const Visit& v, const json::object& extra, int status) {
  json::object data{{"support_on", services_.support.on()}, {"form_key", RandomToken(18)}};
  if (services_.support.on()) {
    const auto list = services_.support.Tickets(v.tenant->id);
    json::array rows;
    for (const auto& t : list.tickets) rows.push_back(Row(v, t));
    data["has_tickets"] = !rows.empty();
    data["tickets"] = std::move(rows);
    data["unavailable"] = list.unavailable;
  }
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "support", "support_nav", std::move(data), status);
}

Result<http::Response> SupportPages::Support(http::Request& req, const Visit& v) {
  return RenderSupport(v, NoticeIf(req, v, "opened", "support_opened"), 200);
}

Result<http::Response> SupportPages::Open(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return RenderSupport(v, {{"error", form.error().detail}}, 400);
  // A double click or a reload opens one ticket.
  FormOnce once(services_.db, v, *form, "/support", "support_open", services_.clock.Now());
  if (const auto& no = once.Refusal()) {
    return RenderSupport(v, {{"error", String(v.lang, no->second)}}, no->first);
  }
  const auto subject = FormField(*form, "subject");
  const auto description = FormField(*form, "description");
  std::string raised_by = v.tenant->contact_email.value_or("");
  if (v.user && v.user->username.find('@') != std::string::npos) raised_by = v.user->username;
  auto made = services_.support.Open(
      v.actor, v.tenant->id,
      {.subject = subject, .description = description, .raised_by = raised_by});
  if (!made) {
    once.Failed();
    return RenderSupport(v,
                         {{"error", DomainMessage(v.lang, made.error())},
                          {"form_subject", subject.substr(0, 140)},
                          {"form_description", description.substr(0, 20'000)}},
                         FormStatus(made.error()));
  }
  once.Made(made->id, 303);
  return SeeOther("/support?opened=1");
}

http::Response SupportPages::RenderTickets(const Visit& v, const json::object& extra, int status) {
  json::object data{{"support_on", services_.support.on()},
                    {"can_escalate", services_.support.escalation_on()}};
  if (services_.support.on()) {
    const auto list = services_.support.Tickets(std::nullopt);
    json::array rows;
    for (const auto& t : list.tickets) {
      auto row = Row(v, t);
      std::string tenant = t.tenant_id;
      if (auto found = services_.tenants.Get(t.tenant_id)) {
        tenant = found->name;
        row["slug"] = found->slug;
        row["tenant_id"] = found->id;
      }
      row["tenant"] = tenant;
      rows.push_back(std::move(row));
    }
    data["has_tickets"] = !rows.empty();
    data["tickets"] = std::move(rows);
    data["unavailable"] = list.unavailable;
  }
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "tickets", "tickets_nav", std::move(data), status);
}

Result<http::Response> SupportPages::Tickets(http::Request& req, const Visit& v) {
  return RenderTickets(v, NoticeIf(req, v, "escalated", "ticket_escalated"), 200);
}

Result<http::Response> SupportPages::Escalate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return RenderTickets(v, {{"error", form.error().detail}}, 400);
  auto done = services_.support.Escalate(v.actor, std::string(req.Param("ticket_id").value_or("")));
  if (!done) {
    return RenderTickets(v, {{"error", DomainMessage(v.lang, done.error())}},
                         FormStatus(done.error()));
  }
  return SeeOther("/tickets?escalated=1");
}

std::vector<Page> SupportPages::Pages() {
  using A = identity::Action;
  // Asking for help is not a change the status gate holds back: a frozen tenant may ask too.
  return {{.method = "GET",
           .pattern = "/support",
           .name = "support",
           .sites = kOnTenant,
           .action = A::kSupportUse,
           .nav = "support_nav",
           .nav_when = [this](const Visit&) { return services_.support.on(); },
           .handler = Bind(this, &SupportPages::Support)},
          {.method = "POST",
           .pattern = "/support",
           .name = "support_open",
           .sites = kOnTenant,
           .action = A::kSupportUse,
           .handler = Bind(this, &SupportPages::Open)},
          {.method = "GET",
           .pattern = "/tickets",
           .name = "tickets",
           .sites = kOnBackstage,
           .action = A::kSupportEscalate,
           .nav = "tickets_nav",
           .nav_when = [this](const Visit&) { return services_.support.on(); },
           .handler = Bind(this, &SupportPages::Tickets)},
          {.method = "POST",
           .pattern = "/tickets/{ticket_id}/escalate",
           .name = "ticket_escalate",
           .sites = kOnBackstage,
           .action = A::kSupportEscalate,
           .handler = Bind(this, &SupportPages::Escalate)}};
}

}  // namespace breakpilot::portal
