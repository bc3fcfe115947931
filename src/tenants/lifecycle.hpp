// The tenant lifecycle as one table (PRODUCT.md "Lifecycle"). Every status change in the code
// goes through Next(); nothing else writes tenants.status.
//
//   trial  --activate-->    active        active --cancel--> frozen
//   trial  --cancel-->      frozen        frozen --reactivate--> active   (within 30 days, M14.1)
//   trial  --expire_trial-> frozen        frozen --archive--> archived    (offboarding, M14.2)
//   demo   --archive-->     archived      archived is terminal
//
// Repeating an action whose result is the current status is an idempotent no-op (activate on
// active, cancel on frozen, archive on archived).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::tenants::lifecycle {

enum class Action { kActivate, kCancel, kReactivate, kExpireTrial, kArchive };
inline constexpr Action kAllActions[] = {Action::kActivate, Action::kCancel, Action::kReactivate,
                                         Action::kExpireTrial, Action::kArchive};

std::string_view ToString(Action a);

struct Transition {
  Status from;
  Action action;
  Status to;
};

// The whole table, for docs and tests.
std::span<const Transition> Table();

// Where `action` leads from `from`; nullopt when illegal.
std::optional<Status> Next(Status from, Action action);

// True when some action leads from `from` to `to` (to == from only for an idempotent no-op).
bool CanMove(Status from, Status to);

// The transitions that leave `from` (no-ops excluded): what an error message offers instead.
std::vector<Transition> AllowedFrom(Status from);

// The status gate (PRODUCT.md "Lifecycle") for a request that acts as the tenant (its users, its
// API keys): an archived tenant gets 410 for everything, a frozen one 402 for writes, except
// `lifts_freeze` (reactivate, cancel: what a frozen tenant must still reach). Ok: go on.
Result<Ok> Gate(const Tenant& t, bool write, bool lifts_freeze);

}  // namespace breakpilot::tenants::lifecycle
