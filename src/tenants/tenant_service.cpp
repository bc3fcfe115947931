#include "tenants/tenant_service.hpp"

#include <boost/json.hpp>

#include <mutex>
#include <unordered_map>

#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/event_guarded.hpp"
#include "core/uuid.hpp"
#include "mail/message.hpp"
#include "tenants/slug.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::tenants {
namespace {

std::string Json(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  boost::json::object o;
  for (const auto& [k, v] : kv) o[k] = v;
  return boost::json::serialize(o);
}

}  // namespace

Result<Ok> ValidateDisplayName(std::string_view name, std::size_t max_len) {
  if (name.empty()) return Invalid("must not be empty");
  if (name.size() > max_len)
    return Invalid("must be at most " + std::to_string(max_len) + " bytes");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F) return Invalid("must not contain control characters");
  }
  if (name.front() == ' ' || name.back() == ' ')
    return Invalid("must not start or end with a space");
  return Ok{};
}

Result<std::optional<std::string>> DecodeCursor(const std::optional<std::string>& cursor) {
  if (!cursor) return std::optional<std::string>();
  std::string id;
  if (cursor->size() > 128 || !Base64UrlDecode(*cursor, id) || !IsCanonicalUuid(id)) {
    return Malformed("invalid-cursor", "Invalid cursor",
                     "cursor is not one this API returned; start again without it",
                     {{"cursor", "is not a valid cursor"}});
  }
  return std::optional<std::string>(NormalizeUuid(id));
}

std::string EncodeCursor(const std::string& last_id) {
  return Base64UrlEncode(last_id);
}

Result<int> CheckLimit(std::optional<int> limit) {
  if (!limit) return kDefaultPageSize;
  if (*limit < 1 || *limit > kMaxPageSize) {
    return Malformed("invalid-parameter", "Invalid query parameter",
                     "limit must be between 1 and " + std::to_string(kMaxPageSize),
                     {{"limit", "must be between 1 and " + std::to_string(kMaxPageSize)}});
  }
  return *limit;
}

Error TenantNotFound(std::string_view id) {
  return NotFound("tenant-not-found", "no tenant with id " + std::string(id));
}

Error TenantArchived(std::string_view id) {
  return Error{ErrorKind::kGone, "tenant-archived", "Tenant archived",
               "tenant " + std::string(id) + " is archived and can no longer change"};
}

Error TrialLimitReached(std::string_view limit, int maximum) {
  Error e{ErrorKind::kForbidden, "trial-limit-reached", "Trial limit reached",
          "a tenant on trial may have at most " + std::to_string(maximum) + " " +
              std::string(limit) + "; activating a plan lifts the limit"};
  e.extensions["limit"] = limit;
  e.extensions["maximum"] = maximum;
  return e;
}

Error StaleVersion(std::string_view what) {
  return Error{ErrorKind::kPreconditionFailed, "stale-etag", "Precondition failed",
               "the " + std::string(what) + " changed since you read it; read it again and retry"};
}

Result<Ok> ValidateContactEmail(const std::optional<std::string>& email) {
  if (!email || mail::NormalizeAddress(*email)) return Ok{};
  return Invalid("must be an email address");
}

Result<Tenant> TenantService::Create(const audit::Actor& actor, const CreateTenantInput& in) {
  std::vector<FieldError> errors;
  AddFieldError(errors, "/slug", ValidateSlug(in.slug));
  AddFieldError(errors, "/name", ValidateDisplayName(in.name, 200));
  Tenant t;
  if (in.kind) {
    if (auto k = ParseKind(*in.kind)) {
      t.kind = *k;
      if (*k == Kind::kDemo)
        errors.push_back({"/kind", "the demo tenant is created by the platform"});
    } else {
      errors.push_back({"/kind", "must be one of customer, internal"});
    }
  }
  if (in.plan) {
    if (auto p = ParsePlan(*in.plan))
      t.plan = *p;
    else
      errors.push_back({"/plan", "must be one of free, starter, professional, enterprise"});
  }
  t.status = t.kind == Kind::kInternal ? Status::kActive : Status::kTrial;
  if (in.initial_status) {
    auto s = ParseStatus(*in.initial_status);
    if (!s || (*s != Status::kTrial && *s != Status::kActive)) {
      errors.push_back({"/initial_status", "must be trial or active"});
    } else if (t.kind == Kind::kInternal && *s == Status::kTrial) {
      errors.push_back({"/initial_status", "internal tenants start active"});
    } else {
      t.status = *s;
    }
  }
  if (in.admin_email) {
    if (!on_created_) {
      errors.push_back({"/admin_email", "inviting an IT_ADMIN needs Keycloak (keycloak_url)"});
    } else {
      AddFieldError(errors, "/admin_email", ValidateContactEmail(in.admin_email));
    }
  }
  AddFieldError(errors, "/contact_email", ValidateContactEmail(in.contact_email));
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  t.slug = in.slug;
  t.name = in.name;
  t.contact_email = in.contact_email;
  return Insert(actor, std::move(t), &in);
}

