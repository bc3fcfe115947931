#include "identity/provisioning.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

const Logger kLog("provisioning");
constexpr std::int64_t kLeaseSeconds = 120;

constexpr Query kEnqueue{
    "idp_enqueue",
    "INSERT INTO tenant_idp_config (tenant_id, provider, config, provisioning_state, updated_at)"
    " VALUES ($1, 'keycloak', $2, 'pending', $3)"};

#define BP_DUE_WHERE                                                     \
  " WHERE i.provider = 'keycloak'"                                       \
  " AND (i.provisioning_state IN ('pending', 'org_created')"             \
  "      OR (i.provisioning_state = 'ready' AND t.status = 'archived'))" \
  " AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= $1)"          \
  " AND (i.lease_until IS NULL OR i.lease_until <= $1)"
// Claims due rows by leasing them; replicas skip rows another one holds.
constexpr Query kClaimDue{
    "idp_claim_due",
    "UPDATE tenant_idp_config SET lease_until = $2 WHERE tenant_id IN ("
    " SELECT i.tenant_id FROM tenant_idp_config i JOIN tenants t ON t.id = i.tenant_id" BP_DUE_WHERE
    " ORDER BY i.tenant_id LIMIT $3::integer FOR UPDATE OF i SKIP LOCKED)"
    " RETURNING tenant_id",
    "UPDATE tenant_idp_config SET lease_until = $2 WHERE tenant_id IN ("
    " SELECT i.tenant_id FROM tenant_idp_config i JOIN tenants t ON t.id = i.tenant_id" BP_DUE_WHERE
    " ORDER BY i.tenant_id LIMIT CAST($3 AS INTEGER))"
    " RETURNING tenant_id"};
constexpr Query kSelect{
    "idp_select",
    "SELECT tenant_id, provider, org_id, provisioning_state, attempts, last_error,"
    " next_attempt_at, config FROM tenant_idp_config WHERE tenant_id = $1"};
constexpr Query kAdvance{
    "idp_advance",
    "UPDATE tenant_idp_config SET provisioning_state = $2, org_id = COALESCE($3, org_id),"
    " attempts = 0, last_error = NULL, next_attempt_at = NULL, lease_until = NULL,"
    " updated_at = $4 WHERE tenant_id = $1"};
constexpr Query kFail{
    "idp_fail",
    "UPDATE tenant_idp_config SET provisioning_state = $2, attempts = $3, last_error = $4,"
    " next_attempt_at = $5, lease_until = NULL, updated_at = $6 WHERE tenant_id = $1"};

ProvisioningStatus RowToStatus(const storage::Row& r) {
  ProvisioningStatus st{.tenant_id = r.Text(0),
                        .provider = r.Text(1),
                        .org_id = r.Optional(2),
                        .state = r.Text(3),
                        .attempts = static_cast<int>(r.Int(4)),
                        .last_error = r.Optional(5),
                        .next_attempt_at = r.OptionalTime(6)};
  boost::system::error_code ec;
  auto cfg = boost::json::parse(r.Text(7), ec);
  if (!ec && cfg.is_object()) {
    if (const auto* e = cfg.as_object().if_contains("admin_email"); e && e->is_string()) {
      st.admin_email = std::string(e->as_string());
    }
  }
  return st;
}

}  // namespace

tenants::TenantCreatedHook Provisioner::CreateHook() {
  return [this](storage::Session& s, const audit::Actor& actor, const tenants::Tenant& t,
                const tenants::CreateTenantInput& in) -> Result<Ok> {
    boost::json::object cfg;
    if (in.admin_email) cfg["admin_email"] = *in.admin_email;
    s.Execute(kEnqueue, {t.id, boost::json::serialize(cfg), FormatStorage(clock_.Now())});
    audit::Record(s, clock_, actor,
                  {t.id, "tenant.idp.queued", 'c', "idp_organization", t.slug,
                   "Keycloak organization for " + t.slug + " queued", "{}"});
    return Ok{};
  };
}

Result<ProvisioningStatus> Provisioner::Status(const std::string& tenant_id) {
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelect, {tenant_id}); });
  if (!row) {
    return NotFound("idp-not-provisioned",
                    "tenant " + tenant_id + " has no identity provider provisioning");
  }
  return RowToStatus(*row);
}

