#include "identity/directory.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/uuid.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

constexpr std::size_t kMaxClientId = 64;

#define BP_USER_COLUMNS \
  "id, username, display_name, password_hash, realm_roles, disabled, created_at"
constexpr Query kInsertUser{
    "user_insert",
    "INSERT INTO users (id, username, display_name, password_hash, realm_roles, disabled,"
    " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"};
constexpr Query kSelectUserById{"user_select_by_id",
                                "SELECT " BP_USER_COLUMNS " FROM users WHERE id = $1"};
constexpr Query kSelectUserByName{"user_select_by_username",
                                  "SELECT " BP_USER_COLUMNS " FROM users WHERE username = $1"};
constexpr Query kInsertMembership{
    "membership_insert",
    "INSERT INTO memberships (user_id, tenant_id, org_roles, created_at) VALUES ($1, $2, $3, $4)"};
constexpr Query kSelectMemberships{
    "membership_list_by_user",
    "SELECT tenant_id, org_roles FROM memberships WHERE user_id = $1 ORDER BY tenant_id"};
// Locked (PostgreSQL), so that parallel sign-ups of one trial tenant count its seats in turn.
constexpr Query kSelectMemberTenant{"membership_tenant_lock",
                                    "SELECT status FROM tenants WHERE id = $1 FOR UPDATE",
                                    "SELECT status FROM tenants WHERE id = $1"};
constexpr Query kCountMembers{"membership_count",
                              "SELECT count(*) FROM memberships WHERE tenant_id = $1"};

// LIKE's own characters in $2 are escaped; letters compared in lower case.
constexpr Query kListUserIds{
    "user_list",
    "SELECT id FROM users WHERE username > $1 AND ($2::text IS NULL OR lower(username) LIKE"
    " $2::text ESCAPE '\\' OR lower(display_name) LIKE $2::text ESCAPE '\\')"
    " ORDER BY username LIMIT $3::integer",
    "SELECT id FROM users WHERE username > $1 AND ($2 IS NULL OR lower(username) LIKE $2"
    " ESCAPE '\\' OR lower(display_name) LIKE $2 ESCAPE '\\') ORDER BY username"
    " LIMIT CAST($3 AS INTEGER)"};
constexpr Query kUsernamesWithRole{
    "user_names_with_role",
    "SELECT username FROM users WHERE CAST(realm_roles AS text) LIKE $1 AND disabled = false"
    " ORDER BY username LIMIT 500",
    "SELECT username FROM users WHERE realm_roles LIKE $1 AND disabled = 0 ORDER BY username"
    " LIMIT 500"};
constexpr Query kListClients{
    "client_list",
    "SELECT client_id, realm_roles, disabled, created_at FROM service_clients ORDER BY client_id"
    " LIMIT 1000"};

constexpr Query kInsertClient{
    "client_insert",
    "INSERT INTO service_clients (client_id, secret_hash, realm_roles, disabled, created_at)"
    " VALUES ($1, $2, $3, '0', $4)"};
constexpr Query kSelectClient{
    "client_select",
    "SELECT secret_hash, realm_roles, disabled FROM service_clients WHERE client_id = $1"};

// An attempt is counted before its password is checked, in one statement, so parallel
// attempts cannot all read the same count and all go through (200 parallel wrong passwords got
// 9 checks instead of 5 when the count was read, then written). The upsert takes the row's lock;
// it counts only while the name is not waiting (locked_until unset or past).
constexpr Query kClaimAttempt{
    "throttle_claim_attempt",
    "INSERT INTO sign_in_throttle (subject, failures, locked_until, updated_at)"
    " VALUES ($1, 1, NULL, $2) ON CONFLICT (subject) DO UPDATE"
    " SET failures = sign_in_throttle.failures + 1, updated_at = $2"
    " WHERE sign_in_throttle.locked_until IS NULL OR sign_in_throttle.locked_until <= $2"
    " RETURNING failures"};
constexpr Query kSelectLock{"throttle_select_lock",
                            "SELECT locked_until FROM sign_in_throttle WHERE subject = $1"};
constexpr Query kSetLock{"throttle_set_lock",
                         "UPDATE sign_in_throttle SET locked_until = $2 WHERE subject = $1"};
