// Places for audit exports being built at once, shared fairly between tenants: at most `places`
// in all, and the exports of one scope (a tenant's id, or "" for an export across tenants) may
// hold at most half of them (at least one), so one tenant's downloads cannot keep every other
// tenant waiting.
//
//   audit::ExportSlots slots(4);
//   auto place = slots.Take(tenant_id);      // 429 too-many-exports when none is free
//   if (!place) return place.error();
//   stream(..., [p = *place] { ... });       // the place is free again when the last copy goes
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/result.hpp"

namespace breakpilot::audit {

class ExportSlots {
 public:
  explicit ExportSlots(int places);
  // A place for an export of `scope`, held until the last copy of the pointer is gone (even
  // after the ExportSlots itself); a kTooManyRequests error when no place is free.
  Result<std::shared_ptr<void>> Take(const std::string& scope);
  int taken() const;
  int places() const { return places_; }

 private:
  struct State {
    std::mutex mu;
    int taken = 0;
    std::unordered_map<std::string, int> by_scope;
  };
  int places_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace breakpilot::audit
