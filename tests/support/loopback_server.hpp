// An http::Server on a free loopback port, run on its own thread from construction to
// destruction: what each contract fake (Polar, Frappe, Gitea) answers on.
//
//   LoopbackServer server([](http::Request& req) { return http::Response::Json(200, "{}"); });
//   fetch(server.BaseUrl() + "/api/...");
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "http/server.hpp"

namespace breakpilot::testing {

class LoopbackServer {
 public:
  explicit LoopbackServer(http::Server::HandleFn handle);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace breakpilot::testing
