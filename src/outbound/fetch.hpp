// The port for the platform's outbound HTTP calls (an OpenID provider, Keycloak's admin API, the
// products' lifecycle endpoints): the domain depends on these types, `http/client.cpp`
// implements them (http::Fetch), and tests answer instead. A guard against internal addresses,
// for URLs that customers give (webhooks), belongs here too.
//
//   outbound::Fetcher fetch = http::Fetch;            // wired in app/ and api/
//   auto r = fetch({.url = "https://id.example/.well-known/openid-configuration"});
//   if (r && r->status == 200) Use(r->body);
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/headers.hpp"
#include "core/result.hpp"
#include "outbound/address.hpp"

namespace breakpilot::outbound {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // the whole exchange
  std::size_t max_body = std::size_t{1} << 20;
  // A customer's URL (webhooks): connect only to addresses this policy allows, checked on the
  // addresses resolved for this very call (DNS rebinding); none allowed is kUnavailable.
  std::optional<TargetPolicy> guard;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
};

// kUnavailable on any transport failure (resolve, connect, TLS, timeout, oversized body);
// kInvalidInput for a URL that is not absolute http(s).
using Fetcher = std::function<Result<Response>(const Request&)>;

}  // namespace breakpilot::outbound
