#include "flags/flag_service.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/memory_only.hpp"

namespace breakpilot::flags {
namespace {

namespace json = boost::json;
using storage::Query;

constexpr Query kSelectFlags{"flags_select_all",
                             "SELECT key, definition, version, created_at, updated_at FROM flags "
                             "ORDER BY key"};
constexpr Query kSelectFlag{"flags_select_one",
                            "SELECT key, definition, version, created_at, updated_at FROM flags "
                            "WHERE key = $1"};
constexpr Query kInsertFlag{"flags_insert",
                            "INSERT INTO flags (key, definition, version, created_at, updated_at) "
                            "VALUES ($1, $2, 1, $3, $3)"};
constexpr Query kUpdateFlag{"flags_update",
                            "UPDATE flags SET definition = $2, version = version + 1, "
                            "updated_at = $3 WHERE key = $1 AND version = $4"};
constexpr Query kDeleteFlag{"flags_delete", "DELETE FROM flags WHERE key = $1"};
constexpr Query kDeleteResults{"flag_results_delete_flag",
                               "DELETE FROM flag_results WHERE flag_key = $1"};
// Changes the row only when the variant differs: 1 row changed is a change to record.
constexpr Query kUpsertResult{
    "flag_results_upsert",
    "INSERT INTO flag_results (tenant_id, flag_key, variant, reason, flag_version, changed_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, flag_key) DO UPDATE SET "
    "variant = excluded.variant, reason = excluded.reason, flag_version = excluded.flag_version, "
    "changed_at = excluded.changed_at WHERE flag_results.variant <> excluded.variant"};

// How many (tenant, flag) results a replica remembers before it starts over.
constexpr std::size_t kSeenLimit = 200'000;

Error FlagNotFound(std::string_view key) {
  return NotFound("flag-not-found", "no flag has the key '" + std::string(key) + "'");
}

// The stored definition: the flag's JSON without key and meta.
std::string Definition(const Flag& f) {
  json::object o = ToJson(f, false);
  o.erase("key");
  return json::serialize(o);
}

Flag FromRow(const storage::Row& r) {
  auto parsed = ParseFlag(json::parse(r.Text(1)), r.Text(0));
  if (!parsed) {
    throw storage::DatabaseError("flag " + r.Text(0) + " has a definition that does not parse");
  }
  Flag f = *std::move(parsed);
  f.version = r.Int(2);
  f.created_at = r.Time(3);
  f.updated_at = r.Time(4);
  return f;
}

// RFC 7396: members set to null are removed, objects merge, everything else replaces.
void MergePatch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object{};
  auto& t = target.as_object();
  for (const auto& [name, value] : patch.as_object()) {
    if (value.is_null()) {
      t.erase(name);
    } else {
      MergePatch(t[name], value);
    }
  }
}

audit::Event FlagEvent(std::string action, char crud, const Flag& f, std::string description) {
  return {.action = std::move(action),
          .crud = crud,
          .target_type = "flag",
          .target_id = f.key,
          .description = std::move(description),
          .fields_json = json::serialize(ToJson(f))};
}

}  // namespace

const Flag* FlagService::Snapshot::Find(std::string_view key) const {
  auto it = std::lower_bound(flags.begin(), flags.end(), key,
                             [](const Flag& f, std::string_view k) { return f.key < k; });
  return it != flags.end() && it->key == key ? &*it : nullptr;
}

FlagService::FlagService(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
                         const UnleashSource* unleash)
    : db_(db), clock_(clock), tenants_(tenants), unleash_(unleash) {
  subscription_ = db_.Subscribe([this](std::string_view event) { OnEvent(event); });
}

FlagService::~FlagService() {
  db_.Unsubscribe(subscription_);
}

void FlagService::OnEvent(std::string_view event) {
  if (event != kFlagsEvent && event != "*") return;
  // New definitions: results may change, and a flag deleted and made again starts afresh.
  state_.OnEvent([](State& s) {
    s.snapshot.reset();
    s.seen.clear();
  });
}

std::shared_ptr<const FlagService::Snapshot> FlagService::Current() {
  if (auto snap = state_.Read([](const State& s) { return s.snapshot; })) return snap;
  const auto ticket = state_.Ticket();
  MayBlock();
  auto snap = std::make_shared<Snapshot>();
  db_.Read([&](storage::Session& s) {
    for (const auto& row : s.Fetch(kSelectFlags, {})) snap->flags.push_back(FromRow(row));
  });
  state_.StoreIfCurrent(ticket, [&](State& s) { s.snapshot = snap; });
  return snap;
}

Result<Flag> FlagService::Create(const audit::Actor& actor, const json::value& definition) {
  auto parsed = ParseFlag(definition);
  if (!parsed) return parsed.error();
  Flag f = *std::move(parsed);
  f.created_at = f.updated_at = clock_.Now();
  std::optional<Error> failed;
  try {
    db_.Write([&](storage::Session& s) {
      s.Execute(kInsertFlag, {f.key, Definition(f), FormatStorage(f.created_at)});
      audit::Record(s, clock_, actor, FlagEvent("flag.create", 'c', f, "created flag " + f.key));
      s.Notify(kFlagsEvent);
    });
  } catch (const storage::UniqueViolation&) {
    failed = Conflict("duplicate-flag", "Flag exists", "a flag has the key '" + f.key + "'");
  }
  if (failed) return *failed;
  return f;
}

Result<Flag> FlagService::Get(const std::string& key) {
  auto snap = Current();
  if (const Flag* f = snap->Find(key)) return *f;
  return FlagNotFound(key);
}

std::vector<Flag> FlagService::List() {
  return Current()->flags;
}

