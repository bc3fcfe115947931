// The smallest product: answers the contract's health check and gates a route, through an
// installed breakpilot-sdk. Exits 0 when both behave.
#include <breakpilot/sdk.hpp>

#include <iostream>
#include <thread>

namespace sdk = breakpilot::sdk;

class Nothing : public sdk::TenantData {
 public:
  sdk::Outcome<std::string> Export(const std::string&) override { return std::string("{}"); }
  sdk::Outcome<bool> DeleteTenant(const std::string&) override { return true; }
  sdk::Outcome<bool> ResetDemo(const std::string&) override { return true; }
};

int main() {
  Nothing data;
  sdk::Product product(
      {.product_id = "consumer", .platform_url = "http://127.0.0.1:1", .audit = false}, data);
  sdk::Server server({.threads = 1}, [&](const sdk::Request& r) {
    if (auto c = product.HandleContract(r)) return *c;
    auto who = product.Admit(r);
    if (!who) return who.failure().ToResponse();
    return sdk::Json(200, "{}");
  });
  server.Listen();
  std::thread t([&] { server.Run(); });
  sdk::Request health{.method = "GET", .target = "/v1/health"};
  const auto h = product.HandleContract(health);
  sdk::Request anonymous{.method = "GET", .target = "/v1/things"};
  const auto refused = product.Admit(anonymous);
  server.Stop();
  t.join();
  const bool ok = h && h->status == 200 && !refused && refused.failure().status == 401;
  std::cout << (ok ? "consumer: ok " : "consumer: WRONG ") << (h ? h->body : "") << "\n";
  return ok ? 0 : 1;
}
