// The built-in identity's directory: users (argon2id passwords), their organization memberships
// and roles, and service clients (machine credentials for /internal/*). Sign-in checks live here
// too, with throttling of repeated failures kept in the database so replicas share it.
//
//   Directory dir(db, clock, PasswordCost{});
//   auto u = dir.CreateUser(actor, {.username = "ada", .password = "...", .realm_roles = {...}});
//   auto who = dir.CheckPassword("ada", "...");     // 401 invalid-credentials / 429 throttled
#pragma once

#include <boost/json/array.hpp>

#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "identity/password.hpp"
#include "identity/permissions.hpp"
#include "storage/database.hpp"

namespace breakpilot::identity {

struct Membership {
  std::string tenant_id;
  std::vector<Role> org_roles;
};

struct User {
  std::string id;
  std::string username;
  std::string display_name;
  std::vector<Role> realm_roles;
  std::vector<Membership> memberships;
  bool disabled = false;
  bool has_password = false;
  Timestamp created_at;
};

struct NewMembership {
  std::string tenant_id;
  std::vector<std::string> org_roles;
};

struct NewUser {
  std::optional<std::string> id;  // the IdP subject, for users who sign in elsewhere
  std::string username;
  std::optional<std::string> password;
  std::string display_name;
  std::vector<std::string> realm_roles;
  std::vector<NewMembership> memberships;
};

struct ServiceClient {
  std::string client_id;
  std::vector<Role> realm_roles;
  bool disabled = false;
  Timestamp created_at;  // set by ListClients
};

// A page of users in username order; `next_after` is the username to continue after.
struct UserPage {
  std::vector<User> items;
  std::optional<std::string> next_after;
};

struct NewClientSecret {
  ServiceClient client;
  std::string secret;  // shown once
};

// Sign-in throttling: after kFreeFailures consecutive failures for a username, each further
// attempt waits 30 s, doubling per failure, at most 15 minutes.
inline constexpr int kFreeFailures = 5;

class Directory {
 public:
  Directory(storage::Database& db, const Clock& clock, PasswordCost cost)
      : db_(db), clock_(clock), cost_(cost) {}

  Result<User> CreateUser(const audit::Actor& actor, const NewUser& in);
  // Creates the user unless one with that username exists (then returns it unchanged).
  Result<User> EnsureUser(const audit::Actor& actor, const NewUser& in);
  Result<User> GetUser(const std::string& id);
  Result<User> GetUserByName(std::string_view username);
  // Makes an existing user a member of one more organisation (a trial's seats counted).
  Result<User> AddMembership(const audit::Actor& actor, const std::string& user_id,
                             const NewMembership& in);
  Result<User> CheckPassword(std::string_view username, std::string_view password);
  // Forgets failure counts untouched for a day whose wait is over (hourly; a storm of made-up
  // usernames leaves a row each). Returns how many.
  std::int64_t PruneThrottle();

  // Users in username order, after the username `after` ("" from the start), at most `limit`;
  // `query` (when not empty) is part of the username or the shown name, in any case.
  UserPage ListUsers(std::string_view query, std::string_view after, int limit);
  // The usernames of the users with this realm role, in order (a sales owner is chosen from
  // them), at most 500.
  std::vector<std::string> UsernamesWithRole(Role role);

  Result<NewClientSecret> CreateClient(const audit::Actor& actor, const std::string& client_id,
                                       const std::vector<std::string>& realm_roles);
  Result<ServiceClient> CheckClient(std::string_view client_id, std::string_view secret);
  // Every service client, by id (there are few: machines, not people).
  std::vector<ServiceClient> ListClients();

 private:
  // `password_hash`, when given, receives the stored hash (for sign-in).
  std::optional<User> LoadUser(storage::Session& s, const std::string& column_value,
                               bool by_username,
                               std::optional<std::string>* password_hash = nullptr);

  storage::Database& db_;
  const Clock& clock_;
  PasswordCost cost_;
};

// Why `username` (lower case) cannot name a user, or nothing when it can.
std::optional<std::string> ValidateUsername(const std::string& username);

// Parses role names for the given kind (realm or org); reports each unknown or misplaced name
// as a FieldError at `field`/<index>. Duplicates are dropped.
std::vector<Role> ReadRoles(const std::vector<std::string>& names, bool realm,
                            const std::string& field, std::vector<FieldError>& errors);

// Role lists travel as JSON arrays of names (in the database, tokens and API answers).
boost::json::array RoleNames(const std::vector<Role>& roles);
std::string RolesJson(const std::vector<Role>& roles);
std::vector<Role> ParseRolesJson(std::string_view json);

}  // namespace breakpilot::identity
