#include "flags/flag.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>

#include "catalog/plan.hpp"
#include "core/uuid.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::flags {
namespace {

namespace json = boost::json;

bool Listed(const std::vector<std::string>& list, std::string_view v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

bool Matches(const Rule& r, const Flag& f, const TenantFacts& t) {
  if (!Listed(r.tenants, t.id) || !Listed(r.plans, t.plan) || !Listed(r.statuses, t.status) ||
      !Listed(r.kinds, t.kind)) {
    return false;
  }
  return !r.percentage || Bucket(f.key, t.id) <= *r.percentage;
}

std::uint32_t Rotl(std::uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

// Reads the definition's members into a Flag, collecting what is wrong.
class DefinitionReader {
 public:
  explicit DefinitionReader(std::vector<FieldError>& errors) : errors_(errors) {}

  std::optional<Value> ReadValue(const json::value* v, FlagType type, const std::string& at) {
    if (!v) {
      errors_.push_back({at, "is required"});
      return std::nullopt;
    }
    if (type == FlagType::kBoolean) {
      if (v->is_bool()) return Value(v->as_bool());
      errors_.push_back({at, "must be true or false for a boolean flag"});
      return std::nullopt;
    }
    if (!v->is_string()) {
      errors_.push_back({at, "must be a variant name (a string) for a variant flag"});
      return std::nullopt;
    }
    std::string s(v->as_string());
    if (s.empty() || s.size() > kMaxVariantLength || !std::all_of(s.begin(), s.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        })) {
      errors_.push_back({at, "must be 1 to 64 letters, digits, '-', '_' or '.'"});
      return std::nullopt;
    }
    return Value(std::move(s));
  }

  // A list of strings each accepted by `valid`, stored as `normal` makes it.
  template <class Valid>
  std::vector<std::string> ReadList(const json::object& rule, std::string_view name,
                                    const std::string& at, const char* what, Valid valid) {
    std::vector<std::string> out;
    const auto* v = rule.if_contains(name);
    if (!v) return out;
    const std::string here = at + "/" + std::string(name);
    if (!v->is_array() || v->as_array().empty()) {
      errors_.push_back({here, "must be a non-empty array"});
      return out;
    }
    const auto& a = v->as_array();
    if (a.size() > kMaxListEntries) {
      errors_.push_back({here, "at most 1000 entries"});
      return out;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto item = a[i].is_string() ? valid(std::string_view(a[i].as_string())) : std::nullopt;
      if (!item) {
        errors_.push_back({here + "/" + std::to_string(i), std::string("must be ") + what});
        continue;
      }
      out.push_back(std::move(*item));
    }
    return out;
  }

  std::optional<Rule> ReadRule(const json::value& v, FlagType type, const std::string& at) {
    if (!v.is_object()) {
      errors_.push_back({at, "must be an object"});
      return std::nullopt;
    }
    const auto& o = v.as_object();
    for (const auto& [name, member] : o) {
      static constexpr std::string_view kKnown[] = {"tenants", "plans",      "statuses",
                                                    "kinds",   "percentage", "value"};
      if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
        errors_.push_back({at + "/" + std::string(name), "is not a member of a rule"});
      }
    }
    Rule r;
    r.tenants = ReadList(o, "tenants", at, "a tenant id (a UUID)",
                         [](std::string_view s) -> std::optional<std::string> {
                           if (!IsCanonicalUuid(s)) return std::nullopt;
                           return NormalizeUuid(s);
                         });
    r.plans = ReadList(o, "plans", at, "a plan (free, starter, professional, enterprise)",
                       [](std::string_view s) -> std::optional<std::string> {
                         if (!catalog::ParsePlan(s)) return std::nullopt;
                         return std::string(s);
                       });
    r.statuses = ReadList(o, "statuses", at, "a status (trial, active, frozen, archived, demo)",
                          [](std::string_view s) -> std::optional<std::string> {
                            if (!tenants::ParseStatus(s)) return std::nullopt;
                            return std::string(s);
                          });
    r.kinds = ReadList(o, "kinds", at, "a kind (customer, demo, internal)",
                       [](std::string_view s) -> std::optional<std::string> {
                         if (!tenants::ParseKind(s)) return std::nullopt;
                         return std::string(s);
                       });
    if (const auto* p = o.if_contains("percentage")) {
      if (!p->is_int64() || p->as_int64() < 0 || p->as_int64() > 100) {
        errors_.push_back({at + "/percentage", "must be a whole number from 0 to 100"});
      } else {
        r.percentage = static_cast<int>(p->as_int64());
      }
    }
    auto value = ReadValue(o.if_contains("value"), type, at + "/value");
    if (!value) return std::nullopt;
    r.value = std::move(*value);
    return r;
  }

 private:
  std::vector<FieldError>& errors_;
};

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string_view Name(FlagType t) {
  return t == FlagType::kBoolean ? "boolean" : "variant";
}

std::string_view Name(Reason r) {
  switch (r) {
    case Reason::kStatic: return "STATIC";
    case Reason::kDefault: return "DEFAULT";
    case Reason::kTargetingMatch: return "TARGETING_MATCH";
    case Reason::kSplit: return "SPLIT";
    case Reason::kDisabled: return "DISABLED";
  }
  return "UNKNOWN";
}

std::string VariantOf(const Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "on" : "off";
  return std::get<std::string>(v);
}

Evaluation Evaluate(const Flag& flag, const TenantFacts& tenant) {
  Evaluation e{.key = flag.key, .value = flag.default_value, .version = flag.version};
  e.reason = flag.rules.empty() ? Reason::kStatic : Reason::kDefault;
  for (std::size_t i = 0; i < flag.rules.size(); ++i) {
    const Rule& r = flag.rules[i];
    if (!Matches(r, flag, tenant)) continue;
    e.value = r.value;
    e.reason = r.percentage ? Reason::kSplit : Reason::kTargetingMatch;
    e.rule = static_cast<int>(i);
    break;
  }
  e.variant = VariantOf(e.value);
  return e;
}

std::uint32_t Murmur3(std::string_view data, std::uint32_t seed) {
  constexpr std::uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t blocks = data.size() / 4;
  std::uint32_t h = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k = 0;
    std::memcpy(&k, p + i * 4, 4);  // little-endian, as the reference reads it on x86
    k *= c1;
    k = Rotl(k, 15);
    k *= c2;
    h ^= k;
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  const unsigned char* tail = p + blocks * 4;
  std::uint32_t k = 0;
  switch (data.size() & 3) {
    case 3: k ^= static_cast<std::uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: k ^= static_cast<std::uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = Rotl(k, 15);
      k *= c2;
      h ^= k;
      break;
    default: break;
  }
  h ^= static_cast<std::uint32_t>(data.size());
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

int Bucket(std::string_view flag_key, std::string_view tenant_id) {
  std::string text;
  text.reserve(flag_key.size() + 1 + tenant_id.size());
  text.append(flag_key).append(":").append(tenant_id);
  return static_cast<int>(Murmur3(text) % 100) + 1;
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  const auto ok = [](char c, bool first) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return !first && (c == '.' || c == '_' || c == '-');
  };
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (!ok(key[i], i == 0)) return false;
  }
  return true;
}

