// The Unleash backend (§1.12, M19.1): production's flag server. The platform polls Unleash's
// client API (GET /api/client/features with a backend token, If-None-Match its ETag) and
// evaluates the strategies itself, as Unleash's own SDKs do; FlagService asks it first and
// falls back to the built-in store for flags Unleash does not have, and for every flag while
// Unleash cannot be reached.
//
// What is evaluated (Unleash's client specification): a disabled feature is off; an enabled one
// with no strategies is on; otherwise on when any strategy's constraints (and its segments')
// all hold and the strategy itself says yes: `default`, `flexibleRollout` (the stickiness value,
// "default" or `tenantId`, hashed with MurmurHash3 of "<groupId>:<value>" mod 100 plus 1, at
// most `rollout`), `userWithId` (the tenant id among `userIds`); unknown strategies say no.
// Constraint operators: IN, NOT_IN, STR_CONTAINS, STR_STARTS_WITH, STR_ENDS_WITH (with
// caseInsensitive), NUM_EQ/GT/GTE/LT/LTE, each `inverted` when asked; any other is false.
// The context is the tenant: userId and tenantId its id, and `plan`, `status`, `kind`.
// Variants (the strategy's, else the feature's) by weight, with Unleash's variant seed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "flags/flag.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::flags {

struct UnleashSettings {
  std::string url;           // Unleash's base URL ("http://unleash:4242"); empty: off
  std::string client_token;  // a backend (client) API token
  std::string app_name = "breakpilot";
  std::chrono::milliseconds interval{2000};  // between polls
  bool on() const { return !url.empty(); }
};

struct UnleashConstraint {
  std::string context_name;
  std::string op;
  std::vector<std::string> values;
  std::string value;
  bool inverted = false;
  bool case_insensitive = false;
};

struct UnleashVariant {
  std::string name;
  int weight = 0;
  std::string stickiness = "default";
};

struct UnleashStrategy {
  std::string name;
  std::map<std::string, std::string> parameters;
  std::vector<UnleashConstraint> constraints;
  std::vector<std::int64_t> segments;
  std::vector<UnleashVariant> variants;
};

struct UnleashFeature {
  std::string name;
  bool enabled = false;
  std::vector<UnleashStrategy> strategies;
  std::vector<UnleashVariant> variants;
};

struct UnleashState {
  std::vector<UnleashFeature> features;  // by name
  std::map<std::int64_t, std::vector<UnleashConstraint>> segments;
  // The evaluations' flag version: Unleash's revision id (meta.revisionId), else our own count
  // of the changes seen.
  std::int64_t version = 0;
  const UnleashFeature* Find(std::string_view name) const;
};

// Unleash's client features document (version 2); 400-kind errors for anything else. Bounded:
// at most 10,000 features, 1,000 strategies, constraints or values per list.
Result<UnleashState> ParseUnleashFeatures(std::string_view body);

// The feature's answer for the tenant, as a boolean flag: value on or off, variant "on"/"off"
// or the chosen variant's name, reason DISABLED, STATIC (on, no targeting), TARGETING_MATCH,
// SPLIT (a rollout under 100 %) or DEFAULT (no strategy said yes).
Evaluation EvaluateUnleash(const UnleashFeature& f, const UnleashState& state,
                           const TenantFacts& tenant);

// Polls Unleash on a thread of its own. Current() is the last state read, or null while the
// last poll failed: then the built-in store answers.
class UnleashSource {
 public:
  struct Stats {
    std::int64_t failures = 0;
    std::int64_t last_success_us = 0;
    std::int64_t last_failure_us = 0;
    std::string last_error;
  };

  UnleashSource(UnleashSettings settings, outbound::Fetcher fetch, const Clock& clock);
  ~UnleashSource();
  UnleashSource(const UnleashSource&) = delete;
  UnleashSource& operator=(const UnleashSource&) = delete;

  // Polls once now, then every interval, on a thread of its own until destroyed.
  void Start();
  // One poll: true when Current() changed.
  bool Poll();
  std::shared_ptr<const UnleashState> Current() const;
  Stats stats() const;

 private:
  UnleashSettings settings_;
  outbound::Fetcher fetch_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const UnleashState> state_;  // null: unreachable (or not read yet)
  std::string etag_;
  std::string body_hash_;
  std::int64_t version_ = 0;
  Stats stats_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace breakpilot::flags
