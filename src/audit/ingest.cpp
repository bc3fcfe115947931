#include "audit/ingest.hpp"

#include <map>

#include "audit/trail.hpp"
#include "core/uuid.hpp"

namespace breakpilot::audit {
namespace {

namespace json = boost::json;

constexpr storage::Query kTenantKind{"audit_tenant_exists",
                                     "SELECT kind FROM tenants WHERE id = $1"};
// A user holding a realm (staff) role: a tenant's credential may not name one as the actor.
constexpr storage::Query kStaffUser{
    "audit_actor_is_staff", "SELECT 1 FROM users WHERE id = $1 AND realm_roles <> '[]'::jsonb",
    "SELECT 1 FROM users WHERE id = $1 AND realm_roles <> '[]'"};

}  // namespace

Result<std::vector<Published>> Ingestor::Publish(const Publisher& who,
                                                 const std::vector<const json::object*>& events,
                                                 const std::string& pointer) {
  if (events.size() > kMaxBatch) {
    return ValidationFailed({{pointer, "at most " + std::to_string(kMaxBatch) +
                                           " events per batch; send several batches"}});
  }
  const Timestamp now = clock_.Now();
  std::vector<FieldError> errors;
  auto parsed = ParseEvents(who, events, pointer, now, errors);
  // Every group must be a tenant we know.
  std::map<std::string, bool> known;
  // A tenant's credential may not pass its events off as a staff member's.
  std::map<std::string, bool> staff;
  for (const auto& p : parsed) {
    if (!p.group_id.empty()) known.emplace(p.group_id, false);
    // Users' ids are UUIDs: any other actor id is nobody's.
    if (who.only_tenant && IsCanonicalUuid(p.entry.actor_id)) {
      staff.emplace(NormalizeUuid(p.entry.actor_id), false);
    }
  }
  if (!known.empty() || !staff.empty()) {
    db_.Read([&](storage::Session& s) {
      for (auto& [id, exists] : known) exists = s.FetchOne(kTenantKind, {id}).has_value();
      for (auto& [id, is_staff] : staff) is_staff = s.FetchOne(kStaffUser, {id}).has_value();
    });
  }
  for (const auto& p : parsed) {
    if (!p.group_id.empty() && !known[p.group_id]) {
      errors.push_back({p.at + "/group/id", "no tenant with id " + p.group_id});
    }
    if (who.only_tenant && IsCanonicalUuid(p.entry.actor_id) &&
        staff[NormalizeUuid(p.entry.actor_id)]) {
      errors.push_back({p.at + "/actor/id",
                        "is a Breakpilot staff member, whom a tenant's "
                        "credential may not name as the actor"});
    }
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  std::vector<Entry> entries;
  entries.reserve(parsed.size());
  for (auto& p : parsed) entries.push_back(std::move(p.entry));
  db_.Write([&](storage::Session& s) { Append(s, entries); });
  std::vector<Published> out;
  out.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out.push_back(
        {entries[i].id, RetracedHash(*events[i], entries[i].id), entries[i].seq, entries[i].hash});
  }
  return out;
}

}  // namespace breakpilot::audit
