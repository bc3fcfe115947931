// The audit trail as a page (M10.2): a tenant's own events at <slug>.D/audit, every tenant's at
// backstage.D/audit (a sales rep's: the demo tenant's). Filters by product, actor, action, time
// range and free text, cursor paging, CSV and PDF export of exactly the filtered events.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class AuditPages : public PageModule {
 public:
  explicit AuditPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> List(http::Request& req, const Visit& v);
  Result<http::Response> Export(http::Request& req, const Visit& v);
  api::Services services_;
};

}  // namespace breakpilot::portal
