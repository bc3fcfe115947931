#include "portal/public_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {

Result<http::Response> PublicPages::Home(http::Request&, const Visit& v) {
  boost::json::array products;
  for (const auto& m : services_.catalog.products()) {
    products.push_back(boost::json::object{{"name", m.name}, {"tagline", m.tagline}});
  }
  return PageResponse(v, "home", "welcome", {{"products", std::move(products)}});
}

std::vector<Page> PublicPages::Pages() {
  return {{.method = "GET",
           .pattern = "/",
           .name = "home",
           .sites = kOnPublic,
           .action = identity::Action::kPublic,
           .handler = Bind(this, &PublicPages::Home)}};
}

}  // namespace breakpilot::portal
