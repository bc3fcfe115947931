#include "backoffice/frappe_client.hpp"

#include <cctype>

#include "core/json.hpp"

namespace breakpilot::backoffice {
namespace {

namespace json = boost::json;

Error Unavailable(std::string detail) {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "backoffice-unavailable",
               .title = "Back office unavailable",
               .detail = std::move(detail)};
}

// Frappe's error in a few words: its exc_type, and the first server message when short.
std::string FrappeMessage(const std::string& body) {
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 16}, problem);
  if (!v || !v->is_object()) return "";
  const auto& o = v->as_object();
  auto type = StringMember(o, "exc_type");
  if (type.empty()) type = StringMember(o, "message");
  return type.substr(0, 120);
}

Result<json::value> DataOf(const std::string& body) {
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 32}, problem);
  if (!v || !v->is_object())
    return Unavailable("the back office answered with a body that is not JSON");
  auto& o = v->as_object();
  if (auto* d = o.if_contains("data")) return std::move(*d);
  if (auto* m = o.if_contains("message")) return std::move(*m);
  return Unavailable("the back office's answer has no data");
}

}  // namespace

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<outbound::Response> FrappeClient::Send(const std::string& method, const std::string& path,
                                              const std::string& body) const {
  if (!settings_.on()) return Unavailable("the back office is not configured on this platform");
  outbound::Request req{
      .method = method,
      .url = settings_.url + path,
      .headers = {{"Authorization", "token " + settings_.api_key + ":" + settings_.api_secret},
                  {"Accept", "application/json"}},
      .body = body,
      .timeout = std::chrono::milliseconds(10'000)};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  auto r = fetch_(req);
  if (!r) return Unavailable("the back office cannot be reached: " + r.error().detail);
  return r;
}

Result<std::optional<json::object>> FrappeClient::Get(const std::string& doctype,
                                                      const std::string& name) const {
  auto r = Send("GET", "/api/resource/" + UrlEncode(doctype) + "/" + UrlEncode(name), "");
  if (!r) return std::move(r).error();
  if (r->status == 404) return std::optional<json::object>{};
  if (r->status != 200) {
    return Unavailable("the back office answered " + std::to_string(r->status) + " " +
                       FrappeMessage(r->body));
  }
  auto data = DataOf(r->body);
  if (!data) return std::move(data).error();
  if (!data->is_object()) return Unavailable("the back office's document is not an object");
  return std::optional<json::object>(std::move(data->as_object()));
}

Result<json::object> FrappeClient::Ensure(const std::string& doctype, const std::string& name,
                                          json::object fields) const {
  auto found = Get(doctype, name);
  if (!found) return std::move(found).error();
  if (*found) return std::move(**found);
  fields["name"] = name;
  auto made = Insert(doctype, std::move(fields));
  if (!made && made.error().kind == ErrorKind::kConflict) {
    // DuplicateEntryError: an earlier attempt made it after all
    auto again = Get(doctype, name);
    if (!again) return std::move(again).error();
    if (*again) return std::move(**again);
  }
  return made;
}

Result<json::object> FrappeClient::Insert(const std::string& doctype, json::object fields) const {
  fields["doctype"] = doctype;
  auto r = Send("POST", "/api/resource/" + UrlEncode(doctype), json::serialize(fields));
  if (!r) return std::move(r).error();
  if (r->status == 409) {
    return Error{.kind = ErrorKind::kConflict,
                 .type = "backoffice-duplicate",
                 .title = "Already in the back office",
                 .detail = "the back office has this " + doctype + " already"};
  }
  if (r->status != 200 && r->status != 201) {
    return Unavailable("the back office refused the " + doctype + ": " + std::to_string(r->status) +
                       " " + FrappeMessage(r->body));
  }
  auto data = DataOf(r->body);
  if (!data) return std::move(data).error();
  if (!data->is_object()) return Unavailable("the back office's document is not an object");
  return std::move(data->as_object());
}

Result<json::object> FrappeClient::Update(const std::string& doctype, const std::string& name,
                                          const json::object& fields) const {
  auto r = Send("PUT", "/api/resource/" + UrlEncode(doctype) + "/" + UrlEncode(name),
                json::serialize(fields));
  if (!r) return std::move(r).error();
  if (r->status != 200) {
    return Unavailable("the back office refused the change of " + doctype + " " + name + ": " +
                       std::to_string(r->status) + " " + FrappeMessage(r->body));
  }
  auto data = DataOf(r->body);
  if (!data) return std::move(data).error();
  if (!data->is_object()) return Unavailable("the back office's document is not an object");
  return std::move(data->as_object());
}

Result<std::vector<json::object>> FrappeClient::List(const std::string& doctype,
                                                     const json::array& filters,
                                                     const std::vector<std::string>& fields,
                                                     int limit) const {
  json::array f;
  for (const auto& name : fields) f.emplace_back(name);
  const auto path =
      "/api/resource/" + UrlEncode(doctype) + "?fields=" + UrlEncode(json::serialize(f)) +
      "&filters=" + UrlEncode(json::serialize(filters)) + "&limit=" + std::to_string(limit);
  auto r = Send("GET", path, "");
  if (!r) return std::move(r).error();
  if (r->status != 200) {
    return Unavailable("the back office answered " + std::to_string(r->status) + " " +
                       FrappeMessage(r->body));
  }
  auto data = DataOf(r->body);
  if (!data) return std::move(data).error();
  if (!data->is_array()) return Unavailable("the back office's list is not an array");
  std::vector<json::object> out;
  for (auto& item : data->as_array()) {
    if (item.is_object()) out.push_back(std::move(item.as_object()));
  }
  return out;
}

Result<json::value> FrappeClient::Call(const std::string& method, const json::object& args) const {
  auto r = Send("POST", "/api/method/" + method, json::serialize(args));
  if (!r) return std::move(r).error();
  if (r->status != 200) {
    return Unavailable("the back office refused " + method + ": " + std::to_string(r->status) +
                       " " + FrappeMessage(r->body));
  }
  return DataOf(r->body);
}

}  // namespace breakpilot::backoffice
