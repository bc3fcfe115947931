#include "api/json_body.hpp"

#include "core/ascii.hpp"
#include "core/json.hpp"

namespace breakpilot::api {
namespace {

std::string_view MediaType(std::string_view content_type) {
  const auto semi = content_type.find(';');
  auto mt = content_type.substr(0, semi);
  while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
  return mt;
}

}  // namespace

Result<Ok> CheckMediaType(const http::Request& req, const std::vector<std::string_view>& accepted) {
  if (req.body.empty()) return Ok{};
  const auto ct = req.headers.Get("content-type");
  const auto mt = ct ? MediaType(*ct) : std::string_view();
  std::string names;
  for (const auto a : accepted) {
    if (AsciiIEquals(mt, a)) return Ok{};
    names += (names.empty() ? "" : " or ") + std::string(a);
  }
  return Error{ErrorKind::kUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
               "send the body as " + names + (ct ? ", not " + std::string(*ct) : "")};
}

Result<boost::json::object> ParseJsonObject(const http::Request& req, bool empty_ok,
                                            bool merge_patch, boost::json::storage_ptr storage) {
  if (req.body.empty()) {
    if (empty_ok) return boost::json::object(std::move(storage));
    return Malformed("malformed-json", "Malformed JSON", "the request needs a JSON object body");
  }
  if (auto ok =
          CheckMediaType(req, merge_patch ? std::vector{kJson, kMergePatch} : std::vector{kJson});
      !ok) {
    return ok.error();
  }
  std::string problem;
  auto v = ParseStrictJson(req.body, {.max_depth = kMaxJsonDepth}, problem, std::move(storage));
  if (!v) {
    return Malformed("malformed-json", "Malformed JSON", "the body is not valid JSON: " + problem);
  }
  if (!v->is_object()) {
    return Malformed("malformed-json", "Malformed JSON", "the body must be a JSON object");
  }
  return std::move(v->as_object());
}

std::optional<std::string> BodyReader::String(std::string_view key, Required required) {
  const auto* v = o_.if_contains(key);
  if (!v || v->is_null()) {
    if (required == Required::kYes) Fail(key, "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    Fail(key, "must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::int64_t> BodyReader::Integer(std::string_view key, Required required) {
  const auto* v = o_.if_contains(key);
  if (!v || v->is_null()) {
    if (required == Required::kYes) Fail(key, "is required");
    return std::nullopt;
  }
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  Fail(key, "must be an integer");
  return std::nullopt;
}

std::optional<bool> BodyReader::Boolean(std::string_view key, Required required) {
  const auto* v = o_.if_contains(key);
  if (!v || v->is_null()) {
    if (required == Required::kYes) Fail(key, "is required");
    return std::nullopt;
  }
  if (v->is_bool()) return v->as_bool();
  Fail(key, "must be true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> BodyReader::Strings(std::string_view key, Required required,
                                                            std::size_t max_items) {
  const auto* v = o_.if_contains(key);
  if (!v || v->is_null()) {
    if (required == Required::kYes) Fail(key, "is required");
    return std::nullopt;
  }
  if (!v->is_array() || v->as_array().size() > max_items) {
    Fail(key, "must be an array of at most " + std::to_string(max_items) + " strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) {
      Fail(key, "must be an array of strings");
      return std::nullopt;
    }
    out.emplace_back(e.as_string());
  }
  return out;
}

const boost::json::array* BodyReader::Objects(std::string_view key, Required required,
                                              std::size_t max_items) {
  const auto* v = o_.if_contains(key);
  if (!v || v->is_null()) {
    if (required == Required::kYes) Fail(key, "is required");
    return nullptr;
  }
  if (!v->is_array() || v->as_array().size() > max_items) {
    Fail(key, "must be an array of at most " + std::to_string(max_items) + " objects");
    return nullptr;
  }
  for (const auto& e : v->as_array()) {
    if (!e.is_object()) {
      Fail(key, "must be an array of objects");
      return nullptr;
    }
  }
  return &v->as_array();
}

void BodyReader::Fail(std::string_view key, const std::string& message) {
  errors_.push_back({"/" + std::string(key), message});
}

Result<Ok> BodyReader::Finish(std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : o_) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      Fail(k, "is not a known member");
    }
  }
  if (errors_.empty()) return Ok{};
  return ValidationFailed(std::move(errors_));
}

}  // namespace breakpilot::api
