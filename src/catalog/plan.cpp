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

}  // namespace breakpilot::catalog
