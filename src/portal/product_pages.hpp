// A product opened from the dashboard at <slug>.D/products/{id} (M5.2). A product with a web
// component (`portal.web_component` in its manifest) runs in a shadow root that the portal's
// script makes, handed the tenant, the user and a 300-second token for the product (audience
// the product's id); the page's CSP admits the component's origin and nothing else. A headless
// product shows its API's address, its documentation and the tenant's keys for it.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class ProductPages : public PageModule {
 public:
  explicit ProductPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Show(http::Request& req, const Visit& v);
  Result<http::Response> Token(http::Request& req, const Visit& v);
  // The product of the path, when this tenant subscribes to it, and its plan.
  Result<std::pair<const catalog::Manifest*, std::string>> Subscribed(const http::Request& req,
                                                                      const Visit& v);
  api::Services services_;
};

}  // namespace breakpilot::portal