Result<Tenant> TenantService::EnsureDemoTenant(const audit::Actor& actor) {
  std::optional<Tenant> existing;
  db_.Read([&](storage::Session& s) { existing = store::SelectTenantBySlug(s, "demo"); });
  if (existing) return *existing;
  Tenant t;
  t.slug = "demo";
  t.name = "Breakpilot Demo";
  t.kind = Kind::kDemo;
  t.status = Status::kDemo;
  t.plan = Plan::kEnterprise;
  return Insert(actor, std::move(t), nullptr);
}

Result<Tenant> TenantService::Insert(const audit::Actor& actor, Tenant t,
                                     const CreateTenantInput* in) {
  const Timestamp now = clock_.Now();
  t.id = NewUuidV7(now);
  t.created_at = t.updated_at = t.status_changed_at = now;
  if (t.status == Status::kTrial) t.trial_ends_at = AddSeconds(now, kTrialDays * 86400LL);
  std::optional<Error> refused;
  try {
    db_.Write([&](storage::Session& s) {
      store::InsertTenant(s, t);
      audit::Record(s, clock_, actor,
                    {t.id, "tenant.create", 'c', "tenant", t.id, "created tenant " + t.slug,
                     Json({{"slug", t.slug}, {"status", ToString(t.status)}})});
      if (in && on_created_) {
        if (auto ok = on_created_(s, actor, t, *in); !ok) {
          refused = std::move(ok).error();
          throw storage::DatabaseError("tenant creation refused");  // rolls the tenant back
        }
      }
      if (on_status_) on_status_(s, t);
      if (on_inserted_) on_inserted_(s, t);
    });
  } catch (const storage::UniqueViolation&) {
    return Conflict("duplicate-slug", "Slug already taken",
                    "a tenant with slug '" + t.slug + "' already exists");
  } catch (const storage::DatabaseError&) {
    if (refused) return *refused;
    throw;
  }
  return t;
}

struct TenantService::ReadCache {
  static constexpr std::size_t kLimit = 100'000;
  EventGuarded<std::unordered_map<std::string, Tenant>> tenants;  // by id, as stored
  std::mutex slugs_mutex;
  std::unordered_map<std::string, std::string> slugs;  // slug -> id: slugs never change
  std::uint64_t subscription = 0;

  void OnEvent(std::string_view event) {
    tenants.OnEvent([&](auto& m) {
      if (event == "*") {
        m.clear();
      } else if (event.rfind("tenant:", 0) == 0) {
        m.erase(std::string(event.substr(7)));
      }
    });
  }
};

TenantService::TenantService(storage::Database& db, const Clock& clock,
                             TenantCreatedHook on_created)
    : db_(db), clock_(clock), on_created_(std::move(on_created)) {}

TenantService::~TenantService() {
  if (cache_) db_.Unsubscribe(cache_->subscription);
}

void TenantService::EnableReadCache() {
  if (cache_) return;
  cache_ = std::make_unique<ReadCache>();
  cache_->subscription =
      db_.Subscribe([cache = cache_.get()](std::string_view event) { cache->OnEvent(event); });
}

Result<Tenant> TenantService::Get(const std::string& id) {
  std::uint64_t ticket = 0;
  if (cache_) {
    if (auto hit = cache_->tenants.Read([&](const auto& m) { return CopyOf(m, id); })) {
      return *std::move(hit);
    }
    ticket = cache_->tenants.Ticket();
  }
  std::optional<Tenant> t;
  db_.Read([&](storage::Session& s) { t = store::SelectTenant(s, id); });
  if (!t) return TenantNotFound(id);
  // Kept only if no event arrived since the lookup (it could be about this very row), and
  // under the stored id, the one its events name.
  if (cache_ && t->id == id) {
    cache_->tenants.StoreIfCurrent(ticket, [&](auto& m) {
      if (m.size() >= ReadCache::kLimit) m.clear();
      m.emplace(id, *t);
    });
  }
  return *t;
}

