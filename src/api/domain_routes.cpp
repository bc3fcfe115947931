#include "api/domain_routes.hpp"

#include <boost/json.hpp>

#include "api/json_body.hpp"

namespace breakpilot::api {
namespace {

namespace json = boost::json;

json::value When(const std::optional<Timestamp>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

}  // namespace

json::object ToJson(const domains::Domain& d, const domains::Proof& p) {
  return {{"domain", d.domain},
          {"status", d.status},
          {"records",
           json::array{
               json::object{{"type", "CNAME"}, {"name", p.cname_name}, {"value", p.cname_target}},
               json::object{{"type", "TXT"}, {"name", p.txt_name}, {"value", p.txt_value}}}},
          {"created", FormatRfc3339(d.created_at)},
          {"verified", When(d.verified_at)},
          {"last_checked", When(d.last_checked_at)},
          {"last_error", d.last_error ? json::value(*d.last_error) : json::value(nullptr)}};
}

Result<http::Response> DomainRoutes::List(http::Request& req, const Caller&) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto t = tenants_.Get(*id);
  if (!t) return t.error();
  json::array items;
  for (const auto& d : domains_.List(*id)) items.push_back(ToJson(d, domains_.ProofFor(d, *t)));
  return http::Response::Json(200, json::serialize(json::object{{"items", std::move(items)}}));
}

Result<http::Response> DomainRoutes::Add(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto body = ParseJsonObject(req);
  if (!body) return body.error();
  BodyReader r(*body);
  const auto domain = r.String("domain", Required::kYes).value_or("");
  if (auto ok = r.Finish({"domain"}); !ok) return ok.error();
  auto d = domains_.Add(caller.actor, *id, domain);
  if (!d) return d.error();
  auto t = tenants_.Get(*id);
  if (!t) return t.error();
  return http::Response::Json(201, json::serialize(ToJson(*d, domains_.ProofFor(*d, *t))));
}

Result<http::Response> DomainRoutes::Check(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto d = domains_.Check(caller.actor, *id, std::string(req.Param("domain").value_or("")));
  if (!d) return d.error();
  auto t = tenants_.Get(*id);
  if (!t) return t.error();
  return http::Response::Json(200, json::serialize(ToJson(*d, domains_.ProofFor(*d, *t))));
}

Result<http::Response> DomainRoutes::Remove(http::Request& req, const Caller& caller) {
  auto id = UuidParam(req, "id");
  if (!id) return id.error();
  auto done = domains_.Remove(caller.actor, *id, std::string(req.Param("domain").value_or("")));
  if (!done) return done.error();
  return http::Response::Empty(204);
}

Result<http::Response> DomainRoutes::TlsAsk(http::Request& req, const Caller&) {
  if (auto ok = OnlyKnownQuery(req, {"domain"}); !ok) return ok.error();
  auto domain = StringQuery(req, "domain");
  if (!domain) return domain.error();
  if (!*domain || (*domain)->empty()) {
    return Malformed("missing-domain", "Missing domain", "ask with ?domain=<host name>");
  }
  if (!domains_.AllowCertificate(**domain)) {
    return NotFound("domain-not-verified", "no certificate for this host name");
  }
  return http::Response::Json(200, R"({"allowed":true})");
}

std::vector<Endpoint> DomainRoutes::Routes() {
  using A = identity::Action;
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/tenants/{id}/domains",
                    .name = "tenant_domains",
                    .action = A::kDomainManage,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &DomainRoutes::List)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/domains",
                    .name = "tenant_domain_add",
                    .action = A::kDomainManage,
                    .tenant = TenantFrom::kPathId,
                    .body = {kJson},
                    .handler = Bind(this, &DomainRoutes::Add)});
  routes.push_back({.method = "POST",
                    .pattern = "/tenants/{id}/domains/{domain}/check",
                    .name = "tenant_domain_check",
                    .action = A::kDomainManage,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &DomainRoutes::Check)});
  routes.push_back({.method = "DELETE",
                    .pattern = "/tenants/{id}/domains/{domain}",
                    .name = "tenant_domain_remove",
                    .action = A::kDomainManage,
                    .tenant = TenantFrom::kPathId,
                    .handler = Bind(this, &DomainRoutes::Remove)});
  // Caddy asks from the same machine, with no credentials; the answer says only yes or no.
  routes.push_back({.method = "GET",
                    .pattern = "/internal/tls/ask",
                    .name = "tls_ask",
                    .action = A::kPublic,
                    .handler = Bind(this, &DomainRoutes::TlsAsk)});
  return routes;
}

}  // namespace breakpilot::api
