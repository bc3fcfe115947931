#include "api/form.hpp"

#include <boost/url.hpp>

#include <algorithm>

#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/utf8.hpp"

namespace breakpilot::api {
namespace {

// nullopt on a bad percent-encoding.
std::optional<std::string> FormDecode(std::string_view s) {
  auto pv = boost::urls::make_pct_string_view(s);
  if (!pv) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  return pv->decode(opts);
}

}  // namespace

Result<Form> ParseForm(const http::Request& req) {
  const auto ct = req.headers.Get("content-type");
  if (!ct || !AsciiIStartsWith(*ct, "application/x-www-form-urlencoded")) {
    return Error{ErrorKind::kUnsupportedMediaType, "unsupported-media-type",
                 "Unsupported media type", "send the body as application/x-www-form-urlencoded"};
  }
  Form form;
  std::string_view body = req.body;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string_view k = pair.substr(0, eq);
    const std::string_view v =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto dk = FormDecode(k);
    auto dv = FormDecode(v);
    if (!dk || !dv) {
      return Malformed("invalid-form", "Invalid form body",
                       "the form body has a bad percent-encoding");
    }
    if (!IsUtf8(*dk) || !IsUtf8(*dv)) {
      return Malformed("invalid-form", "Invalid form body", "the form body is not UTF-8 text");
    }
    form.emplace_back(std::move(*dk), std::move(*dv));
  }
  return form;
}

Result<std::optional<std::string>> FormValue(const Form& form, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [k, v] : form) {
    if (k != name) continue;
    if (value) {
      return Malformed("invalid-form", "Invalid form body",
                       std::string(name) + " is given more than once");
    }
    value = v;
  }
  return value;
}

Result<std::optional<BasicCredentials>> ParseBasicAuth(const http::Request& req) {
  const auto h = req.headers.Get("authorization");
  if (!h || !AsciiIStartsWith(*h, "basic ")) return std::optional<BasicCredentials>();
  std::string raw;
  const auto colon = Base64Decode(h->substr(6), raw) ? raw.find(':') : std::string::npos;
  // RFC 6749 §2.3.1: both parts are form-encoded before they are joined.
  auto user = colon == std::string::npos ? std::nullopt : FormDecode(raw.substr(0, colon));
  auto password = colon == std::string::npos ? std::nullopt : FormDecode(raw.substr(colon + 1));
  if (!user || !password) {
    return Error{ErrorKind::kUnauthenticated, "invalid-client", "Client authentication failed",
                 "the Basic credentials are not base64 of id:secret"};
  }
  return std::optional<BasicCredentials>(BasicCredentials{std::move(*user), std::move(*password)});
}

std::string CookieValue(const http::Request& req, std::string_view name) {
  const auto h = req.headers.Get("cookie");
  if (!h) return "";
  std::string_view rest = *h;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

}  // namespace breakpilot::api
