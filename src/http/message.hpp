// Our own request/response values. Handlers and the API layer see only these; Beast stays inside
// http/server.cpp, so handlers compile fast and can be tested without sockets.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/headers.hpp"

namespace breakpilot {
class WorkPool;  // core/work_pool.hpp
}

namespace breakpilot::http {

using breakpilot::HeaderNameEquals;
using breakpilot::Headers;

struct Request {
  std::string method;                                      // "GET"
  std::string target;                                      // raw request target, "/tenants?limit=5"
  std::string path;                                        // decoded path, "/tenants"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote_ip;
  std::string request_id;   // X-Request-Id, received or generated
  std::string traceparent;  // W3C, when the caller sent a valid one
  std::vector<std::pair<std::string, std::string>> path_params;  // filled by the router
  std::string route = "unmatched";  // route name once matched, for metrics and logs
  std::string_view route_pattern;   // "/tenants/{id}" once matched (the router's), for the span

  std::optional<std::string_view> Param(std::string_view name) const;
  // nullopt when absent; the caller treats several values as an error.
  std::optional<std::string_view> QueryValue(std::string_view name) const;
  std::size_t QueryCount(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // A body too large to hold: sent chunked (`body` first, when set), `stream` appending the next
  // piece to its argument each call (a few tens of KiB), false once nothing is left. It runs where
  // the handler ran (the blocking pool on PostgreSQL), one piece at a time, so memory stays
  // constant. An exception ends the response without its last chunk: the client sees it truncated.
  std::function<bool(std::string& out)> stream;
  // Work too heavy for where handlers run (password hashing: tens of milliseconds of CPU): the
  // server runs `deferred` on the pool `deferred_on` and sends what it returns instead, while
  // the I/O thread serves other connections. When that pool's queue is full the client gets
  // this response itself, which Defer makes a 503 (the caller's words, Retry-After: 1).
  WorkPool* deferred_on = nullptr;
  std::function<Response()> deferred;
  // Called instead of `deferred` when the queue was full (an idempotency key is released).
  std::function<void()> on_refused;

  static Response Json(int status, std::string body);
  static Response Empty(int status);
  // `busy`: the answer when the pool's queue is full; a 503 whose Retry-After is set here.
  static Response Defer(WorkPool& pool, std::function<Response()> work, Response busy);
  // Applies `finish` to this answer now and, when it is deferred, to what the work returns
  // (this answer is then also the one sent when the queue is full).
  void Finally(std::function<void(Response&)> finish);
};

}  // namespace breakpilot::http
