// The plans products are sold on (the catalog's manifests name them, a tenant is on one, a
// subscription is on one). Plain values.
//
//   if (auto p = ParsePlan("starter")) Use(*p);   // ToString(*p) == "starter"
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace breakpilot::catalog {

enum class Plan { kFree, kStarter, kProfessional, kEnterprise };

inline constexpr Plan kAllPlans[] = {Plan::kFree, Plan::kStarter, Plan::kProfessional,
                                     Plan::kEnterprise};

std::string_view ToString(Plan p);
std::optional<Plan> ParsePlan(std::string_view s);

// What a paying plan may use per tenant and product (M12.1): carried in the token claims
// (`plan_limits`) for products to enforce and shown against the usage. 0 means no limit.
// A trial is limited by tenants::kTrialQuota instead.
struct PlanLimits {
  std::int64_t api_calls_per_day = 0;
};
PlanLimits LimitsOf(Plan p);

}  // namespace breakpilot::catalog