constexpr Query kPruneThrottle{"throttle_prune",
                               "DELETE FROM sign_in_throttle WHERE updated_at < $1"
                               " AND (locked_until IS NULL OR locked_until < $2)"};
constexpr Query kClearThrottle{"throttle_clear", "DELETE FROM sign_in_throttle WHERE subject = $1"};

bool Truthy(const std::string& v) {
  return v == "t" || v == "1" || v == "true";
}

Error BadCredentials() {
  return Error{ErrorKind::kUnauthenticated, "invalid-credentials", "Sign-in failed",
               "unknown user or wrong password"};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether one more member fits the tenant: it exists, and a trial has kTrialQuota.seats seats
// (a seat is a member of the organization). Locks the tenant's row on PostgreSQL.
std::optional<Error> SeatFor(storage::Session& s, const std::string& tenant_id,
                             const std::string& field) {
  auto t = s.FetchOne(kSelectMemberTenant, {tenant_id});
  if (!t) return ValidationFailed({{field, "no tenant with this id"}});
  if (t->Text(0) == "trial" &&
      s.FetchOne(kCountMembers, {tenant_id})->Int(0) >= tenants::kTrialQuota.seats) {
    return tenants::TrialLimitReached("seats", tenants::kTrialQuota.seats);
  }
  return std::nullopt;
}
}  // namespace

std::vector<Role> ReadRoles(const std::vector<std::string>& names, bool realm,
                            const std::string& field, std::vector<FieldError>& errors) {
  std::vector<Role> roles;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto r = ParseRole(names[i]);
    if (!r || IsRealmRole(*r) != realm) {
      errors.push_back({field + "/" + std::to_string(i),
                        realm ? "must be one of BREAKPILOT_ADMIN, SUPPORT_ENGINEER, SALES_REP"
                              : "must be one of IT_ADMIN, CXO, FINANCE, LEGAL, USER"});
      continue;
    }
    if (std::find(roles.begin(), roles.end(), *r) == roles.end()) roles.push_back(*r);
  }
  return roles;
}

std::optional<std::string> ValidateUsername(const std::string& u) {
  // Up to an email address's 254: the self-serve trial's owner signs in with their address.
  if (u.size() < 3 || u.size() > 254) return "must be 3 to 254 characters";
  for (unsigned char c : u) {
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '+')) {
      return "may contain only letters, digits and . _ - @ +";
    }
  }
  return std::nullopt;
}

boost::json::array RoleNames(const std::vector<Role>& roles) {
  boost::json::array a;
  for (Role r : roles) a.emplace_back(Name(r));
  return a;
}

std::string RolesJson(const std::vector<Role>& roles) {
  return boost::json::serialize(RoleNames(roles));
}

std::vector<Role> ParseRolesJson(std::string_view json) {
  std::vector<Role> roles;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) return roles;
  for (const auto& e : v.as_array()) {
    if (!e.is_string()) continue;
    if (auto r = ParseRole(e.as_string())) roles.push_back(*r);
  }
  return roles;
}

std::optional<User> Directory::LoadUser(storage::Session& s, const std::string& value,
                                        bool by_username,
                                        std::optional<std::string>* password_hash) {
  auto row = s.FetchOne(by_username ? kSelectUserByName : kSelectUserById, {value});
  if (!row) return std::nullopt;
  if (password_hash) *password_hash = row->Optional(3);
  User u;
  u.id = row->Text(0);
  u.username = row->Text(1);
  u.display_name = row->Text(2);
  u.has_password = !row->IsNull(3);
  u.realm_roles = ParseRolesJson(row->Text(4));
  u.disabled = Truthy(row->Text(5));
  u.created_at = row->Time(6);
  for (const auto& m : s.Fetch(kSelectMemberships, {u.id})) {
    u.memberships.push_back({m.Text(0), ParseRolesJson(m.Text(1))});
  }
  return u;
}

