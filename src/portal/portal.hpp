// The customer portal and the staff backstage (M5.1, M5.2): server-rendered pages on the
// portal domain's host names (portal/site.hpp), in the same binary as the API and calling the
// same services in-process. Handle answers every request whose host is a portal site and
// leaves the rest (nullopt) to the REST API.
//
//   portal::Portal portal(services, {.domain = "localhost"});
//   if (auto page = portal.Handle(req)) return *page;
//   return api.Handle(req);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/rate_limiter.hpp"
#include "http/router.hpp"
#include "portal/page.hpp"

namespace breakpilot::portal {

struct PortalOptions {
  std::string domain;          // D; empty: no portal (every host is the API)
  bool secure = false;         // served over https: Secure cookies with the __Host- prefix
  int logins_per_minute = 30;  // password sign-ins one client address may try (429 beyond)
};

class Portal {
 public:
  Portal(const api::Services& services, PortalOptions options);
  ~Portal();
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  // The page for a portal host; nullopt for any other host (the API's).
  std::optional<http::Response> Handle(http::Request& req);
  // Which site the request's host names: portal::Classify, and a tenant's own verified domain
  // as that tenant's site.
  Site SiteOf(const http::Request& req) const;
  const std::vector<Page>& pages() const { return pages_; }
  const PortalOptions& options() const { return options_; }

 private:
  http::Response Dispatch(const Page& page, http::Request& req, Visit& visit);
  void KeepProviderGrant(const http::Request& req, std::string_view token, Visit& visit);
  http::Response Serve(http::Request& req, const Site& site);
  boost::json::array Nav(const Visit& visit, std::string_view path) const;

  api::Services services_;
  PortalOptions options_;
  std::vector<std::unique_ptr<PageModule>> modules_;
  std::vector<Page> pages_;
  http::Router public_router_, backstage_router_, tenant_router_;  // index into pages_ by name
};

// An error page (404, 403, 410, ...) in the visitor's language; `detail`: what was refused, in
// place of the status's general words (a use case's detail; never a 5xx's).
http::Response ErrorPage(const Visit& v, int status, std::string_view detail = {});

}  // namespace breakpilot::portal
