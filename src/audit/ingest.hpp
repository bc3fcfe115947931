// Events from products (§1.9): Retraced's event shape in, validated field by field, chained and
// stored in one transaction per request, answered with Retraced's own event hash so that the
// official Retraced client's check passes against us unchanged.
//
//   Ingestor in(db, clock);
//   auto r = in.Publish({.product = "certifai"}, {&event}, "");   // Result<vector<Published>>
//
// A batch is all or nothing: one bad event refuses the whole batch, with every problem named by
// its JSON pointer ("/events/3/crud"), so nothing is half written and a retry is safe.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "audit/entry.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::audit {

inline constexpr std::size_t kMaxBatch = 1000;
inline constexpr std::size_t kMaxFieldsBytes = 64 * 1024;  // fields, metadata, actor/target fields

// Who publishes, as the API established it.
struct Publisher {
  std::string product;                     // the event's product
  std::optional<std::string> only_tenant;  // an API key publishes for its own tenant only
  std::string request_id;
};

struct Published {
  std::string id;
  std::string hash;  // Retraced's event hash (see RetracedHash)
  std::int64_t seq = 0;
  std::string chain_hash;
};

// Retraced's canonical event hash: SHA-256 (hex) over id, action, target id, actor id, group id,
// source IP, is_failure, is_anonymous, fields, external_id and metadata, each escaped as
// Retraced's publisher client does.
std::string RetracedHash(const boost::json::object& event, std::string_view id);

class Ingestor {
 public:
  Ingestor(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // `pointer`: the JSON pointer of the events array ("/events") or "" for a single event.
  Result<std::vector<Published>> Publish(const Publisher& who,
                                         const std::vector<const boost::json::object*>& events,
                                         const std::string& pointer);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace breakpilot::audit
