#include "portal/audit_pages.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "api/audit_export.hpp"

namespace breakpilot::portal {
namespace {

constexpr int kPageRows = 50;
constexpr std::size_t kMaxField = 200;
constexpr std::int64_t kSecondsPerDay = 86'400;

// The filters a visitor can set, by their names in the form and the query string.
constexpr std::string_view kFields[] = {"tenant", "product", "actor", "action", "from", "to", "q"};

// What the form asked for: the audit filter, and the values to show back in the form.
struct AuditQuery {
  audit::Filter filter;
  std::optional<std::string> cursor;
  boost::json::object form;  // field → the value as typed
  std::string error;         // the first thing wrong, in the visitor's words; empty when none
  std::vector<std::pair<std::string, std::string>> params;  // the filters set, for links
};

std::optional<Timestamp> DayStart(const std::string& day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return std::nullopt;
  return ParseTimestamp(day + "T00:00:00Z");
}

// Reads the query string. A wrong value does not fail the page: it is named in `error`, shown
// above the form, and no event is listed until it is fixed.
AuditQuery ParseQuery(const http::Request& req, const Visit& v, tenants::TenantService& tenants) {
  AuditQuery a;
  const auto fail = [&](std::string_view key) {
    if (a.error.empty()) a.error = String(v.lang, key);
  };
  for (auto name : kFields) {
    if (req.QueryCount(name) > 1) fail("audit_bad_query");
    auto value = req.QueryValue(name);
    if (!value || value->empty()) continue;
    std::string s(*value);
    if (s.size() > kMaxField) {
      fail("audit_too_long");
      s.resize(kMaxField);
    }
    a.form[name] = s;
    a.params.emplace_back(name, s);
    if (name == "product") {
      a.filter.product = s;
    } else if (name == "actor") {
      a.filter.actor_id = s;
    } else if (name == "action") {
      if (s.find('*') < s.size() - 1) fail("audit_bad_action");
      a.filter.action = s;
    } else if (name == "q") {
      a.filter.text = s;
    } else if (name == "from" || name == "to") {
      auto day = DayStart(s);
      if (!day) {
        fail("audit_bad_date");
      } else if (name == "from") {
        a.filter.from = *day;
      } else {
        a.filter.to = AddSeconds(*day, kSecondsPerDay);  // "to" a day includes that day
      }
    } else if (name == "tenant" && !v.tenant) {
      auto t = tenants.GetBySlug(s);
      if (!t) {
        fail("audit_no_tenant");
      } else {
        a.filter.tenant_id = t->id;
      }
    }
  }
  if (a.filter.from && a.filter.to && *a.filter.to <= *a.filter.from) fail("audit_bad_range");
  if (auto c = req.QueryValue("cursor"); c && !c->empty()) a.cursor = std::string(*c);
  return a;
}

// Pins the filter to what the visitor reaches: a tenant's site to that tenant, a sales rep on
// the backstage to the demo tenant; staff see every tenant (the demo tenant's when asked by
// name), as the API's audit search does.
Result<Ok> Scope(const Visit& v, tenants::TenantService& tenants, audit::Filter& f) {
  if (v.tenant) {
    f.tenant_id = v.tenant->id;
    return Ok{};
  }
  if (identity::DemoOnly(v.principal)) {
    auto page = tenants.List({.kind = "demo", .limit = 1});
    if (!page || page->items.empty()) return NotFound("tenant-not-found", "no demo tenant");
    f.tenant_id = page->items.front().id;
  }
  return Ok{};
}

std::string Link(std::string_view path,
                 const std::vector<std::pair<std::string, std::string>>& ps) {
  boost::urls::url u(path);
  for (const auto& [k, x] : ps) u.params().append({k, x});
  return std::string(u.buffer());
}

std::string TenantLabel(tenants::TenantService& tenants, const std::optional<std::string>& id,
                        std::unordered_map<std::string, std::string>& seen) {
  if (!id) return "";
  auto [it, fresh] = seen.try_emplace(*id);
  if (fresh) {
    auto t = tenants.Get(*id);
    it->second = t ? t->slug : *id;
  }
  return it->second;
}

}  // namespace

Result<http::Response> AuditPages::List(http::Request& req, const Visit& v) {
  AuditQuery q = ParseQuery(req, v, services_.tenants);
  if (auto ok = Scope(v, services_.tenants, q.filter); !ok) return ok.error();
  boost::json::array rows;
  std::optional<std::string> next;
  if (q.error.empty()) {
    auto page = audit::Search(services_.db, q.filter, kPageRows, q.cursor);
    if (!page) {
      q.error = String(v.lang, "audit_bad_cursor");
    } else {
      std::unordered_map<std::string, std::string> slugs;
      for (const auto& e : page->items) {
        boost::json::object row{
            {"action", e.action},
            {"actor", e.actor_name.empty() ? e.actor_id : e.actor_name},
            {"actor_id", e.actor_id},
            {"product", e.product},
            {"target", e.target_name.empty() ? e.target_type + " " + e.target_id : e.target_name},
            {"description", e.description},
            {"failure", e.is_failure},
            {"tenant", v.tenant ? "" : TenantLabel(services_.tenants, e.tenant_id, slugs)}};
        for (auto& [k, x] : TimeFields("created", e.created)) row[k] = x;
        rows.push_back(std::move(row));
      }
      next = page->next_cursor;
    }
  }
  boost::json::array products;
  for (const auto& p : services_.catalog.products()) {
    products.push_back(boost::json::object{
        {"id", p.id}, {"name", p.name}, {"selected", q.filter.product == p.id}});
  }
  products.push_back(boost::json::object{{"id", "platform"},
                                         {"name", String(v.lang, "platform")},
                                         {"selected", q.filter.product == "platform"}});
  boost::json::object data{{"rows", std::move(rows)},
                           {"form", std::move(q.form)},
                           {"products", std::move(products)},
                           {"cross_tenant", !v.tenant && !identity::DemoOnly(v.principal)},
                           {"filtered", !q.params.empty()}};
  data["has_rows"] = !data["rows"].as_array().empty();
  if (!q.error.empty()) data["error"] = q.error;
  if (next) {
    auto ps = q.params;
    ps.emplace_back("cursor", *next);
    data["next"] = Link("/audit", ps);
  }
  if (q.cursor) data["first"] = Link("/audit", q.params);
  auto csv = q.params;
  csv.emplace_back("format", "csv");
  data["csv"] = Link("/audit/export", csv);
  auto pdf = q.params;
  pdf.emplace_back("format", "pdf");
  data["pdf"] = Link("/audit/export", pdf);
  return PageResponse(v, "audit", "audit", std::move(data), q.error.empty() ? 200 : 400);
}

Result<http::Response> AuditPages::Export(http::Request& req, const Visit& v) {
  AuditQuery q = ParseQuery(req, v, services_.tenants);
  if (!q.error.empty()) {
    return InvalidInput("bad-filter", "Bad filter", q.error);
  }
  if (auto ok = Scope(v, services_.tenants, q.filter); !ok) return ok.error();
  const auto format = req.QueryValue("format").value_or("csv");
  if (format != "csv" && format != "pdf") {
    return InvalidInput("bad-format", "Bad format",
                        std::string(String(v.lang, "audit_bad_format")));
  }
  return api::AuditExportResponse(services_, std::move(q.filter), format);
}

std::vector<Page> AuditPages::Pages() {
  return {{.method = "GET",
           .pattern = "/audit",
           .name = "audit",
           .sites = kOnTenant | kOnBackstage,
           .action = identity::Action::kAuditRead,
           .nav = "audit",
           .handler = Bind(this, &AuditPages::List)},
          {.method = "GET",
           .pattern = "/audit/export",
           .name = "audit_export",
           .sites = kOnTenant | kOnBackstage,
           .action = identity::Action::kAuditRead,
           .handler = Bind(this, &AuditPages::Export)}};
}

}  // namespace breakpilot::portal