Result<User> Directory::CreateUser(const audit::Actor& actor, const NewUser& in) {
  std::vector<FieldError> errors;
  const std::string username = Lower(in.username);
  if (auto p = ValidateUsername(username)) errors.push_back({"/username", *p});
  if (in.password &&
      (in.password->size() < kMinPasswordLength || in.password->size() > kMaxPasswordLength)) {
    errors.push_back({"/password", "must be 12 to 1024 characters"});
  }
  if (in.id && !IsCanonicalUuid(*in.id)) errors.push_back({"/id", "must be a UUID"});
  AddFieldError(
      errors, "/display_name",
      tenants::ValidateDisplayName(in.display_name.empty() ? username : in.display_name, 200));
  User u;
  u.realm_roles = ReadRoles(in.realm_roles, true, "/realm_roles", errors);
  for (std::size_t i = 0; i < in.memberships.size(); ++i) {
    const auto& m = in.memberships[i];
    const std::string field = "/memberships/" + std::to_string(i);
    if (!IsCanonicalUuid(m.tenant_id)) errors.push_back({field + "/tenant_id", "must be a UUID"});
    u.memberships.push_back(
        {NormalizeUuid(m.tenant_id), ReadRoles(m.org_roles, false, field + "/org_roles", errors)});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));

  const Timestamp now = clock_.Now();
  u.id = in.id ? NormalizeUuid(*in.id) : NewUuidV7(now);
  u.username = username;
  u.display_name = in.display_name.empty() ? username : in.display_name;
  u.has_password = in.password.has_value();
  u.created_at = now;
  // Hash outside the transaction: it takes tens of milliseconds on purpose.
  const storage::Param hash =
      in.password ? storage::Param(HashPassword(*in.password, cost_)) : std::nullopt;
  std::optional<Error> failed;
  try {
    db_.Write([&](storage::Session& s) {
      for (std::size_t i = 0; i < u.memberships.size(); ++i) {
        failed = SeatFor(s, u.memberships[i].tenant_id,
                         "/memberships/" + std::to_string(i) + "/tenant_id");
        if (failed) return;
      }
      s.Execute(kInsertUser, {u.id, u.username, u.display_name, hash, RolesJson(u.realm_roles),
                              "0",  // both stores read '0' as false
                              FormatStorage(now)});
      boost::json::array orgs;
      for (const auto& m : u.memberships) {
        s.Execute(kInsertMembership,
                  {u.id, m.tenant_id, RolesJson(m.org_roles), FormatStorage(now)});
        orgs.push_back({{"tenant_id", m.tenant_id}, {"org_roles", RoleNames(m.org_roles)}});
      }
      s.Notify("user:" + u.id);  // claims cached for this subject (an IdP user) are stale
      audit::Record(
          s, clock_, actor,
          {std::nullopt, "user.create", 'c', "user", u.id, "created user " + u.username,
           boost::json::serialize(boost::json::object{{"username", u.username},
                                                      {"realm_roles", RoleNames(u.realm_roles)},
                                                      {"memberships", orgs}})});
    });
  } catch (const storage::UniqueViolation&) {
    return Conflict("duplicate-user", "User already exists",
                    "a user named '" + u.username + "' (or with this id) already exists");
  }
  if (failed) return *failed;
  return u;
}

Result<User> Directory::EnsureUser(const audit::Actor& actor, const NewUser& in) {
  std::optional<User> existing;
  db_.Read([&](storage::Session& s) { existing = LoadUser(s, Lower(in.username), true); });
  if (existing) return *existing;
  return CreateUser(actor, in);
}

Result<User> Directory::GetUserByName(std::string_view username) {
  std::optional<User> u;
  const std::string name = Lower(username.substr(0, 254));
  db_.Read([&](storage::Session& s) { u = LoadUser(s, name, true); });
  if (!u) return NotFound("user-not-found", "no user named " + name);
  return *u;
}

