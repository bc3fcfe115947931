// The HTTP/1.1 server: Boost.Beast on N io_contexts, each run by one thread; one C++20
// coroutine per connection, keep-alive, a timeout on every read and write (lazy: a per-thread
// sweeper cancels what is overdue, a tick late at most), header and body limits (431/413), and
// a graceful drain on Stop(): no new connections, in-flight requests finish, idle ones close.
// Handlers run either on the I/O threads (cheap, local work: SQLite) or on a separate blocking
// pool (network round trips: PostgreSQL), so a slow query never stalls the event loop.
//
//   Server server(options, [&](http::Request& r) { return app.Handle(r); });
//   server.Listen();          // binds; throws on a busy port
//   server.Run();             // blocks until Stop() and the drain are done
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/message.hpp"

namespace breakpilot::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  int io_threads = 0;        // 0: one per core
  int blocking_threads = 0;  // 0: handlers run on the I/O threads; >0: a pool of that many
  std::size_t header_limit = std::size_t{128} << 10;  // 128 KiB
  std::size_t body_limit = std::size_t{1} << 20;      // 1 MiB
  std::chrono::milliseconds read_timeout{30'000};     // before every read, idle keep-alive too
  std::chrono::milliseconds drain_timeout{10'000};    // graceful stop bound
  // Open connections at most: 0 takes the process's descriptor limit less a reserve for the
  // database, files and outbound calls (more is lowered to that). At the cap, the connection
  // that has waited longest for a request is closed to make room; if every one is busy, the
  // new one is.
  std::size_t max_connections = 0;
  // Open connections from one address at most (0: no limit); beyond it a new one is closed at
  // once. Behind a proxy every client shares the proxy's address: raise it, or set 0.
  std::size_t max_connections_per_address = 256;
};

// Called with every answered request (for the access log and metrics), on the I/O thread, just
// before the response is written.
struct Exchange {
  const Request* request;
  const Response* response;
  std::size_t bytes;  // body size
  double seconds;
};

class Server {
 public:
  using HandleFn = std::function<Response(Request&)>;
  using ObserveFn = std::function<void(const Exchange&)>;
  // With a blocking pool: tried first on the I/O thread; nullopt sends the request to `handle`
  // on the pool (see core/memory_only.hpp).
  using InlineFn = std::function<std::optional<Response>(Request&)>;

  Server(ServerOptions options, HandleFn handle, ObserveFn observe, InlineFn try_inline = {});
  ~Server();

  void Listen();                // binds the socket
  unsigned short port() const;  // the bound port (useful with port 0)
  void Run();                   // serves until Stop() has drained
  void Stop();                  // thread-safe, idempotent, callable from a signal handler thread
  std::size_t max_connections() const;  // the effective cap (ServerOptions::max_connections)
  // Prometheus text: open connections, and those refused or closed to make room, by reason.
  void WriteMetrics(std::string& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::http
