#include "http/server.hpp"

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/work_pool.hpp"
#include "http/problem.hpp"
#include "http/wire.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

const Logger kLog("http");

bool IsSafeToken(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The server span of one request, under the caller's span when it sent a traceparent.
class RequestSpan {
 public:
  explicit RequestSpan(const Request& req)
      : caller_(req.traceparent.empty() ? std::nullopt
                                        : tracing::ParseTraceparent(req.traceparent)),
        span_(req.method, tracing::SpanKind::kServer, caller_ ? &*caller_ : nullptr) {}

  void End(const Request& req, const Response& res) {
    if (!span_.recording()) return;
    // Named by the route's pattern, never the path: one name per route, whatever the ids.
    span_.SetName(req.route_pattern.empty() ? req.method
                                            : req.method + " " + std::string(req.route_pattern));
    span_.Set("http.request.method", req.method);
    if (!req.route_pattern.empty()) span_.Set("http.route", req.route_pattern);
    span_.Set("url.path", req.path);
    span_.Set("http.response.status_code", res.status);
    span_.Set("client.address", req.remote_ip);
    span_.Set("breakpilot.request_id", req.request_id);
    if (res.status >= 500) span_.Fail("HTTP " + std::to_string(res.status));
  }
  void Discard() { span_.Discard(); }

 private:
  std::optional<tracing::SpanContext> caller_;
  tracing::Span span_;
};

// Request ids need to be unique, not secret: a per-thread generator seeded from the system RNG
// avoids a call into OpenSSL's locked RNG on every request.
std::string NewRequestId() {
  thread_local std::mt19937_64 rng = [] {
    std::uint64_t seed = 0;
    RandomBytes(&seed, sizeof seed);
    return std::mt19937_64(seed);
  }();
  const std::array<std::uint64_t, 2> words{rng(), rng()};
  return HexEncode(std::string_view(reinterpret_cast<const char*>(words.data()), sizeof words));
}

// A flat buffer that grew past this for one large request is given back once it is drained.
constexpr std::size_t kKeptBufferBytes = std::size_t{64} << 10;

using Clock = std::chrono::steady_clock;

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(tcp::socket s, std::string peer) : socket(std::move(s)), remote(std::move(peer)) {}
  tcp::socket socket;
  const std::string remote;  // the peer's address, for the per-address count
  // When the pending read or write is cut off. Timeouts are lazy: setting one is a store, and
  // the context's sweeper cancels what is overdue (see Sweep). A timer per operation would cost
  // a timer-queue insertion, a removal and a cancelled wait for every read and every write.
  Clock::time_point deadline = Clock::time_point::max();
  bool busy = false;  // true while a request is being handled
  // Since when it waits for its next request (steady clock ns; 0 while it handles or writes
  // one): read by the acceptor to choose whom to close when the server is full.
  std::atomic<std::int64_t> waiting_since{0};

  void ExpiresAfter(std::chrono::milliseconds d) { deadline = Clock::now() + d; }
};

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// The descriptor limit, raised to its hard limit first (the usual soft limit, 1024, is far
// below what a server holds), less a reserve for the database, files and outbound calls.
std::size_t ConnectionsTheDescriptorsAllow() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024 - 64;
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  const auto limit = static_cast<std::size_t>(std::min<rlim_t>(r.rlim_cur, 1'000'000));
  const std::size_t reserve = std::max<std::size_t>(64, limit / 10);
  return limit > reserve + 16 ? limit - reserve : 16;
}

// One io_context, run by exactly one thread, and what lives on it: a connection's coroutine, its
// socket and its deadline never need a strand or a lock.
struct Context {
  // Declared first, destroyed last: a context destroyed with connections still on it (the
  // drain timed out) ends their coroutines, whose registrations then leave this set.
  std::unordered_set<Connection*> live;  // touched only on this context's thread
  asio::io_context ioc;
  asio::steady_timer sweep{ioc};
};

