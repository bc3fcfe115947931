// libFuzzer: raw bytes from a socket through the request parser (in pieces, as they arrive),
// and whatever it accepted back out through RenderHead, whose head must stay well formed; and
// request targets through ParseTarget, whose plain-path shortcut must agree with Boost.URL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/wire.hpp"

namespace {

// Every line of a rendered head is the status line or "name: value", and only the last one is
// empty: no CR, LF or NUL taken from the request can start a field or end the head early.
void CheckHead(std::string_view head) {
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") std::abort();
  std::string_view rest = head.substr(0, head.size() - 2);
  bool first = true;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    if (eol == std::string_view::npos || eol == 0) std::abort();
    const auto line = rest.substr(0, eol);
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) std::abort();
    if (!first && line.find(": ") == std::string_view::npos) std::abort();
    first = false;
    rest.remove_prefix(eol + 2);
  }
}

// The plain-path shortcut must agree with Boost.URL on every target it takes.
void CheckTarget(std::string_view target) {
  breakpilot::http::Request fast;
  fast.target = std::string(target);
  breakpilot::http::Request slow = fast;
  const bool a = breakpilot::http::ParseTarget(fast);
  const bool b = breakpilot::http::detail::ParseTargetWithUrl(slow);
  if (a != b || (a && (fast.path != slow.path || fast.query != slow.query))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot::http;  // NOLINT(google-build-using-namespace): fuzz entry point only
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;  // how the bytes arrive
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckTarget(text.substr(0, text.find(' ')));
  constexpr std::size_t kBodyLimit = 4096;
  Request req;
  RequestParser parser(req);
  parser.header_limit(8192);
  parser.body_limit(kBodyLimit);
  std::string pending;
  boost::beast::error_code ec;
  for (std::size_t i = 0; i < text.size() && !parser.is_done(); i += step) {
    pending.append(text.substr(i, step));
    while (!pending.empty() && !parser.is_done()) {
      const auto used = parser.put(boost::asio::buffer(pending), ec);
      if (ec == boost::beast::http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return 0;
      if (used > pending.size()) std::abort();
      pending.erase(0, used);
    }
  }
  if (!parser.is_done()) return 0;
  if (req.body.size() > kBodyLimit || req.method.empty() || req.target.empty()) std::abort();
  CheckTarget(req.target);
  Response res;
  res.status = 200;
  for (const auto& [name, value] : req.headers.all()) res.headers.Add(name, value);
  res.headers.Add(req.target, req.method);
  res.body = req.body;
  CheckHead(RenderHead(res, parser.version(), parser.keep_alive(), res.body.size()));
  CheckHead(RenderHead(res, parser.version(), false, 0, true));
  return 0;
}
