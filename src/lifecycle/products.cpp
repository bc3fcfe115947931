#include "lifecycle/products.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace breakpilot::lifecycle {
namespace {

std::string WithTenant(std::string path, const std::string& tenant_id) {
  if (const auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, tenant_id);
  return path;
}

Error Refused(const catalog::Manifest& product, const std::string& what, int status,
              const std::string& body) {
  return Error{ErrorKind::kUnavailable, "product-call-failed", "Product call failed",
               product.id + " answered " + what + " with HTTP " + std::to_string(status) + ": " +
                   body.substr(0, 200)};
}

constexpr std::size_t kMaxExportBytes = std::size_t{64} << 20;

}  // namespace

bool IsLoopbackUrl(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https")) return false;
  const std::string host(u->host());
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  if (u->host_type() != boost::urls::host_type::ipv4) return false;
  return host.rfind("127.", 0) == 0;
}

bool ProductClient::Reachable(const catalog::Manifest& product) const {
  return hosts_ == ProductHosts::kAny || IsLoopbackUrl(product.base_url);
}

Result<outbound::Response> ProductClient::Call(const catalog::Manifest& product, std::string method,
                                               const std::string& path, std::string body,
                                               std::size_t max_body) {
  auto token = token_(product.id);
  if (!token) return std::move(token).error();
  outbound::Request req{
      .method = std::move(method),
      .url = product.base_url + path,
      .headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json, */*"}},
      .body = std::move(body),
      .timeout = std::chrono::seconds(60),
      .max_body = max_body};
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  return fetch_(req);
}

Result<ProductExport> ProductClient::Export(const catalog::Manifest& product,
                                            const std::string& tenant_id) {
  auto r = Call(product, "GET", WithTenant(product.export_path, tenant_id), "", kMaxExportBytes);
  if (!r) return std::move(r).error();
  if (r->status != 200) return Refused(product, "the export", r->status, r->body);
  return ProductExport{
      std::string(r->headers.Get("content-type").value_or("application/octet-stream")),
      std::move(r->body)};
}

Result<Ok> ProductClient::DeleteData(const catalog::Manifest& product,
                                     const std::string& tenant_id) {
  auto r = Call(product, "DELETE", WithTenant(product.delete_data_path, tenant_id), "", 1 << 16);
  if (!r) return std::move(r).error();
  // Gone or never there: either way the product holds nothing of the tenant.
  if ((r->status >= 200 && r->status < 300) || r->status == 404 || r->status == 410) return Ok{};
  return Refused(product, "the data deletion", r->status, r->body);
}

Result<Ok> ProductClient::DemoReset(const catalog::Manifest& product, const std::string& fixture) {
  auto r =
      Call(product, "POST", product.demo_reset_path, fixture.empty() ? "{}" : fixture, 1 << 16);
  if (!r) return std::move(r).error();
  if (r->status >= 200 && r->status < 300) return Ok{};
  return Refused(product, "the demo reset", r->status, r->body);
}

Result<ProductIsolation> ProductClient::Isolate(const catalog::Manifest& product,
                                                const std::string& tenant_id,
                                                const std::string& isolation) {
  auto r = Call(product, "PUT", WithTenant(product.isolation_path, tenant_id),
                boost::json::serialize(boost::json::object{{"isolation", isolation}}), 1 << 16);
  if (!r) return std::move(r).error();
  if (r->status == 422 && r->body.find("isolation-unsupported") != std::string::npos) {
    return ProductIsolation{.target = isolation, .phase = "unsupported"};
  }
  if (r->status != 200 && r->status != 202) {
    return Refused(product, "the isolation", r->status, r->body);
  }
  boost::system::error_code ec;
  const auto v = boost::json::parse(r->body, ec);
  if (ec || !v.is_object()) return Refused(product, "the isolation", r->status, "not JSON");
  const auto& o = v.as_object();
  const auto text = [&](std::string_view k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  const auto number = [&](std::string_view k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_int64() ? x->as_int64() : std::int64_t{0};
  };
  return ProductIsolation{.target = text("isolation"),
                          .place = text("place"),
                          .phase = text("phase"),
                          .copied = number("copied"),
                          .total = number("total"),
                          .error = text("error")};
}

}  // namespace breakpilot::lifecycle
