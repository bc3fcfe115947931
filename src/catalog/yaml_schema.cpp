#include "catalog/yaml_schema.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <memory>
#include <regex>
#include <set>

namespace breakpilot::catalog {
namespace {

namespace json = boost::json;

const std::set<std::string_view> kKnownKeywords = {"$schema",
                                                   "$id",
                                                   "$comment",
                                                   "$defs",
                                                   "$ref",
                                                   "title",
                                                   "description",
                                                   "examples",
                                                   "default",
                                                   "type",
                                                   "properties",
                                                   "required",
                                                   "additionalProperties",
                                                   "items",
                                                   "enum",
                                                   "const",
                                                   "pattern",
                                                   "minLength",
                                                   "maxLength",
                                                   "minItems",
                                                   "maxItems",
                                                   "uniqueItems",
                                                   "x-message",
                                                   "format"};

// YAML 1.2 core schema for a plain scalar: "boolean", "null", "integer", "number" or "string".
std::string ScalarType(const YAML::Node& n) {
  if (n.Tag() != "?") return "string";  // quoted (or explicitly tagged): a string
  const std::string& s = n.Scalar();
  static const std::regex kInt(R"(^[-+]?([0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$)");
  static const std::regex kFloat(
      R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$)");
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return "boolean";
  }
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return "null";
  if (std::regex_match(s, kInt)) return "integer";
  if (std::regex_match(s, kFloat)) return "number";
  return "string";
}

std::string TypeOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "object";
    case YAML::NodeType::Sequence: return "array";
    case YAML::NodeType::Scalar: return ScalarType(n);
    default: return "null";
  }
}

bool TypeMatches(const std::string& actual, std::string_view wanted) {
  return actual == wanted || (wanted == "number" && actual == "integer");
}

std::string Article(std::string_view type) {
  if (type == "object") return "a mapping";
  if (type == "array") return "a list";
  if (type == "integer") return "an integer";
  if (type == "boolean") return "true or false";
  if (type == "null") return "empty";
  return "a " + std::string(type);
}

// A scalar's value as JSON compares it for enum and const.
json::value ScalarValue(const YAML::Node& n) {
  const std::string t = TypeOf(n);
  if (t == "boolean") return n.Scalar()[0] == 't' || n.Scalar()[0] == 'T';
  if (t == "null") return nullptr;
  if (t == "integer" || t == "number") {
    boost::system::error_code ec;
    auto v = json::parse(n.Scalar(), ec);
    if (!ec) return v;
  }
  return json::string(n.Scalar());
}

