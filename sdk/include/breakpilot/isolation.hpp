// Where a tenant's data lives in a product, and how far a move to a place of its own has come
// (M18.2): what the contract endpoint /v1/tenants/{id}/isolation answers and TenantStore keeps.
#pragma once

#include <cstdint>
#include <string>

namespace breakpilot::sdk {

struct IsolationStatus {
  std::string tenant_id;
  std::string place = "shared";   // where its rows are read and written now
  std::string target = "shared";  // where they are going (== place once done)
  std::string phase = "done";     // copying, switching, cleaning, done, failed
  std::int64_t copied = 0;        // rows in the new place
  std::int64_t total = 0;         // the tenant's rows when the move began (grows with writes)
  std::string error;              // why it failed
};

}  // namespace breakpilot::sdk