Result<User> Directory::AddMembership(const audit::Actor& actor, const std::string& user_id,
                                      const NewMembership& in) {
  std::vector<FieldError> errors;
  if (!IsCanonicalUuid(in.tenant_id)) errors.push_back({"/tenant_id", "must be a UUID"});
  const Membership m{NormalizeUuid(in.tenant_id),
                     ReadRoles(in.org_roles, false, "/org_roles", errors)};
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  std::optional<Result<User>> out;
  try {
    db_.Write([&](storage::Session& s) {
      auto u = LoadUser(s, user_id, false);
      if (!u) return void(out = NotFound("user-not-found", "no user with id " + user_id));
      for (const auto& have : u->memberships) {
        if (have.tenant_id == m.tenant_id) {
          return void(out = Conflict("duplicate-membership", "Already a member",
                                     u->username + " is a member of this organisation already"));
        }
      }
      if (auto no = SeatFor(s, m.tenant_id, "/tenant_id")) return void(out = *no);
      s.Execute(kInsertMembership,
                {u->id, m.tenant_id, RolesJson(m.org_roles), FormatStorage(clock_.Now())});
      s.Notify("user:" + u->id);
      audit::Record(
          s, clock_, actor,
          {m.tenant_id, "user.membership_add", 'u', "user", u->id,
           "added " + u->username + " to the organisation",
           boost::json::serialize(boost::json::object{{"org_roles", RoleNames(m.org_roles)}})});
      u->memberships.push_back(m);
      out = *u;
    });
  } catch (const storage::UniqueViolation&) {
    return Conflict("duplicate-membership", "Already a member",
                    "this user is a member of this organisation already");
  }
  return *std::move(out);
}

Result<User> Directory::GetUser(const std::string& id) {
  std::optional<User> u;
  db_.Read([&](storage::Session& s) { u = LoadUser(s, id, false); });
  if (!u) return NotFound("user-not-found", "no user with id " + id);
  return *u;
}

Result<User> Directory::CheckPassword(std::string_view username_in, std::string_view password) {
  const std::string username = Lower(username_in.substr(0, 254));
  const Timestamp now = clock_.Now();
  // Claim the attempt first: count it as a failure until the password proves right. From the
  // kFreeFailures-th on, the claim also starts the wait, so no attempt can slip in while this
  // one is checked.
  std::optional<std::int64_t> attempt;
  std::optional<Timestamp> locked_until;
  db_.Write([&](storage::Session& s) {
    if (auto row = s.FetchOne(kClaimAttempt, {username, FormatStorage(now)})) {
      attempt = row->Int(0);
      if (*attempt >= kFreeFailures) {
        const int doublings = static_cast<int>(std::min<std::int64_t>(*attempt - kFreeFailures, 5));
        s.Execute(kSetLock, {username, FormatStorage(AddSeconds(
                                           now, std::min<std::int64_t>(900, 30LL << doublings)))});
      }
    } else if (auto lock = s.FetchOne(kSelectLock, {username}); lock && !lock->IsNull(0)) {
      locked_until = lock->Time(0);
    }
  });
  if (!attempt) {
    const auto wait = locked_until ? (locked_until->micros - now.micros) / kMicrosPerSecond + 1 : 1;
    Error e{ErrorKind::kTooManyRequests, "sign-in-throttled", "Too many failed sign-ins",
            "too many failed sign-ins for this user; retry in " + std::to_string(wait) + " s"};
    e.extensions["retry_after"] = wait;
    return e;
  }
  std::optional<User> user;
  std::optional<std::string> hash;
  db_.Read([&](storage::Session& s) { user = LoadUser(s, username, true, &hash); });
  bool ok = false;
  if (hash && password.size() <= kMaxPasswordLength) {
    ok = VerifyPassword(*hash, password);
  } else {
    BurnPasswordTime(cost_);  // unknown users cost the same time as known ones
  }
  if (ok && user && !user->disabled) {
    db_.Write([&](storage::Session& s) { s.Execute(kClearThrottle, {username}); });
    return *user;
  }
  if (*attempt == kFreeFailures) {  // the moment sign-in for this name starts to wait
    db_.Write([&](storage::Session& s) {
      audit::Record(s, clock_, audit::Actor{"anonymous", "", ""},
                    {std::nullopt, "user.sign_in_throttled", 'u', "user",
                     user ? user->id : std::string(), "repeated failed sign-ins for " + username,
                     boost::json::serialize(
                         boost::json::object{{"username", username}, {"failures", *attempt}})});
    });
  }
  return BadCredentials();
}

