// The REST API: the route table the route modules declare (api/module.hpp), dispatch
// (authentication, authorization, the status gate, sessions and CSRF, idempotency, body media
// types), the access log and metrics. Handlers are thin: read the request, call a use case,
// shape the answer. Every Error becomes problem+json once, here, through http::Problem.
//
//   Api api(options, platform.services());
//   http::Server server(opts, [&](http::Request& r) { return api.Handle(r); },
//                       [&](const http::Exchange& x) { api.Observe(x); });
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/module.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace breakpilot::api {

// The API's own settings: HTTP concerns, not the services'.
struct ApiOptions {
  std::string docs_dir;  // swagger-ui-dist, for GET /
  bool access_log = true;
  // Reads (GET, HEAD) are answered on the I/O thread, writes on the blocking pool, where they
  // meet in SQLite's group commit (storage/sqlite_database.hpp). Set on SQLite, whose reads are
  // local and take microseconds.
  bool inline_reads = false;
  // One client address may try at most this many password grants a minute (429 beyond).
  int password_attempts_per_minute = 30;
  int portal_logins_per_minute = 30;  // portal sign-ins one client address may begin (429 beyond)
};

class Api {
 public:
  Api(ApiOptions options, Services services);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  http::Response Handle(http::Request& req);
  // For a route marked memory_first: its answer when it needs no wait (core/memory_only.hpp);
  // with inline_reads, any GET or HEAD's answer; nullopt when the request must go to Handle on
  // the blocking pool (or is no such route).
  std::optional<http::Response> HandleInline(http::Request& req);
  void Observe(const http::Exchange& exchange);
  const http::Router& router() const { return router_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  http::Metrics& metrics() { return metrics_; }
  void AddForTest(Endpoint endpoint) { Add(std::move(endpoint)); }

 private:
  void Add(Endpoint endpoint);
  Result<identity::Principal> Authenticate(const http::Request& req);
  http::Response Dispatch(const Endpoint& endpoint, http::Request& req);
  http::Response DispatchSession(const Endpoint& endpoint, http::Request& req);
  http::Response Route(http::Request& req);

  ApiOptions options_;
  Services services_;
  std::atomic<std::uint64_t> inline_answered_{0};
  std::atomic<std::uint64_t> inline_declined_{0};
  http::Router router_;
  std::vector<Endpoint> endpoints_;
  http::Metrics metrics_;
  // The route modules, one per area (src/api/*_routes.hpp); their routes point into them.
  std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace breakpilot::api
