#include "tenants/lifecycle.hpp"

namespace breakpilot::tenants::lifecycle {
namespace {

constexpr Transition kTable[] = {
    {Status::kTrial, Action::kActivate, Status::kActive},
    {Status::kActive, Action::kActivate, Status::kActive},
    {Status::kTrial, Action::kCancel, Status::kFrozen},
    {Status::kActive, Action::kCancel, Status::kFrozen},
    {Status::kFrozen, Action::kCancel, Status::kFrozen},
    {Status::kTrial, Action::kExpireTrial, Status::kFrozen},
    {Status::kFrozen, Action::kReactivate, Status::kActive},
    {Status::kActive, Action::kReactivate, Status::kActive},
    {Status::kFrozen, Action::kArchive, Status::kArchived},
    {Status::kDemo, Action::kArchive, Status::kArchived},
    {Status::kArchived, Action::kArchive, Status::kArchived},
};

}  // namespace

std::string_view ToString(Action a) {
  switch (a) {
    case Action::kActivate: return "activate";
    case Action::kCancel: return "cancel";
    case Action::kReactivate: return "reactivate";
    case Action::kExpireTrial: return "expire_trial";
    case Action::kArchive: return "archive";
  }
  return "unknown";
}

std::span<const Transition> Table() {
  return kTable;
}

std::optional<Status> Next(Status from, Action action) {
  for (const auto& t : kTable) {
    if (t.from == from && t.action == action) return t.to;
  }
  return std::nullopt;
}

bool CanMove(Status from, Status to) {
  for (const auto& t : kTable) {
    if (t.from == from && t.to == to) return true;
  }
  return false;
}

std::vector<Transition> AllowedFrom(Status from) {
  std::vector<Transition> out;
  for (const auto& t : kTable) {
    if (t.from == from && t.to != from) out.push_back(t);
  }
  return out;
}

Result<Ok> Gate(const Tenant& t, bool write, bool lifts_freeze) {
  if (t.status == Status::kArchived) {
    return Error{ErrorKind::kGone, "tenant-archived", "Tenant archived",
                 "tenant " + t.slug + " is archived; its data was exported and deleted"};
  }
  if (t.status == Status::kFrozen && write && !lifts_freeze) {
    Error e{ErrorKind::kPaymentRequired, "tenant-frozen", "Tenant frozen",
            "tenant " + t.slug + " is frozen: reads work, changes need a reactivation"};
    e.extensions["reactivate_until"] =
        FormatRfc3339(AddSeconds(t.status_changed_at, kFrozenDays * 86400LL));
    return e;
  }
  return Ok{};
}

}  // namespace breakpilot::tenants::lifecycle
