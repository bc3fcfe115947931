// The audit trail's routes (§1.9, M10.2): ingest (ours and Retraced's publisher paths), search,
// CSV and PDF export, chain verification, retention and erase. The work is in src/audit/.
#include <boost/json.hpp>

#include "api/audit_export.hpp"
#include "api/audit_routes.hpp"
#include "api/json_body.hpp"
#include "api/representation.hpp"
#include "core/uuid.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

Error BadQuery(std::string_view name, const std::string& detail) {
  return Malformed("bad-query", "Bad query parameter",
                   "query parameter '" + std::string(name) + "' " + detail);
}

Result<std::optional<bool>> BoolQuery(const http::Request& req, std::string_view name) {
  auto v = StringQuery(req, name);
  if (!v) return std::move(v).error();
  if (!*v) return std::optional<bool>{};
  if (**v == "true") return std::optional<bool>{true};
  if (**v == "false") return std::optional<bool>{false};
  return BadQuery(name, "must be true or false");
}

Result<std::optional<Timestamp>> TimeQuery(const http::Request& req, std::string_view name) {
  auto v = StringQuery(req, name);
  if (!v) return std::move(v).error();
  if (!*v) return std::optional<Timestamp>{};
  auto t = ParseTimestamp(**v);
  if (!t) return BadQuery(name, "must be an RFC 3339 date-time, like 2026-11-01T00:00:00Z");
  return std::optional<Timestamp>{*t};
}

// The filters every search and export takes from the query string.
Result<audit::Filter> ParseFilter(const http::Request& req) {
  audit::Filter f;
  for (auto [name, slot] : {std::pair{"tenant_id", &f.tenant_id},
                            {"product", &f.product},
                            {"actor_id", &f.actor_id},
                            {"action", &f.action},
                            {"target_id", &f.target_id},
                            {"target_type", &f.target_type},
                            {"q", &f.text}}) {
    auto v = StringQuery(req, name);
    if (!v) return std::move(v).error();
    *slot = *v;
  }
  if (f.tenant_id && !IsCanonicalUuid(*f.tenant_id)) {
    return BadQuery("tenant_id", "must be a tenant id (a UUID)");
  }
  if (f.action && (f.action->empty() || f.action->find('*') < f.action->size() - 1)) {
    return BadQuery("action", "must be an action, or a prefix ending in a single '*'");
  }
  auto crud = StringQuery(req, "crud");
  if (!crud) return std::move(crud).error();
  if (*crud) {
    if (**crud != "c" && **crud != "r" && **crud != "u" && **crud != "d") {
      return BadQuery("crud", "must be one of c, r, u, d");
    }
    f.crud = (**crud)[0];
  }
  auto from = TimeQuery(req, "from");
  if (!from) return std::move(from).error();
  f.from = *from;
  auto to = TimeQuery(req, "to");
  if (!to) return std::move(to).error();
  f.to = *to;
  auto failure = BoolQuery(req, "is_failure");
  if (!failure) return std::move(failure).error();
  f.is_failure = *failure;
  auto demo = BoolQuery(req, "include_demo");
  if (!demo) return std::move(demo).error();
  f.include_demo = demo->value_or(false);
  return f;
}

json::object PublishedJson(const audit::Published& p) {
  return {{"id", p.id}, {"hash", p.hash}, {"seq", p.seq}, {"chain_hash", p.chain_hash}};
}

json::array PublishedJson(const std::vector<audit::Published>& p) {
  json::array a;
  a.reserve(p.size());
  for (const auto& x : p) a.push_back(PublishedJson(x));
  return a;
}

json::object ReportJson(const audit::ChainReport& r) {
  json::array problems;
  for (const auto& p : r.problems) {
    problems.push_back(json::object{{"seq", p.seq}, {"kind", p.kind}, {"detail", p.detail}});
  }
  return {{"chain", r.chain},
          {"ok", r.ok},
          {"events_checked", r.checked},
          {"base_seq", r.base_seq},
          {"head_seq", r.head_seq},
          {"problems", std::move(problems)}};
}

}  // namespace

