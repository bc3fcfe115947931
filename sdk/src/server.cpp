#include "breakpilot/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace breakpilot::sdk {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

bhttp::response<bhttp::string_body> ToBeast(Response r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), version};
  out.set(bhttp::field::server, "breakpilot-sdk");
  if (!r.body.empty() || r.status != 204) out.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) out.set(k, v);
  out.body() = std::move(r.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  // The open connections, for Stop: each runs on its own strand, so closing an idle one is
  // posted there and never races its coroutine.
  struct Connection {
    asio::any_io_executor strand;
    beast::tcp_stream* stream = nullptr;  // null once the connection has ended
    bool busy = false;  // a request read and not yet answered (on the strand only)
  };
  std::mutex connections_mu;
  std::list<std::shared_ptr<Connection>> connections;
  std::atomic<bool> stopping{false};
  std::once_flag stop_once;
  // Declared after the connections: destroyed first, so the coroutines it still holds forget
  // their connections while the list is there.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  unsigned short bound_port = 0;

  // Closes `c`'s socket unless it is handling a request or gone (on c's strand).
  static void CloseIfIdle(Connection& c) {
    if (c.busy || c.stream == nullptr) return;
    beast::error_code ec;
    c.stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    c.stream->socket().close(ec);
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto self = std::make_shared<Connection>(
        Connection{.strand = stream.get_executor(), .stream = &stream});
    std::list<std::shared_ptr<Connection>>::iterator at;
    {
      std::lock_guard lock(connections_mu);
      at = connections.insert(connections.end(), self);
    }
    struct Forget {  // on the strand, as the coroutine ends
      Impl* impl;
      std::list<std::shared_ptr<Connection>>::iterator at;
      ~Forget() {
        (*at)->stream = nullptr;
        std::lock_guard lock(impl->connections_mu);
        impl->connections.erase(at);
      }
    } forget{this, at};
    if (stopping.load()) co_return;
    beast::flat_buffer buffer;
    std::string remote;
    beast::error_code ec;
    const auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      stream.expires_after(options.read_timeout);
      auto [read_ec, n] =
          co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (read_ec == bhttp::error::end_of_stream || read_ec == asio::error::operation_aborted ||
          read_ec == beast::error::timeout || read_ec == asio::error::connection_reset) {
        break;
      }
      if (read_ec) {
        const bool big = read_ec == bhttp::error::body_limit;
        const bool header = read_ec == bhttp::error::header_limit;
        Response r =
            big      ? Problem(413, "body-too-large", "Body too large", "the body is too large")
            : header ? Problem(431, "headers-too-large", "Headers too large",
                               "the request headers are too large")
                     : Problem(400, "bad-request", "Bad request", "the request is not HTTP/1.1");
        auto out = ToBeast(std::move(r), 11, false);
        stream.expires_after(options.read_timeout);
        co_await bhttp::async_write(stream, out, asio::as_tuple(asio::use_awaitable));
        break;
      }
      self->busy = true;
      auto& msg = parser.get();
      Request request;
      request.method = std::string(msg.method_string());
      request.target = std::string(msg.target());
      request.remote_address = remote;
      for (const auto& f : msg) request.headers.emplace_back(f.name_string(), f.value());
      request.body = std::move(msg.body());
      Response r;
      try {
        r = handler(request);
      } catch (const std::exception&) {
        r = Problem(500, "internal", "Internal error", "the product failed to answer");
      }
      // While stopping, this answer is the connection's last.
      const bool keep = msg.keep_alive() && !stopping.load();
      auto out = ToBeast(std::move(r), msg.version(), keep);
      stream.expires_after(options.read_timeout);
      auto [write_ec, w] =
          co_await bhttp::async_write(stream, out, asio::as_tuple(asio::use_awaitable));
      (void)w;
      self->busy = false;
      // A Stop that came while this answer was being written found the connection busy: it
      // ends here instead of waiting for a next request.
      if (write_ec || !keep || stopping.load()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io),
                                                         asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      auto strand = socket.get_executor();
      asio::co_spawn(strand, Serve(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

Server::~Server() {
  Stop();
}

void Server::Listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::runtime_error("not an IP address: " + impl_->options.host);
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  impl_->acceptor.listen();
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
}

unsigned short Server::port() const {
  return impl_->bound_port;
}

void Server::Run() {
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  int n = impl_->options.threads > 0 ? impl_->options.threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int i = 1; i < n; ++i) pool.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& t : pool) t.join();
}

void Server::Stop() {
  Impl& i = *impl_;
  std::call_once(i.stop_once, [&] {
    i.stopping.store(true);
    asio::post(i.io, [&i] {
      beast::error_code ec;
      i.acceptor.close(ec);
    });
    // Idle connections go now; busy ones close after their answer (keep-alive off).
    {
      std::lock_guard lock(i.connections_mu);
      for (const auto& c : i.connections) {
        asio::post(c->strand, [c] { Impl::CloseIfIdle(*c); });
      }
    }
    const auto until = std::chrono::steady_clock::now() + i.options.drain;
    while (std::chrono::steady_clock::now() < until && !i.io.stopped()) {
      {
        std::lock_guard lock(i.connections_mu);
        if (i.connections.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    i.io.stop();
  });
}

}  // namespace breakpilot::sdk
