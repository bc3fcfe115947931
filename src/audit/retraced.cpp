#include "audit/retraced.hpp"

#include <arpa/inet.h>

#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/uuid.hpp"

namespace breakpilot::audit {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxId = 256;
constexpr std::size_t kMaxName = 512;
constexpr std::size_t kMaxDescription = 4096;

// Retraced escapes ':' and '%' in every value (pass one), and '=' and ';' in field keys and
// values (pass two), as %XX.
std::string PercentEscape(std::string_view v, std::string_view chars) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (chars.find(c) == std::string_view::npos) {
      out += c;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

std::string PassOne(std::string_view v) {
  return PercentEscape(v, "%:");
}

std::string PassTwo(std::string_view v) {
  return PercentEscape(v, "=;");
}

// A member as text the way JavaScript's template strings print it (strings as they are).
std::string Text(const json::value* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

// lodash's isEmpty for the values an event may hold.
bool IsEmpty(const json::value* v) {
  if (v == nullptr || v->is_null()) return true;
  if (v->is_string()) return v->as_string().empty();
  if (v->is_object()) return v->as_object().empty();
  if (v->is_array()) return v->as_array().empty();
  return true;  // numbers and booleans count as empty for lodash
}

bool Truthy(const json::value* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_bool()) return v->as_bool();
  if (v->is_string()) return !v->as_string().empty();
  if (v->is_int64()) return v->as_int64() != 0;
  if (v->is_uint64()) return v->as_uint64() != 0;
  if (v->is_double()) return v->as_double() != 0;
  return true;  // objects and arrays
}

// JavaScript sorts object keys by UTF-16 code units; for the Basic Multilingual Plane that is
// code point order, which is UTF-8 byte order (keys beyond it are rare; see ARCHITECTURE.md).
void PutPairs(std::string& out, const json::object& o) {
  std::vector<std::string_view> keys;
  keys.reserve(o.size());
  for (const auto& kv : o) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  for (auto k : keys) {
    out += PassTwo(PassOne(k));
    out += '=';
    out += PassTwo(PassOne(Text(o.if_contains(k))));
    out += ';';
  }
}

const json::value* Member(const json::object& o, std::string_view key, std::string_view sub) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->as_object().if_contains(sub);
}

// Collects the problems of one event; each names its JSON pointer.
class Checker {
 public:
  Checker(const json::object& o, std::string pointer, std::vector<FieldError>& errors)
      : o_(o), pointer_(std::move(pointer)), errors_(errors) {}

  void Fail(std::string_view field, std::string message) {
    errors_.push_back({pointer_ + "/" + std::string(field), std::move(message)});
  }

  // A string member (or `sub` of an object member), at most `max` bytes, no control characters
  // unless `multiline`.
  std::optional<std::string> String(const json::object& o, std::string_view key,
                                    std::string_view path, std::size_t max, bool required,
                                    bool multiline = false) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      if (required) Fail(path, "is required");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Fail(path, "must be a string");
      return std::nullopt;
    }
    std::string s(v->as_string());
    if (required && s.empty()) {
      Fail(path, "must not be empty");
      return std::nullopt;
    }
    if (s.size() > max) {
      Fail(path, "must be at most " + std::to_string(max) + " bytes");
      return std::nullopt;
    }
    for (unsigned char c : s) {
      if (c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) {
        Fail(path, "must not contain control characters");
        return std::nullopt;
      }
    }
    return s;
  }

  bool Bool(std::string_view key) {
    const auto* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return false;
    if (!v->is_bool()) {
      Fail(key, "must be true or false");
      return false;
    }
    return v->as_bool();
  }

  // An object of string values (Retraced's fields and metadata), as JSON text.
  std::string StringMap(const json::object& o, std::string_view key, std::string_view path) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return "";
    if (!v->is_object()) {
      Fail(path, "must be an object of strings");
      return "";
    }
    for (const auto& kv : v->as_object()) {
      if (!kv.value().is_string()) {
        Fail(std::string(path) + "/" + std::string(kv.key()), "must be a string");
        return "";
      }
    }
    std::string text = json::serialize(v->as_object());
    if (text.size() > kMaxFieldsBytes) {
      Fail(path, "is " + std::to_string(text.size()) + " bytes; at most " +
                     std::to_string(kMaxFieldsBytes) + " are accepted");
      return "";
    }
    return text;
  }

  // An object member with a required id, optional name, href (and type for targets), fields.
  const json::object* Party(std::string_view key, std::initializer_list<std::string_view> known) {
    const auto* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return nullptr;
    if (!v->is_object()) {
      Fail(key, "must be an object");
      return nullptr;
    }
    for (const auto& kv : v->as_object()) {
      if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
        Fail(std::string(key) + "/" + std::string(kv.key()), "is not a known member");
      }
    }
    return &v->as_object();
  }

  const json::object& object() const { return o_; }

 private:
  const json::object& o_;
  std::string pointer_;
  std::vector<FieldError>& errors_;
};