std::string Show(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

std::int64_t IntOf(const json::object& s, std::string_view key, std::int64_t fallback) {
  const auto* v = s.if_contains(key);
  return v != nullptr && v->is_int64() ? v->as_int64() : fallback;
}

class Validator {
 public:
  Validator(const json::object& root, std::vector<SchemaError>& out) : root_(root), out_(out) {}

  void Check(const YAML::Node& n, const json::object& schema, const std::string& field) {
    const json::object& s = Resolve(schema);
    const int line = n.Mark().line + 1;
    const std::string type = TypeOf(n);
    if (const auto* t = s.if_contains("type"); t != nullptr && t->is_string()) {
      if (!TypeMatches(type, t->as_string())) {
        Fail(field, "must be " + Article(t->as_string()), line);
        return;
      }
    }
    if (const auto* e = s.if_contains("enum"); e != nullptr && e->is_array()) {
      const json::value v = n.IsScalar() ? ScalarValue(n) : json::value(nullptr);
      if (!n.IsScalar() ||
          std::find(e->as_array().begin(), e->as_array().end(), v) == e->as_array().end()) {
        std::string list;
        for (const auto& x : e->as_array()) list += (list.empty() ? "" : ", ") + Show(x);
        Fail(field, "must be one of " + list, line);
        return;
      }
    }
    if (const auto* c = s.if_contains("const"); c != nullptr) {
      if (!n.IsScalar() || ScalarValue(n) != *c) Fail(field, "must be " + Show(*c), line);
    }
    if (type == "string") CheckString(n.Scalar(), s, field, line);
    if (type == "object") CheckObject(n, s, field, line);
    if (type == "array") CheckArray(n, s, field, line);
  }

 private:
  const json::object& Resolve(const json::object& schema) {
    const json::object* s = &schema;
    for (int depth = 0; depth < 16; ++depth) {
      const auto* ref = s->if_contains("$ref");
      if (ref == nullptr || !ref->is_string()) return *s;
      const std::string_view r = ref->as_string();
      const auto* defs = root_.if_contains("$defs");
      const auto* target = defs != nullptr && defs->is_object()
                               ? defs->as_object().if_contains(r.substr(8))
                               : nullptr;
      if (target == nullptr || !target->is_object()) return *s;  // checked by Parse
      s = &target->as_object();
    }
    return *s;
  }

  void CheckString(const std::string& v, const json::object& s, const std::string& field,
                   int line) {
    // Lengths in code points, as JSON Schema counts them.
    const auto length = static_cast<std::int64_t>(
        std::count_if(v.begin(), v.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    if (length < IntOf(s, "minLength", 0)) {
      Fail(field, IntOf(s, "minLength", 0) == 1 ? "must not be empty" : "is too short", line);
    } else if (length > IntOf(s, "maxLength", INT64_MAX)) {
      Fail(field, "must be at most " + std::to_string(IntOf(s, "maxLength", 0)) + " characters",
           line);
    } else if (const auto* p = s.if_contains("pattern"); p != nullptr && p->is_string()) {
      if (!std::regex_search(v, Pattern(p->as_string()))) {
        const auto* m = s.if_contains("x-message");
        Fail(field,
             m != nullptr && m->is_string() ? std::string(m->as_string())
                                            : "must match " + std::string(p->as_string()),
             line);
      }
    }
  }

  void CheckObject(const YAML::Node& n, const json::object& s, const std::string& field, int line) {
    const auto* props = s.if_contains("properties");
    const json::object* known =
        props != nullptr && props->is_object() ? &props->as_object() : nullptr;
    const auto* extra = s.if_contains("additionalProperties");
    const std::string prefix = field.empty() ? "" : field + ".";
    if (const auto* req = s.if_contains("required"); req != nullptr && req->is_array()) {
      for (const auto& r : req->as_array()) {
        if (r.is_string() && !n[std::string(r.as_string())]) {
          Fail(prefix + std::string(r.as_string()), "is required", line);
        }
      }
    }
    for (const auto& kv : n) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
      const json::value* sub = known != nullptr ? known->if_contains(key) : nullptr;
      if (sub != nullptr && sub->is_object()) {
        Check(kv.second, sub->as_object(), prefix + key);
      } else if (extra != nullptr && extra->is_bool() && !extra->as_bool()) {
        Fail(prefix + key, "unknown key", kv.first.Mark().line + 1);
      } else if (extra != nullptr && extra->is_object()) {
        Check(kv.second, extra->as_object(), prefix + key);
      }
    }
  }

  void CheckArray(const YAML::Node& n, const json::object& s, const std::string& field, int line) {
    const auto size = static_cast<std::int64_t>(n.size());
    if (size < IntOf(s, "minItems", 0)) {
      Fail(field, IntOf(s, "minItems", 0) == 1 ? "must not be empty" : "has too few items", line);
    }
    if (size > IntOf(s, "maxItems", INT64_MAX)) {
      Fail(field, "must have at most " + std::to_string(IntOf(s, "maxItems", 0)) + " items", line);
    }
    const auto* unique = s.if_contains("uniqueItems");
    std::set<std::string> seen;
    const auto* items = s.if_contains("items");
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string at = field + "[" + std::to_string(i) + "]";
      if (items != nullptr && items->is_object()) Check(n[i], items->as_object(), at);
      if (unique != nullptr && unique->is_bool() && unique->as_bool() && n[i].IsScalar() &&
          !seen.insert(Show(ScalarValue(n[i]))).second) {
        Fail(at, "repeats an earlier item", n[i].Mark().line + 1);
      }
    }
  }

  const std::regex& Pattern(std::string_view p) {
    auto it = patterns_.find(std::string(p));
    if (it == patterns_.end()) {
      it = patterns_.emplace(std::string(p), std::regex(std::string(p), std::regex::ECMAScript))
               .first;
    }
    return it->second;
  }

  void Fail(const std::string& field, std::string message, int line) {
    out_.push_back({field, std::move(message), line});
  }

  const json::object& root_;
  std::vector<SchemaError>& out_;
  std::map<std::string, std::regex> patterns_;
};

// Refuses keywords Validate would not honour, and $refs that lead nowhere.
Result<Ok> CheckSchema(const json::object& root, const json::value& node, const std::string& at) {
  if (!node.is_object())
    return InvalidInput("invalid-schema", "Invalid schema", at + " is not a schema");
  for (const auto& [k, v] : node.as_object()) {
    if (!kKnownKeywords.contains(k)) {
      return InvalidInput("invalid-schema", "Invalid schema",
                          at + ": the keyword '" + std::string(k) + "' is not supported");
    }
    if (k == "$ref") {
      const auto* defs = root.if_contains("$defs");
      const std::string_view ref = v.is_string() ? std::string_view(v.as_string()) : "";
      if (ref.substr(0, 8) != "#/$defs/" || defs == nullptr || !defs->is_object() ||
          !defs->as_object().contains(ref.substr(8))) {
        return InvalidInput("invalid-schema", "Invalid schema", at + ": $ref leads nowhere");
      }
    }
    if (k == "pattern") {
      try {
        std::regex check(std::string(v.as_string()), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return InvalidInput("invalid-schema", "Invalid schema",
                            at + ": a pattern does not compile");
      }
    }
    if (k == "properties" || k == "$defs") {
      if (!v.is_object())
        return InvalidInput("invalid-schema", "Invalid schema", at + "/" + std::string(k));
      for (const auto& [name, sub] : v.as_object()) {
        if (auto ok = CheckSchema(root, sub, at + "/" + std::string(k) + "/" + std::string(name));
            !ok) {
          return ok;
        }
      }
    }
    if ((k == "items" || (k == "additionalProperties" && v.is_object()))) {
      if (auto ok = CheckSchema(root, v, at + "/" + std::string(k)); !ok) return ok;
    }
  }
  return Ok{};
}

}  // namespace

Result<YamlSchema> YamlSchema::Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return InvalidInput("invalid-schema", "Invalid schema", "not a JSON object");
  if (auto ok = CheckSchema(v.as_object(), v, "#"); !ok) return std::move(ok).error();
  YamlSchema schema;
  schema.root_ = std::move(v.as_object());
  return schema;
}

std::vector<SchemaError> YamlSchema::Validate(const YAML::Node& document) const {
  std::vector<SchemaError> errors;
  Validator(root_, errors).Check(document, root_, "");
  std::stable_sort(errors.begin(), errors.end(),
                   [](const SchemaError& a, const SchemaError& b) { return a.line < b.line; });
  return errors;
}

}  // namespace breakpilot::catalog
