// The public site at the portal domain itself: the start page with the catalog, and the page a
// closed organisation's final export is downloaded from (the link mailed at offboarding).
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class PublicPages : public PageModule {
 public:
  explicit PublicPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Home(http::Request& req, const Visit& v);
  Result<http::Response> Export(http::Request& req, const Visit& v);
  Result<http::Response> ExportDownload(http::Request& req, const Visit& v);
  api::Services services_;
};

}  // namespace breakpilot::portal