Result<Tenant> TenantService::GetBySlug(const std::string& slug) {
  if (cache_) {
    std::string id;
    {
      std::lock_guard lock(cache_->slugs_mutex);
      if (auto it = cache_->slugs.find(slug); it != cache_->slugs.end()) id = it->second;
    }
    if (!id.empty()) {
      auto t = Get(id);
      if (t) return t;
      std::lock_guard lock(cache_->slugs_mutex);
      cache_->slugs.erase(slug);
    }
  }
  std::optional<Tenant> t;
  db_.Read([&](storage::Session& s) { t = store::SelectTenantBySlug(s, slug); });
  if (!t) return NotFound("tenant-not-found", "no tenant with slug " + slug);
  if (cache_) {
    std::lock_guard lock(cache_->slugs_mutex);
    if (cache_->slugs.size() >= ReadCache::kLimit) cache_->slugs.clear();
    cache_->slugs.emplace(slug, t->id);
  }
  return *t;
}

Result<Page<Tenant>> TenantService::List(const ListTenantsInput& in) {
  std::vector<FieldError> errors;
  store::TenantFilter f;
  if (in.status) {
    f.status = ParseStatus(*in.status);
    if (!f.status)
      errors.push_back({"status", "must be one of trial, active, frozen, archived, demo"});
  }
  if (in.kind) {
    f.kind = ParseKind(*in.kind);
    if (!f.kind) errors.push_back({"kind", "must be one of customer, demo, internal"});
  }
  if (in.q && in.q->size() > 100) errors.push_back({"q", "must be at most 100 bytes"});
  if (!errors.empty()) {
    std::string detail = errors.front().field + " " + errors.front().message;
    return Malformed("invalid-parameter", "Invalid query parameter", std::move(detail),
                     std::move(errors));
  }
  auto cursor = DecodeCursor(in.cursor);
  if (!cursor) return std::move(cursor).error();
  auto limit = CheckLimit(in.limit);
  if (!limit) return std::move(limit).error();
  f.slug = in.slug;
  if (in.q && !in.q->empty()) {
    f.like = storage::LikeContains(*in.q, true);  // as text, ASCII letters in any case
  }
  f.before_id = *cursor;
  f.limit = *limit + 1;  // one more tells whether a next page exists
  Page<Tenant> page;
  db_.Read([&](storage::Session& s) { page.items = store::SelectTenants(s, f); });
  if (static_cast<int>(page.items.size()) > *limit) {
    page.items.resize(static_cast<std::size_t>(*limit));
    page.next_cursor = EncodeCursor(page.items.back().id);
  }
  return page;
}

