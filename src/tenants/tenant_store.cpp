#include "tenants/tenant_store.hpp"

namespace breakpilot::tenants::store {
namespace {

using storage::Param;
using storage::Query;
using storage::Row;

#define BP_TENANT_COLUMNS                                                                 \
  "id, slug, name, kind, status, plan, trial_ends_at, status_changed_at, cancel_reason, " \
  "version, created_at, updated_at, contact_email, sales_owner"

constexpr Query kInsertTenant{
    "tenant_insert", "INSERT INTO tenants (" BP_TENANT_COLUMNS
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"};
constexpr Query kSelectTenant{"tenant_select_by_id",
                              "SELECT " BP_TENANT_COLUMNS " FROM tenants WHERE id = $1"};
constexpr Query kSelectTenantForUpdate{"tenant_select_for_update",
                                       "SELECT " BP_TENANT_COLUMNS
                                       " FROM tenants WHERE id = $1 FOR UPDATE",
                                       "SELECT " BP_TENANT_COLUMNS " FROM tenants WHERE id = $1"};
constexpr Query kSelectTenantBySlug{"tenant_select_by_slug",
                                    "SELECT " BP_TENANT_COLUMNS " FROM tenants WHERE slug = $1"};
constexpr Query kSelectTenants{
    "tenant_list",
    "SELECT " BP_TENANT_COLUMNS
    " FROM tenants WHERE ($1::text IS NULL OR status = $1::text)"
    " AND ($2::text IS NULL OR kind = $2::text) AND ($3::text IS NULL OR slug = $3::text)"
    " AND ($6::text IS NULL OR slug LIKE $6::text ESCAPE '\\' OR lower(name) LIKE $6::text"
    " ESCAPE '\\') AND ($4::uuid IS NULL OR id < $4::uuid) ORDER BY id DESC LIMIT $5::integer",
    "SELECT " BP_TENANT_COLUMNS
    " FROM tenants WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR kind = $2)"
    " AND ($3 IS NULL OR slug = $3) AND ($6 IS NULL OR slug LIKE $6 ESCAPE '\\'"
    " OR lower(name) LIKE $6 ESCAPE '\\') AND ($4 IS NULL OR id < $4) ORDER BY id DESC"
    " LIMIT CAST($5 AS INTEGER)"};
constexpr Query kSetAuditRetention{
    "tenant_set_audit_retention",
    "UPDATE tenants SET audit_retention_days = $2::integer, version = version + 1 WHERE id = $1",
    "UPDATE tenants SET audit_retention_days = $2, version = version + 1 WHERE id = $1"};
constexpr Query kUpdateTenant{
    "tenant_update",
    "UPDATE tenants SET name = $2, status = $3, plan = $4, trial_ends_at = $5,"
    " status_changed_at = $6, cancel_reason = $7, updated_at = $8, version = version + 1,"
    " contact_email = $10, sales_owner = $11 WHERE id = $1 AND version = $9"};

#define BP_PROJECT_COLUMNS \
  "id, tenant_id, name, description, version, created_at, updated_at, archived_at"
constexpr Query kInsertProject{"project_insert", "INSERT INTO tenant_projects (" BP_PROJECT_COLUMNS
                                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Query kSelectProject{"project_select",
                               "SELECT " BP_PROJECT_COLUMNS
                               " FROM tenant_projects WHERE tenant_id = $1 AND id = $2"};
constexpr Query kSelectProjects{
    "project_list",
    "SELECT " BP_PROJECT_COLUMNS
    " FROM tenant_projects WHERE tenant_id = $1"
    " AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3::integer",
    "SELECT " BP_PROJECT_COLUMNS
    " FROM tenant_projects WHERE tenant_id = $1"
    " AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT CAST($3 AS INTEGER)"};
constexpr Query kUpdateProject{
    "project_update",
    "UPDATE tenant_projects SET name = $3, description = $4, updated_at = $5, archived_at = $7,"
    " version = version + 1 WHERE tenant_id = $1 AND id = $2 AND version = $6"};
constexpr Query kDeleteProject{"project_delete",
                               "DELETE FROM tenant_projects WHERE tenant_id = $1 AND id = $2"};

constexpr Query kInsertSubscription{
    "subscription_insert",
    "INSERT INTO tenant_products (tenant_id, product_id, plan, subscribed_at)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, product_id) DO NOTHING"};
constexpr Query kSelectSubscriptions{
    "subscription_list",
    "SELECT tenant_id, product_id, plan, subscribed_at FROM tenant_products"
    " WHERE tenant_id = $1 ORDER BY product_id"};
constexpr Query kDeleteSubscription{
    "subscription_delete", "DELETE FROM tenant_products WHERE tenant_id = $1 AND product_id = $2"};

Tenant ToTenant(const Row& r) {
  Tenant t;
  t.id = r.Text(0);
  t.slug = r.Text(1);
  t.name = r.Text(2);
  t.kind = ParseKind(r.Text(3)).value_or(Kind::kCustomer);
  t.status = ParseStatus(r.Text(4)).value_or(Status::kFrozen);
  t.plan = ParsePlan(r.Text(5)).value_or(Plan::kStarter);
  t.trial_ends_at = r.OptionalTime(6);
  t.status_changed_at = r.Time(7);
  t.cancel_reason = r.Optional(8);
  t.version = r.Int(9);
  t.created_at = r.Time(10);
  t.updated_at = r.Time(11);
  t.contact_email = r.Optional(12);
  t.sales_owner = r.Optional(13);
  return t;
}

storage::Param ArchivedParam(const Project& p) {
  return p.archived_at ? storage::Param(FormatStorage(*p.archived_at)) : std::nullopt;
}

Project ToProject(const Row& r) {
  return Project{r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                 r.Int(4),  r.Time(5), r.Time(6), r.OptionalTime(7)};
}

std::optional<Tenant> FetchTenant(storage::Session& s, const Query& q, const std::string& key) {
  auto row = s.FetchOne(q, {key});
  if (!row) return std::nullopt;
  return ToTenant(*row);
}

}  // namespace

std::int64_t CountProjects(storage::Session& s, const std::string& tenant_id) {
  static constexpr Query kCountProjects{
      "project_count", "SELECT count(*) FROM tenant_projects WHERE tenant_id = $1"};
  return s.FetchOne(kCountProjects, {tenant_id})->Int(0);
}

void InsertTenant(storage::Session& s, const Tenant& t) {
  s.Execute(kInsertTenant, {t.id, t.slug, t.name, std::string(ToString(t.kind)),
                            std::string(ToString(t.status)), std::string(ToString(t.plan)),
                            storage::TimeParam(t.trial_ends_at), FormatStorage(t.status_changed_at),
                            t.cancel_reason, std::to_string(t.version), FormatStorage(t.created_at),
                            FormatStorage(t.updated_at), t.contact_email, t.sales_owner});
}

std::optional<Tenant> SelectTenant(storage::Session& s, const std::string& id) {
  return FetchTenant(s, kSelectTenant, id);
}

std::optional<Tenant> SelectTenantForUpdate(storage::Session& s, const std::string& id) {
  return FetchTenant(s, kSelectTenantForUpdate, id);
}

std::optional<Tenant> SelectTenantBySlug(storage::Session& s, const std::string& slug) {
  return FetchTenant(s, kSelectTenantBySlug, slug);
}

std::vector<Tenant> SelectTenants(storage::Session& s, const TenantFilter& f) {
  auto opt = [](const auto& v) -> Param {
    if (!v) return std::nullopt;
    return std::string(ToString(*v));
  };
  auto rows = s.Fetch(kSelectTenants, {opt(f.status), opt(f.kind), f.slug, f.before_id,
                                       std::to_string(f.limit), f.like});
  std::vector<Tenant> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(ToTenant(r));
  return out;
}

void SetAuditRetention(storage::Session& s, const std::string& id,
                       std::optional<std::int64_t> days) {
  if (s.Execute(kSetAuditRetention,
                {id, days ? storage::Param{std::to_string(*days)} : storage::Param{}}) == 1) {
    s.Notify(TenantChangedEvent(id));  // the version moved: cached copies are stale
  }
}

bool UpdateTenant(storage::Session& s, const Tenant& t, std::int64_t expected_version) {
  const bool updated =
      s.Execute(kUpdateTenant,
                {t.id, t.name, std::string(ToString(t.status)), std::string(ToString(t.plan)),
                 storage::TimeParam(t.trial_ends_at), FormatStorage(t.status_changed_at),
                 t.cancel_reason, FormatStorage(t.updated_at), std::to_string(expected_version),
                 t.contact_email, t.sales_owner}) == 1;
  // Caches of tenant status (API key verification) on every replica drop this tenant.
  if (updated) s.Notify(TenantChangedEvent(t.id));
  return updated;
}

void InsertProject(storage::Session& s, const Project& p) {
  s.Execute(kInsertProject,
            {p.id, p.tenant_id, p.name, p.description, std::to_string(p.version),
             FormatStorage(p.created_at), FormatStorage(p.updated_at), ArchivedParam(p)});
}

std::optional<Project> SelectProject(storage::Session& s, const std::string& tenant_id,
                                     const std::string& id) {
  auto row = s.FetchOne(kSelectProject, {tenant_id, id});
  if (!row) return std::nullopt;
  return ToProject(*row);
}

std::vector<Project> SelectProjects(storage::Session& s, const std::string& tenant_id,
                                    const std::optional<std::string>& before_id, int limit) {
  auto rows = s.Fetch(kSelectProjects, {tenant_id, before_id, std::to_string(limit)});
  std::vector<Project> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(ToProject(r));
  return out;
}

bool UpdateProject(storage::Session& s, const Project& p, std::int64_t expected_version) {
  return s.Execute(kUpdateProject,
                   {p.tenant_id, p.id, p.name, p.description, FormatStorage(p.updated_at),
                    std::to_string(expected_version), ArchivedParam(p)}) == 1;
}

bool DeleteProject(storage::Session& s, const std::string& tenant_id, const std::string& id) {
  return s.Execute(kDeleteProject, {tenant_id, id}) == 1;
}

bool InsertSubscription(storage::Session& s, const Subscription& sub) {
  const bool inserted = s.Execute(kInsertSubscription, {sub.tenant_id, sub.product_id, sub.plan,
                                                        FormatStorage(sub.subscribed_at)}) == 1;
  if (inserted) s.Notify(TenantChangedEvent(sub.tenant_id));  // claims carry the products
  return inserted;
}

std::vector<Subscription> SelectSubscriptions(storage::Session& s, const std::string& tenant_id) {
  std::vector<Subscription> out;
  for (const auto& r : s.Fetch(kSelectSubscriptions, {tenant_id})) {
    out.push_back(Subscription{r.Text(0), r.Text(1), r.Text(2), r.Time(3)});
  }
  return out;
}

bool DeleteSubscription(storage::Session& s, const std::string& tenant_id,
                        const std::string& product_id) {
  const bool deleted = s.Execute(kDeleteSubscription, {tenant_id, product_id}) == 1;
  if (deleted) s.Notify(TenantChangedEvent(tenant_id));
  return deleted;
}

}  // namespace breakpilot::tenants::store
