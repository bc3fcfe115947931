#include "portal/integration_pages.hpp"

#include <boost/json.hpp>

#include <map>

#include "api/form.hpp"
#include "core/crypto.hpp"
#include "webhooks/webhooks.hpp"

namespace breakpilot::portal {
namespace {

namespace json = boost::json;

constexpr int kRecentDeliveries = 20;
constexpr int kDeadLetterRows = 50;

// The grace the rotate form offers, in seconds: what RotateSecret takes (at most a week).
std::optional<std::chrono::seconds> Grace(const api::Form& form) {
  const std::string text = FormField(form, "grace");
  for (const std::int64_t s : {0, 3600, 86'400, 604'800}) {
    if (text == std::to_string(s)) return std::chrono::seconds(s);
  }
  return std::nullopt;
}

// The endpoint a button names (the webhooks service answers 404 for another tenant's).
std::string WebhookId(const http::Request& req) {
  return std::string(req.Param("webhook_id").value_or(""));
}

json::object DeliveryRow(const webhooks::Delivery& d,
                         const std::map<std::string, std::string>& urls, const Visit& v) {
  const auto url = urls.find(d.endpoint_id);
  json::object row{{"id", d.id},
                   {"event_id", d.event_id},
                   {"type", d.type},
                   {"state", d.state},
                   {"attempts", d.attempts},
                   {"url", url != urls.end() ? url->second : d.endpoint_id},
                   {"csrf", v.session->csrf_token}};
  if (d.last_status) row["last_status"] = *d.last_status;
  if (d.last_error) row["last_error"] = d.last_error->substr(0, 200);
  for (auto& [k, x] : TimeFields("created", d.created_at)) row[k] = x;
  for (auto& [k, x] : TimeFields("next", d.next_at)) row[k] = x;
  return row;
}

}  // namespace

Result<http::Response> IntegrationPages::Render(const Visit& v, const json::object& extra,
                                                int status) {
  const std::string& tenant = v.tenant->id;
  auto endpoints = services_.webhooks.List(tenant);
  if (!endpoints) return endpoints.error();
  const bool can_write = MayChange(v, identity::Action::kWebhookWrite);
  std::map<std::string, std::string> urls;
  json::array rows;
  for (const auto& e : *endpoints) {
    urls[e.id] = e.url;
    std::string types;
    for (const auto& t : e.event_types) types += (types.empty() ? "" : ", ") + t;
    json::object row{{"id", e.id},
                     {"url", e.url},
                     {"types", types},
                     {"all", types.empty()},
                     {"enabled", e.status == "enabled"},
                     {"can_write", can_write},
                     {"csrf", v.session->csrf_token}};
    if (e.disabled_reason) row["disabled_reason"] = *e.disabled_reason;
    for (auto& [k, x] : TimeFields("failing_since", e.failing_since)) row[k] = x;
    for (auto& [k, x] : TimeFields("previous_until", e.previous_secret_until)) row[k] = x;
    rows.push_back(std::move(row));
  }
  json::array dead;
  for (const auto& d : services_.webhooks.Deliveries(
           {.tenant_id = tenant, .state = "dead", .limit = kDeadLetterRows})) {
    json::object row = DeliveryRow(d, urls, v);
    row["can_write"] = can_write;
    dead.push_back(std::move(row));
  }
  json::array recent;
  for (const auto& d :
       services_.webhooks.Deliveries({.tenant_id = tenant, .limit = kRecentDeliveries})) {
    json::object row = DeliveryRow(d, urls, v);
    row["state_text"] = String(v.lang, "delivery_" + d.state);
    recent.push_back(std::move(row));
  }
  json::array types;
  for (const auto t : webhooks::kEventTypes) types.emplace_back(t);
  json::object data{{"has_endpoints", !rows.empty()}, {"endpoints", std::move(rows)},
                    {"has_dead", !dead.empty()},      {"dead", std::move(dead)},
                    {"has_recent", !recent.empty()},  {"recent", std::move(recent)},
                    {"can_write", can_write},         {"event_types", std::move(types)},
                    {"csrf", v.session->csrf_token},  {"form_key", RandomToken(18)}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "integrations", "integrations", std::move(data), status);
}

Result<http::Response> IntegrationPages::Show(http::Request& req, const Visit& v) {
  for (const auto& [flag, key] : {std::pair{"tested", "webhook_tested"},
                                  {"enabled", "webhook_enabled"},
                                  {"disabled", "webhook_disabled_notice"},
                                  {"deleted", "webhook_deleted"},
                                  {"replayed", "webhook_replayed"}}) {
    if (auto notice = NoticeIf(req, v, flag, key); !notice.empty()) return Render(v, notice, 200);
  }
  return Render(v, {}, 200);
}

Result<http::Response> IntegrationPages::Create(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  // The secret is shown once, on the answer: a second send of the same form makes nothing.
  FormOnce once(services_.db, v, *form, "/settings/integrations", "webhook_create",
                services_.clock.Now());
  if (const auto& no = once.Refusal()) {
    return Render(v, {{"error", String(v.lang, no->second)}}, no->first);
  }
  webhooks::NewEndpoint in{.url = FormField(*form, "url")};
  for (const auto& [k, value] : *form) {
    if (k == "event_type") in.event_types.push_back(value);
  }
  auto made = services_.webhooks.Create(v.actor, v.tenant->id, in);
  if (!made) {
    once.Failed();
    // The use case's own words (an unsafe address, an unknown type), with the URL as typed.
    return Render(
        v, {{"error", DomainMessage(v.lang, made.error())}, {"form_url", in.url.substr(0, 2000)}},
        FormStatus(made.error()));
  }
  once.Made(made->first.id, 201);
  return Render(v, {{"secret", made->second}}, 201);
}

Result<http::Response> IntegrationPages::SendTest(http::Request& req, const Visit& v) {
  auto sent = services_.webhooks.SendTest(v.actor, v.tenant->id, WebhookId(req));
  if (!sent) return sent.error();
  return SeeOther("/settings/integrations?tested=1");
}

Result<http::Response> IntegrationPages::Rotate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  const auto grace = Grace(*form);
  if (!grace) return Render(v, {{"error", String(v.lang, "webhook_bad_grace")}}, 422);
  auto secret = services_.webhooks.RotateSecret(v.actor, v.tenant->id, WebhookId(req), *grace);
  if (!secret) return secret.error();
  return Render(v, {{"secret", *secret}, {"rotated", true}}, 201);
}