AuditRoutes::AuditRoutes(const Services& s)
    : services_(s),
      catalog_(s.catalog),
      clock_(s.clock),
      db_(s.db),
      exports_(s.exports),
      ingestor_(s.ingestor),
      keys_(s.keys),
      tenants_(s.tenants) {}

// Pins the filter's tenant to what the caller reaches: staff may search every tenant, a sales
// rep the demo tenant, everyone else their own organization.
Result<Ok> AuditRoutes::ScopeAuditFilter(const Caller& caller, audit::Filter& f) {
  const auto& p = caller.principal;
  if (!f.tenant_id && !identity::SeesAllTenants(p)) {
    if (identity::DemoOnly(p)) {
      tenants::ListTenantsInput in{.kind = "demo", .limit = 1};
      auto page = tenants_.List(in);
      if (!page || page->items.empty()) return NotFound("tenant-not-found", "no demo tenant");
      f.tenant_id = page->items.front().id;
    } else if (p.org_id) {
      f.tenant_id = *p.org_id;
    } else {
      return Error{.kind = ErrorKind::kForbidden,
                   .type = "forbidden",
                   .title = "Forbidden",
                   .detail = "name a tenant_id: you reach no tenant by default"};
    }
  }
  if (f.tenant_id) return CheckTenant(tenants_, caller, identity::Action::kAuditRead, *f.tenant_id);
  return Ok{};
}

// Turns a publish request into events: `events` null for a single event (the body itself).
Result<http::Response> AuditRoutes::PublishAudit(http::Request& req, const Caller& caller,
                                                 std::string product, bool bulk, bool retraced) {
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  std::vector<const json::object*> events;
  std::string pointer;
  if (bulk) {
    BodyReader r(*body);
    const json::array* list = r.Objects("events", Required::kYes, audit::kMaxBatch);
    std::optional<std::string> named;
    if (!retraced) named = r.String("product", product.empty() ? Required::kYes : Required::kNo);
    if (auto ok = r.Finish(retraced ? std::initializer_list<std::string_view>{"events"}
                                    : std::initializer_list<std::string_view>{"events", "product"});
        !ok) {
      return ok.error();
    }
    if (named) product = *named;
    for (const auto& v : *list) events.push_back(&v.as_object());
    pointer = "/events";
  } else {
    if (product.empty()) {
      const auto* p = body->if_contains("product");
      if (p == nullptr || !p->is_string() || p->as_string().empty()) {
        return ValidationFailed({{"/product", "is required: the product publishing"}});
      }
      product = std::string(p->as_string());
    }
    events.push_back(&*body);
  }
  if (catalog_.Find(product) == nullptr) {
    if (retraced) {
      return NotFound("project-not-found", "no project (product) " + product);
    }
    return ValidationFailed({{"/product", "is not a product of the catalog: " + product}});
  }
  audit::Publisher who{
      .product = product, .request_id = req.request_id, .principal = caller.principal.subject};
  if (!caller.principal.scopes.empty()) who.only_tenant = caller.principal.org_id;
  auto published = ingestor_.Publish(who, events, pointer);
  if (!published) return published.error();
  if (!bulk) {
    return http::Response::Json(201, json::serialize(PublishedJson(published->front())));
  }
  if (retraced) return http::Response::Json(201, json::serialize(PublishedJson(*published)));
  return http::Response::Json(201,
                              json::serialize(json::object{{"items", PublishedJson(*published)}}));
}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> AuditRoutes::AuditPublish(http::Request& req, const Caller& caller) {
  return PublishAudit(req, caller, "", false, false);
}

Result<http::Response> AuditRoutes::AuditPublishBulk(http::Request& req, const Caller& caller) {
  return PublishAudit(req, caller, "", true, false);
}