// How often a context looks for overdue connections: a timeout fires between its nominal time
// and that plus one tick.
std::chrono::milliseconds SweepTick(std::chrono::milliseconds read_timeout) {
  return std::clamp(read_timeout / 4, std::chrono::milliseconds(25),
                    std::chrono::milliseconds(1000));
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  HandleFn handle;
  ObserveFn observe;
  InlineFn try_inline;
  std::vector<std::unique_ptr<Context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context& ioc;  // contexts[0]: the acceptor, signals and the drain
  std::size_t next_context = 0;
  std::optional<asio::thread_pool> blocking;  // absent: handlers run on the I/O threads
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  std::atomic<int> deferred_in_flight{0};  // jobs on a WorkPool that will post back to a context
  std::size_t max_connections = 0;         // the effective cap
  // Guards `connections`, `per_address` and the counters below.
  mutable std::mutex connections_mutex;
  std::unordered_map<std::string, std::size_t> per_address;
  std::uint64_t refused_total = 0, refused_per_address = 0, evicted = 0, accept_errors = 0;
  std::set<std::shared_ptr<Connection>> connections;
  asio::steady_timer drain_timer{ioc};

  Impl(ServerOptions o, HandleFn h, ObserveFn ob, InlineFn in)
      : options(std::move(o)),
        handle(std::move(h)),
        observe(std::move(ob)),
        try_inline(std::move(in)),
        contexts(MakeContexts(options.io_threads)),
        ioc(contexts.front()->ioc) {
    for (auto& c : contexts) guards.push_back(asio::make_work_guard(c->ioc));
    const std::size_t allowed = ConnectionsTheDescriptorsAllow();
    max_connections =
        options.max_connections == 0 ? allowed : std::min(options.max_connections, allowed);
    if (options.max_connections > allowed) {
      kLog.Warn("max_connections lowered to what the descriptor limit allows",
                {{"asked", options.max_connections}, {"max_connections", allowed}});
    }
    if (options.blocking_threads > 0) {
      blocking.emplace(static_cast<std::size_t>(options.blocking_threads));
    }
  }

  static std::vector<std::unique_ptr<Context>> MakeContexts(int threads) {
    const int n =
        threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    std::vector<std::unique_ptr<Context>> out;
    out.reserve(static_cast<std::size_t>(n));
    // Default concurrency hint (locking on): sockets are opened from the acceptor's thread.
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<Context>());
    return out;
  }

  // Cancels the pending operation of every connection on `c` whose deadline has passed; the
  // operation completes with operation_aborted and its connection closes. Ends once the server
  // is stopping and the context has no connection left.
  asio::awaitable<void> Sweep(Context& c) {
    const auto tick = SweepTick(options.read_timeout);
    for (;;) {
      c.sweep.expires_after(tick);
      co_await c.sweep.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping.load() && c.live.empty()) co_return;
      const auto now = Clock::now();
      for (Connection* conn : c.live) {
        if (now < conn->deadline) continue;
        beast::error_code ignored;  // nothing pending, or the socket already closed
        conn->socket.cancel(ignored);
      }
    }
  }

  // Each request's handler runs inside the request's span (tracing/trace.hpp), on the thread
  // that runs it, so the calls it makes and the jobs it queues join the trace.
  Response Invoke(Request& req) {
    RequestSpan span(req);
    Response res;
    try {
      res = handle(req);
    } catch (const std::exception& e) {
      res = Failed(req, e);
    }
    span.End(req, res);
    return res;
  }

  std::optional<Response> InvokeInline(Request& req) {
    RequestSpan span(req);
    std::optional<Response> res;
    try {
      res = try_inline(req);
    } catch (const std::exception& e) {
      res = Failed(req, e);
    }
    if (res) {
      span.End(req, *res);
    } else {
      span.Discard();  // the blocking pool answers it, under a span of its own
    }
    return res;
  }

  // Runs a deferred answer's work on its pool (Response::Defer) and resumes this coroutine on
  // its own context with what the work returned; when the pool's queue is full, with the
  // deferred response itself (the route's 503).
  template <class Token>
  auto AsyncDeferred(Response& pending, Request& req, Token&& token) {
    return asio::async_initiate<Token, void(Response)>(
        [this, &pending, &req](auto handler) {
          using Handler = decltype(handler);
          auto shared = std::make_shared<Handler>(std::move(handler));
          auto ex = asio::get_associated_executor(*shared);
          ++deferred_in_flight;
          const bool queued = pending.deferred_on->TrySubmit(
              [this, shared, ex, work = std::move(pending.deferred), &req]() mutable {
                Response r;
                try {
                  r = work();
                } catch (const std::exception& e) {
                  r = Failed(req, e);
                }
                asio::post(ex, [shared, r = std::move(r)]() mutable {
                  std::move (*shared)(std::move(r));
                });
                --deferred_in_flight;
              });
          if (!queued) {  // the response itself is the answer for a full queue
            --deferred_in_flight;
            if (pending.on_refused) pending.on_refused();
            pending.deferred_on = nullptr;
            pending.deferred = nullptr;
            pending.on_refused = nullptr;
            asio::post(ex, [shared, busy = std::move(pending)]() mutable {
              std::move (*shared)(std::move(busy));
            });
          }
        },
        token);
  }

  static Response Failed(const Request& req, const std::exception& e) {
    kLog.Error("handler failed", {{"error", ErrorText(e)}, {"request_id", req.request_id}});
    return Problem(500, "internal", "Internal error",
                   "the server failed to handle the request; request id " + req.request_id,
                   req.path);
  }

  // Whether a new connection from `remote` may stay; at the total cap, the connection that has
  // waited longest for a request is closed to make room. Under connections_mutex.
  bool Admit(const std::string& remote) {
    if (options.max_connections_per_address > 0) {
      const auto it = per_address.find(remote);
      if (it != per_address.end() && it->second >= options.max_connections_per_address) {
        ++refused_per_address;
        return false;
      }
    }
    if (connections.size() >= max_connections) {
      Connection* oldest = nullptr;
      std::int64_t since = 0;
      for (const auto& c : connections) {
        const std::int64_t w = c->waiting_since.load(std::memory_order_relaxed);
        if (w != 0 && (oldest == nullptr || w < since)) {
          oldest = c.get();
          since = w;
        }
      }
      // Chosen once: its next request (if it comes in time) finds its socket cancelled.
      if (oldest == nullptr || !oldest->waiting_since.compare_exchange_strong(since, 0)) {
        ++refused_total;
        return false;
      }
      ++evicted;
      asio::post(oldest->socket.get_executor(), [victim = oldest->shared_from_this()] {
        beast::error_code ignored;  // it may have closed meanwhile
        victim->socket.cancel(ignored);
      });
    }
    ++per_address[remote];
    return true;
  }

  asio::awaitable<void> Accept() {
    auto pause = std::chrono::milliseconds(10);
    std::int64_t last_warning_ns = 0;
    std::uint64_t errors_since_warning = 0;
    for (;;) {
      auto& target = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] =
          co_await acceptor.async_accept(target.ioc, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopping.load()) co_return;
        // Out of descriptors or similar: say so (at most every 10 s), and give the process a
        // moment to recover, longer each time, instead of spinning on the same error.
        {
          std::lock_guard lock(connections_mutex);
          ++accept_errors;
        }
        ++errors_since_warning;
        if (NowNs() - last_warning_ns > 10'000'000'000) {
          kLog.Warn("accept failed", {{"error", "cannot accept a connection: " + ec.message()},
                                      {"failures", errors_since_warning},
                                      {"open_connections", OpenConnections()}});
          last_warning_ns = NowNs();
          errors_since_warning = 0;
        }
        asio::steady_timer wait(ioc, pause);
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
        continue;
      }
      pause = std::chrono::milliseconds(10);
      beast::error_code ignored;  // a peer that already went away must not end the accept loop
      const auto peer = socket.remote_endpoint(ignored);
      std::string remote = ignored ? std::string() : peer.address().to_string();
      auto conn = std::make_shared<Connection>(std::move(socket), std::move(remote));
      bool admitted = false;
      {
        std::lock_guard lock(connections_mutex);
        admitted = Admit(conn->remote);
        if (admitted) connections.insert(conn);
      }
      if (!admitted) {  // shed: the peer sees the connection closed
        conn->socket.close(ignored);
        continue;
      }
      conn->socket.set_option(tcp::no_delay(true), ignored);
      conn->socket.non_blocking(true, ignored);  // for WriteWhole's direct write
      asio::co_spawn(target.ioc, Serve(target, conn), [this, conn](const std::exception_ptr& e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            kLog.Error("connection failed", {{"error", ErrorText(ex)}});
          }
        }
        std::lock_guard lock(connections_mutex);
        connections.erase(conn);
        if (auto it = per_address.find(conn->remote);
            it != per_address.end() && --it->second == 0) {
          per_address.erase(it);
        }
      });
    }
  }

  std::size_t OpenConnections() const {
    std::lock_guard lock(connections_mutex);
    return connections.size();
  }

  // What the parser does not fill: the peer, the request id and the trace context.
  static void CompleteRequest(Request& req, const std::string& remote_ip) {
    req.remote_ip = remote_ip;
    auto rid = req.headers.Get("x-request-id");
    if (rid && IsSafeToken(*rid, 128)) {
      req.request_id = std::string(*rid);
    } else {
      req.request_id = NewRequestId();
    }
    if (auto tp = req.headers.Get("traceparent"); tp && tracing::ParseTraceparent(*tp)) {
      req.traceparent = std::string(*tp);
    }
  }

  // Writes a whole response: the rendered head and the body in one gathered write.
  static asio::awaitable<bool> WriteWhole(Connection& conn, const Response& res, unsigned version,
                                          bool keep_alive, bool head,
                                          std::chrono::milliseconds timeout) {
    const std::string head_text = RenderHead(res, version, keep_alive, res.body.size());
    const std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_text), head ? asio::const_buffer() : asio::buffer(res.body)};
    // Most answers fit in the socket's send buffer. Written here, they skip the reactor and the
    // scheduler's queue, which an asynchronous write passes through even when it completes at
    // once. (The socket is non-blocking: see Accept.) What does not fit is written
    // asynchronously, under the timeout.
    beast::error_code ec;
    const std::size_t written = conn.socket.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block) co_return false;
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
    rest.consume(written);  // 0 on an error
    if (beast::buffer_bytes(rest) == 0) co_return true;
    conn.ExpiresAfter(timeout);
    auto [write_ec, n] =
        co_await asio::async_write(conn.socket, rest, asio::as_tuple(asio::use_awaitable));
    (void)n;
    co_return !write_ec;
  }

  // Registers a connection with its context's sweeper for as long as it is served.
  struct Registration {
    Registration(Context& c, Connection* conn) : context(c), connection(conn) {
      context.live.insert(connection);
    }
    ~Registration() { context.live.erase(connection); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    Context& context;
    Connection* connection;
  };

  asio::awaitable<void> Serve(Context& context, std::shared_ptr<Connection> conn) {
    const Registration registration(context, conn.get());
    beast::flat_buffer buffer;
    beast::error_code ec;
    const std::string& remote_ip = conn->remote;
    for (;;) {
      if (stopping.load()) break;
      // A large header once must not stay allocated for the connection's lifetime.
      if (buffer.size() == 0 && buffer.capacity() > kKeptBufferBytes) buffer.shrink_to_fit();
      Request req;
      RequestParser parser(req);
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      conn->ExpiresAfter(options.read_timeout);
      conn->waiting_since.store(NowNs(), std::memory_order_relaxed);
      auto [read_ec, n] = co_await bhttp::async_read(conn->socket, buffer, parser,
                                                     asio::as_tuple(asio::use_awaitable));
      (void)n;
      conn->waiting_since.store(0, std::memory_order_relaxed);
      if (read_ec) {
        Response problem;
        if (read_ec == bhttp::error::body_limit) {
          problem =
              Problem(413, "payload-too-large", "Payload too large",
                      "request body exceeds " + std::to_string(options.body_limit) + " bytes", "");
        } else if (read_ec == bhttp::error::header_limit) {
          problem = Problem(
              431, "headers-too-large", "Request header fields too large",
              "request headers exceed " + std::to_string(options.header_limit) + " bytes", "");
        } else if (read_ec == bhttp::error::end_of_stream ||
                   read_ec == asio::error::operation_aborted || read_ec == asio::error::eof ||
                   read_ec == asio::error::connection_reset ||
                   read_ec == bhttp::error::partial_message) {
          break;  // the peer went away, idled out, or we are draining
        } else {
          problem = Problem(400, "bad-request", "Bad request",
                            "the request is not valid HTTP/1.1: " + read_ec.message(), "");
        }
        co_await WriteWhole(*conn, problem, 11, false, false, std::chrono::seconds(5));
        co_await LingeringClose(*conn);
        break;
      }
      conn->busy = true;
      conn->deadline = Clock::time_point::max();  // a handler's own time is not a read timeout
      const auto start = Clock::now();
      CompleteRequest(req, remote_ip);
      Response res;
      if (!ParseTarget(req)) {
        res = Problem(400, "bad-target", "Bad request target",
                      "the request target is not a valid origin-form path", req.target);
      } else {
        std::optional<Response> quick;
        if (blocking && try_inline) quick = InvokeInline(req);
        if (quick) {
          res = std::move(*quick);
        } else if (blocking) {
          res = co_await asio::co_spawn(
              *blocking, [this, &req]() -> asio::awaitable<Response> { co_return Invoke(req); },
              asio::use_awaitable);
        } else {
          res = Invoke(req);
        }
        if (res.deferred) res = co_await AsyncDeferred(res, req, asio::use_awaitable);
      }
      res.headers.Set("X-Request-Id", req.request_id);
      if (!req.traceparent.empty()) res.headers.Set("traceparent", req.traceparent);
      const bool streamed = res.stream && !parser.is_head();
      // HTTP/1.0 has no chunked encoding: a streamed body there ends with the connection.
      const bool keep_alive =
          parser.keep_alive() && !stopping.load() && !(streamed && parser.version() == 10);
      // Observed before the write, so that metrics and the access log already count a request
      // when its client reads the answer (a scrape right after sees it).
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (observe) observe(Exchange{&req, &res, res.body.size(), seconds});
      const bool write_ok =
          streamed ? co_await WriteStream(*conn, res, parser.version(), keep_alive, req.request_id)
                   : co_await WriteWhole(*conn, res, parser.version(), keep_alive, parser.is_head(),
                                         options.read_timeout);
      conn->busy = false;
      if (!write_ok || !keep_alive) break;
    }
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
    conn->socket.close(ec);
  }

  // Sends a streamed body chunked (HTTP/1.0: as is, then closes), producing each piece where
  // handlers run. False when the connection must close (a write failed, or the producer threw
  // midway).
  asio::awaitable<bool> WriteStream(Connection& conn, Response& res, unsigned version,
                                    bool keep_alive, const std::string& request_id) {
    const bool chunked = version != 10;
    const std::string head_text = RenderHead(res, version, keep_alive, 0, chunked);
    conn.ExpiresAfter(options.read_timeout);
    auto [head_ec, head_n] = co_await asio::async_write(conn.socket, asio::buffer(head_text),
                                                        asio::as_tuple(asio::use_awaitable));
    (void)head_n;
    if (head_ec) co_return false;
    // What the handler had at hand is the first piece; each later one is produced after the
    // previous one is written.
    std::string piece = std::move(res.body);
    for (bool more = true;;) {
      if (!piece.empty()) {
        conn.ExpiresAfter(options.read_timeout);
        auto [ec, n] = chunked ? co_await asio::async_write(conn.socket,
                                                            bhttp::make_chunk(asio::buffer(piece)),
                                                            asio::as_tuple(asio::use_awaitable))
                               : co_await asio::async_write(conn.socket, asio::buffer(piece),
                                                            asio::as_tuple(asio::use_awaitable));
        (void)n;
        if (ec) co_return false;
      }
      if (!more) break;
      piece.clear();
      std::string failure;
      const auto produce = [&] {
        try {
          more = res.stream(piece);
        } catch (const std::exception& e) {
          failure = ErrorText(e);
        }
      };
      if (blocking) {
        co_await asio::co_spawn(
            *blocking,
            [&]() -> asio::awaitable<void> {
              produce();
              co_return;
            },
            asio::use_awaitable);
      } else {
        produce();
      }
      if (!failure.empty()) {
        kLog.Error("streamed response failed", {{"error", failure}, {"request_id", request_id}});
        co_return false;
      }
    }
    if (!chunked) co_return true;  // the close ends the body
    conn.ExpiresAfter(options.read_timeout);
    auto [last_ec, last_n] = co_await asio::async_write(conn.socket, bhttp::make_chunk_last(),
                                                        asio::as_tuple(asio::use_awaitable));
    (void)last_n;
    co_return !last_ec;
  }

  // After refusing a request mid-body, read and discard what the client is still sending for a
  // short while, so the refusal reaches it instead of being lost to a TCP reset (as nginx's
  // lingering_close does).
  static asio::awaitable<void> LingeringClose(Connection& conn) {
    beast::error_code ec;
    conn.socket.shutdown(tcp::socket::shutdown_send, ec);
    conn.ExpiresAfter(std::chrono::seconds(2));
    std::array<char, 16384> scratch{};
    std::size_t total = 0;
    while (total < (std::size_t{64} << 20)) {
      auto [read_ec, n] = co_await conn.socket.async_read_some(asio::buffer(scratch),
                                                               asio::as_tuple(asio::use_awaitable));
      if (read_ec) break;
      total += n;
    }
  }

  void BeginDrain() {
    acceptor.close();
    std::lock_guard lock(connections_mutex);
    for (const auto& c : connections) {
      asio::post(c->socket.get_executor(), [c] {
        beast::error_code ignored;  // the connection may have closed meanwhile
        if (!c->busy) c->socket.cancel(ignored);
      });
    }
    drain_timer.expires_after(options.drain_timeout);
    drain_timer.async_wait([this](beast::error_code ec) {
      if (!ec) {
        kLog.Warn("drain timed out; stopping with requests in flight");
        for (auto& c : contexts) c->ioc.stop();
      }
    });
  }
};