Result<Flag> ParseFlag(const json::value& v, const std::optional<std::string>& key) {
  if (!v.is_object()) return Malformed("malformed-json", "Malformed JSON", "send a JSON object");
  const auto& o = v.as_object();
  std::vector<FieldError> errors;
  for (const auto& [name, member] : o) {
    static constexpr std::string_view kKnown[] = {"key", "type", "description", "default", "rules"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      errors.push_back({"/" + std::string(name), "is not a member of a flag"});
    }
  }
  Flag f;
  if (key) {
    f.key = *key;
  } else if (const auto* k = o.if_contains("key"); k && k->is_string()) {
    f.key = std::string(k->as_string());
  }
  if (!ValidKey(f.key)) {
    errors.push_back({"/key",
                      "must be 1 to 64 of a-z, 0-9, '.', '_' or '-', starting with a "
                      "letter or digit"});
  }
  const auto* type = o.if_contains("type");
  if (type && type->is_string() && type->as_string() == "variant") {
    f.type = FlagType::kVariant;
  } else if (!type || !type->is_string() || type->as_string() != "boolean") {
    errors.push_back({"/type", "must be \"boolean\" or \"variant\""});
    return ValidationFailed(std::move(errors));  // nothing else can be read without it
  }
  if (const auto* d = o.if_contains("description")) {
    if (!d->is_string() || d->as_string().size() > 500) {
      errors.push_back({"/description", "must be a string of at most 500 characters"});
    } else {
      f.description = std::string(d->as_string());
    }
  }
  DefinitionReader reader(errors);
  if (auto d = reader.ReadValue(o.if_contains("default"), f.type, "/default")) {
    f.default_value = std::move(*d);
  }
  if (const auto* rules = o.if_contains("rules")) {
    if (!rules->is_array()) {
      errors.push_back({"/rules", "must be an array"});
    } else if (rules->as_array().size() > kMaxRules) {
      errors.push_back({"/rules", "at most 50 rules"});
    } else {
      const auto& a = rules->as_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (auto r = reader.ReadRule(a[i], f.type, "/rules/" + std::to_string(i))) {
          f.rules.push_back(std::move(*r));
        }
      }
    }
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  return f;
}

json::value ToJson(const Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return json::string(std::get<std::string>(v));
}

json::object ToJson(const Flag& f, bool with_meta) {
  json::array rules;
  for (const auto& r : f.rules) {
    json::object o;
    if (!r.tenants.empty()) o["tenants"] = Strings(r.tenants);
    if (!r.plans.empty()) o["plans"] = Strings(r.plans);
    if (!r.statuses.empty()) o["statuses"] = Strings(r.statuses);
    if (!r.kinds.empty()) o["kinds"] = Strings(r.kinds);
    if (r.percentage) o["percentage"] = *r.percentage;
    o["value"] = ToJson(r.value);
    rules.push_back(std::move(o));
  }
  json::object o{{"key", f.key},
                 {"type", Name(f.type)},
                 {"description", f.description},
                 {"default", ToJson(f.default_value)},
                 {"rules", std::move(rules)}};
  if (with_meta) {
    o["version"] = f.version;
    o["created"] = FormatRfc3339(f.created_at);
    o["updated"] = FormatRfc3339(f.updated_at);
  }
  return o;
}

}  // namespace breakpilot::flags
