#include "flags/unleash.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>

#include "core/ascii.hpp"
#include "core/crypto.hpp"

namespace breakpilot::flags {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxFeatures = 10'000;
constexpr std::size_t kMaxList = 1'000;
// Unleash's seed for variant buckets (its client specification), apart from rollouts' 0.
constexpr std::uint32_t kVariantSeed = 86028157;

Error Bad(std::string detail) {
  return Malformed("unleash-features", "Unreadable Unleash features", std::move(detail));
}

std::string Text(const json::value* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_double()) return json::serialize(*v);
  if (v->is_bool()) return v->as_bool() ? "true" : "false";
  return {};
}

const json::array* Array(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

Result<std::vector<UnleashConstraint>> Constraints(const json::array* a) {
  std::vector<UnleashConstraint> out;
  if (a == nullptr) return out;
  if (a->size() > kMaxList) return Bad("too many constraints");
  for (const auto& item : *a) {
    const auto* o = item.if_object();
    if (o == nullptr) return Bad("a constraint is not an object");
    UnleashConstraint c{.context_name = Text(o->if_contains("contextName")),
                        .op = Text(o->if_contains("operator")),
                        .value = Text(o->if_contains("value"))};
    if (const auto* values = Array(*o, "values")) {
      if (values->size() > kMaxList) return Bad("too many constraint values");
      for (const auto& v : *values) c.values.push_back(Text(&v));
    }
    const auto flag = [&](std::string_view name) {
      const auto* v = o->if_contains(name);
      return v != nullptr && v->is_bool() && v->as_bool();
    };
    c.inverted = flag("inverted");
    c.case_insensitive = flag("caseInsensitive");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<UnleashVariant>> Variants(const json::array* a) {
  std::vector<UnleashVariant> out;
  if (a == nullptr) return out;
  if (a->size() > kMaxList) return Bad("too many variants");
  for (const auto& item : *a) {
    const auto* o = item.if_object();
    if (o == nullptr) return Bad("a variant is not an object");
    UnleashVariant v{.name = Text(o->if_contains("name"))};
    if (const auto* w = o->if_contains("weight"); w != nullptr && w->is_int64()) {
      v.weight = static_cast<int>(std::clamp<std::int64_t>(w->as_int64(), 0, 1'000'000));
    }
    if (auto s = Text(o->if_contains("stickiness")); !s.empty()) v.stickiness = s;
    out.push_back(std::move(v));
  }
  return out;
}

std::optional<double> Number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return d;
}

// The context field a constraint or stickiness names, for this tenant ("" when none).
std::string Field(const TenantFacts& t, std::string_view name) {
  if (name == "userId" || name == "tenantId" || name == "sessionId") return std::string(t.id);
  if (name == "plan") return std::string(t.plan);
  if (name == "status") return std::string(t.status);
  if (name == "kind") return std::string(t.kind);
  if (name == "appName") return "breakpilot";
  return {};
}

bool Holds(const UnleashConstraint& c, const TenantFacts& t) {
  const std::string raw = Field(t, c.context_name);
  bool result = false;
  if (c.op == "IN" || c.op == "NOT_IN") {
    const bool in =
        !raw.empty() && std::find(c.values.begin(), c.values.end(), raw) != c.values.end();
    result = c.op == "IN" ? in : !in;
  } else if (c.op == "STR_CONTAINS" || c.op == "STR_STARTS_WITH" || c.op == "STR_ENDS_WITH") {
    const std::string v = c.case_insensitive ? AsciiLowerCopy(raw) : raw;
    for (const auto& x : c.values) {
      const std::string w = c.case_insensitive ? AsciiLowerCopy(x) : x;
      if (raw.empty()) break;
      if ((c.op == "STR_CONTAINS" && v.find(w) != std::string::npos) ||
          (c.op == "STR_STARTS_WITH" && v.starts_with(w)) ||
          (c.op == "STR_ENDS_WITH" && v.ends_with(w))) {
        result = true;
        break;
      }
    }
  } else if (c.op.starts_with("NUM_")) {
    const auto a = Number(raw), b = Number(c.value);
    if (a && b) {
      result = (c.op == "NUM_EQ" && *a == *b) || (c.op == "NUM_GT" && *a > *b) ||
               (c.op == "NUM_GTE" && *a >= *b) || (c.op == "NUM_LT" && *a < *b) ||
               (c.op == "NUM_LTE" && *a <= *b);
    }
  }
  return c.inverted ? !result : result;
}

bool AllHold(const std::vector<UnleashConstraint>& cs, const TenantFacts& t) {
  return std::all_of(cs.begin(), cs.end(), [&](const auto& c) { return Holds(c, t); });
}

std::string Param(const UnleashStrategy& s, const std::string& name) {
  auto it = s.parameters.find(name);
  return it == s.parameters.end() ? std::string() : it->second;
}

// The stickiness value: "default" and "random" use the tenant (our only identity); a field name
// its value.
std::string Sticky(const TenantFacts& t, const std::string& stickiness) {
  if (stickiness.empty() || stickiness == "default" || stickiness == "random")
    return std::string(t.id);
  return Field(t, stickiness);
}

int Normalized(std::string_view group, std::string_view id, std::uint32_t seed, int modulus) {
  std::string text(group);
  text.append(":").append(id);
  return static_cast<int>(Murmur3(text, seed) % static_cast<std::uint32_t>(modulus)) + 1;
}

// Which strategy says yes, and whether it targeted (constraints, user ids) or split.
struct Verdict {
  bool on = false;
  bool targeted = false;
  bool split = false;
};

Verdict Decide(const UnleashStrategy& s, const UnleashFeature& f, const UnleashState& state,
               const TenantFacts& t) {
  Verdict v{.targeted = !s.constraints.empty() || !s.segments.empty()};
  if (!AllHold(s.constraints, t)) return {};
  for (auto id : s.segments) {
    auto it = state.segments.find(id);
    if (it == state.segments.end() || !AllHold(it->second, t)) return {};
  }
  if (s.name == "default") {
    v.on = true;
  } else if (s.name == "flexibleRollout") {
    const auto rollout = Number(Param(s, "rollout")).value_or(0);
    std::string group = Param(s, "groupId");
    if (group.empty()) group = f.name;
    const std::string sticky = Sticky(t, Param(s, "stickiness"));
    v.on = rollout > 0 && !sticky.empty() && Normalized(group, sticky, 0, 100) <= rollout;
    v.split = rollout < 100;
  } else if (s.name == "userWithId") {
    const std::string ids = Param(s, "userIds");
    std::size_t start = 0;
    while (start <= ids.size() && !v.on) {
      auto comma = ids.find(',', start);
      if (comma == std::string::npos) comma = ids.size();
      std::string one = ids.substr(start, comma - start);
      one.erase(0, one.find_first_not_of(' '));
      one.erase(one.find_last_not_of(' ') + 1);
      v.on = !one.empty() && one == t.id;
      start = comma + 1;
    }
    v.targeted = true;
  }
  return v;
}

std::optional<std::string> PickVariant(const std::vector<UnleashVariant>& variants,
                                       std::string_view group, const TenantFacts& t) {
  int total = 0;
  for (const auto& v : variants) total += v.weight;
  if (total <= 0) return std::nullopt;
  const std::string sticky = Sticky(t, variants.front().stickiness);
  const int target = Normalized(group, sticky, kVariantSeed, total);
  int counter = 0;
  for (const auto& v : variants) {
    if (v.weight == 0) continue;
    counter += v.weight;
    if (counter >= target) return v.name;
  }
  return std::nullopt;
}

}  // namespace

const UnleashFeature* UnleashState::Find(std::string_view name) const {
  auto it =
      std::lower_bound(features.begin(), features.end(), name,
                       [](const UnleashFeature& f, std::string_view n) { return f.name < n; });
  return it != features.end() && it->name == name ? &*it : nullptr;
}

Result<UnleashState> ParseUnleashFeatures(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  const json::value doc = json::parse(body, ec, {}, options);
  if (ec || !doc.is_object()) return Bad("the answer is no JSON object");
  const auto* features = Array(doc.as_object(), "features");
  if (features == nullptr) return Bad("the answer has no features array");
  if (features->size() > kMaxFeatures) return Bad("too many features");
  UnleashState state;
  for (const auto& item : *features) {
    const auto* o = item.if_object();
    if (o == nullptr) return Bad("a feature is not an object");
    UnleashFeature f{.name = Text(o->if_contains("name"))};
    if (f.name.empty()) return Bad("a feature has no name");
    const auto* enabled = o->if_contains("enabled");
    f.enabled = enabled != nullptr && enabled->is_bool() && enabled->as_bool();
    if (const auto* strategies = Array(*o, "strategies")) {
      if (strategies->size() > kMaxList) return Bad("too many strategies");
      for (const auto& si : *strategies) {
        const auto* so = si.if_object();
        if (so == nullptr) return Bad("a strategy is not an object");
        UnleashStrategy s{.name = Text(so->if_contains("name"))};
        if (const auto* p = so->if_contains("parameters"); p != nullptr && p->is_object()) {
          for (const auto& [k, v] : p->as_object()) s.parameters.emplace(std::string(k), Text(&v));
        }
        auto cs = Constraints(Array(*so, "constraints"));
        if (!cs) return cs.error();
        s.constraints = *std::move(cs);
        if (const auto* segs = Array(*so, "segments")) {
          for (const auto& id : *segs) {
            if (id.is_int64()) s.segments.push_back(id.as_int64());
          }
        }
        auto vs = Variants(Array(*so, "variants"));
        if (!vs) return vs.error();
        s.variants = *std::move(vs);
        f.strategies.push_back(std::move(s));
      }
    }
    auto vs = Variants(Array(*o, "variants"));
    if (!vs) return vs.error();
    f.variants = *std::move(vs);
    state.features.push_back(std::move(f));
  }
  if (const auto* segments = Array(doc.as_object(), "segments")) {
    for (const auto& item : *segments) {
      const auto* o = item.if_object();
      const auto* id = o != nullptr ? o->if_contains("id") : nullptr;
      if (id == nullptr || !id->is_int64()) return Bad("a segment has no id");
      auto cs = Constraints(Array(*o, "constraints"));
      if (!cs) return cs.error();
      state.segments[id->as_int64()] = *std::move(cs);
    }
  }
  // Unleash's revision of its flags: the same on every replica, so an audited result names it.
  if (const auto* meta = doc.as_object().if_contains("meta");
      meta != nullptr && meta->is_object()) {
    if (const auto* rev = meta->as_object().if_contains("revisionId"); rev && rev->is_int64()) {
      state.version = rev->as_int64();
    }
  }
  std::sort(state.features.begin(), state.features.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return state;
}

Evaluation EvaluateUnleash(const UnleashFeature& f, const UnleashState& state,
                           const TenantFacts& tenant) {
  Evaluation e{.key = f.name, .value = false, .version = state.version};
  if (!f.enabled) {
    e.reason = Reason::kDisabled;
  } else if (f.strategies.empty()) {
    e.value = true;
    e.reason = Reason::kStatic;
  } else {
    e.reason = Reason::kDefault;
    for (std::size_t i = 0; i < f.strategies.size(); ++i) {
      const auto& s = f.strategies[i];
      const Verdict v = Decide(s, f, state, tenant);
      if (!v.on) continue;
      e.value = true;
      e.rule = static_cast<int>(i);
      e.reason = v.split ? Reason::kSplit : v.targeted ? Reason::kTargetingMatch : Reason::kStatic;
      std::string group = Param(s, "groupId");
      if (group.empty()) group = f.name;
      if (auto name = PickVariant(s.variants, group, tenant)) e.variant = *name;
      break;
    }
  }
  e.variant = e.variant.empty() ? VariantOf(e.value) : e.variant;
  if (std::get<bool>(e.value) && e.variant == "on") {
    if (auto name = PickVariant(f.variants, f.name, tenant)) e.variant = *name;
  }
  return e;
}

UnleashSource::UnleashSource(UnleashSettings settings, outbound::Fetcher fetch, const Clock& clock)
    : settings_(std::move(settings)), fetch_(std::move(fetch)), clock_(clock) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
}

UnleashSource::~UnleashSource() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UnleashSource::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      Poll();
      lock.lock();
      wake_.wait_for(lock, settings_.interval, [this] { return stopping_; });
    }
  });
}