Result<http::Response> AuditRoutes::RetracedPublish(http::Request& req, const Caller& caller) {
  return PublishAudit(req, caller, std::string(*req.Param("project_id")), false, true);
}

Result<http::Response> AuditRoutes::RetracedPublishBulk(http::Request& req, const Caller& caller) {
  return PublishAudit(req, caller, std::string(*req.Param("project_id")), true, true);
}

Result<http::Response> AuditRoutes::AuditSearch(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(
          req, {"tenant_id", "product", "actor_id", "action", "crud", "target_id", "target_type",
                "from", "to", "is_failure", "q", "include_demo", "limit", "cursor"});
      !ok) {
    return ok.error();
  }
  auto f = ParseFilter(req);
  if (!f) return f.error();
  if (auto ok = ScopeAuditFilter(caller, *f); !ok) return ok.error();
  auto limit = IntQuery(req, "limit");
  if (!limit) return limit.error();
  if (*limit && (**limit < 1 || **limit > 1000)) {
    return BadQuery("limit", "must be between 1 and 1000");
  }
  auto cursor = StringQuery(req, "cursor");
  if (!cursor) return cursor.error();
  auto page = audit::Search(db_, *f, limit->value_or(50), *cursor);
  if (!page) return page.error();
  json::array items;
  items.reserve(page->items.size());
  for (const auto& e : page->items) items.push_back(ToJson(e));
  json::object o{{"items", std::move(items)}};
  o["next_cursor"] = page->next_cursor ? json::value(*page->next_cursor) : nullptr;
  return http::Response::Json(200, json::serialize(o));
}

Result<http::Response> AuditRoutes::AuditExport(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(
          req, {"tenant_id", "product", "actor_id", "action", "crud", "target_id", "target_type",
                "from", "to", "is_failure", "q", "include_demo", "format"});
      !ok) {
    return ok.error();
  }
  auto format = StringQuery(req, "format");
  if (!format) return format.error();
  const std::string fmt = format->value_or("csv");
  if (fmt != "csv" && fmt != "pdf") {
    return BadQuery("format", "must be csv or pdf");
  }
  auto f = ParseFilter(req);
  if (!f) return f.error();
  if (auto ok = ScopeAuditFilter(caller, *f); !ok) return ok.error();
  auto res = AuditExportResponse(services_, std::move(*f), fmt);
  if (!res && res.error().kind == ErrorKind::kTooManyRequests) {
    auto busy = ProblemFor(res.error(), req);
    busy.headers.Set("Retry-After", "5");
    return busy;
  }
  return res;
}

Result<http::Response> AuditRoutes::AuditVerify(http::Request& req, const Caller& caller) {
  if (auto ok = OnlyKnownQuery(req, {"tenant_id"}); !ok) return ok.error();
  audit::Filter f;
  auto tenant = StringQuery(req, "tenant_id");
  if (!tenant) return tenant.error();
  f.tenant_id = *tenant;
  if (f.tenant_id && !IsCanonicalUuid(*f.tenant_id)) {
    return BadQuery("tenant_id", "must be a tenant id (a UUID)");
  }
  if (auto ok = ScopeAuditFilter(caller, f); !ok) return ok.error();
  auto reports = audit::Verify(
      db_, f.tenant_id ? std::optional<std::string>(audit::ChainOf(f.tenant_id)) : std::nullopt);
  bool ok = true;
  json::array chains;
  for (const auto& r : reports) {
    ok = ok && r.ok;
    chains.push_back(ReportJson(r));
  }
  return http::Response::Json(
      200, json::serialize(json::object{{"ok", ok}, {"chains", std::move(chains)}}));
}

