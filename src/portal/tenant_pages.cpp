#include "portal/tenant_pages.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "api/form.hpp"
#include "core/crypto.hpp"

namespace breakpilot::portal {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<http::Response> TenantPages::Root(http::Request&, const Visit&) {
  return SeeOther("/dashboard");
}

Result<http::Response> TenantPages::Dashboard(http::Request&, const Visit& v) {
  const auto& t = *v.tenant;
  auto subs = services_.subscriptions.List(t.id);
  if (!subs) return subs.error();
  boost::json::array products;
  for (const auto& s : *subs) {
    const auto& all = services_.catalog.products();
    auto m =
        std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.id == s.product_id; });
    products.push_back(boost::json::object{{"id", s.product_id},
                                           {"name", m == all.end() ? s.product_id : m->name},
                                           {"tagline", m == all.end() ? "" : m->tagline},
                                           {"plan", s.plan}});
  }
  // Usage against the limits: the daily API calls' limit applies per product.
  auto used = services_.usage.ForTenant(t.id);
  if (!used) return used.error();
  boost::json::array usage;
  for (const auto& u : used->totals) {
    const auto* m = services_.catalog.Find(u.product);
    boost::json::object row{{"product_id", u.product},
                            {"product", m != nullptr ? m->name : u.product},
                            {"metric", u.metric},
                            {"today", u.today},
                            {"this_month", u.this_month}};
    if (u.metric == "api_calls" && used->api_calls_per_day > 0) {
      row["limit"] = used->api_calls_per_day;
    }
    usage.push_back(std::move(row));
  }
  boost::json::object data{{"has_products", !products.empty()},
                           {"products", std::move(products)},
                           {"has_usage", !usage.empty()},
                           {"usage", std::move(usage)},
                           {"status", StatusText(v.lang, t.status)},
                           {"plan", tenants::ToString(t.plan)}};
  for (auto& [k, x] : TimeFields("trial_ends", t.trial_ends_at)) data[k] = x;
  return PageResponse(v, "dashboard", "dashboard", std::move(data));
}

std::vector<std::string> TenantPages::Scopes(const std::string& tenant_id) {
  std::vector<std::string> scopes;
  if (auto subs = services_.subscriptions.List(tenant_id)) {
    for (const auto& s : *subs) {
      for (const auto& m : services_.catalog.products()) {
        if (m.id == s.product_id) scopes.insert(scopes.end(), m.scopes.begin(), m.scopes.end());
      }
    }
  }
  scopes.emplace_back("audit:write");  // a product's own audit events, as this tenant
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

Result<http::Response> TenantPages::KeysPage(const Visit& v, const boost::json::object& extra,
                                             int status) {
  auto page = services_.api_keys.List(v.tenant->id, std::nullopt, tenants::kMaxPageSize);
  if (!page) return page.error();
  const bool can_write = MayChange(v, identity::Action::kApiKeyWrite);
  boost::json::array keys;
  for (const auto& k : page->items) {
    boost::json::object row{{"id", k.id},
                            {"name", k.name},
                            {"prefix", k.prefix},
                            {"scopes", Join(k.scopes)},
                            {"revoked", k.revoked_at.has_value()},
                            {"replaced", k.replaced_by.has_value() && !k.revoked_at},
                            {"can_rotate", can_write && !k.revoked_at && !k.replaced_by},
                            {"can_write", can_write},
                            {"csrf", v.session->csrf_token}};
    for (auto& [f, x] : TimeFields("created", k.created_at)) row[f] = x;
    for (auto& [f, x] : TimeFields("last_used", k.last_used_at)) row[f] = x;
    for (auto& [f, x] : TimeFields("expires", k.expires_at)) row[f] = x;
    keys.push_back(std::move(row));
  }
  boost::json::array scopes;
  for (const auto& s : Scopes(v.tenant->id)) scopes.emplace_back(s);
  boost::json::object data{{"has_keys", !keys.empty()},
                           {"keys", std::move(keys)},
                           {"can_write", can_write},
                           {"scopes", std::move(scopes)},
                           {"form_key", RandomToken(18)}};
  for (auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "api_keys", "api_keys", std::move(data), status);
}

Result<http::Response> TenantPages::ApiKeys(http::Request& req, const Visit& v) {
  return KeysPage(v, NoticeIf(req, v, "revoked", "key_revoked"), 200);
}

Result<http::Response> TenantPages::ApiKeyCreate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return KeysPage(v, {{"error", form.error().detail}}, 400);
  FormOnce once(services_.db, v, *form, "/settings/api-keys", "api_key_create",
                services_.clock.Now());
  if (const auto& no = once.Refusal()) {
    return KeysPage(v, {{"error", String(v.lang, no->second)}}, no->first);
  }
  auto name = api::FormValue(*form, "name");
  std::vector<std::string> scopes;
  for (const auto& [k, value] : *form) {
    if (k == "scope") scopes.push_back(value);
  }
  const std::string shown = name && *name ? (*name)->substr(0, 100) : std::string();
  auto created = services_.api_keys.Create(v.actor, {.tenant_id = v.tenant->id,
                                                     .name = name && *name ? **name : std::string(),
                                                     .scopes = scopes});
  if (!created) {
    once.Failed();
    // The use case's own words: which field is wrong and why.
    return KeysPage(v, {{"error", DomainMessage(v.lang, created.error())}, {"form_name", shown}},
                    400);
  }
  once.Made(created->key.id, 201);
  // The secret is shown once, on the page that answers the form; it is never stored.
  return KeysPage(v, {{"secret", created->secret}}, 201);
}

