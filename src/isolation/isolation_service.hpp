// Physical isolation (M18.2): a tenant's data kept apart from other tenants' in every product it
// uses. Staff set a tenant's isolation ("schema" or "database"; PUT /tenants/{id}/isolation);
// the job "tenant.isolate" asks each subscribed product to move the tenant (the product
// contract's PUT /v1/tenants/{id}/isolation, which the SDK's TenantStore implements: a schema and
// a role per tenant on PostgreSQL, a file of its own on SQLite) and records each product's
// progress as the product reports it, until every product is done. The registry (GET and the
// backstage's tenant page) shows it. Moving a tenant back to the shared tables is not offered.
#pragma once

#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "jobs/runner.hpp"
#include "lifecycle/products.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::isolation {

inline constexpr std::string_view kIsolateJob = "tenant.isolate";

struct ProductProgress {
  std::string product_id;
  std::string target;
  std::string phase;  // the product's; "not_called", "unsupported"; "waiting" before the first
  std::int64_t copied = 0;
  std::int64_t total = 0;
  std::string error;
  Timestamp updated_at;
};

struct TenantIsolation {
  std::string tenant_id;
  std::string isolation = "shared";  // what staff asked for
  std::string state = "shared";      // shared, moving, isolated, failed
  std::vector<ProductProgress> products;
};

struct IsolationSettings {
  std::chrono::milliseconds poll{1000};                 // how often the job asks the products
  std::chrono::seconds round{std::chrono::minutes(5)};  // a job's time; then a new one goes on
};

class IsolationService {
 public:
  IsolationService(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog,
                   tenants::TenantService& tenants, lifecycle::ProductClient& products,
                   IsolationSettings settings = {});

  void Register(jobs::Runner& runner);
  // 422 for anything but "schema" or "database"; 409 when the tenant is isolated, or being
  // isolated, otherwise; 410 when it is archived. The same isolation again starts the job again (a
  // failed product is asked once more).
  Result<TenantIsolation> Request(const audit::Actor& actor, const std::string& tenant_id,
                                  const std::string& isolation);
  Result<TenantIsolation> Get(const std::string& tenant_id);

 private:
  void Run(jobs::JobContext& ctx);

  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  tenants::TenantService& tenants_;
  lifecycle::ProductClient& products_;
  IsolationSettings settings_;
};

}  // namespace breakpilot::isolation
