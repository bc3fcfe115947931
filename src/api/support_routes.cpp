#include "api/support_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

json::object ListJson(const support::TicketList& list) {
  json::array items;
  for (const auto& t : list.tickets) items.push_back(ToJson(t));
  return {{"items", std::move(items)}, {"unavailable", list.unavailable}};
}

}  // namespace

json::object ToJson(const support::Escalation& e) {
  return {{"repo", e.repo}, {"number", e.number}, {"url", e.url}, {"state", e.state}};
}

json::object ToJson(const support::Ticket& t) {
  return {{"id", t.id},
          {"tenant_id", t.tenant_id},
          {"subject", t.subject},
          {"status", t.status},
          {"raised_by", t.raised_by},
          {"opened", t.opened},
          {"escalation", t.escalation ? json::value(ToJson(*t.escalation)) : nullptr}};
}

std::string ContactFor(identity::Directory& directory, const identity::Principal& principal,
                       const tenants::Tenant& tenant) {
  constexpr std::string_view kUser = "user:";
  if (principal.subject.rfind(kUser, 0) == 0) {
    auto user = directory.GetUser(principal.subject.substr(kUser.size()));
    if (user && user->username.find('@') != std::string::npos) return user->username;
  }
  return tenant.contact_email.value_or("");
}

Result<http::Response> SupportRoutes::TenantTickets(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  if (!support_.on()) {
    return NotFound("support-off", "the helpdesk is not configured on this platform");
  }
  return http::Response::Json(200, json::serialize(ListJson(support_.Tickets(*id))));
}

Result<http::Response> SupportRoutes::OpenTicket(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto subject = r.String("subject", Required::kYes).value_or("");
  const auto description = r.String("description", Required::kYes).value_or("");
  auto raised_by = r.String("raised_by", Required::kNo);
  if (auto ok = r.Finish({"subject", "description", "raised_by"}); !ok) return ok.error();
  auto tenant = tenants_.Get(*id);
  if (!tenant) return tenant.error();
  auto made = support_.Open(
      caller.actor, *id,
      {.subject = subject,
       .description = description,
       .raised_by = raised_by.value_or(ContactFor(directory_, caller.principal, *tenant))});
  if (!made) return made.error();
  return http::Response::Json(201, json::serialize(ToJson(*made)));
}

Result<http::Response> SupportRoutes::AllTickets(http::Request&, const Caller&) {
  if (!support_.on()) {
    return NotFound("support-off", "the helpdesk is not configured on this platform");
  }
  return http::Response::Json(200, json::serialize(ListJson(support_.Tickets(std::nullopt))));
}

Result<http::Response> SupportRoutes::Escalate(http::Request& req, const Caller& caller) {
  auto done = support_.Escalate(caller.actor, std::string(req.Param("ticket_id").value_or("")));
  if (!done) return done.error();
  return http::Response::Json(200, json::serialize(ToJson(*done)));
}

Result<http::Response> SupportRoutes::GiteaWebhook(http::Request& req, const Caller&) {
  auto done = support_.ReceiveGitea(req.headers.Get("x-gitea-event").value_or(""),
                                    req.headers.Get("x-gitea-signature").value_or(""), req.body);
  if (!done) return done.error();
  return http::Response::Json(200, json::serialize(json::object{{"received", true},
                                                                {"repeat", done->repeat},
                                                                {"ignored", done->ignored},
                                                                {"ticket_id", done->ticket_id}}));
}

std::vector<Endpoint> SupportRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/tickets",
                    .name = "tenant_tickets",
                    .action = identity::Action::kSupportUse,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &SupportRoutes::TenantTickets)});
  // A frozen tenant may still ask for help: the gate lets this through.
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/tickets",
                    .name = "tenant_ticket_open",
                    .action = identity::Action::kSupportUse,
                    .tenant = TenantFrom::kPathId,
                    .gate = Gate::kLiftsFreeze,
                    .body = {kJson},
                    .handler = Bind(this, &SupportRoutes::OpenTicket)});
  routes.push_back({.method = "GET",
                    .pattern = "/tickets",
                    .name = "tickets",
                    .action = identity::Action::kSupportEscalate,
                    .handler = Bind(this, &SupportRoutes::AllTickets)});
  routes.push_back({.method = "POST",
                    .pattern = "/tickets/{ticket_id}/escalate",
                    .name = "ticket_escalate",
                    .action = identity::Action::kSupportEscalate,
                    .handler = Bind(this, &SupportRoutes::Escalate)});
  // Gitea signs; no bearer.
  routes.push_back({.method = "POST",
                    .pattern = "/gitea/webhook",
                    .name = "gitea_webhook",
                    .action = identity::Action::kPublic,
                    .body = {kJson},
                    .handler = Bind(this, &SupportRoutes::GiteaWebhook)});
  return routes;
}

}  // namespace breakpilot::api
