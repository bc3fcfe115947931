#include "identity/members.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/uuid.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

#define BP_MEMBER_SELECT                                                           \
  "SELECT u.id, u.username, u.display_name, m.org_roles, u.disabled, m.created_at" \
  " FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1"
constexpr Query kListMembers{"member_list", BP_MEMBER_SELECT " ORDER BY u.username LIMIT 1000"};
constexpr Query kSelectMember{"member_select", BP_MEMBER_SELECT " AND m.user_id = $2"};
// Locked (PostgreSQL): two admins demoting each other at once change the roles in turn, so
// the second sees the first's change and the organisation keeps an IT_ADMIN.
constexpr Query kLockTenant{"member_tenant_lock",
                            "SELECT status FROM tenants WHERE id = $1 FOR UPDATE",
                            "SELECT status FROM tenants WHERE id = $1"};
constexpr Query kSelectRoles{"member_roles",
                             "SELECT user_id, org_roles FROM memberships WHERE tenant_id = $1"};
constexpr Query kUpdateRoles{
    "member_update_roles",
    "UPDATE memberships SET org_roles = $3 WHERE tenant_id = $1 AND user_id = $2"};
constexpr Query kDeleteMember{"member_delete",
                              "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2"};

bool Truthy(const std::string& v) {
  return v == "t" || v == "1" || v == "true";
}

bool HasAdmin(const std::vector<Role>& roles) {
  return std::find(roles.begin(), roles.end(), Role::kItAdmin) != roles.end();
}

Error MemberNotFound() {
  return NotFound("member-not-found", "no member of this organisation with that user id");
}

// The organisation roles named, at least one.
Result<std::vector<Role>> ReadOrgRoles(const std::vector<std::string>& names) {
  std::vector<FieldError> errors;
  auto roles = ReadRoles(names, false, "/org_roles", errors);
  if (names.empty()) errors.push_back({"/org_roles", "must name at least one role"});
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  return roles;
}

}  // namespace

Result<std::vector<Member>> Members::List(const std::string& tenant_id) {
  std::vector<Member> out;
  if (!IsCanonicalUuid(tenant_id)) return out;
  db_.Read([&](storage::Session& s) {
    for (const auto& row : s.Fetch(kListMembers, {NormalizeUuid(tenant_id)})) {
      out.push_back({row.Text(0), row.Text(1), row.Text(2), ParseRolesJson(row.Text(3)),
                     Truthy(row.Text(4)), row.Time(5)});
    }
  });
  return out;
}

Result<Member> Members::Get(const std::string& tenant_id, const std::string& user_id) {
  if (!IsCanonicalUuid(tenant_id) || !IsCanonicalUuid(user_id)) return MemberNotFound();
  std::optional<Member> m;
  db_.Read([&](storage::Session& s) {
    if (auto row = s.FetchOne(kSelectMember, {NormalizeUuid(tenant_id), NormalizeUuid(user_id)})) {
      m = Member{row->Text(0),         row->Text(1), row->Text(2), ParseRolesJson(row->Text(3)),
                 Truthy(row->Text(4)), row->Time(5)};
    }
  });
  if (!m) return MemberNotFound();
  return *std::move(m);
}

Result<Member> Members::Add(const audit::Actor& actor, const std::string& tenant_id,
                            std::string_view username, const std::vector<std::string>& org_roles) {
  auto roles = ReadOrgRoles(org_roles);
  if (!roles) return roles.error();
  if (username.empty()) return ValidationFailed({{"/username", "is required"}});
  auto user = directory_.GetUserByName(username);
  if (!user) {
    return ValidationFailed({{"/username",
                              "no account has this username; staff create accounts"
                              " (POST /users), or the person starts a trial"}});
  }
  if (!user->realm_roles.empty()) {
    return ValidationFailed({{"/username",
                              "is a staff account, which works on every organisation"
                              " without being a member"}});
  }
  auto added = directory_.AddMembership(actor, user->id, {tenant_id, org_roles});
  if (!added) return added.error();
  return Get(tenant_id, user->id);
}

Result<Member> Members::SetRoles(const audit::Actor& actor, const std::string& tenant_id,
                                 const std::string& user_id,
                                 const std::vector<std::string>& org_roles) {
  auto roles = ReadOrgRoles(org_roles);
  if (!roles) return roles.error();
  if (auto ok = Change(actor, tenant_id, user_id, *roles); !ok) return ok.error();
  return Get(tenant_id, user_id);
}

Result<Ok> Members::Remove(const audit::Actor& actor, const std::string& tenant_id,
                           const std::string& user_id) {
  return Change(actor, tenant_id, user_id, std::nullopt);
}

Result<Ok> Members::Change(const audit::Actor& actor, const std::string& tenant_id,
                           const std::string& user_id,
                           const std::optional<std::vector<Role>>& roles) {
  if (!IsCanonicalUuid(tenant_id) || !IsCanonicalUuid(user_id)) return MemberNotFound();
  const std::string tenant = NormalizeUuid(tenant_id);
  const std::string user = NormalizeUuid(user_id);
  std::optional<Error> failed;
  db_.Write([&](storage::Session& s) {
    if (!s.FetchOne(kLockTenant, {tenant})) return void(failed = MemberNotFound());
    auto row = s.FetchOne(kSelectMember, {tenant, user});
    if (!row) return void(failed = MemberNotFound());
    const std::string username = row->Text(1);
    const auto before = ParseRolesJson(row->Text(3));
    // Another IT_ADMIN must remain when this member stops being one.
    if (HasAdmin(before) && !(roles && HasAdmin(*roles))) {
      int others = 0;
      for (const auto& m : s.Fetch(kSelectRoles, {tenant})) {
        if (m.Text(0) != user && HasAdmin(ParseRolesJson(m.Text(1)))) ++others;
      }
      if (others == 0) {
        return void(failed = Conflict("last-admin", "The last IT admin",
                                      username + " is the organisation's only IT_ADMIN: make"
                                                 " another member IT_ADMIN first"));
      }
    }
    if (roles) {
      s.Execute(kUpdateRoles, {tenant, user, RolesJson(*roles)});
    } else {
      s.Execute(kDeleteMember, {tenant, user});
    }
    s.Notify("user:" + user);  // claims cached for this subject are stale
    boost::json::object details{{"org_roles_before", RoleNames(before)}};
    if (roles) details["org_roles"] = RoleNames(*roles);
    audit::Record(s, clock_, actor,
                  {tenant, roles ? "user.membership_change" : "user.membership_remove",
                   roles ? 'u' : 'd', "user", user,
                   (roles ? "changed the roles of " : "removed ") + username +
                       (roles ? "" : " from the organisation"),
                   boost::json::serialize(details)});
  });
  if (failed) return *failed;
  return Ok{};
}

}  // namespace breakpilot::identity