Result<Tenant> TenantService::Update(const audit::Actor& actor, const std::string& id,
                                     const TenantPatch& patch,
                                     std::optional<std::int64_t> expected_version) {
  std::vector<FieldError> errors;
  if (patch.name) {
    AddFieldError(errors, "/name", ValidateDisplayName(*patch.name, 200));
  }
  std::optional<Plan> plan;
  if (patch.plan) {
    plan = ParsePlan(*patch.plan);
    if (!plan)
      errors.push_back({"/plan", "must be one of free, starter, professional, enterprise"});
  }
  AddFieldError(errors, "/contact_email", ValidateContactEmail(patch.contact_email));
  if (patch.sales_owner && patch.sales_owner->size() > 254) {
    errors.push_back({"/sales_owner", "must be a user name of at most 254 characters"});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  std::optional<Result<Tenant>> out;
  db_.Write([&](storage::Session& s) {
    auto t = store::SelectTenantForUpdate(s, id);
    if (!t) return void(out = TenantNotFound(id));
    if (expected_version && *expected_version != t->version) {
      return void(out = StaleVersion("tenant"));
    }
    if (t->status == Status::kArchived) {
      return void(out = TenantArchived(id));
    }
    const std::int64_t version = t->version;
    if (patch.name) t->name = *patch.name;
    if (plan) t->plan = *plan;
    if (patch.contact_email) t->contact_email = patch.contact_email;
    if (patch.sales_owner) {
      // User names are lower case (identity::Directory); so is the owner, to match them.
      std::string owner = *patch.sales_owner;
      for (char& c : owner) c = AsciiLower(c);
      t->sales_owner = owner.empty() ? std::nullopt : std::optional(owner);
    }
    t->updated_at = clock_.Now();
    if (!store::UpdateTenant(s, *t, version)) {
      return void(out = StaleVersion("tenant"));
    }
    t->version = version + 1;
    audit::Record(s, clock_, actor,
                  {t->id, "tenant.update", 'u', "tenant", t->id, "updated tenant " + t->slug,
                   Json({{"name", t->name},
                         {"plan", ToString(t->plan)},
                         {"sales_owner", t->sales_owner.value_or("")}})});
    out = *t;
  });
  return *std::move(out);
}

Result<Ok> TenantService::SetAuditRetention(const audit::Actor& actor, const std::string& id,
                                            std::optional<std::int64_t> days) {
  std::optional<Result<Ok>> out;
  db_.Write([&](storage::Session& s) {
    auto t = store::SelectTenantForUpdate(s, id);
    if (!t) return void(out = TenantNotFound(id));
    store::SetAuditRetention(s, id, days);
    const std::string kept = days ? std::to_string(*days) + " days" : "for ever";
    audit::Record(s, clock_, actor,
                  {t->id, "tenant.audit_retention_set", 'u', "tenant", t->id,
                   "audit events of " + t->slug + " are kept " + kept,
                   Json({{"days", days ? std::to_string(*days) : "null"}})});
    out = Ok{};
  });
  return *std::move(out);
}

Result<Tenant> TenantService::Apply(const audit::Actor& actor, const std::string& id,
                                    lifecycle::Action action, const LifecycleInput& in) {
  std::optional<Result<Tenant>> out;
  db_.Write([&](storage::Session& s) { out = ApplyIn(s, actor, id, action, in); });
  return *std::move(out);
}

Result<Tenant> TenantService::ApplyIn(storage::Session& s, const audit::Actor& actor,
                                      const std::string& id, lifecycle::Action action,
                                      const LifecycleInput& in) {
  if (action == lifecycle::Action::kCancel) {
    std::vector<FieldError> errors;
    if (!in.reason || in.reason->empty()) {
      errors.push_back({"/reason", "is required to cancel"});
    } else {
      AddFieldError(errors, "/reason", ValidateDisplayName(*in.reason, 2000));
    }
    if (!in.confirm || in.confirm->empty()) {
      errors.push_back({"/confirm", "type the tenant's slug to confirm the cancellation"});
    }
    if (!errors.empty()) return ValidationFailed(std::move(errors));
  }
  auto t = store::SelectTenantForUpdate(s, id);
  if (!t) return TenantNotFound(id);
  if (action == lifecycle::Action::kCancel && !ConstantTimeEquals(*in.confirm, t->slug)) {
    return ValidationFailed({{"/confirm", "does not match the tenant's slug"}});
  }
  // A refused transition says where the tenant stands and where it may go instead.
  const auto refuse = [&](std::string type, std::string title, std::string detail,
                          bool closed_window) {
    Error e = Conflict(std::move(type), std::move(title), std::move(detail));
    e.extensions["current_status"] = ToString(t->status);
    boost::json::array allowed;
    for (const auto& tr : lifecycle::AllowedFrom(t->status)) {
      if (closed_window && tr.action == lifecycle::Action::kReactivate) continue;
      allowed.push_back({{"action", lifecycle::ToString(tr.action)}, {"to", ToString(tr.to)}});
    }
    e.extensions["allowed_transitions"] = std::move(allowed);
    return e;
  };
  const auto next = lifecycle::Next(t->status, action);
  if (!next) {
    return refuse("illegal-transition", "Illegal lifecycle transition",
                  "cannot " + std::string(lifecycle::ToString(action)) + " a tenant in status " +
                      std::string(ToString(t->status)),
                  false);
  }
  if (*next == t->status) return *t;  // idempotent repeat: nothing changes
  const Timestamp now = clock_.Now();
  if (action == lifecycle::Action::kReactivate &&
      now > AddSeconds(t->status_changed_at, kFrozenDays * 86400LL)) {
    return refuse("reactivation-window-closed", "Reactivation window closed",
                  "tenant " + t->slug + " was frozen more than " + std::to_string(kFrozenDays) +
                      " days ago (" + FormatRfc3339(t->status_changed_at) +
                      "); it can no longer reactivate",
                  true);
  }
  const std::int64_t version = t->version;
  const Status from = t->status;
  t->status = *next;
  t->status_changed_at = t->updated_at = now;
  if (action == lifecycle::Action::kCancel) t->cancel_reason = in.reason;
  if (*next == Status::kActive) t->cancel_reason.reset();
  if (!store::UpdateTenant(s, *t, version)) {
    throw storage::DatabaseError("tenant changed inside a write transaction");
  }
  t->version = version + 1;
  audit::Record(s, clock_, actor,
                {t->id, "tenant." + std::string(lifecycle::ToString(action)), 'u', "tenant", t->id,
                 std::string(lifecycle::ToString(action)) + " tenant " + t->slug,
                 Json({{"from", ToString(from)},
                       {"to", ToString(*next)},
                       {"reason", in.reason.value_or("")}})});
  if (on_status_) on_status_(s, *t);
  return *t;
}

}  // namespace breakpilot::tenants
