// Which face of the binary a request's host name asks for (M5.1). With the portal domain D:
//   D              the public pages (catalog, /start, sign-in)
//   backstage.D    the staff area
//   <slug>.D       that tenant's portal (demo.D: the demo tenant)
//   mcp.D          the MCP gateway's own host: mcp.D/{product} is the API's /mcp/{product}
//   anything else  the REST API, exactly as without a portal (api.D, 127.0.0.1:8080, ...)
// Pure: no lookup; the tenant behind a slug is found by the caller.
//
//   auto site = portal::Classify(req.headers.Get("host").value_or(""), "localhost");
//   if (site.kind == portal::SiteKind::kTenant) ... site.slug ...
#pragma once

#include <string>
#include <string_view>

namespace breakpilot::portal {

enum class SiteKind { kApi, kPublic, kBackstage, kTenant, kMcp };

struct Site {
  SiteKind kind = SiteKind::kApi;
  std::string slug;  // kTenant: the label left of D, lower case (may name no tenant)
  bool operator==(const Site&) const = default;
};

// `host`: the Host header (a port and a trailing dot are ignored, case is not significant).
// `portal_domain`: D, lower case, no port; empty: no portal, every host is the API.
Site Classify(std::string_view host, std::string_view portal_domain);

// The host name part of a Host header, lower case, without port or trailing dot; "" when it is
// not a plausible host name (then the request is the API's, which answers as before).
std::string HostName(std::string_view host);

// On mcp.D: the path the API serves for `path` ("/echo-bot" -> "/mcp/echo-bot"); applied to
// the request's path and target before the API routes it.
void ToMcpGateway(std::string& path, std::string& target);

// The address of one of the portal's sites for links that leave the browser (mail): the scheme
// and port of `public_url` (the API's configured address, never a request's Host header) with
// the host `label.D` (`label` empty: D itself).
//   SiteUrl("http://127.0.0.1:8080", "localhost", "acme") == "http://acme.localhost:8080"
std::string SiteUrl(std::string_view public_url, std::string_view domain, std::string_view label);

}  // namespace breakpilot::portal
