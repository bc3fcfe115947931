#include "api/representation.hpp"

#include <boost/json.hpp>

#include <cstdlib>

#include "audit/retraced.hpp"

namespace breakpilot::api {

std::string ETagFor(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

boost::json::object ToJson(const tenants::Tenant& t) {
  return tenants::TenantJson(t);
}

boost::json::object ToJson(const tenants::Project& p) {
  return {
      {"id", p.id},
      {"tenant_id", p.tenant_id},
      {"name", p.name},
      {"description", p.description},
      {"version", p.version},
      {"created_at", FormatRfc3339(p.created_at)},
      {"updated_at", FormatRfc3339(p.updated_at)},
      {"archived_at", p.archived_at ? boost::json::value(FormatRfc3339(*p.archived_at)) : nullptr}};
}

boost::json::object ToJson(const tenants::Subscription& s) {
  return {{"tenant_id", s.tenant_id},
          {"product_id", s.product_id},
          {"plan", s.plan},
          {"subscribed_at", FormatRfc3339(s.subscribed_at)}};
}

boost::json::object ToJson(const catalog::Manifest& m) {
  boost::json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  o["version"] = m.version;
  o["description"] = m.description;
  o["vendor"] = m.vendor;
  o["base_url"] = m.base_url;
  o["plans"] = boost::json::value_from(m.plans);
  o["supports_projects"] = m.supports_projects;
  o["scopes"] = boost::json::value_from(m.scopes);
  o["category"] = m.category;
  o["tagline"] = m.tagline;
  boost::json::object flags;
  for (const auto& [key, value] : m.flags) flags[key] = value;
  o["flags"] = std::move(flags);
  return o;
}

}  // namespace breakpilot::api

namespace breakpilot::api {
namespace {

boost::json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

boost::json::value NullIfEmpty(const std::string& s) {
  if (s.empty()) return nullptr;
  return boost::json::value(s);
}

}  // namespace

boost::json::object ToJson(const audit::Entry& e) {
  auto detail = ParseObject(e.detail);
  const auto sub = [&](std::string_view key) {
    auto* v = detail.if_contains(key);
    return v && v->is_object() ? v->as_object() : boost::json::object{};
  };
  boost::json::object actor = sub("actor");
  actor["id"] = e.actor_id;
  actor["name"] = NullIfEmpty(e.actor_name);
  boost::json::value target = nullptr;
  if (!e.target_id.empty() || !e.target_type.empty()) {
    boost::json::object t = sub("target");
    t["id"] = e.target_id;
    t["name"] = NullIfEmpty(e.target_name);
    t["type"] = NullIfEmpty(e.target_type);
    target = std::move(t);
  }
  boost::json::value group = nullptr;
  if (e.tenant_id) {
    boost::json::object g = sub("group");
    g["id"] = *e.tenant_id;
    group = std::move(g);
  }
  boost::json::object o{{"id", e.id},
                        {"action", e.action},
                        {"crud", std::string(1, e.crud)},
                        {"created", FormatRfc3339(e.created)},
                        {"received", FormatRfc3339(e.received)},
                        {"product", e.product},
                        {"actor", std::move(actor)},
                        {"target", std::move(target)},
                        {"group", std::move(group)},
                        {"source_ip", NullIfEmpty(e.source_ip)},
                        {"description", e.description},
                        {"is_failure", e.is_failure},
                        {"is_anonymous", detail.contains("is_anonymous")},
                        {"fields", ParseObject(e.fields)},
                        {"request_id", NullIfEmpty(e.request_id)},
                        {"demo", e.demo},
                        {"seq", e.seq},
                        {"hash", e.hash}};
  for (std::string_view key : {"component", "version", "external_id", "metadata"}) {
    if (auto* v = detail.if_contains(key)) o[key] = *v;
  }
  // Who wrote it: the credential of a product or a tenant's key, or the platform itself.
  const auto* publisher = detail.if_contains("publisher");
  o["publisher"] = publisher && publisher->is_string() ? publisher->get_string() : "platform";
  const std::int64_t skew = e.received.micros - e.created.micros;
  o["created_skewed"] = std::abs(skew) > audit::kCreatedSkewSeconds * kMicrosPerSecond;
  return o;
}

}  // namespace breakpilot::api
