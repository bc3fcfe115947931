#include "loopback_server.hpp"

namespace breakpilot::testing {

LoopbackServer::LoopbackServer(http::Server::HandleFn handle) {
  http::ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.blocking_threads = 2;
  server_ =
      std::make_unique<http::Server>(options, std::move(handle), [](const http::Exchange&) {});
  server_->Listen();
  port_ = server_->port();
  thread_ = std::thread([this] { server_->Run(); });
}

LoopbackServer::~LoopbackServer() {
  server_->Stop();
  thread_.join();
}

}  // namespace breakpilot::testing