constexpr std::string_view kKnown[] = {"action",     "crud",         "created",   "actor",
                                       "target",     "group",        "source_ip", "description",
                                       "is_failure", "is_anonymous", "fields",    "component",
                                       "version",    "external_id",  "metadata",  "product"};

std::optional<ParsedEvent> ParseOne(const json::object& o, const std::string& pointer,
                                    const Publisher& who, Timestamp now,
                                    std::vector<FieldError>& errors) {
  const std::size_t before = errors.size();
  Checker c(o, pointer, errors);
  for (const auto& kv : o) {
    if (std::find(std::begin(kKnown), std::end(kKnown), kv.key()) == std::end(kKnown)) {
      c.Fail(kv.key(), "is not a member of a Retraced event");
    }
  }
  ParsedEvent p;
  p.at = pointer;
  Entry& e = p.entry;
  e.received = now;
  e.product = who.product;
  e.request_id = who.request_id;
  if (auto action = c.String(o, "action", "action", kMaxName, true)) e.action = *action;
  if (auto crud = c.String(o, "crud", "crud", kMaxName, true)) {
    if (*crud != "c" && *crud != "r" && *crud != "u" && *crud != "d") {
      c.Fail("crud", "must be one of c, r, u, d");
    } else {
      e.crud = (*crud)[0];
    }
  }
  e.created = now;
  if (auto created = c.String(o, "created", "created", 64, false)) {
    auto t = ParseTimestamp(*created);
    if (!t) {
      c.Fail("created", "must be an RFC 3339 date-time, like 2026-11-25T10:00:00Z");
    } else if (t->micros < 0 || t->micros > now.micros + kSecondsPerDay * kMicrosPerSecond) {
      c.Fail("created", "must lie between 1970 and one day from now");
    } else {
      e.created = *t;
    }
  }
  json::object detail;
  if (const auto* actor = c.Party("actor", {"id", "name", "href", "fields"})) {
    if (auto id = c.String(*actor, "id", "actor/id", kMaxId, true)) {
      if (who.only_tenant && IsPlatformActor(*id)) {
        c.Fail("actor/id",
               "is an actor of the platform or its staff, which a tenant's credential "
               "may not name");
      } else {
        e.actor_id = *id;
      }
    }
    if (auto name = c.String(*actor, "name", "actor/name", kMaxName, false)) e.actor_name = *name;
    json::object a;
    if (auto href = c.String(*actor, "href", "actor/href", 2048, false)) a["href"] = *href;
    if (auto f = c.StringMap(*actor, "fields", "actor/fields"); !f.empty()) {
      a["fields"] = actor->at("fields");
    }
    if (!a.empty()) detail["actor"] = std::move(a);
  }
  if (const auto* target = c.Party("target", {"id", "name", "href", "type", "fields"})) {
    if (auto id = c.String(*target, "id", "target/id", kMaxId, true)) e.target_id = *id;
    if (auto v = c.String(*target, "name", "target/name", kMaxName, false)) e.target_name = *v;
    if (auto v = c.String(*target, "type", "target/type", kMaxName, false)) e.target_type = *v;
    json::object t;
    if (auto href = c.String(*target, "href", "target/href", 2048, false)) t["href"] = *href;
    if (auto f = c.StringMap(*target, "fields", "target/fields"); !f.empty()) {
      t["fields"] = target->at("fields");
    }
    if (!t.empty()) detail["target"] = std::move(t);
  }
  if (const auto* group = c.Party("group", {"id", "name"})) {
    if (auto id = c.String(*group, "id", "group/id", kMaxId, true)) {
      if (!IsCanonicalUuid(*id)) {
        c.Fail("group/id", "must be the id of a tenant (a UUID)");
      } else {
        p.group_id = *id;
        std::transform(p.group_id.begin(), p.group_id.end(), p.group_id.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      }
    }
    if (auto name = c.String(*group, "name", "group/name", kMaxName, false)) {
      detail["group"] = json::object{{"name", *name}};
    }
  }
  if (p.group_id.empty() && who.only_tenant) p.group_id = *who.only_tenant;
  if (who.only_tenant && !p.group_id.empty() && p.group_id != *who.only_tenant) {
    c.Fail("group/id", "this credential publishes for tenant " + *who.only_tenant + " only");
  }
  if (auto ip = c.String(o, "source_ip", "source_ip", 64, false); ip && !ip->empty()) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip->c_str(), buf) != 1 && inet_pton(AF_INET6, ip->c_str(), buf) != 1) {
      c.Fail("source_ip", "must be an IPv4 or IPv6 address");
    } else {
      e.source_ip = *ip;
    }
  }
  if (auto d = c.String(o, "description", "description", kMaxDescription, false, true)) {
    e.description = *d;
  }
  e.is_failure = c.Bool("is_failure");
  const bool anonymous = c.Bool("is_anonymous");
  if (anonymous) detail["is_anonymous"] = true;
  if (e.actor_id.empty()) e.actor_id = anonymous ? "anonymous" : "";
  if (auto f = c.StringMap(o, "fields", "fields"); !f.empty()) e.fields = f;
  if (auto m = c.StringMap(o, "metadata", "metadata"); !m.empty()) {
    detail["metadata"] = o.at("metadata");
  }
  for (std::string_view key : {"component", "version", "external_id"}) {
    if (auto v = c.String(o, key, key, kMaxName, false)) detail[key] = *v;
  }
  if (o.contains("product")) {
    auto product = c.String(o, "product", "product", 64, true);
    if (product && *product != who.product) {
      c.Fail("product", "must be " + who.product + ", the product this credential publishes for");
    }
  }
  if (errors.size() != before) return std::nullopt;
  e.tenant_id = p.group_id.empty() ? std::nullopt : std::optional<std::string>(p.group_id);
  // Not a member of a Retraced event (refused above): only we write it.
  if (!who.principal.empty()) detail["publisher"] = who.principal;
  e.detail = json::serialize(detail);
  e.id = NewUuidV7(now);
  return p;
}

}  // namespace

