#include "portal/member_pages.hpp"

#include <boost/json.hpp>

#include <array>

namespace breakpilot::portal {
namespace {

using identity::Role;

constexpr std::array kOrgRoles = {Role::kItAdmin, Role::kCxo, Role::kFinance, Role::kLegal,
                                  Role::kUser};

// The role checkboxes of one form: each organisation role, its label, and whether it is ticked.
boost::json::array RoleChoices(const Visit& v, const std::vector<Role>& have) {
  boost::json::array out;
  for (Role r : kOrgRoles) {
    const std::string name(identity::Name(r));
    out.push_back({{"value", name},
                   {"label", String(v.lang, "role_" + name)},
                   {"checked", std::find(have.begin(), have.end(), r) != have.end()}});
  }
  return out;
}

std::string RoleLabels(const Visit& v, const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) {
    out += (out.empty() ? "" : ", ") +
           std::string(String(v.lang, "role_" + std::string(identity::Name(r))));
  }
  return out;
}

std::vector<std::string> TickedRoles(const api::Form& form) {
  std::vector<std::string> roles;
  for (const auto& [k, value] : form) {
    if (k == "role") roles.push_back(value);
  }
  return roles;
}

}  // namespace

Result<http::Response> MemberPages::Render(const Visit& v, const boost::json::object& extra,
                                           int status) {
  auto members = services_.members.List(v.tenant->id);
  if (!members) return members.error();
  const bool can_write = MayChange(v, identity::Action::kMemberWrite);
  boost::json::array rows;
  for (const auto& m : *members) {
    boost::json::object row{{"user_id", m.user_id},
                            {"username", m.username},
                            {"display_name", m.display_name},
                            {"roles_text", RoleLabels(v, m.org_roles)},
                            {"roles", RoleChoices(v, m.org_roles)},
                            {"disabled", m.disabled},
                            {"is_me", v.user && v.user->id == m.user_id},
                            {"can_write", can_write},
                            {"csrf", v.session->csrf_token}};
    for (auto& [k, x] : TimeFields("since", m.since)) row[k] = x;
    rows.push_back(std::move(row));
  }
  boost::json::object data{{"members", std::move(rows)},
                           {"can_write", can_write},
                           {"new_roles", RoleChoices(v, {Role::kUser})},
                           {"csrf", v.session->csrf_token}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "members", "users_nav", std::move(data), status);
}

Result<http::Response> MemberPages::Refused(const Visit& v, const Error& e,
                                            boost::json::object extra) {
  extra["error"] = DomainMessage(v.lang, e);
  return Render(v, extra, FormStatus(e));
}

Result<http::Response> MemberPages::Show(http::Request& req, const Visit& v) {
  auto notice = NoticeIf(req, v, "added", "member_added");
  if (notice.empty()) notice = NoticeIf(req, v, "changed", "member_changed");
  if (notice.empty()) notice = NoticeIf(req, v, "removed", "member_removed");
  return Render(v, notice, 200);
}

Result<http::Response> MemberPages::Add(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  const std::string username = FormField(*form, "username");
  auto added = services_.members.Add(v.actor, v.tenant->id, username, TickedRoles(*form));
  // What was typed stays in the field (escaped by the template), cut to what a username may be.
  if (!added) return Refused(v, added.error(), {{"form_username", username.substr(0, 254)}});
  return SeeOther("/settings/users?added=1");
}

Result<http::Response> MemberPages::SetRoles(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  auto changed = services_.members.SetRoles(
      v.actor, v.tenant->id, std::string(req.Param("user_id").value_or("")), TickedRoles(*form));
  if (!changed) return Refused(v, changed.error());
  return SeeOther("/settings/users?changed=1");
}

Result<http::Response> MemberPages::Remove(http::Request& req, const Visit& v) {
  auto removed = services_.members.Remove(v.actor, v.tenant->id,
                                          std::string(req.Param("user_id").value_or("")));
  if (!removed) return Refused(v, removed.error());
  // Removing oneself ends one's place here: the next page is the sign-in's.
  if (v.user && v.user->id == req.Param("user_id")) return SeeOther("/login");
  return SeeOther("/settings/users?removed=1");
}

Result<http::Response> MemberPages::Identity(http::Request&, const Visit& v) {
  boost::json::object data;
  if (services_.provisioner != nullptr) {
    auto st = services_.provisioner->Status(v.tenant->id);
    boost::json::object kc{{"state", st ? st->state : std::string("not provisioned")}};
    if (st) {
      if (st->org_id) kc["org_id"] = *st->org_id;
      kc["attempts"] = st->attempts;
      // The last error stays with staff (GET /tenants/{id}/idp): it names Keycloak's insides.
      kc["failed"] = st->state == "failed";
    }
    data["keycloak"] = std::move(kc);
  } else {
    data["builtin"] = true;
  }
  if (services_.oidc_issuer != nullptr) data["issuer"] = services_.oidc_issuer->issuer();
  return PageResponse(v, "identity", "identity_nav", std::move(data));
}

std::vector<Page> MemberPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/settings/users",
           .name = "members",
           .sites = kOnTenant,
           .action = A::kMemberRead,
           .nav = "users_nav",
           .handler = Bind(this, &MemberPages::Show)},
          {.method = "GET",
           .pattern = "/settings/identity",
           .name = "identity",
           .sites = kOnTenant,
           .action = A::kMemberRead,
           .nav = "identity_nav",
           .handler = Bind(this, &MemberPages::Identity)},
          {.method = "POST",
           .pattern = "/settings/users",
           .name = "member_add",
           .sites = kOnTenant,
           .action = A::kMemberWrite,
           .tenant_write = true,
           .handler = Bind(this, &MemberPages::Add)},
          {.method = "POST",
           .pattern = "/settings/users/{user_id}/roles",
           .name = "member_roles",
           .sites = kOnTenant,
           .action = A::kMemberWrite,
           .tenant_write = true,
           .handler = Bind(this, &MemberPages::SetRoles)},
          {.method = "POST",
           .pattern = "/settings/users/{user_id}/remove",
           .name = "member_remove",
           .sites = kOnTenant,
           .action = A::kMemberWrite,
           .tenant_write = true,
           .handler = Bind(this, &MemberPages::Remove)}};
}

}  // namespace breakpilot::portal
