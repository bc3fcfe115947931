// The plans products are sold on (the catalog's manifests name them, a tenant is on one, a
// subscription is on one). Plain values.
//
//   if (auto p = ParsePlan("starter")) Use(*p);   // ToString(*p) == "starter"
#pragma once

#include <optional>
#include <string_view>

namespace breakpilot::catalog {

enum class Plan { kFree, kStarter, kProfessional, kEnterprise };

inline constexpr Plan kAllPlans[] = {Plan::kFree, Plan::kStarter, Plan::kProfessional,
                                     Plan::kEnterprise};

std::string_view ToString(Plan p);
std::optional<Plan> ParsePlan(std::string_view s);

}  // namespace breakpilot::catalog