Result<http::Response> AuditRoutes::AuditRetentionSet(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  std::optional<std::int64_t> days;
  const auto* v = body->if_contains("days");
  std::vector<FieldError> errors;
  if (v == nullptr) {
    errors.push_back({"/days", "is required: a number of days, or null to keep for ever"});
  } else if (!v->is_null()) {
    if (!v->is_int64() || v->as_int64() < 30 || v->as_int64() > 36500) {
      errors.push_back({"/days", "must be a whole number of days from 30 to 36500"});
    } else {
      days = v->as_int64();
    }
  }
  for (const auto& kv : *body) {
    if (kv.key() != "days") errors.push_back({"/" + std::string(kv.key()), "is unknown"});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  auto t = tenants_.SetAuditRetention(caller.actor, *id, days);
  if (!t) return t.error();
  return http::Response::Json(
      200, json::serialize(json::object{
               {"tenant_id", *id}, {"days", days ? json::value(*days) : json::value(nullptr)}}));
}

Result<http::Response> AuditRoutes::AuditErase(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  auto confirm = r.String("confirm", Required::kYes);
  if (auto ok = r.Finish({"confirm"}); !ok) return ok.error();
  auto t = tenants_.Get(*id);
  if (!t) return t.error();
  if (*confirm != t->slug) {
    return ValidationFailed({{"/confirm", "must be the tenant's slug"}});
  }
  if (t->status != tenants::Status::kFrozen && t->status != tenants::Status::kArchived) {
    return Conflict("tenant-not-offboarding", "Tenant is not being offboarded",
                    "only a frozen or archived tenant's audit trail is erased");
  }
  auto signer = keys_.Signer();
  if (!signer) return signer.error();
  auto summary = audit::Erase(db_, clock_, caller.actor, *id, [&](const std::string& s) {
    return signer->Sign(json::parse(s).as_object());
  });
  return http::Response::Json(
      200, json::serialize(json::object{{"events_erased", summary.count},
                                        {"summary", json::parse(summary.summary_json)},
                                        {"signature", summary.signature}}));
}

std::vector<Endpoint> AuditRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "POST",
                    .pattern = "/audit",
                    .name = "audit_publish",
                    .action = identity::Action::kAuditWrite,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::AuditPublish)});
  routes.push_back({.method = "POST",
                    .pattern = "/audit/bulk",
                    .name = "audit_publish_bulk",
                    .action = identity::Action::kAuditWrite,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::AuditPublishBulk)});
  routes.push_back({.method = "POST",
                    .pattern = "/publisher/v1/project/{project_id}/event",
                    .name = "retraced_publish",
                    .action = identity::Action::kAuditWrite,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::RetracedPublish)});
  routes.push_back({.method = "POST",
                    .pattern = "/publisher/v1/project/{project_id}/event/bulk",
                    .name = "retraced_publish_bulk",
                    .action = identity::Action::kAuditWrite,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::RetracedPublishBulk)});
  routes.push_back({.method = "GET",
                    .pattern = "/audit",
                    .name = "audit_search",
                    .action = identity::Action::kAuditRead,
                    .handler = Bind(this, &AuditRoutes::AuditSearch)});
  routes.push_back({.method = "GET",
                    .pattern = "/audit/export",
                    .name = "audit_export",
                    .action = identity::Action::kAuditRead,
                    .handler = Bind(this, &AuditRoutes::AuditExport)});
  routes.push_back({.method = "GET",
                    .pattern = "/audit/verify",
                    .name = "audit_verify",
                    .action = identity::Action::kAuditRead,
                    .handler = Bind(this, &AuditRoutes::AuditVerify)});
  routes.push_back({.method = "PUT",
                    .pattern = "/tenants/{id}/audit-retention",
                    .name = "audit_retention_set",
                    .action = identity::Action::kAuditAdmin,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::AuditRetentionSet)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/audit/erase",
                    .name = "audit_erase",
                    .action = identity::Action::kAuditAdmin,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &AuditRoutes::AuditErase)});
  return routes;
}

}  // namespace breakpilot::api
