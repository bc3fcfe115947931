// Contract fake of products (the reference product does not exist yet): one HTTP server that
// answers the lifecycle calls of the product contract for several products, at
// http://127.0.0.1:<port>/<product>/..., the way a product must, and records every call.
//
//   GET    /<product>/v1/tenants/{id}/export   200 {"product", "tenant_id", "records": [...]}
//   DELETE /<product>/v1/tenants/{id}/data     204 (then 410 on a repeat export)
//   POST   /<product>/v1/tenants/demo/reset    200, or 503 while fail_resets > 0
//
//   FakeProduct products({"certifai", "compliance"});
//   products.WriteCatalog(dir);                // manifests whose base_url points here
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace breakpilot::http {
class Server;
}
namespace breakpilot::storage {
class Database;
}

namespace breakpilot::testing {

struct ProductCall {
  std::string product;
  std::string method;
  std::string path;
  std::string tenant_id;       // "" for the demo reset
  std::string audience;        // of the bearer token the platform sent
  bool export_stored = false;  // DELETE only: what `export_stored` said at that moment
  std::string body;
  std::chrono::steady_clock::time_point at;
  std::string traceparent;  // the W3C header the platform sent, "" without one
};

class FakeProduct {
 public:
  explicit FakeProduct(std::vector<std::string> products);
  ~FakeProduct();

  int port() const { return port_; }
  std::string BaseUrl(const std::string& product) const;
  // Writes <dir>/<product>/product.manifest.yaml for each product (and a demo fixture for each).
  void WriteCatalog(const std::string& dir) const;
  std::vector<ProductCall> Calls() const;
  std::size_t Count(const std::string& method, const std::string& tenant_id = "") const;

  // Asked at each DELETE: is the final export of this tenant stored already?
  std::function<bool(const std::string& tenant_id)> export_stored;
  // Answers export_stored from the platform's own `exports` table (nullptr: stop asking).
  void CheckExportsIn(storage::Database* db);
  std::atomic<int> fail_resets{0};
  std::atomic<int> export_delay_ms{0};
  std::atomic<int> delete_delay_ms{0};

 private:
  std::vector<std::string> products_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<ProductCall> calls_;
  std::set<std::string> deleted_;  // product + tenant
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace breakpilot::testing