std::int64_t Directory::PruneThrottle() {
  const Timestamp now = clock_.Now();
  std::int64_t n = 0;
  db_.Write([&](storage::Session& s) {
    n = s.Execute(kPruneThrottle,
                  {FormatStorage(AddSeconds(now, -kSecondsPerDay)), FormatStorage(now)});
  });
  return n;
}

Result<NewClientSecret> Directory::CreateClient(const audit::Actor& actor,
                                                const std::string& client_id,
                                                const std::vector<std::string>& realm_roles) {
  std::vector<FieldError> errors;
  if (auto p = ValidateUsername(client_id)) {
    errors.push_back({"/client_id", *p});
  } else if (client_id.size() > kMaxClientId) {  // CheckClient looks no further
    errors.push_back({"/client_id", "must be 3 to 64 characters"});
  }
  std::vector<Role> roles;
  for (std::size_t i = 0; i < realm_roles.size(); ++i) {
    auto r = ParseRole(realm_roles[i]);
    if (!r || !IsRealmRole(*r)) {
      errors.push_back({"/realm_roles/" + std::to_string(i), "must be a realm role"});
    } else {
      roles.push_back(*r);
    }
  }
  if (roles.empty() && errors.empty()) roles.push_back(Role::kService);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  NewClientSecret out{{client_id, roles}, "bpcs_" + RandomToken(32)};
  try {
    db_.Write([&](storage::Session& s) {
      s.Execute(kInsertClient,
                {client_id, Sha256Hex(out.secret), RolesJson(roles), FormatStorage(clock_.Now())});
      audit::Record(
          s, clock_, actor,
          {std::nullopt, "service_client.create", 'c', "service_client", client_id,
           "created service client " + client_id,
           boost::json::serialize(boost::json::object{{"realm_roles", RoleNames(roles)}})});
    });
  } catch (const storage::UniqueViolation&) {
    return Conflict("duplicate-client", "Client already exists",
                    "a service client '" + client_id + "' already exists");
  }
  return out;
}

UserPage Directory::ListUsers(std::string_view query, std::string_view after, int limit) {
  storage::Param like;
  if (!query.empty()) like = storage::LikeContains(query, true);
  UserPage page;
  db_.Read([&](storage::Session& s) {
    const auto ids = s.Fetch(kListUserIds, {std::string(after), like, std::to_string(limit + 1)});
    for (const auto& r : ids) {
      if (auto u = LoadUser(s, r.Text(0), false)) page.items.push_back(*std::move(u));
    }
  });
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_after = page.items.back().username;
  }
  return page;
}

std::vector<std::string> Directory::UsernamesWithRole(Role role) {
  std::vector<std::string> out;
  // Role names are upper case and underscores; in the stored JSON array each is quoted.
  const std::string like = "%\"" + std::string(Name(role)) + "\"%";
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kUsernamesWithRole, {like})) out.push_back(r.Text(0));
  });
  return out;
}

std::vector<ServiceClient> Directory::ListClients() {
  std::vector<ServiceClient> out;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kListClients, {})) {
      out.push_back(ServiceClient{.client_id = r.Text(0),
                                  .realm_roles = ParseRolesJson(r.Text(1)),
                                  .disabled = Truthy(r.Text(2)),
                                  .created_at = r.Time(3)});
    }
  });
  return out;
}

Result<ServiceClient> Directory::CheckClient(std::string_view client_id, std::string_view secret) {
  std::optional<storage::Row> row;
  if (client_id.size() <= kMaxClientId) {
    db_.Read(
        [&](storage::Session& s) { row = s.FetchOne(kSelectClient, {std::string(client_id)}); });
  }
  // Compare hashes of equal length whether or not the client exists.
  const std::string stored = row ? row->Text(0) : std::string(64, '0');
  const bool ok = ConstantTimeEquals(Sha256Hex(secret), stored);
  if (!row || !ok || Truthy(row->Text(2))) {
    return Error{ErrorKind::kUnauthenticated, "invalid-client", "Client authentication failed",
                 "unknown client or wrong secret"};
  }
  return ServiceClient{.client_id = std::string(client_id),
                       .realm_roles = ParseRolesJson(row->Text(1))};
}

}  // namespace breakpilot::identity
