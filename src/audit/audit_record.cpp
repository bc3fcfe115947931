#include "audit/audit_record.hpp"

#include "core/uuid.hpp"

namespace breakpilot::audit {
namespace {

constexpr storage::Query kInsertEvent{
    "audit_insert",
    "INSERT INTO audit_log (id, tenant_id, action, crud, actor_id, target_type, target_id, "
    "description, source_ip, request_id, fields, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"};

storage::Param NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace

void Record(storage::Session& s, const Clock& clock, const Actor& actor, const Event& event) {
  const Timestamp now = clock.Now();
  s.Execute(kInsertEvent,
            {NewUuidV7(now), event.tenant_id, event.action, std::string(1, event.crud), actor.id,
             NullIfEmpty(event.target_type), NullIfEmpty(event.target_id), event.description,
             NullIfEmpty(actor.source_ip), NullIfEmpty(actor.request_id), event.fields_json,
             FormatStorage(now)});
}

}  // namespace breakpilot::audit
