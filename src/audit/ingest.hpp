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
#include "audit/retraced.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::audit {

struct Published {
  std::string id;
  std::string hash;  // Retraced's event hash (see RetracedHash)
  std::int64_t seq = 0;
  std::string chain_hash;
};

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
