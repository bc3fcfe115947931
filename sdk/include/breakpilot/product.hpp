// A product on the platform, in one object: who is calling (a platform token or an API key),
// the tenant status gate, the trial quota, audit and usage emission, flags, and the contract
// endpoints the platform calls (health, usage, export, data deletion, demo reset).
//
//   struct Data : sdk::TenantData { ... };          // the product's own storage
//   sdk::Product product({.product_id = "echo-bot", .platform_url = url,
//                         .client_id = "echo-bot", .client_secret = secret}, data);
//   sdk::Response Handle(const sdk::Request& r) {
//     if (auto contract = product.HandleContract(r)) return *contract;
//     auto who = product.Admit(r);                  // authenticate + status gate + quota
//     if (!who) return who.failure().ToResponse();  // 401, 402, 410, 429, 403
//     product.Audit(*who, {.action = "echo.sent"});
//     ...
//   }
//
// The gate (M6.3): archived tenants get 410 on every route; frozen tenants 402 on writes (reads
// stay open, so a customer can still export); a demo tenant is never metered; a trial tenant's
// `api_calls_per_day` (or a paying plan's, `plan_limits`) is counted here per UTC day, in this
// process, and refused with 429 once spent.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "breakpilot/audit.hpp"
#include "breakpilot/http.hpp"
#include "breakpilot/isolation.hpp"
#include "breakpilot/tokens.hpp"

namespace breakpilot::sdk {

// What the product stores for tenants; the contract endpoints call these.
class TenantData {
 public:
  virtual ~TenantData() = default;
  // Everything the product holds for the tenant, as JSON (the offboarding ZIP keeps it).
  virtual Outcome<std::string> Export(const std::string& tenant_id) = 0;
  // Deletes it all; afterwards Export is 410 (return Failure{410,...}) or empty.
  virtual Outcome<bool> DeleteTenant(const std::string& tenant_id) = 0;
  // Replaces the demo tenant's data with `fixture` (the platform's seed for this product, JSON;
  // may be "{}"). `demo_tenant_id` is the tenant the platform calls the demo.
  virtual Outcome<bool> ResetDemo(const std::string& fixture) = 0;
  // Moves the tenant's data to a place of its own (M18.2): `isolation` is "schema" or
  // "database". Starts the move and answers at once; a product on sdk::TenantStore forwards to
  // its Isolate and Status. A product that keeps no tenant data apart leaves these as they are:
  // 422 isolation-unsupported.
  virtual Outcome<IsolationStatus> Isolate(const std::string& tenant_id,
                                           const std::string& isolation);
  virtual Outcome<IsolationStatus> Isolation(const std::string& tenant_id);
};

struct ProductOptions {
  std::string product_id;  // the manifest's id: tokens' audience, the audit project
  std::string version = "0.0.0";
  std::string platform_url;  // the platform's public URL (the tokens' issuer)
  // A service client of the platform (realm role SERVICE): verifies API keys, sends audit.
  std::string client_id;
  std::string client_secret;
  RoleMap roles;
  // evaluate()'s answers for a flag the manifest's `flags:` (read from the platform's catalog)
  // does not name, or while the platform cannot be reached: flag -> value.
  std::map<std::string, std::string, std::less<>> flag_defaults;
  // How long a tenant's answers from the platform's flag store are used before they are asked
  // for again (a 304 when nothing changed).
  std::chrono::seconds flag_refresh{2};
  std::chrono::seconds api_key_cache{30};  // how long a verified key is trusted
  std::function<std::int64_t()> now;       // seconds since the epoch; tests pass their own
  bool audit = true;                       // false: no emitter thread (tests of the gate)
  // For black-box tests beside a platform started with --enable-test-clock: POST
  // /internal/clock {"advance_seconds"} from loopback moves this product's clock the same way.
  // Never in production.
  bool test_clock = false;
};

struct AdmitRules {
  bool metered = true;  // counts toward api_calls_per_day
  std::string scope;    // for API keys: the scope required ("echo-bot:write"); empty: any
};

class Product {
 public:
  Product(ProductOptions options, TenantData& data);
  ~Product();
  Product(const Product&) = delete;
  Product& operator=(const Product&) = delete;

  // Who is calling: `Authorization: Bearer <token>`, or an API key (`Authorization: Bearer
  // bpk_...` or `X-API-Key`). 401 when neither verifies.
  Outcome<Principal> Authenticate(const Request& request);
  // Authenticate, then the tenant status gate and the quota.
  Outcome<Principal> Admit(const Request& request, const AdmitRules& rules = {});
  // The gate alone, for a principal already known.
  std::optional<Failure> Gate(const Principal& who, const Request& request,
                              const AdmitRules& rules = {});

  // nullopt unless `request` is one of the contract endpoints:
  //   GET /v1/health, GET /v1/usage?tenant_id=, GET /v1/tenants/{id}/export,
  //   DELETE /v1/tenants/{id}/data, POST /v1/tenants/demo/reset,
  //   PUT /v1/tenants/{id}/isolation {"isolation"} (202 while it moves), GET the same
  // All but health accept only the platform's own token (sub "platform", role SERVICE).
  // With options.test_clock, also POST /internal/clock (see ProductOptions).
  std::optional<Response> HandleContract(const Request& request);

  void Audit(const Principal& who, AuditEvent event);
  // Counts `quantity` of `metric` for the caller's tenant; sent to the platform's POST /usage
  // about once a second, summed per tenant and metric, retried with the same event ids (so a
  // retry never counts twice). Admit counts "api_calls" itself for every metered request. A
  // demo tenant is never metered.
  void Usage(const Principal& who, const std::string& metric, std::int64_t quantity = 1);
  // Sends what is pending now; true when the platform took it all.
  bool FlushUsage();
  // Today's metered calls of a tenant, as the gate counts them.
  std::int64_t CallsToday(const std::string& tenant_id) const;
  // The single flag call site: `flag`'s value for the tenant. The platform's flag store first
  // (its variant: "on"/"off" for a boolean flag, the variant's name otherwise; every flag of the
  // tenant fetched at once over OFREP, again after options.flag_refresh with its ETag), then the
  // manifest's default (`flags:`, as the platform's GET /catalog gives it, re-read each
  // minute), else options.flag_defaults, else "". The first call for a tenant waits for the
  // platform (at most 2 s); later ones read what was fetched while one caller refreshes it.
  std::string Evaluate(const std::string& tenant_id, std::string_view flag) const;

  TokenVerifier& tokens();
  AuditEmitter* audit_emitter();  // nullptr when options.audit is false
  const ProductOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::sdk
