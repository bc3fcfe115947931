// Reading JSON request bodies strictly: the right content type, well-formed UTF-8 JSON of
// bounded depth, an object, known members of the right types. Problems are collected per field
// and reported together (422 with an `errors` list), so a client fixes everything in one go.
//
//   auto body = ParseJsonObject(req);              // 415 / 400 as Error
//   BodyReader r(*body);
//   auto slug = r.String("slug", Required::kYes);
//   if (auto ok = r.Finish({"slug", "name"}); !ok) return ok.error();  // unknown member -> 422
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"

namespace breakpilot::api {

inline constexpr int kMaxJsonDepth = 32;

// The media types of request bodies we read (Endpoint::body lists a route's).
inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kMergePatch = "application/merge-patch+json";
inline constexpr std::string_view kForm = "application/x-www-form-urlencoded";

// 415 unsupported-media-type when the request has a body whose Content-Type is none of
// `accepted` (media types, parameters such as charset ignored, case-insensitive); Ok for an
// empty body, which the handler judges.
Result<Ok> CheckMediaType(const http::Request& req, const std::vector<std::string_view>& accepted);

// `empty_ok`: an absent body reads as {} (action endpoints whose body is optional).
// `storage`: where the parsed values live (a hot route parses into an arena on its stack).
Result<boost::json::object> ParseJsonObject(const http::Request& req, bool empty_ok = false,
                                            bool merge_patch = false,
                                            boost::json::storage_ptr storage = {});

enum class Required { kNo, kYes };

class BodyReader {
 public:
  explicit BodyReader(const boost::json::object& o) : o_(o) {}

  std::optional<std::string> String(std::string_view key, Required required);
  std::optional<std::int64_t> Integer(std::string_view key, Required required);
  std::optional<bool> Boolean(std::string_view key, Required required);
  // An array of strings, at most `max_items` of them.
  std::optional<std::vector<std::string>> Strings(std::string_view key, Required required,
                                                  std::size_t max_items = 64);
  // An array of objects, at most `max_items`; nullptr when absent or wrong (then Fail'ed).
  const boost::json::array* Objects(std::string_view key, Required required,
                                    std::size_t max_items = 64);
  // Reports members not in `known`, then returns a 422 error if anything was wrong.
  Result<Ok> Finish(std::initializer_list<std::string_view> known);
  void Fail(std::string_view key, const std::string& message);

 private:
  const boost::json::object& o_;
  std::vector<FieldError> errors_;
};

}  // namespace breakpilot::api
