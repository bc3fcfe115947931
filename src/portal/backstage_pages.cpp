#include "portal/backstage_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {

Result<http::Response> BackstagePages::Tenants(http::Request&, const Visit& v) {
  auto page = services_.tenants.List({.limit = tenants::kMaxPageSize});
  if (!page) return page.error();
  boost::json::array rows;
  for (const auto& t : page->items) {
    rows.push_back(boost::json::object{{"name", t.name},
                                       {"slug", t.slug},
                                       {"status", tenants::ToString(t.status)},
                                       {"plan", tenants::ToString(t.plan)}});
  }
  return PageResponse(v, "backstage", "tenants", {{"tenants", std::move(rows)}});
}

std::vector<Page> BackstagePages::Pages() {
  return {{.method = "GET",
           .pattern = "/",
           .name = "backstage_tenants",
           .sites = kOnBackstage,
           .action = identity::Action::kTenantList,
           .nav = "tenants",
           .handler = Bind(this, &BackstagePages::Tenants)}};
}

}  // namespace breakpilot::portal
