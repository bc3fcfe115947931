// A small synchronous HTTP/1.1 client for the platform's few outbound calls to configured
// peers: OpenID discovery, JWKS and the code exchange. http and https (peer verified against
// the system CA store, with SNI and host name checks). Bounded in time and body size.
//
//   auto r = Fetch({.url = "https://id.example/.well-known/openid-configuration"});
//   if (r && r->status == 200) Use(r->body);
#pragma once

#include "core/result.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::http {

// The implementation of the outbound port (outbound/fetch.hpp) over Beast.
Result<outbound::Response> Fetch(const outbound::Request& request);

}  // namespace breakpilot::http
