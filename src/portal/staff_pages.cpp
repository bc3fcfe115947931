#include "portal/staff_pages.hpp"

#include <boost/json.hpp>

#include <map>

#include "api/form.hpp"
#include "portal/portal.hpp"

namespace breakpilot::portal {
namespace {

constexpr int kUsersPerPage = 50;
constexpr std::size_t kMaxQuery = 200;
constexpr std::size_t kMaxCursor = 128;
// The roles a staff member may be given here (an organisation's roles come from its IT admin).
constexpr std::array kStaffRoles{identity::Role::kBreakpilotAdmin, identity::Role::kSupportEngineer,
                                 identity::Role::kSalesRep};

boost::json::array RoleChoices(const Visit& v, std::string_view selected) {
  boost::json::array out;
  for (const auto r : kStaffRoles) {
    const std::string name(identity::Name(r));
    out.push_back({{"value", name},
                   {"label", String(v.lang, "staff_role_" + name)},
                   {"selected", name == selected}});
  }
  return out;
}

}  // namespace

http::Response StaffPages::UsersPage(const Visit& v, const std::string& query,
                                     const std::string& cursor, const boost::json::object& extra,
                                     int status) {
  auto page = services_.directory.ListUsers(query, cursor, kUsersPerPage);
  boost::json::array rows;
  std::map<std::string, std::string> slugs;  // tenant id -> slug, each read once per page
  for (const auto& u : page.items) {
    std::string staff, orgs;
    for (const auto r : u.realm_roles) {
      staff += (staff.empty() ? "" : ", ");
      staff += String(v.lang, "staff_role_" + std::string(identity::Name(r)));
    }
    for (const auto& m : u.memberships) {
      auto [at, fresh] = slugs.try_emplace(m.tenant_id, m.tenant_id);
      if (fresh) {
        if (auto t = services_.tenants.Get(m.tenant_id)) at->second = t->slug;
      }
      orgs += (orgs.empty() ? "" : ", ") + at->second;
    }
    boost::json::object row{{"username", u.username}, {"name", u.display_name},
                            {"staff", staff},         {"orgs", orgs},
                            {"disabled", u.disabled}, {"sso", !u.has_password}};
    for (auto& [k, x] : TimeFields("created", u.created_at)) row[k] = x;
    rows.push_back(std::move(row));
  }
  boost::json::object data{{"q", query},
                           {"has_users", !rows.empty()},
                           {"users", std::move(rows)},
                           {"can_write", May(v, identity::Action::kUserWrite)},
                           {"csrf", v.session->csrf_token}};
  if (page.next_after) data["next"] = *page.next_after;
  data["roles"] = RoleChoices(v, "");  // a refused form's `extra` keeps its choice
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "backstage_users", "users_nav", std::move(data), status);
}

Result<http::Response> StaffPages::Users(http::Request& req, const Visit& v) {
  const std::string query(req.QueryValue("q").value_or(""));
  const std::string cursor(req.QueryValue("cursor").value_or(""));
  if (query.size() > kMaxQuery || cursor.size() > kMaxCursor) {
    return UsersPage(v, "", "", {{"error", String(v.lang, "user_search_invalid")}}, 400);
  }
  return UsersPage(v, query, cursor, NoticeIf(req, v, "created", "staff_user_created"), 200);
}

Result<http::Response> StaffPages::UserCreate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return form.error();
  identity::NewUser in{.username = FormField(*form, "username"),
                       .password = FormField(*form, "password"),
                       .display_name = FormField(*form, "display_name"),
                       .realm_roles = {FormField(*form, "role")}};
  // What was typed comes back with a refusal (never the password).
  boost::json::object kept{{"new_username", in.username},
                           {"new_name", in.display_name},
                           {"roles", RoleChoices(v, in.realm_roles.front())}};
  const bool staff_role = std::any_of(kStaffRoles.begin(), kStaffRoles.end(), [&](auto r) {
    return identity::Name(r) == in.realm_roles.front();
  });
  if (!staff_role || in.password->empty()) {
    kept["error"] = String(v.lang, "staff_user_invalid");
    return UsersPage(v, "", "", kept, 422);
  }
  // argon2 takes tens of milliseconds: on the password pool, as at sign-in. (When its queue
  // is full: the error page, rather than listing users for an answer rarely sent.)
  auto busy = ErrorPage(v, 503);
  return http::Response::Defer(
      services_.password_pool,
      [this, v, in, kept]() mutable {
        auto u = services_.directory.CreateUser(v.actor, in);
        if (!u) {
          kept["error"] = DomainMessage(v.lang, u.error());
          return UsersPage(v, "", "", kept, FormStatus(u.error()));
        }
        return SeeOther("/users?created=1&q=" + u->username);
      },
      std::move(busy));
}

http::Response StaffPages::ClientsPage(const Visit& v, const boost::json::object& extra,
                                       int status) {
  boost::json::array rows;
  for (const auto& c : services_.directory.ListClients()) {
    std::string roles;
    for (const auto r : c.realm_roles)
      roles += (roles.empty() ? "" : ", ") + std::string(identity::Name(r));
    boost::json::object row{{"id", c.client_id}, {"roles", roles}, {"disabled", c.disabled}};
    for (auto& [k, x] : TimeFields("created", c.created_at)) row[k] = x;
    rows.push_back(std::move(row));
  }
  boost::json::object data{{"has_clients", !rows.empty()},
                           {"clients", std::move(rows)},
                           {"can_write", May(v, identity::Action::kUserWrite)},
                           {"csrf", v.session->csrf_token}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "backstage_clients", "service_clients_nav", std::move(data), status);
}

Result<http::Response> StaffPages::Clients(http::Request&, const Visit& v) {
  return ClientsPage(v, {}, 200);
}

Result<http::Response> StaffPages::ClientCreate(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return form.error();
  const std::string id = FormField(*form, "client_id");
  auto c = services_.directory.CreateClient(v.actor, id, {});
  if (!c) {
    return ClientsPage(v, {{"error", DomainMessage(v.lang, c.error())}, {"new_id", id}},
                       FormStatus(c.error()));
  }
  // The secret, once: this answer is the only place it is ever shown.
  return ClientsPage(v, {{"secret", c->secret}, {"secret_for", c->client.client_id}}, 200);
}

std::vector<Page> StaffPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/users",
           .name = "backstage_users",
           .sites = kOnBackstage,
           .action = A::kUserRead,
           .nav = "users_nav",
           .handler = Bind(this, &StaffPages::Users)},
          {.method = "POST",
           .pattern = "/users",
           .name = "backstage_user_create",
           .sites = kOnBackstage,
           .action = A::kUserWrite,
           .handler = Bind(this, &StaffPages::UserCreate)},
          {.method = "GET",
           .pattern = "/service-clients",
           .name = "backstage_clients",
           .sites = kOnBackstage,
           .action = A::kUserRead,
           .nav = "service_clients_nav",
           .handler = Bind(this, &StaffPages::Clients)},
          {.method = "POST",
           .pattern = "/service-clients",
           .name = "backstage_client_create",
           .sites = kOnBackstage,
           .action = A::kUserWrite,
           .handler = Bind(this, &StaffPages::ClientCreate)}};
}

}  // namespace breakpilot::portal
