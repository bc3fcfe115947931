#include "api/module.hpp"

#include <algorithm>
#include <charconv>

#include "core/uuid.hpp"
#include "http/problem.hpp"

namespace breakpilot::api {

Result<Ok> CheckTenant(tenants::TenantService& tenants, const Caller& caller,
                       identity::Action action, const std::string& tenant_id) {
  identity::TenantRef ref{.id = tenant_id};
  // Only a demo-only principal needs to know whether the tenant is the demo tenant.
  if (identity::DemoOnly(caller.principal)) {
    auto t = tenants.Get(tenant_id);
    ref.is_demo = t && t->kind == tenants::Kind::kDemo;
  }
  return identity::Authorize(caller.principal, action, ref);
}

http::Response Text(int status, std::string_view content_type, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

http::Response ProblemFor(const Error& e, const http::Request& req) {
  return http::Problem(e, req.path);
}

Result<std::string> UuidParam(const http::Request& req, std::string_view name) {
  const auto v = req.Param(name);
  if (!v || !IsCanonicalUuid(*v)) {
    return Malformed(
        "invalid-id", "Invalid id",
        std::string(name) + " must be a UUID like 0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0f",
        {{std::string(name), "is not a UUID"}});
  }
  return NormalizeUuid(*v);
}

Result<std::optional<std::int64_t>> IfMatchVersion(const http::Request& req) {
  const auto h = req.headers.Get("if-match");
  if (!h || *h == "*") return std::optional<std::int64_t>();
  std::string_view v = *h;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) n = -1;  // matches no version: 412
  return std::optional<std::int64_t>(n);
}

Result<std::optional<std::string>> StringQuery(const http::Request& req, std::string_view name) {
  if (req.QueryCount(name) > 1) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     std::string(name) + " is given more than once",
                     {{std::string(name), "must appear at most once"}});
  }
  auto v = req.QueryValue(name);
  if (!v) return std::optional<std::string>();
  if (v->size() > 256) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     std::string(name) + " is too long", {{std::string(name), "is too long"}});
  }
  return std::optional<std::string>(std::string(*v));
}

Result<Ok> OnlyKnownQuery(const http::Request& req, std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : req.query) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return Malformed("invalid-parameter", "Invalid query parameter",
                       "unknown query parameter " + k, {{k, "is not a known parameter"}});
    }
  }
  return Ok{};
}

Result<std::optional<int>> IntQuery(const http::Request& req, std::string_view name) {
  auto s = StringQuery(req, name);
  if (!s) return std::move(s).error();
  if (!*s) return std::optional<int>();
  int n = 0;
  const std::string& t = **s;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     std::string(name) + " must be an integer",
                     {{std::string(name), "must be an integer"}});
  }
  return std::optional<int>(n);
}

}  // namespace breakpilot::api
