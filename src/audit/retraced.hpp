// Retraced's event on the way in, without a database: validation field by field (each problem
// named by its JSON pointer) into our stored shape, and Retraced's canonical event hash, which
// the official Retraced clients recompute and compare with what the server answers.
//
//   std::vector<FieldError> errors;
//   auto parsed = ParseEvents({.product = "certifai"}, {&event}, "", now, errors);
//   std::string h = RetracedHash(event, parsed[0].entry.id);
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/entry.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace breakpilot::audit {

inline constexpr std::size_t kMaxBatch = 1000;
inline constexpr std::size_t kMaxFieldsBytes =
    std::size_t{64} * 1024;  // fields, metadata, actor/target fields

// Who publishes, as the API established it.
struct Publisher {
  std::string product;                     // the event's product
  std::optional<std::string> only_tenant;  // an API key publishes for its own tenant only
  std::string request_id;
  // The credential that wrote the event ("apikey:<id>", "client:<id>"): kept in
  // the event as `publisher`, a member no event can set, and covered by the chain's hash.
  std::string principal;
};

// An event whose `created` lies further than this from when we received it is kept, and shown
// with `created_skewed: true` (a backdated event, or a clock far off).
inline constexpr std::int64_t kCreatedSkewSeconds = std::int64_t{15} * 60;

// Actor ids of the platform itself and of credentials ("staff:bootstrap", "system:lifecycle",
// "apikey:<id>", "client:<id>", "platform"): a tenant's credential may not claim them.
bool IsPlatformActor(std::string_view actor_id);

struct ParsedEvent {
  Entry entry;           // id, times and columns set; chain, seq and hash are Append's
  std::string group_id;  // the tenant named (or the key's), "" for none
  std::string at;        // the event's JSON pointer
};

// The events that passed; every problem of the others is appended to `errors`. `pointer` is
// the events array's ("/events") or "" for a single event.
std::vector<ParsedEvent> ParseEvents(const Publisher& who,
                                     const std::vector<const boost::json::object*>& events,
                                     const std::string& pointer, Timestamp now,
                                     std::vector<FieldError>& errors);

// SHA-256 (hex) over id, action, target id, actor id, group id, source IP, is_failure,
// is_anonymous, fields, external_id and metadata, escaped as Retraced's publisher client does.
std::string RetracedHash(const boost::json::object& event, std::string_view id);

}  // namespace breakpilot::audit