Result<Flag> FlagService::Patch(const audit::Actor& actor, const std::string& key,
                                const json::value& merge_patch,
                                std::optional<std::int64_t> expected_version) {
  if (!merge_patch.is_object()) {
    return Malformed("malformed-json", "Malformed JSON", "send a JSON merge patch (an object)");
  }
  if (const auto* k = merge_patch.as_object().if_contains("key");
      k && !(k->is_string() && k->as_string() == key)) {
    return ValidationFailed({{"/key", "a flag's key cannot change; make a new flag"}});
  }
  std::optional<Result<Flag>> out;
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectFlag, {key});
    if (!row) return void(out = FlagNotFound(key));
    const Flag old = FromRow(*row);
    if (expected_version && *expected_version != old.version) {
      return void(out = tenants::StaleVersion("the flag"));
    }
    json::value merged = ToJson(old, false);
    MergePatch(merged, merge_patch);
    auto parsed = ParseFlag(merged, key);
    if (!parsed) return void(out = parsed.error());
    Flag f = *std::move(parsed);
    f.created_at = old.created_at;
    f.updated_at = clock_.Now();
    f.version = old.version + 1;
    s.Execute(kUpdateFlag,
              {key, Definition(f), FormatStorage(f.updated_at), std::to_string(old.version)});
    audit::Record(s, clock_, actor, FlagEvent("flag.update", 'u', f, "changed flag " + f.key));
    s.Notify(kFlagsEvent);
    out = std::move(f);
  });
  return *std::move(out);
}

Result<Ok> FlagService::Delete(const audit::Actor& actor, const std::string& key) {
  std::optional<Result<Ok>> out;
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectFlag, {key});
    if (!row) return void(out = FlagNotFound(key));
    const Flag f = FromRow(*row);
    s.Execute(kDeleteResults, {key});
    s.Execute(kDeleteFlag, {key});
    audit::Record(s, clock_, actor, FlagEvent("flag.delete", 'd', f, "deleted flag " + f.key));
    s.Notify(kFlagsEvent);
    out = Ok{};
  });
  return *std::move(out);
}

Result<Evaluation> FlagService::Evaluate(const audit::Actor& actor, const std::string& tenant_id,
                                         const std::string& key) {
  auto snap = Current();
  const auto unleash = unleash_ ? unleash_->Current() : nullptr;
  if (!snap->Find(key) && !(unleash && unleash->Find(key))) return FlagNotFound(key);
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return tenant.error();
  return EvaluateIn(*snap, unleash.get(), actor, *tenant, key);
}

Result<std::vector<Evaluation>> FlagService::EvaluateAll(const audit::Actor& actor,
                                                         const std::string& tenant_id) {
  auto snap = Current();
  const auto unleash = unleash_ ? unleash_->Current() : nullptr;
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return tenant.error();
  // Every key of either source once, in order.
  std::vector<std::string> keys;
  for (const auto& f : snap->flags) keys.push_back(f.key);
  if (unleash) {
    for (const auto& f : unleash->features) keys.push_back(f.name);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }
  std::vector<Evaluation> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    auto e = EvaluateIn(*snap, unleash.get(), actor, *tenant, key);
    if (!e) return e.error();
    out.push_back(*std::move(e));
  }
  return out;
}

Result<Evaluation> FlagService::EvaluateIn(const Snapshot& snap, const UnleashState* unleash,
                                           const audit::Actor& actor, const tenants::Tenant& tenant,
                                           const std::string& key) {
  const TenantFacts facts{.id = tenant.id,
                          .plan = tenants::ToString(tenant.plan),
                          .status = tenants::ToString(tenant.status),
                          .kind = tenants::ToString(tenant.kind)};
  Evaluation e;
  if (const UnleashFeature* u = unleash ? unleash->Find(key) : nullptr) {
    e = EvaluateUnleash(*u, *unleash, facts);
  } else if (const Flag* f = snap.Find(key)) {
    e = flags::Evaluate(*f, facts);
  } else {
    return FlagNotFound(key);
  }
  RecordIfChanged(actor, tenant.id, e);
  return e;
}

void FlagService::RecordIfChanged(const audit::Actor& actor, const std::string& tenant_id,
                                  const Evaluation& e) {
  std::string seen_key = tenant_id + "/" + e.key;
  const bool same = state_.Read([&](const State& s) {
    auto it = s.seen.find(seen_key);
    return it != s.seen.end() && it->second == e.variant;
  });
  if (same) return;
  const auto ticket = state_.Ticket();
  MayBlock();
  const Timestamp now = clock_.Now();
  db_.Write([&](storage::Session& s) {
    const auto changed =
        s.Execute(kUpsertResult, {tenant_id, e.key, e.variant, std::string(Name(e.reason)),
                                  std::to_string(e.version), FormatStorage(now)});
    if (changed == 0) return;  // another request or replica recorded this result already
    json::object fields{{"flag", e.key},
                        {"variant", e.variant},
                        {"value", ToJson(e.value)},
                        {"reason", Name(e.reason)},
                        {"flag_version", e.version}};
    audit::Record(s, clock_, actor,
                  {.tenant_id = tenant_id,
                   .action = "flag.result",
                   .crud = 'u',
                   .target_type = "flag",
                   .target_id = e.key,
                   .description = "flag " + e.key + " answers " + e.variant + " (" +
                                  std::string(Name(e.reason)) + ", version " +
                                  std::to_string(e.version) + ")",
                   .fields_json = json::serialize(fields)});
  });
  state_.StoreIfCurrent(ticket, [&](State& s) {
    if (s.seen.size() >= kSeenLimit) s.seen.clear();
    s.seen.insert_or_assign(std::move(seen_key), e.variant);
  });
}

}  // namespace breakpilot::flags
