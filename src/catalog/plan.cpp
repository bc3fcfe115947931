#include "catalog/plan.hpp"

namespace breakpilot::catalog {

std::string_view ToString(Plan p) {
  switch (p) {
    case Plan::kFree: return "free";
    case Plan::kStarter: return "starter";
    case Plan::kProfessional: return "professional";
    case Plan::kEnterprise: return "enterprise";
  }
  return "unknown";
}

std::optional<Plan> ParsePlan(std::string_view s) {
  for (Plan p : kAllPlans) {
    if (ToString(p) == s) return p;
  }
  return std::nullopt;
}

PlanLimits LimitsOf(Plan p) {
  switch (p) {
    case Plan::kFree: return {.api_calls_per_day = 1'000};
    case Plan::kStarter: return {.api_calls_per_day = 10'000};
    case Plan::kProfessional: return {.api_calls_per_day = 100'000};
    case Plan::kEnterprise: return {.api_calls_per_day = 0};
  }
  return {};
}

}  // namespace breakpilot::catalog
