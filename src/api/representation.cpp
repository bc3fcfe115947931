#include "api/representation.hpp"

#include <boost/json.hpp>

namespace breakpilot::api {
namespace {

boost::json::value OptionalTime(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return boost::json::value(FormatRfc3339(*t));
}

}  // namespace

std::string ETagFor(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

boost::json::object ToJson(const tenants::Tenant& t) {
  boost::json::object o;
  o["id"] = t.id;
  o["slug"] = t.slug;
  o["name"] = t.name;
  o["kind"] = tenants::ToString(t.kind);
  o["status"] = tenants::ToString(t.status);
  o["plan"] = tenants::ToString(t.plan);
  o["trial_ends_at"] = OptionalTime(t.trial_ends_at);
  o["status_changed_at"] = FormatRfc3339(t.status_changed_at);
  if (t.cancel_reason) {
    o["cancel_reason"] = *t.cancel_reason;
  } else {
    o["cancel_reason"] = nullptr;
  }
  o["version"] = t.version;
  o["created_at"] = FormatRfc3339(t.created_at);
  o["updated_at"] = FormatRfc3339(t.updated_at);
  return o;
}

boost::json::object ToJson(const tenants::Project& p) {
  return {{"id", p.id},
          {"tenant_id", p.tenant_id},
          {"name", p.name},
          {"description", p.description},
          {"version", p.version},
          {"created_at", FormatRfc3339(p.created_at)},
          {"updated_at", FormatRfc3339(p.updated_at)}};
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
  return o;
}

}  // namespace breakpilot::api
