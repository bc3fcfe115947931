// A small synchronous HTTP/1.1 client for the platform's few outbound calls to configured
// peers: OpenID discovery, JWKS and the code exchange. http and https (peer verified against
// the system CA store, with SNI and host name checks). Bounded in time and body size.
//
//   auto r = Fetch({.url = "https://id.example/.well-known/openid-configuration"});
//   if (r && r->status == 200) Use(r->body);
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"

namespace breakpilot::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // the whole exchange
  std::size_t max_body = std::size_t{1} << 20;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// kUnavailable on any transport failure (resolve, connect, TLS, timeout, oversized body);
// kInvalidInput for a URL that is not absolute http(s).
Result<ClientResponse> Fetch(const ClientRequest& request);

// What components take, so tests can answer for the network.
using Fetcher = std::function<Result<ClientResponse>(const ClientRequest&)>;

}  // namespace breakpilot::http
