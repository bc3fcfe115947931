#include "portal/product_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {

Result<std::pair<const catalog::Manifest*, std::string>> ProductPages::Subscribed(
    const http::Request& req, const Visit& v) {
  const std::string id(req.Param("product_id").value_or(""));
  // Only a product this tenant subscribes to opens here; any other is no page at all.
  auto subs = services_.subscriptions.List(v.tenant->id);
  if (!subs) return subs.error();
  const auto sub =
      std::find_if(subs->begin(), subs->end(), [&](const auto& s) { return s.product_id == id; });
  const catalog::Manifest* m = services_.catalog.Find(id);
  if (sub == subs->end() || m == nullptr) return NotFound("product-not-found", "no such product");
  return std::pair{m, sub->plan};
}

Result<http::Response> ProductPages::Show(http::Request& req, const Visit& v) {
  auto found = Subscribed(req, v);
  if (!found) return found.error();
  const auto* m = found->first;
  boost::json::object data{
      {"id", m->id}, {"name", m->name}, {"tagline", m->tagline}, {"plan", found->second}};
  // Only what the manifest gives: an empty string would still open a mustache section.
  if (!m->api_url.empty()) data["api_url"] = m->api_url;
  if (!m->docs_url.empty()) data["docs_url"] = m->docs_url;
  std::vector<std::string> origins;
  if (!m->web_component_script.empty()) {
    auto token = services_.issuer.PortalToken(*v.user, v.tenant->id, m->id);
    if (!token) return token.error();
    data["component"] =
        boost::json::object{{"script", m->web_component_script}, {"tag", m->web_component_tag},
                            {"tenant_id", v.tenant->id},         {"tenant_slug", v.tenant->slug},
                            {"tenant_name", v.tenant->name},     {"user_id", v.user->id},
                            {"user_name", v.user->username},     {"token", token->access_token},
                            {"csrf", v.session->csrf_token}};
    origins.push_back(catalog::OriginOf(m->web_component_script));
    if (!m->api_url.empty()) origins.push_back(catalog::OriginOf(m->api_url));
  } else if (May(v, identity::Action::kApiKeyRead)) {
    // A headless product is used through its API: the tenant's keys that carry its scopes.
    auto keys = services_.api_keys.List(v.tenant->id, std::nullopt, tenants::kMaxPageSize);
    if (!keys) return keys.error();
    boost::json::array rows;
    for (const auto& k : keys->items) {
      if (k.revoked_at) continue;
      const bool for_it = std::any_of(k.scopes.begin(), k.scopes.end(),
                                      [&](const auto& s) { return s.rfind(m->id + ":", 0) == 0; });
      if (!for_it) continue;
      boost::json::object row{{"name", k.name}, {"prefix", k.prefix}};
      for (auto& [f, x] : TimeFields("last_used", k.last_used_at)) row[f] = x;
      rows.push_back(std::move(row));
    }
    data["show_keys"] = true;
    data["has_keys"] = !rows.empty();
    data["keys"] = std::move(rows);
  }
  auto res = PageResponse(v, "product", "", std::move(data));
  if (!origins.empty())
    res.headers.Set("Content-Security-Policy", ContentSecurityPolicy(v, origins));
  return res;
}

// A fresh short-lived token for the product's web component, before the one it has expires:
// the same token as the page hands it, for the session's user, this tenant and this product only.
// A POST with the session's CSRF token (portal.js sends it), answered in JSON.
Result<http::Response> ProductPages::Token(http::Request& req, const Visit& v) {
  auto found = Subscribed(req, v);
  if (!found) return found.error();
  if (found->first->web_component_script.empty()) {
    return NotFound("product-not-found", "this product has no web component");
  }
  auto token = services_.issuer.PortalToken(*v.user, v.tenant->id, found->first->id);
  if (!token) return token.error();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"access_token", token->access_token},
                                                      {"token_type", "Bearer"},
                                                      {"expires_in", token->expires_in}}));
}

std::vector<Page> ProductPages::Pages() {
  return {{.method = "GET",
           .pattern = "/products/{product_id}",
           .name = "product",
           .sites = kOnTenant,
           .action = identity::Action::kTenantRead,
           .handler = Bind(this, &ProductPages::Show)},
          {.method = "POST",
           .pattern = "/products/{product_id}/token",
           .name = "product_token",
           .sites = kOnTenant,
           .action = identity::Action::kTenantRead,
           .handler = Bind(this, &ProductPages::Token)}};
}

}  // namespace breakpilot::portal
