#include "portal/domain_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {
namespace {

namespace json = boost::json;

}  // namespace

http::Response DomainPages::Render(const Visit& v, const json::object& extra, int status) {
  json::array rows;
  const std::string csrf = v.session ? v.session->csrf_token : "";
  for (const auto& d : services_.domains.List(v.tenant->id)) {
    const auto proof = services_.domains.ProofFor(d, *v.tenant);
    rows.push_back(json::object{{"domain", d.domain},
                                {"verified", d.status == "verified"},
                                {"cname_name", proof.cname_name},
                                {"cname_target", proof.cname_target},
                                {"txt_name", proof.txt_name},
                                {"txt_value", proof.txt_value},
                                {"last_error", d.last_error.value_or("")},
                                {"has_error", d.last_error.has_value()},
                                {"url", "https://" + d.domain + "/"},
                                {"csrf", csrf}});
  }
  json::object data{{"domains_on", services_.domains.on()},
                    {"has_domains", !rows.empty()},
                    {"domains", std::move(rows)},
                    {"can_change", MayChange(v, identity::Action::kDomainManage)},
                    {"csrf", csrf}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "domains", "domains_nav", std::move(data), status);
}

Result<http::Response> DomainPages::List(http::Request& req, const Visit& v) {
  json::object notice = NoticeIf(req, v, "added", "domain_added");
  if (notice.empty()) notice = NoticeIf(req, v, "removed", "domain_removed");
  if (notice.empty()) notice = NoticeIf(req, v, "verified", "domain_verified");
  if (notice.empty()) notice = NoticeIf(req, v, "pending", "domain_pending");
  return Render(v, notice, 200);
}

Result<http::Response> DomainPages::Add(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  const auto domain = FormField(*form, "domain");
  auto made = services_.domains.Add(v.actor, v.tenant->id, domain);
  if (!made) {
    return Render(
        v, {{"error", DomainMessage(v.lang, made.error())}, {"form_domain", domain.substr(0, 253)}},
        FormStatus(made.error()));
  }
  return SeeOther("/settings/domains?added=1#domain-" + made->domain);
}

Result<http::Response> DomainPages::Check(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  auto d =
      services_.domains.Check(v.actor, v.tenant->id, std::string(req.Param("domain").value_or("")));
  if (!d) return Render(v, {{"error", DomainMessage(v.lang, d.error())}}, FormStatus(d.error()));
  return SeeOther(std::string("/settings/domains?") +
                  (d->status == "verified" ? "verified=1" : "pending=1") + "#domain-" + d->domain);
}

Result<http::Response> DomainPages::Remove(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  auto done = services_.domains.Remove(v.actor, v.tenant->id,
                                       std::string(req.Param("domain").value_or("")));
  if (!done) {
    return Render(v, {{"error", DomainMessage(v.lang, done.error())}}, FormStatus(done.error()));
  }
  return SeeOther("/settings/domains?removed=1");
}

std::vector<Page> DomainPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/settings/domains",
           .name = "domains",
           .sites = kOnTenant,
           .action = A::kDomainManage,
           .nav = "domains_nav",
           .nav_when = [this](const Visit&) { return services_.domains.on(); },
           .handler = Bind(this, &DomainPages::List)},
          {.method = "POST",
           .pattern = "/settings/domains",
           .name = "domain_add",
           .sites = kOnTenant,
           .action = A::kDomainManage,
           .tenant_write = true,
           .handler = Bind(this, &DomainPages::Add)},
          {.method = "POST",
           .pattern = "/settings/domains/{domain}/check",
           .name = "domain_check",
           .sites = kOnTenant,
           .action = A::kDomainManage,
           .tenant_write = true,
           .handler = Bind(this, &DomainPages::Check)},
          {.method = "POST",
           .pattern = "/settings/domains/{domain}/remove",
           .name = "domain_remove",
           .sites = kOnTenant,
           .action = A::kDomainManage,
           .tenant_write = true,
           .handler = Bind(this, &DomainPages::Remove)}};
}

}  // namespace breakpilot::portal
