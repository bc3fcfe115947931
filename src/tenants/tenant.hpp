// The tenant registry's records (M4.1): tenants, their projects and product subscriptions.
// Plain values: no storage and no HTTP in here.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/plan.hpp"
#include "core/time.hpp"

namespace breakpilot::tenants {

enum class Status { kTrial, kActive, kFrozen, kArchived, kDemo };
enum class Kind { kCustomer, kDemo, kInternal };
// Plans are the catalog's: what products are sold on.
using catalog::kAllPlans;
using catalog::LimitsOf;
using catalog::ParsePlan;
using catalog::Plan;
using catalog::ToString;

inline constexpr Status kAllStatuses[] = {Status::kTrial, Status::kActive, Status::kFrozen,
                                          Status::kArchived, Status::kDemo};
inline constexpr Kind kAllKinds[] = {Kind::kCustomer, Kind::kDemo, Kind::kInternal};

std::string_view ToString(Status s);
std::string_view ToString(Kind k);
std::optional<Status> ParseStatus(std::string_view s);
std::optional<Kind> ParseKind(std::string_view s);

inline constexpr int kTrialDays = 14;
// What a trial may use (M12.1): carried in the claims (trial_quota) for products to enforce;
// the platform enforces the two it owns itself, projects and seats (see TrialLimitReached).
struct TrialQuota {
  int seats;
  int projects;
  int api_calls_per_day;
};
inline constexpr TrialQuota kTrialQuota{.seats = 5, .projects = 3, .api_calls_per_day = 1000};
// A frozen tenant may reactivate this long; then offboarding exports, deletes and archives it.
inline constexpr int kFrozenDays = 30;

struct Tenant {
  std::string id;  // UUIDv7
  std::string slug;
  std::string name;
  Kind kind = Kind::kCustomer;
  Status status = Status::kTrial;
  Plan plan = Plan::kStarter;
  std::optional<Timestamp> trial_ends_at;
  Timestamp status_changed_at;
  std::optional<std::string> cancel_reason;
  std::optional<std::string> contact_email;  // where lifecycle mail goes (trial, export)
  std::optional<std::string> sales_owner;    // the user name of the staff member selling to it
  std::int64_t version = 1;                  // bumped by every change; the ETag
  Timestamp created_at;
  Timestamp updated_at;
};

struct Project {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string description;
  std::int64_t version = 1;
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> archived_at;  // archived: kept, read-only in the portal's list
};

struct Subscription {
  std::string tenant_id;
  std::string product_id;
  std::string plan;
  Timestamp subscribed_at;
};

// The tenant as the API shows it (and the final export's tenant.json).
boost::json::object TenantJson(const Tenant& t);

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;  // opaque; absent on the last page
};

}  // namespace breakpilot::tenants
