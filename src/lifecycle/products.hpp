// The platform's side of the product contract (M6.3, M7.2, M13.3, M14.2): the lifecycle calls a
// product answers, at the paths its manifest names under its base_url.
//
//   GET    /v1/tenants/{id}/export   -> 200 with the tenant's data (any content type)
//   DELETE /v1/tenants/{id}/data     -> 2xx; 404 and 410 also mean "nothing left"
//   POST   /v1/tenants/demo/reset    -> 2xx, body: the product's demo fixture
//   PUT    /v1/tenants/{id}/isolation {"isolation"} -> 200/202 with the move's progress;
//   GET    the same                  -> 200 with it (M18.2)
//
// Each call carries a platform token (identity::TokenIssuer::PlatformToken) whose audience is
// the product, so a product accepts it with the JWKS it already trusts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "catalog/manifest.hpp"
#include "core/result.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::lifecycle {

struct ProductExport {
  std::string content_type;
  std::string body;
};

// A product's answer about a tenant's move to a place of its own.
struct ProductIsolation {
  std::string target;  // "schema", "database"
  std::string place;   // where the tenant's data is now
  std::string phase;   // copying, switching, cleaning, done, failed; "unsupported" (422)
  std::int64_t copied = 0;
  std::int64_t total = 0;
  std::string error;
};

// A product's bearer token for one call.
using TokenSource = std::function<Result<std::string>(const std::string& product_id)>;

// Which products the platform calls: on a development machine only those whose base URL is on
// this machine (loopback), so a fresh `make run` with the sample catalog (whose products live
// at *.breakpilot.com) never reaches out to the internet; in production every product.
enum class ProductHosts { kLoopback, kAny };

class ProductClient {
 public:
  ProductClient(outbound::Fetcher fetch, TokenSource token, ProductHosts hosts = ProductHosts::kAny)
      : fetch_(std::move(fetch)), token_(std::move(token)), hosts_(hosts) {}

  // Whether `product` is called at all; a product that is not is skipped by the lifecycle (its
  // demo reset, export and data deletion), not failed and retried.
  bool Reachable(const catalog::Manifest& product) const;

  Result<ProductExport> Export(const catalog::Manifest& product, const std::string& tenant_id);
  Result<Ok> DeleteData(const catalog::Manifest& product, const std::string& tenant_id);
  // `fixture`: the demo seed kept in the repository for this product (may be empty).
  Result<Ok> DemoReset(const catalog::Manifest& product, const std::string& fixture);
  // Asks the product to move the tenant (idempotent: again, it reports how far it is).
  Result<ProductIsolation> Isolate(const catalog::Manifest& product, const std::string& tenant_id,
                                   const std::string& isolation);

 private:
  Result<outbound::Response> Call(const catalog::Manifest& product, std::string method,
                                  const std::string& path, std::string body, std::size_t max_body);

  outbound::Fetcher fetch_;
  TokenSource token_;
  ProductHosts hosts_;
};

// True for http(s) URLs whose host is localhost, 127.0.0.0/8 or [::1].
bool IsLoopbackUrl(std::string_view url);

}  // namespace breakpilot::lifecycle
