// The public site at the portal domain itself: the start page with the catalog.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class PublicPages : public PageModule {
 public:
  explicit PublicPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Home(http::Request& req, const Visit& v);
  api::Services services_;
};

}  // namespace breakpilot::portal
