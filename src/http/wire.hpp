// HTTP/1.1 on the wire, for the server: a request parser that fills our `Request` directly and
// the rendering of a response head. Beast's parser finds the message's parts (request line,
// fields, Content-Length or chunked body, limits); each part is copied once, into the
// `Request`, instead of into Beast's field container first (whose 16-bit lengths cannot hold a
// field over 64 KiB) and then into ours. Responses are written as one rendered head plus the
// body, not through Beast's generic serializer.
//
//   Request req;
//   RequestParser parser(req);
//   parser.header_limit(16384);
//   co_await http::async_read(stream, buffer, parser, ...);   // req now holds the request
//   std::string head = RenderHead(res, parser.version(), keep_alive, res.body.size());
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "http/message.hpp"

namespace breakpilot::http {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(Request& out) : out_(out) {}

  unsigned version() const { return version_; }  // 10 or 11
  bool is_head() const { return head_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  Request& out_;
  unsigned version_ = 11;
  bool head_ = false;
};

// Splits the request target into `path` (percent-decoded) and `query` (decoded, in order);
// false for a target we refuse: not origin-form, or a path with ".." or NUL. A plain path (no
// query, no percent sign) is taken as it is; anything else goes through Boost.URL.
bool ParseTarget(Request& req);

namespace detail {
// ParseTarget without the plain-path shortcut, which the fuzzer holds it to.
bool ParseTargetWithUrl(Request& req);
}  // namespace detail

// The status line and header block of a response, ending in the empty line. Adds `Server`,
// `Content-Length` (`content_length`; none for 1xx, 204 and 304, nor when `chunked`, which adds
// `Transfer-Encoding: chunked`) and `Connection` as `keep_alive` and the version need; the
// handler's own values for those four are ignored. A header whose name or value could split
// the head (CR, LF, NUL, or a name that is not a token) is left out rather than sent.
std::string RenderHead(const Response& res, unsigned version, bool keep_alive,
                       std::size_t content_length, bool chunked = false);

}  // namespace breakpilot::http
