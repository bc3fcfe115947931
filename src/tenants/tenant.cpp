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

std::optional<Status> ParseStatus(std::string_view s) {
  return ParseEnum(s, kAllStatuses);
}
std::optional<Kind> ParseKind(std::string_view s) {
  return ParseEnum(s, kAllKinds);
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
  // Built from one list: the object is sized once (assigning member by member rehashed it
  // several times per tenant, a tenth of a GET's instructions).
  return boost::json::object{{"id", t.id},
                             {"slug", t.slug},
                             {"name", t.name},
                             {"kind", ToString(t.kind)},
                             {"status", ToString(t.status)},
                             {"plan", ToString(t.plan)},
                             {"trial_ends_at", optional(t.trial_ends_at)},
                             {"status_changed_at", FormatRfc3339(t.status_changed_at)},
                             {"cancel_reason", optional(t.cancel_reason)},
                             {"contact_email", optional(t.contact_email)},
                             {"sales_owner", optional(t.sales_owner)},
                             {"version", t.version},
                             {"created_at", FormatRfc3339(t.created_at)},
                             {"updated_at", FormatRfc3339(t.updated_at)}};
}

}  // namespace breakpilot::tenants
