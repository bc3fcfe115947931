// Parsing JSON from outside strictly: RFC 8259 without extensions (no comments, no trailing
// commas, valid UTF-8), bounded depth, every number within a double's range, and no member name
// twice in one object (I-JSON, RFC 7493 §2.3). Boost.JSON keeps the last of duplicate names
// silently, so `{"slug":"a","slug":"b"}` would read as "b" here and as "a" in another parser:
// such a text is refused instead.
//
//   std::string problem;
//   auto v = ParseStrictJson(body, {.max_depth = 32}, problem);
//   if (!v) return Malformed(..., "the body is not valid JSON: " + problem);
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace breakpilot {

struct StrictJsonOptions {
  std::size_t max_depth = 32;
};

// The value; on failure nullopt, with `problem` set to what was wrong in our own words (for a
// problem's detail: Boost.JSON's plain messages, never a type name or a path).
std::optional<boost::json::value> ParseStrictJson(std::string_view text,
                                                  const StrictJsonOptions& options,
                                                  std::string& problem,
                                                  boost::json::storage_ptr storage = {});

// The string member `name` of `o`, or "" when it is absent or not a string (a claim, a field of
// a provider's answer).
std::string StringMember(const boost::json::object& o, std::string_view name);

}  // namespace breakpilot
