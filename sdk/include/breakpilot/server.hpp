// A small HTTP/1.1 server for products (Boost.Beast underneath, kept out of this header): a pool
// of threads, keep-alive, a read timeout, header and body limits (431/413), and a graceful stop.
// Products may use any server they like instead: the SDK's Product only needs a Request.
//
//   sdk::Server server({.port = 9000}, [&](const sdk::Request& r) { return product.Handle(r); });
//   server.Listen();   // binds (port 0: any free port; see port())
//   server.Run();      // blocks until Stop()
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "breakpilot/http.hpp"

namespace breakpilot::sdk {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  int threads = 0;  // 0: one per core
  std::size_t header_limit = std::size_t{16} << 10;
  std::size_t body_limit = std::size_t{1} << 20;
  std::chrono::milliseconds read_timeout{30'000};
  // Stop()'s grace: requests being handled finish and are answered (Connection: close), idle
  // connections are closed at once; what is still running after this is cut off.
  std::chrono::milliseconds drain{10'000};
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Listen();  // throws std::runtime_error when the address is taken
  unsigned short port() const;
  void Run();  // serves on `threads` threads (this one included) until Stop()
  // Thread-safe, from any thread but a handler's: closes the listener and the idle connections,
  // waits (at most options.drain) for the requests in hand to be answered, then stops the
  // threads. Returns once that is done; a second call returns at once.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::sdk
