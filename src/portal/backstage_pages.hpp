// The staff area at backstage.D (M5.2, M13.2): for now its start page, the tenants.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class BackstagePages : public PageModule {
 public:
  explicit BackstagePages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Tenants(http::Request& req, const Visit& v);
  api::Services services_;
};

}  // namespace breakpilot::portal
