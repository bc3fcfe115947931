#include "http/wire.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>

namespace breakpilot::http {
namespace bhttp = boost::beast::http;

namespace {

using CharSet = std::array<bool, 256>;

// Letters, digits and `extra`: the sets below are checked a character at a time per request.
constexpr CharSet AlnumAnd(std::string_view extra) {
  CharSet t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : extra) t[static_cast<unsigned char>(c)] = true;
  return t;
}

bool AllIn(const CharSet& set, std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return set[static_cast<unsigned char>(c)]; });
}

// RFC 9110 token characters: every response header name is checked.
constexpr CharSet kTokenChars = AlnumAnd("!#$%&'*+-.^_`|~");
// RFC 3986 pchar without pct-encoded, plus '/': a path made of these alone reads the same
// decoded, so it needs no URL parser.
constexpr CharSet kPlainPathChars = AlnumAnd("-._~!$&'()*+,;=:@/");

bool IsToken(std::string_view s) {
  return !s.empty() && AllIn(kTokenChars, s);
}

bool IsPlainPath(std::string_view s) {
  return !s.empty() && s.front() == '/' && AllIn(kPlainPathChars, s);
}

bool IsAcceptablePath(std::string_view path) {
  return !path.empty() && path.front() == '/' && path.find("..") == std::string_view::npos &&
         path.find('\0') == std::string_view::npos;
}

// No CR, LF or NUL. (Not find_first_of: it calls memchr once per character.)
bool IsSafeValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// The head's own fields, which RenderHead writes itself.
bool IsFraming(std::string_view name) {
  return HeaderNameEquals(name, "Content-Length") || HeaderNameEquals(name, "Transfer-Encoding") ||
         HeaderNameEquals(name, "Connection") || HeaderNameEquals(name, "Server");
}

bool HasNoContent(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace

void RequestParser::on_request_impl(bhttp::verb method, string_view method_str, string_view target,
                                    int version, error_code& /*ec*/) {
  out_.method.assign(method_str.data(), method_str.size());
  out_.target.assign(target.data(), target.size());
  version_ = static_cast<unsigned>(version);
  head_ = method == bhttp::verb::head;
}

void RequestParser::on_field_impl(bhttp::field /*name*/, string_view name_string, string_view value,
                                  error_code& /*ec*/) {
  out_.headers.Add(std::string_view(name_string.data(), name_string.size()),
                   std::string_view(value.data(), value.size()));
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      error_code& /*ec*/) {
  // The parser has already refused a Content-Length over the body limit.
  if (content_length) out_.body.reserve(static_cast<std::size_t>(*content_length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code& /*ec*/) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t /*remain*/, string_view body,
                                              error_code& /*ec*/) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

namespace detail {

bool ParseTargetWithUrl(Request& req) {
  auto parsed = boost::urls::parse_origin_form(req.target);
  if (!parsed) return false;
  req.path = std::string(parsed->path());
  if (!IsAcceptablePath(req.path)) return false;
  for (auto p : parsed->params()) req.query.emplace_back(p.key, p.value);
  return true;
}

}  // namespace detail

bool ParseTarget(Request& req) {
  if (IsPlainPath(req.target)) {
    req.path = req.target;
    return IsAcceptablePath(req.path);
  }
  return detail::ParseTargetWithUrl(req);
}

std::string RenderHead(const Response& res, unsigned version, bool keep_alive,
                       std::size_t content_length, bool chunked) {
  std::string out;
  out.reserve(256);
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(res.status));
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  out.append(reason.data(), reason.size());
  out.append("\r\nServer: breakpilot\r\n");
  for (const auto& [name, value] : res.headers.all()) {
    if (IsFraming(name) || !IsToken(name) || !IsSafeValue(value)) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (!HasNoContent(res.status)) {
    out.append("Content-Length: ").append(std::to_string(content_length)).append("\r\n");
  }
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
  if (!keep_alive && version != 10) out.append("Connection: close\r\n");
  if (keep_alive && version == 10) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
  return out;
}

}  // namespace breakpilot::http