Result<http::Response> TenantPages::ApiKeyRotate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return KeysPage(v, {{"error", form.error().detail}}, 400);
  const std::string id(req.Param("key_id").value_or(""));
  auto key = services_.api_keys.Get(id);
  // Another tenant's key is no key here.
  if (!key || key->tenant_id != v.tenant->id) {
    return NotFound("api-key-not-found", "no such API key");
  }
  // How long the old secret keeps working: one of the form's choices, in seconds.
  const std::string grace_text = FormField(*form, "grace");
  std::int64_t grace = -1;
  if (!grace_text.empty() && grace_text.size() <= 8 &&
      grace_text.find_first_not_of("0123456789") == std::string::npos) {
    grace = std::stoll(grace_text);
  }
  auto next = services_.api_keys.Rotate(v.actor, key->id, grace);
  if (!next)
    return KeysPage(v, {{"error", DomainMessage(v.lang, next.error())}}, FormStatus(next.error()));
  // The new secret is shown once, as a created key's is.
  return KeysPage(v, {{"secret", next->secret}, {"rotated", true}}, 201);
}

Result<http::Response> TenantPages::ApiKeyRevoke(http::Request& req, const Visit& v) {
  const std::string id(req.Param("key_id").value_or(""));
  auto key = services_.api_keys.Get(id);
  // Another tenant's key is no key here.
  if (!key || key->tenant_id != v.tenant->id) {
    return NotFound("api-key-not-found", "no such API key");
  }
  auto revoked = services_.api_keys.Revoke(v.actor, id);
  if (!revoked) return revoked.error();
  return SeeOther("/settings/api-keys?revoked=1");
}

std::vector<Page> TenantPages::Pages() {
  using A = identity::Action;
  return {
      {.method = "GET",
       .pattern = "/",
       .name = "tenant_root",
       .sites = kOnTenant,
       .action = A::kTenantRead,
       .handler = Bind(this, &TenantPages::Root)},
      {.method = "GET",
       .pattern = "/dashboard",
       .name = "dashboard",
       .sites = kOnTenant,
       .action = A::kTenantRead,
       .nav = "dashboard",
       .handler = Bind(this, &TenantPages::Dashboard)},
      {.method = "GET",
       .pattern = "/settings/api-keys",
       .name = "api_keys",
       .sites = kOnTenant,
       .action = A::kApiKeyRead,
       .nav = "api_keys",
       .handler = Bind(this, &TenantPages::ApiKeys)},
      {.method = "POST",
       .pattern = "/settings/api-keys",
       .name = "api_key_create",
       .sites = kOnTenant,
       .action = A::kApiKeyWrite,
       .tenant_write = true,
       .handler = Bind(this, &TenantPages::ApiKeyCreate)},
      {.method = "POST",
       .pattern = "/settings/api-keys/{key_id}/rotate",
       .name = "api_key_rotate",
       .sites = kOnTenant,
       .action = A::kApiKeyWrite,
       .tenant_write = true,
       .handler = Bind(this, &TenantPages::ApiKeyRotate)},
      {.method = "POST",
       .pattern = "/settings/api-keys/{key_id}/revoke",
       .name = "api_key_revoke",
       .sites = kOnTenant,
       .action = A::kApiKeyWrite,
       .tenant_write = true,
       .handler = Bind(this, &TenantPages::ApiKeyRevoke)},
  };
}

}  // namespace breakpilot::portal