bool IsPlatformActor(std::string_view actor_id) {
  for (std::string_view prefix : {"staff:", "system:", "apikey:", "client:", "service-account-"}) {
    if (actor_id.substr(0, prefix.size()) == prefix) return true;
  }
  return actor_id == "platform";
}

std::string RetracedHash(const json::object& event, std::string_view id) {
  std::string s;
  s += PassOne(id) + ":";
  s += PassOne(Text(event.if_contains("action"))) + ":";
  s += IsEmpty(event.if_contains("target")) ? ":"
                                            : PassOne(Text(Member(event, "target", "id"))) + ":";
  s +=
      IsEmpty(event.if_contains("actor")) ? ":" : PassOne(Text(Member(event, "actor", "id"))) + ":";
  s +=
      IsEmpty(event.if_contains("group")) ? ":" : PassOne(Text(Member(event, "group", "id"))) + ":";
  s += IsEmpty(event.if_contains("source_ip"))
           ? ":"
           : PassOne(Text(event.if_contains("source_ip"))) + ":";
  s += Truthy(event.if_contains("is_failure")) ? "1:" : "0:";
  s += Truthy(event.if_contains("is_anonymous")) ? "1:" : "0:";
  const auto* fields = event.if_contains("fields");
  if (!Truthy(fields)) {
    s += ":";
  } else if (fields->is_object()) {
    PutPairs(s, fields->as_object());
  }
  if (const auto* ext = event.if_contains("external_id"); Truthy(ext)) {
    s += ":" + PassOne(Text(ext));
  }
  if (const auto* meta = event.if_contains("metadata"); Truthy(meta)) {
    s += ":";
    if (meta->is_object()) PutPairs(s, meta->as_object());
  }
  return Sha256Hex(s);
}

std::vector<ParsedEvent> ParseEvents(const Publisher& who,
                                     const std::vector<const json::object*>& events,
                                     const std::string& pointer, Timestamp now,
                                     std::vector<FieldError>& errors) {
  std::vector<ParsedEvent> parsed;
  parsed.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string at = pointer.empty() ? "" : pointer + "/" + std::to_string(i);
    if (auto p = ParseOne(*events[i], at, who, now, errors)) parsed.push_back(std::move(*p));
  }
  return parsed;
}

}  // namespace breakpilot::audit
