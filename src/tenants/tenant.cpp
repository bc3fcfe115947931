#include "tenants/tenant.hpp"

namespace breakpilot::tenants {
namespace {

template <class E, std::size_t N>
std::optional<E> ParseEnum(std::string_view s, const E (&all)[N]) {
  for (E e : all) {
    if (ToString(e) == s) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Status s) {
  switch (s) {
    case Status::kTrial: return "trial";
    case Status::kActive: return "active";
    case Status::kFrozen: return "frozen";
    case Status::kArchived: return "archived";
    case Status::kDemo: return "demo";
  }
  return "unknown";
}

std::string_view ToString(Kind k) {
  switch (k) {
    case Kind::kCustomer: return "customer";
    case Kind::kDemo: return "demo";
    case Kind::kInternal: return "internal";
  }
  return "unknown";
}

std::string_view ToString(Plan p) {
  switch (p) {
    case Plan::kFree: return "free";
    case Plan::kStarter: return "starter";
    case Plan::kProfessional: return "professional";
    case Plan::kEnterprise: return "enterprise";
  }
  return "unknown";
}

std::optional<Status> ParseStatus(std::string_view s) {
  return ParseEnum(s, kAllStatuses);
}
std::optional<Kind> ParseKind(std::string_view s) {
  return ParseEnum(s, kAllKinds);
}
std::optional<Plan> ParsePlan(std::string_view s) {
  return ParseEnum(s, kAllPlans);
}

}  // namespace breakpilot::tenants
