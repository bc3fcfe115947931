// Feature flags (§1.12, M19.1): what a flag is and how it answers for a tenant. Pure: no
// storage, no HTTP; flags/flag_service.hpp keeps them and records what tenants got.
//
//   Flag f = *ParseFlag(body);                       // {"key","type","default","rules":[...]}
//   Evaluation e = Evaluate(f, {.id = t.id, .plan = "professional", .status = "active"});
//   e.variant;  // "on" / "off" for a boolean flag, the variant's name for a variant flag
//
// A rule matches when every criterion it names matches (tenants, plans, statuses, kinds: one of
// the listed; percentage: the tenant's bucket is within it); the first matching rule gives the
// value, none gives the default. The bucket is Unleash's normalisation (MurmurHash3 of
// "<flag key>:<tenant id>", mod 100, plus 1), so a tenant in a 20 % rollout stays in it as the
// percentage grows, and the same tenant lands in the same bucket under the Unleash backend.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace breakpilot::flags {

enum class FlagType { kBoolean, kVariant };
std::string_view Name(FlagType t);  // "boolean", "variant"

// A flag's answer: true or false for a boolean flag, a variant's name for a variant flag.
using Value = std::variant<bool, std::string>;

struct Rule {
  std::vector<std::string> tenants;   // tenant ids; empty: any tenant
  std::vector<std::string> plans;     // "starter", ...; empty: any plan
  std::vector<std::string> statuses;  // "trial", "active", ...; empty: any status
  std::vector<std::string> kinds;     // "customer", "demo", "internal"; empty: any kind
  std::optional<int> percentage;      // 0..100 of the tenants by their bucket; absent: all
  Value value;
};

struct Flag {
  std::string key;  // [a-z0-9][a-z0-9._-]{0,63}
  FlagType type = FlagType::kBoolean;
  std::string description;
  Value default_value = false;
  std::vector<Rule> rules;
  std::int64_t version = 1;  // bumped by every change; part of every result
  Timestamp created_at;
  Timestamp updated_at;
};

// What a rule can look at.
struct TenantFacts {
  std::string_view id;
  std::string_view plan;
  std::string_view status;
  std::string_view kind;
};

// The reasons of the OpenFeature specification that the built-in store gives.
enum class Reason {
  kStatic,          // the flag has no rules: everyone gets the default
  kDefault,         // it has rules, none matched
  kTargetingMatch,  // a rule without a percentage matched
  kSplit,           // a rule with a percentage matched
  kDisabled,        // the flag is switched off (Unleash: a disabled feature)
};
std::string_view Name(Reason r);  // "STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT", "DISABLED"

struct Evaluation {
  std::string key;
  Value value;
  std::string variant;  // "on"/"off" or the variant's name
  Reason reason = Reason::kStatic;
  std::int64_t version = 0;  // the flag's version
  int rule = -1;             // index of the matching rule, -1 for none
};

Evaluation Evaluate(const Flag& flag, const TenantFacts& tenant);

// The variant name of a value: "on"/"off" for booleans.
std::string VariantOf(const Value& v);

// MurmurHash3 (x86, 32 bits) of `data`; and Unleash's normalised value, 1..100.
std::uint32_t Murmur3(std::string_view data, std::uint32_t seed = 0);
int Bucket(std::string_view flag_key, std::string_view tenant_id);

// Limits on a definition, so a flag stays cheap to keep on every replica and to evaluate.
inline constexpr std::size_t kMaxRules = 50;
inline constexpr std::size_t kMaxListEntries = 1000;
inline constexpr std::size_t kMaxVariantLength = 64;

// A definition from JSON: `{"key", "type", "description"?, "default", "rules"?}` (the API's
// body, and the stored form without "key"). Unknown members, wrong types and values out of
// range are 422 with one entry per field. `key` nullopt: taken from the JSON.
Result<Flag> ParseFlag(const boost::json::value& json,
                       const std::optional<std::string>& key = std::nullopt);
bool ValidKey(std::string_view key);

// The definition as JSON: what ParseFlag reads (with "key"), plus "version" and the times when
// `with_meta`.
boost::json::object ToJson(const Flag& flag, bool with_meta = true);
boost::json::value ToJson(const Value& v);

}  // namespace breakpilot::flags
