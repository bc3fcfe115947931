#include "http/client.hpp"
#include "core/memory_only.hpp"
#include "tracing/trace.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace breakpilot::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Error Unavailable(const std::string& url, const std::string& why) {
  return Error{ErrorKind::kUnavailable, "upstream-unavailable", "Upstream unavailable",
               "cannot reach " + url + ": " + why};
}

// What went wrong, in our words: a Boost exception's what() names Boost's source file, line and
// function ("[asio.netdb:1 at /usr/include/boost/asio/...:84 in function ...]"), which must
// reach neither a log nor an answer. The error code's own message is plain words.
std::string Describe(const boost::system::error_code& ec, const outbound::Request& in) {
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
      ec == asio::error::no_data || ec == asio::error::no_recovery) {
    return "the host name does not resolve";
  }
  if (ec == beast::error::timeout) {
    return "no answer within " + std::to_string(in.timeout.count()) + " s";
  }
  if (ec == bhttp::error::body_limit) {
    return "the answer is larger than " + std::to_string(in.max_body) + " bytes";
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return "the TLS handshake failed (" + ec.message() + ")";
  }
  return ec.message();
}

// Blocking I/O has no timeouts in Asio or Beast (basic_stream's expiry applies to asynchronous
// operations only): a peer that accepts and never answers would hold the caller for good. This
// watchdog shuts the socket down when the exchange outlives its time, which ends a blocked
// handshake, read or write with an error.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::milliseconds timeout, bool& fired)
      : thread_([this, fd, timeout, &fired] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, timeout, [this] { return done_; })) {
            fired = true;
            ::shutdown(fd, SHUT_RDWR);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;  // last: it starts once the rest is built
};

template <class Stream>
Result<outbound::Response> Exchange(Stream& stream, const outbound::Request& in,
                                    const std::string& host, const std::string& target) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(in.method), target, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "breakpilot/" BREAKPILOT_VERSION);
  req.set(bhttp::field::connection, "close");
  // The current span (the client span of Fetch, or the context passed through): the callee
  // continues the trace. A caller's own traceparent header wins.
  if (const auto* current = tracing::Current()) {
    req.set("traceparent", tracing::FormatTraceparent(*current));
  }
  for (const auto& [k, v] : in.headers) req.set(k, v);
  req.body() = in.body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(in.max_body);
  parser.header_limit(64 * 1024);
  bhttp::read(stream, buffer, parser);
  auto& res = parser.get();
  outbound::Response out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers.Add(f.name_string(), f.value());
  out.body = std::move(res.body());
  return out;
}

Result<outbound::Response> FetchOnce(const outbound::Request& in) {
  auto url = boost::urls::parse_absolute_uri(in.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    return InvalidInput("invalid-url", "Invalid URL", "not an absolute http(s) URL: " + in.url);
  }
  const bool tls = url->scheme() == "https";
  const std::string host(url->host());
  const std::string port = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");
  std::string target(url->encoded_path());
  if (target.empty()) target = "/";
  if (url->has_query()) target += "?" + std::string(url->encoded_query());
  const std::string host_header = url->has_port() ? host + ":" + port : host;
  bool timed_out = false;  // set by the watchdog, read after it is joined
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    const auto resolved = resolver.resolve(host, port);
    std::vector<tcp::endpoint> endpoints;
    for (const auto& e : resolved) {
      if (in.guard) {
        const auto a = outbound::ParseAddress(e.endpoint().address().to_string());
        if (!a || !outbound::Allowed(*a, *in.guard)) continue;
      }
      endpoints.push_back(e.endpoint());
    }
    if (endpoints.empty()) {
      return Unavailable(in.url, "the host leads to no address we may call");
    }
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(in.timeout);
      stream.connect(endpoints);
      Result<outbound::Response> out = Error{};
      {
        const Watchdog dog(stream.socket().native_handle(), in.timeout, timed_out);
        out = Exchange(stream, in, host_header, target);
      }
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return out;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // SSL_set_tlsext_host_name, without the macro's C cast.
    if (!SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str()))) {
      return Unavailable(in.url, "cannot set SNI");
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(stream).expires_after(in.timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    Result<outbound::Response> out = Error{};
    {
      const Watchdog dog(beast::get_lowest_layer(stream).socket().native_handle(), in.timeout,
                         timed_out);
      stream.handshake(asio::ssl::stream_base::client);
      out = Exchange(stream, in, host_header, target);
      beast::error_code ignored;
      stream.shutdown(ignored);  // waits for the peer's close_notify: under the watchdog too
    }
    return out;
  } catch (const boost::system::system_error& e) {
    if (timed_out) {
      return Unavailable(in.url, "no answer within " + std::to_string(in.timeout.count()) + " ms");
    }
    return Unavailable(in.url, Describe(e.code(), in));
  } catch (const std::exception&) {
    return Unavailable(in.url, "the call failed");
  }
}

}  // namespace

Result<outbound::Response> Fetch(const outbound::Request& in) {
  MayBlock();
  // A client span for a call made inside a traced request or job; none for the calls nothing
  // traced makes (a poll, the exporter's own posts). Its attributes name the server, never the
  // URL's path or query, which may carry a secret (a chat webhook's token).
  tracing::Span span("HTTP " + in.method, tracing::SpanKind::kClient, nullptr, false);
  if (span.recording()) {
    span.Set("http.request.method", in.method);
    if (auto url = boost::urls::parse_absolute_uri(in.url); url) {
      span.Set("server.address", std::string(url->host()));
      if (url->has_port()) span.Set("server.port", static_cast<std::int64_t>(url->port_number()));
    }
  }
  auto out = FetchOnce(in);
  if (!out) {
    span.Fail(out.error().title);  // the detail names the URL
  } else {
    span.Set("http.response.status_code", out->status);
    if (out->status >= 400) span.Fail("HTTP " + std::to_string(out->status));
  }
  return out;
}

}  // namespace breakpilot::http