bool UnleashSource::Poll() {
  std::string etag;
  {
    std::lock_guard lock(mu_);
    etag = state_ ? etag_ : std::string();
  }
  outbound::Request req{.url = settings_.url + "/api/client/features",
                        .headers = {{"Authorization", settings_.client_token},
                                    {"UNLEASH-APPNAME", settings_.app_name},
                                    {"Accept", "application/json"}},
                        .timeout = std::chrono::seconds(5),
                        .max_body = std::size_t{16} << 20};
  if (!etag.empty()) req.headers.emplace_back("If-None-Match", etag);
  auto r = fetch_(req);
  const auto fail = [&](std::string why) {
    std::lock_guard lock(mu_);
    ++stats_.failures;
    stats_.last_failure_us = clock_.Now().micros;
    stats_.last_error = std::move(why);
    const bool changed = state_ != nullptr;
    state_.reset();  // the built-in store answers until Unleash does again
    return changed;
  };
  if (!r) return fail(r.error().detail);
  if (r->status == 304) {
    std::lock_guard lock(mu_);
    stats_.last_success_us = clock_.Now().micros;
    return false;
  }
  if (r->status != 200) return fail("Unleash answered " + std::to_string(r->status));
  auto parsed = ParseUnleashFeatures(r->body);
  if (!parsed) return fail(parsed.error().detail);
  const std::string hash = Sha256(r->body);
  std::lock_guard lock(mu_);
  stats_.last_success_us = clock_.Now().micros;
  etag_ = std::string(r->headers.Get("etag").value_or(""));
  if (state_ && hash == body_hash_) return false;
  body_hash_ = hash;
  ++version_;
  if (parsed->version <= 0) parsed->version = version_;
  state_ = std::make_shared<const UnleashState>(*std::move(parsed));
  return true;
}

std::shared_ptr<const UnleashState> UnleashSource::Current() const {
  std::lock_guard lock(mu_);
  return state_;
}

UnleashSource::Stats UnleashSource::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace breakpilot::flags
