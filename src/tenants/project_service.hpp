// Projects inside a tenant (M4.1 tenant_projects) and the tenant's product subscriptions.
// Every lookup is scoped by tenant id: a project id from another tenant is simply not found.
#pragma once

#include <optional>
#include <string>

#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/result.hpp"
#include "storage/database.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::tenants {

struct ProjectInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> archived;  // true archives, false restores
};

class ProjectService {
 public:
  ProjectService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<Project> Create(const audit::Actor& actor, const std::string& tenant_id,
                         const ProjectInput& in);
  Result<Project> Get(const std::string& tenant_id, const std::string& id);
  Result<Page<Project>> List(const std::string& tenant_id, const std::optional<std::string>& cursor,
                             std::optional<int> limit);
  Result<Project> Update(const audit::Actor& actor, const std::string& tenant_id,
                         const std::string& id, const ProjectInput& patch,
                         std::optional<std::int64_t> expected_version);
  Result<Ok> Delete(const audit::Actor& actor, const std::string& tenant_id, const std::string& id);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

// Who picks a subscription's plan: the tenant itself only ever gets its own plan (or, when the
// product does not offer it, the product's first); staff and billing may pick any.
enum class PlanChoice { kTenantsOwn, kAny };

class SubscriptionService {
 public:
  SubscriptionService(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog)
      : db_(db), clock_(clock), catalog_(catalog) {}

  // Returns the subscription and whether it was created now (false: it already existed).
  // With PlanChoice::kTenantsOwn, naming another plan than the tenant's is 403 plan-not-allowed.
  Result<std::pair<Subscription, bool>> Subscribe(const audit::Actor& actor,
                                                  const std::string& tenant_id,
                                                  const std::string& product_id,
                                                  const std::optional<std::string>& plan,
                                                  PlanChoice choice = PlanChoice::kAny);
  Result<std::vector<Subscription>> List(const std::string& tenant_id);
  Result<Ok> Unsubscribe(const audit::Actor& actor, const std::string& tenant_id,
                         const std::string& product_id);

 private:
  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
};

}  // namespace breakpilot::tenants