Result<http::Response> IntegrationPages::SetStatus(http::Request& req, const Visit& v,
                                                   const std::string& status) {
  auto done = services_.webhooks.Update(v.actor, v.tenant->id, WebhookId(req), {.status = status});
  if (!done) return done.error();
  return SeeOther("/settings/integrations?" + status + "=1");
}

Result<http::Response> IntegrationPages::Enable(http::Request& req, const Visit& v) {
  return SetStatus(req, v, "enabled");
}

Result<http::Response> IntegrationPages::Disable(http::Request& req, const Visit& v) {
  return SetStatus(req, v, "disabled");
}

Result<http::Response> IntegrationPages::Remove(http::Request& req, const Visit& v) {
  auto done = services_.webhooks.Delete(v.actor, v.tenant->id, WebhookId(req));
  if (!done) return done.error();
  return SeeOther("/settings/integrations?deleted=1");
}

Result<http::Response> IntegrationPages::Replay(http::Request& req, const Visit& v) {
  // Only this tenant's dead deliveries: another's is no delivery here (404).
  auto done = services_.webhooks.Replay(v.actor, std::string(req.Param("delivery_id").value_or("")),
                                        v.tenant->id);
  if (!done) {
    if (done.error().kind == ErrorKind::kConflict) {
      return Render(v, {{"error", DomainMessage(v.lang, done.error())}}, 409);
    }
    return done.error();
  }
  return SeeOther("/settings/integrations?replayed=1");
}

std::vector<Page> IntegrationPages::Pages() {
  using A = identity::Action;
  std::vector<Page> pages{{.method = "GET",
                           .pattern = "/settings/integrations",
                           .name = "integrations",
                           .sites = kOnTenant,
                           .action = A::kWebhookRead,
                           .nav = "integrations",
                           .handler = Bind(this, &IntegrationPages::Show)},
                          {.method = "POST",
                           .pattern = "/settings/integrations",
                           .name = "webhook_create_page",
                           .sites = kOnTenant,
                           .action = A::kWebhookWrite,
                           .tenant_write = true,
                           .handler = Bind(this, &IntegrationPages::Create)},
                          {.method = "POST",
                           .pattern = "/settings/integrations/deliveries/{delivery_id}/replay",
                           .name = "webhook_replay_page",
                           .sites = kOnTenant,
                           .action = A::kWebhookWrite,
                           .tenant_write = true,
                           .handler = Bind(this, &IntegrationPages::Replay)}};
  // The endpoint's buttons: each a POST to /settings/integrations/{webhook_id}/<verb>.
  for (const auto& [verb, handler] : {std::pair{"test", &IntegrationPages::SendTest},
                                      {"rotate", &IntegrationPages::Rotate},
                                      {"enable", &IntegrationPages::Enable},
                                      {"disable", &IntegrationPages::Disable},
                                      {"delete", &IntegrationPages::Remove}}) {
    pages.push_back({.method = "POST",
                     .pattern = std::string("/settings/integrations/{webhook_id}/") + verb,
                     .name = std::string("webhook_") + verb + "_page",
                     .sites = kOnTenant,
                     .action = A::kWebhookWrite,
                     .tenant_write = true,
                     .handler = Bind(this, handler)});
  }
  return pages;
}

}  // namespace breakpilot::portal
