// An organisation's members (M5.2 `/settings/users`, `/tenants/{id}/members`): the users of a
// tenant and their organisation roles, listed, added, changed and removed by its IT admins.
// Only organisation roles are given here (realm roles are staff's, through /users), a member
// keeps at least one role, and an organisation that has an IT_ADMIN keeps one: no change or
// removal leaves it without (409 last-admin), so its admins cannot lock it out by mistake.
//
//   Members members(db, clock, directory);
//   auto m = members.Add(actor, tenant_id, "bob@acme.example", {"USER"});
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "identity/directory.hpp"
#include "storage/database.hpp"

namespace breakpilot::identity {

struct Member {
  std::string user_id;
  std::string username;
  std::string display_name;
  std::vector<Role> org_roles;
  bool disabled = false;
  Timestamp since;  // when the membership was made
};

class Members {
 public:
  Members(storage::Database& db, const Clock& clock, Directory& directory)
      : db_(db), clock_(clock), directory_(directory) {}

  // By username; at most 1,000 (a trial has 5 seats; an organisation of more than a thousand
  // people signs in through its own identity provider).
  Result<std::vector<Member>> List(const std::string& tenant_id);
  // Makes the existing account `username` a member (a trial's seats counted).
  Result<Member> Add(const audit::Actor& actor, const std::string& tenant_id,
                     std::string_view username, const std::vector<std::string>& org_roles);
  // Replaces the member's organisation roles.
  Result<Member> SetRoles(const audit::Actor& actor, const std::string& tenant_id,
                          const std::string& user_id, const std::vector<std::string>& org_roles);
  Result<Ok> Remove(const audit::Actor& actor, const std::string& tenant_id,
                    const std::string& user_id);

 private:
  Result<Member> Get(const std::string& tenant_id, const std::string& user_id);
  // Replaces (roles set) or removes (nullopt) a membership, keeping an IT_ADMIN.
  Result<Ok> Change(const audit::Actor& actor, const std::string& tenant_id,
                    const std::string& user_id, const std::optional<std::vector<Role>>& roles);

  storage::Database& db_;
  const Clock& clock_;
  Directory& directory_;
};

}  // namespace breakpilot::identity