Server::Server(ServerOptions options, HandleFn handle, ObserveFn observe, InlineFn try_inline)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handle), std::move(observe),
                                   std::move(try_inline))) {}

Server::~Server() {
  if (impl_->blocking) impl_->blocking->join();
  // Deferred work still running on a WorkPool posts back to a context when it ends: wait for
  // it (after a drain that timed out) before the contexts go.
  while (impl_->deferred_in_flight.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Server::Listen() {
  auto& a = impl_->acceptor;
  const auto address = asio::ip::make_address(impl_->options.host);
  tcp::endpoint ep(address, impl_->options.port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
}

unsigned short Server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::size_t Server::max_connections() const {
  return impl_->max_connections;
}

void Server::WriteMetrics(std::string& out) const {
  std::lock_guard lock(impl_->connections_mutex);
  const auto line = [&out](std::string_view name, std::string_view labels, std::uint64_t v) {
    out.append(name).append(labels).append(" ").append(std::to_string(v)).append("\n");
  };
  out += "# HELP breakpilot_http_connections Open client connections (and the cap).\n";
  out += "# TYPE breakpilot_http_connections gauge\n";
  line("breakpilot_http_connections", "", impl_->connections.size());
  line("breakpilot_http_connections_max", "", impl_->max_connections);
  out +=
      "# HELP breakpilot_http_connections_shed_total Connections closed at accept (the server or "
      "the address was full) or closed to make room (the one idle longest).\n";
  out += "# TYPE breakpilot_http_connections_shed_total counter\n";
  line("breakpilot_http_connections_shed_total", "{reason=\"full\"}", impl_->refused_total);
  line("breakpilot_http_connections_shed_total", "{reason=\"per_address\"}",
       impl_->refused_per_address);
  line("breakpilot_http_connections_shed_total", "{reason=\"idle_evicted\"}", impl_->evicted);
  out += "# HELP breakpilot_http_accept_errors_total Failed accepts (out of descriptors).\n";
  out += "# TYPE breakpilot_http_accept_errors_total counter\n";
  line("breakpilot_http_accept_errors_total", "", impl_->accept_errors);
}

void Server::Run() {
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  for (auto& c : impl_->contexts) asio::co_spawn(c->ioc, impl_->Sweep(*c), asio::detached);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([ctx = impl_->contexts[i].get()] { ctx->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::co_spawn(
      impl_->ioc,
      [this]() -> asio::awaitable<void> {
        impl_->BeginDrain();
        asio::steady_timer poll(impl_->ioc);
        for (;;) {
          {
            std::lock_guard lock(impl_->connections_mutex);
            if (impl_->connections.empty()) break;
          }
          poll.expires_after(std::chrono::milliseconds(20));
          co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        impl_->drain_timer.cancel();
        // The sweepers see `stopping` and no connection, and end.
        for (auto& c : impl_->contexts) {
          asio::post(c->ioc, [ctx = c.get()] { ctx->sweep.cancel(); });
        }
        impl_->guards.clear();  // nothing left: every run() returns
      },
      asio::detached);
}

}  // namespace breakpilot::http