bool Provisioner::Step(const ProvisioningStatus& row, const tenants::Tenant& tenant) {
  const audit::Actor system{"system:keycloak-provisioning", "", ""};
  std::string next, step, event;
  std::optional<std::string> org;
  Result<Ok> done = Ok{};
  if (tenant.status == tenants::Status::kArchived && row.state == "pending") {
    next = "cancelled", step = "cancel", event = "tenant.idp.cancelled";
  } else if (tenant.status == tenants::Status::kArchived) {
    next = "disabled", step = "disable_organization", event = "tenant.idp.org_disabled";
    done = row.org_id ? keycloak_.SetOrganizationEnabled(*row.org_id, false) : Result<Ok>(Ok{});
  } else if (row.state == "pending") {
    step = "create_organization", event = "tenant.idp.org_created";
    auto id = keycloak_.EnsureOrganization(tenant.id, tenant.name, tenant.slug);
    if (id) {
      org = *id;
      next = row.admin_email ? "org_created" : "ready";
    } else {
      done = std::move(id).error();
    }
  } else {  // org_created: invite the first IT_ADMIN
    next = "ready", step = "invite_admin", event = "tenant.idp.admin_invited";
    done = keycloak_.InviteUser(row.org_id.value_or(""), row.admin_email.value_or(""));
  }
  const Timestamp now = clock_.Now();
  if (done) {
    db_.Write([&](storage::Session& s) {
      s.Execute(kAdvance, {tenant.id, next, org, FormatStorage(now)});
      audit::Record(s, clock_, system,
                    {tenant.id, event, 'u', "idp_organization",
                     org.value_or(row.org_id.value_or("")), step + " done for " + tenant.slug,
                     boost::json::serialize(boost::json::object{{"state", next}})});
    });
    return true;
  }
  const int attempts = row.attempts + 1;
  const bool give_up = attempts >= kMaxProvisioningAttempts;
  const std::int64_t backoff = std::min<std::int64_t>(600, 5LL << std::min(attempts - 1, 10));
  db_.Write([&](storage::Session& s) {
    s.Execute(
        kFail,
        {tenant.id, give_up ? "failed" : row.state, std::to_string(attempts), done.error().detail,
         give_up ? storage::Param() : storage::Param(FormatStorage(AddSeconds(now, backoff))),
         FormatStorage(now)});
    audit::Record(
        s, clock_, system,
        {tenant.id, give_up ? "tenant.idp.failed" : "tenant.idp.step_failed", 'u',
         "idp_organization", row.org_id.value_or(""),
         step + " failed for " + tenant.slug + " (attempt " + std::to_string(attempts) + ")",
         boost::json::serialize(boost::json::object{
             {"step", step}, {"attempt", attempts}, {"error", done.error().detail}})});
  });
  kLog.Warn("provisioning step failed", {{"tenant_id", tenant.id},
                                         {"step", step},
                                         {"attempt", attempts},
                                         {"error", done.error().detail}});
  return false;
}

int Provisioner::RunDue(int limit) {
  const Timestamp now = clock_.Now();
  std::vector<std::string> claimed;
  db_.Write([&](storage::Session& s) {
    for (const auto& r :
         s.Fetch(kClaimDue, {FormatStorage(now), FormatStorage(AddSeconds(now, kLeaseSeconds)),
                             std::to_string(limit)})) {
      claimed.push_back(r.Text(0));
    }
  });
  int steps = 0;
  for (const auto& id : claimed) {
    // A tenant's steps run back to back while they succeed (create, then invite).
    for (int i = 0; i < 3; ++i) {
      std::optional<storage::Row> row;
      std::optional<tenants::Tenant> tenant;
      db_.Read([&](storage::Session& s) {
        row = s.FetchOne(kSelect, {id});
        tenant = tenants::store::SelectTenant(s, id);
      });
      if (!row || !tenant) break;
      const auto st = RowToStatus(*row);
      const bool due = st.state == "pending" || st.state == "org_created" ||
                       (st.state == "ready" && tenant->status == tenants::Status::kArchived);
      if (!due) break;
      ++steps;
      if (!Step(st, *tenant)) break;
    }
  }
  return steps;
}

}  // namespace breakpilot::identity
