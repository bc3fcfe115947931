#include "audit/export_slots.hpp"

#include <algorithm>

namespace breakpilot::audit {

ExportSlots::ExportSlots(int places) : places_(places) {}

int ExportSlots::taken() const {
  const std::lock_guard lock(state_->mu);
  return state_->taken;
}

Result<std::shared_ptr<void>> ExportSlots::Take(const std::string& scope) {
  const int share = std::max(1, places_ / 2);
  const std::lock_guard lock(state_->mu);
  const auto held = state_->by_scope.find(scope);
  std::string why;
  if (state_->taken >= places_) {
    why = "this server is building " + std::to_string(places_) + " export(s) already";
  } else if (held != state_->by_scope.end() && held->second >= share) {
    why = std::string(scope.empty() ? "exports across tenants" : "this tenant's exports") +
          " hold " + std::to_string(share) + " of this server's " + std::to_string(places_) +
          " places already";
  }
  if (!why.empty()) {
    return Error{ErrorKind::kTooManyRequests, "too-many-exports", "Too many exports at once",
                 why + "; retry in a few seconds"};
  }
  ++state_->by_scope[scope];
  ++state_->taken;
  return std::shared_ptr<void>(state_.get(), [state = state_, scope](void*) {
    const std::lock_guard guard(state->mu);
    if (--state->by_scope[scope] == 0) state->by_scope.erase(scope);
    --state->taken;
  });
}

}  // namespace breakpilot::audit
