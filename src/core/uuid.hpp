// UUIDs in canonical lowercase text form. New ids are UUIDv7 (RFC 9562): time-ordered, so
// "newest first" is "largest id first" and keyset pagination needs no second column.
//
//   std::string id = NewUuidV7(clock.Now());
//   if (!IsCanonicalUuid(path_param)) return InvalidInput(...);
#pragma once

#include <string>
#include <string_view>

#include "core/time.hpp"

namespace breakpilot {

std::string NewUuidV7(Timestamp now);
bool IsCanonicalUuid(std::string_view text);  // 8-4-4-4-12 hex, any case

// Lowercases a UUID accepted by IsCanonicalUuid.
std::string NormalizeUuid(std::string_view text);

}  // namespace breakpilot
