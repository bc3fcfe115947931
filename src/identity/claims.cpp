#include "identity/claims.hpp"

#include <algorithm>

#include "core/uuid.hpp"
#include "identity/directory.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::identity {
namespace {

constexpr storage::Query kSelectRealmRoles{"user_realm_roles",
                                           "SELECT realm_roles FROM users WHERE id = $1"};
constexpr storage::Query kSelectMembership{
    "membership_select", "SELECT org_roles FROM memberships WHERE user_id = $1 AND tenant_id = $2"};

bool Has(const std::vector<Role>& roles, Role r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

}  // namespace

Result<OrgClaims> ClaimsFor(storage::Database& db, const std::string& user_id_in,
                            const std::string& org, const std::vector<Role>& extra_realm_roles) {
  if (!IsCanonicalUuid(user_id_in)) {
    return ValidationFailed({{"/user_id", "must be a UUID"}});
  }
  const std::string user_id = NormalizeUuid(user_id_in);
  std::optional<tenants::Tenant> tenant;
  std::optional<storage::Row> user;
  std::optional<storage::Row> membership;
  std::vector<tenants::Subscription> subs;
  db.Read([&](storage::Session& s) {
    tenant = IsCanonicalUuid(org) ? tenants::store::SelectTenant(s, NormalizeUuid(org))
                                  : tenants::store::SelectTenantBySlug(s, org);
    user = s.FetchOne(kSelectRealmRoles, {user_id});
    if (!tenant || !user) return;
    membership = s.FetchOne(kSelectMembership, {user_id, tenant->id});
    subs = tenants::store::SelectSubscriptions(s, tenant->id);
  });
  if (!tenant) return NotFound("org-not-found", "no organization (tenant) '" + org + "'");
  if (!user) return NotFound("user-not-found", "no user with id " + user_id);
  std::vector<Role> realm = ParseRolesJson(user->Text(0));
  realm.insert(realm.end(), extra_realm_roles.begin(), extra_realm_roles.end());
  const bool staff = Has(realm, Role::kBreakpilotAdmin) || Has(realm, Role::kSupportEngineer);
  const bool is_demo = tenant->kind == tenants::Kind::kDemo;
  if (!staff && Has(realm, Role::kSalesRep) && !is_demo) {
    return Error{ErrorKind::kForbidden, "sales-rep-demo-only", "Forbidden",
                 "a SALES_REP acts on the demo tenant only"};
  }
  if (!membership && !staff && !(Has(realm, Role::kSalesRep) && is_demo)) {
    return Error{ErrorKind::kForbidden, "not-a-member", "Forbidden",
                 "the user is not a member of organization '" + tenant->slug + "'"};
  }
  OrgClaims c = TenantClaims(*tenant, subs);
  if (membership) c.org_roles = ParseRolesJson(membership->Text(0));
  return c;
}

OrgClaims TenantClaims(const tenants::Tenant& tenant,
                       const std::vector<tenants::Subscription>& subscriptions) {
  OrgClaims c;
  c.org_id = tenant.id;
  c.org_slug = tenant.slug;
  for (const auto& s : subscriptions) c.products.push_back(s.product_id);
  c.plan = std::string(tenants::ToString(tenant.plan));
  c.tenant_status = std::string(tenants::ToString(tenant.status));
  if (tenant.status == tenants::Status::kTrial) c.trial_ends_at = tenant.trial_ends_at;
  return c;
}

boost::json::object ClaimsJson(const OrgClaims& c) {
  boost::json::array products;
  for (const auto& p : c.products) products.emplace_back(p);
  boost::json::value quota = nullptr;
  if (c.trial_ends_at) {
    quota = boost::json::object{{"seats", tenants::kTrialQuota.seats},
                                {"projects", tenants::kTrialQuota.projects},
                                {"api_calls_per_day", tenants::kTrialQuota.api_calls_per_day},
                                {"ends_at", FormatRfc3339(*c.trial_ends_at)}};
  }
  // A paying plan's limits (M12.1); null on trial (trial_quota applies) and for the demo.
  boost::json::value limits = nullptr;
  const auto plan = tenants::ParsePlan(c.plan);
  if (!c.trial_ends_at && plan && c.tenant_status != "demo") {
    const auto l = tenants::LimitsOf(*plan);
    limits = boost::json::object{{"api_calls_per_day", l.api_calls_per_day > 0
                                                           ? boost::json::value(l.api_calls_per_day)
                                                           : nullptr}};
  }
  return {{"org_id", c.org_id},
          {"org_slug", c.org_slug},
          {"org_roles", RoleNames(c.org_roles)},
          {"products", std::move(products)},
          {"plan", c.plan},
          {"tenant_status", c.tenant_status},
          {"trial_quota", std::move(quota)},
          {"plan_limits", std::move(limits)}};
}

ClaimsService::ClaimsService(storage::Database& db) : db_(db) {
  subscription_ = db_.Subscribe([this](std::string_view e) { OnEvent(e); });
}

ClaimsService::~ClaimsService() {
  db_.Unsubscribe(subscription_);
}

void ClaimsService::OnEvent(std::string_view event) {
  cache_.OnEvent([&](auto& cache) {
    if (event == "*") {
      cache.clear();
      return;
    }
    const bool tenant = event.rfind("tenant:", 0) == 0;
    const bool user = event.rfind("user:", 0) == 0;
    if (!tenant && !user) return;
    const std::string_view id = event.substr(event.find(':') + 1);
    std::erase_if(cache, [&](const auto& kv) {
      return tenant ? kv.second.org_id == id : kv.second.user_id == id;
    });
  });
}

Result<std::string> ClaimsService::JsonFor(const std::string& user_id, const std::string& org,
                                           const std::vector<Role>& extra_realm_roles) {
  std::string key = user_id + '\n' + org;
  for (Role r : extra_realm_roles) key += '\n' + std::string(Name(r));
  std::optional<std::string> hit;
  cache_.Read([&](const auto& cache) {
    if (auto it = cache.find(key); it != cache.end()) hit = it->second.json;
  });
  if (hit) return std::move(*hit);
  const auto ticket = cache_.Ticket();
  auto claims = ClaimsFor(db_, user_id, org, extra_realm_roles);
  if (!claims) return std::move(claims).error();
  std::string json = boost::json::serialize(ClaimsJson(*claims));
  cache_.StoreIfCurrent(ticket, [&](auto& cache) {
    if (cache.size() >= 100'000) cache.clear();
    cache[key] = Entry{NormalizeUuid(user_id), claims->org_id, json};
  });
  return json;
}

}  // namespace breakpilot::identity
