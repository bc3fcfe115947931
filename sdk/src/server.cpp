#include "breakpilot/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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
  asio::io_context io;
  tcp::acceptor acceptor{io};
  unsigned short bound_port = 0;

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
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
      const bool keep = msg.keep_alive();
      auto out = ToBeast(std::move(r), msg.version(), keep);
      stream.expires_after(options.read_timeout);
      auto [write_ec, w] =
          co_await bhttp::async_write(stream, out, asio::as_tuple(asio::use_awaitable));
      (void)w;
      if (write_ec || !keep) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket)), asio::detached);
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
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
}

}  // namespace breakpilot::sdk
