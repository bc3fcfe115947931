#include "tenants/tenant.hpp"

#include <type_traits>

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

boost::json::object TenantJson(const Tenant& t) {
  const auto optional = [](const auto& v) -> boost::json::value {
    if (!v) return nullptr;
    if constexpr (std::is_same_v<std::decay_t<decltype(*v)>, Timestamp>) {
      return boost::json::value(FormatRfc3339(*v));
    } else {
      return boost::json::value(*v);
    }
  };
  boost::json::object o;
  o["id"] = t.id;
  o["slug"] = t.slug;
  o["name"] = t.name;
  o["kind"] = ToString(t.kind);
  o["status"] = ToString(t.status);
  o["plan"] = ToString(t.plan);
  o["trial_ends_at"] = optional(t.trial_ends_at);
  o["status_changed_at"] = FormatRfc3339(t.status_changed_at);
  o["cancel_reason"] = optional(t.cancel_reason);
  o["contact_email"] = optional(t.contact_email);
  o["version"] = t.version;
  o["created_at"] = FormatRfc3339(t.created_at);
  o["updated_at"] = FormatRfc3339(t.updated_at);
  return o;
}

}  // namespace breakpilot::tenants
