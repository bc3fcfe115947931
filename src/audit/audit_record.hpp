// Writes an audit event inside the caller's transaction, so a state change and its audit
// event commit together or not at all (§1.9). Issue 4 grows this into the full Retraced trail.
//
//   db.Write([&](Session& s) { UpdateTenant(s, ...); audit::Record(s, clock, event); });
#pragma once

#include <optional>
#include <string>

#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::audit {

// Who acts and from where: carried from the request into every use case.
struct Actor {
  std::string id = "system";
  std::string request_id;
  std::string source_ip;
};

struct Event {
  std::optional<std::string> tenant_id;
  std::string action;  // "tenant.create"
  char crud = 'u';     // c|r|u|d
  std::string target_type;
  std::string target_id;
  std::string description;
  std::string fields_json = "{}";
};

void Record(storage::Session& s, const Clock& clock, const Actor& actor, const Event& event);

}  // namespace breakpilot::audit
