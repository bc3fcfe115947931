#include "portal/project_pages.hpp"

#include <boost/json.hpp>

#include "core/uuid.hpp"

namespace breakpilot::portal {
namespace {

// The project named by the path: a UUID, or no project here at all.
Result<std::string> ProjectId(const http::Request& req) {
  const std::string id(req.Param("project_id").value_or(""));
  if (!IsCanonicalUuid(id)) return NotFound("project-not-found", "no such project");
  return NormalizeUuid(id);
}

}  // namespace

std::vector<std::string> ProjectPages::ProjectProducts(const std::string& tenant_id) {
  std::vector<std::string> names;
  auto subs = services_.subscriptions.List(tenant_id);
  if (!subs) return names;
  for (const auto& s : *subs) {
    const auto* m = services_.catalog.Find(s.product_id);
    if (m != nullptr && m->supports_projects) names.push_back(m->name);
  }
  return names;
}

Result<http::Response> ProjectPages::Render(const Visit& v,
                                            const std::optional<std::string>& cursor,
                                            const boost::json::object& extra, int status) {
  auto page = services_.projects.List(v.tenant->id, cursor, tenants::kMaxPageSize);
  if (!page) return page.error();
  const auto products = ProjectProducts(v.tenant->id);
  const bool can_write = !products.empty() && MayChange(v, identity::Action::kProjectWrite);
  boost::json::array active, archived;
  for (const auto& p : page->items) {
    boost::json::object row{{"id", p.id},
                            {"name", p.name},
                            {"description", p.description},
                            {"can_write", can_write},
                            {"csrf", v.session->csrf_token}};
    for (auto& [k, x] : TimeFields("created", p.created_at)) row[k] = x;
    for (auto& [k, x] : TimeFields("archived", p.archived_at)) row[k] = x;
    (p.archived_at ? archived : active).push_back(std::move(row));
  }
  std::string product_names;
  for (const auto& n : products) product_names += (product_names.empty() ? "" : ", ") + n;
  boost::json::object data{
      {"has_active", !active.empty()},     {"active", std::move(active)},
      {"has_archived", !archived.empty()}, {"archived_count", archived.size()},
      {"archived", std::move(archived)},   {"uses_projects", !products.empty()},
      {"products", product_names},         {"can_write", can_write},
      {"csrf", v.session->csrf_token}};
  if (page->next_cursor) data["next"] = "/projects?cursor=" + *page->next_cursor;
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "projects", "projects_nav", std::move(data), status);
}

Result<http::Response> ProjectPages::Refused(const Visit& v, const Error& e,
                                             boost::json::object extra) {
  extra["error"] = DomainMessage(v.lang, e);
  return Render(v, std::nullopt, extra, FormStatus(e));
}

Result<http::Response> ProjectPages::Show(http::Request& req, const Visit& v) {
  std::optional<std::string> cursor;
  if (auto c = req.QueryValue("cursor")) cursor = std::string(*c);
  auto notice = NoticeIf(req, v, "created", "project_created");
  if (notice.empty()) notice = NoticeIf(req, v, "renamed", "project_renamed");
  if (notice.empty()) notice = NoticeIf(req, v, "archived", "project_archived");
  if (notice.empty()) notice = NoticeIf(req, v, "restored", "project_restored");
  auto r = Render(v, cursor, notice, 200);
  // A cursor that is not ours is the page's 400, not a 5xx.
  if (!r && r.error().kind == ErrorKind::kMalformed) return Refused(v, r.error());
  return r;
}

Result<http::Response> ProjectPages::Create(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, std::nullopt, {{"error", form.error().detail}}, 400);
  const std::string name = FormField(*form, "name");
  const std::string description = FormField(*form, "description");
  // What was typed stays in the form (escaped by the template), cut to what may be kept.
  boost::json::object kept{{"form_name", name.substr(0, 200)},
                           {"form_description", description.substr(0, 2000)}};
  if (ProjectProducts(v.tenant->id).empty()) {
    return Refused(v,
                   Conflict("no-project-products", "No product uses projects",
                            "none of this organisation's products uses projects"),
                   kept);
  }
  auto p =
      services_.projects.Create(v.actor, v.tenant->id, {.name = name, .description = description});
  if (!p) return Refused(v, p.error(), kept);
  return SeeOther("/projects?created=1");
}

Result<http::Response> ProjectPages::Rename(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, std::nullopt, {{"error", form.error().detail}}, 400);
  auto id = ProjectId(req);
  if (!id) return Refused(v, id.error());
  auto p = services_.projects.Update(v.actor, v.tenant->id, *id, {.name = FormField(*form, "name")},
                                     std::nullopt);
  if (!p) return Refused(v, p.error());
  return SeeOther("/projects?renamed=1");
}

Result<http::Response> ProjectPages::SetArchived(http::Request& req, const Visit& v,
                                                 bool archived) {
  auto id = ProjectId(req);
  if (!id) return Refused(v, id.error());
  auto p =
      services_.projects.Update(v.actor, v.tenant->id, *id, {.archived = archived}, std::nullopt);
  if (!p) return Refused(v, p.error());
  return SeeOther(archived ? "/projects?archived=1" : "/projects?restored=1");
}

Result<http::Response> ProjectPages::Archive(http::Request& req, const Visit& v) {
  return SetArchived(req, v, true);
}

Result<http::Response> ProjectPages::Restore(http::Request& req, const Visit& v) {
  return SetArchived(req, v, false);
}

std::vector<Page> ProjectPages::Pages() {
  using A = identity::Action;
  const auto write =
      [this](std::string pattern, std::string name,
             Result<http::Response> (ProjectPages::*handler)(http::Request&, const Visit&)) {
        return Page{.method = "POST",
                    .pattern = std::move(pattern),
                    .name = std::move(name),
                    .sites = kOnTenant,
                    .action = A::kProjectWrite,
                    .tenant_write = true,
                    .handler = Bind(this, handler)};
      };
  return {{.method = "GET",
           .pattern = "/projects",
           .name = "projects",
           .sites = kOnTenant,
           .action = A::kProjectRead,
           .nav = "projects_nav",
           .nav_when =
               [this](const Visit& v) {
                 return v.tenant.has_value() && !ProjectProducts(v.tenant->id).empty();
               },
           .handler = Bind(this, &ProjectPages::Show)},
          write("/projects", "project_create", &ProjectPages::Create),
          write("/projects/{project_id}/rename", "project_rename", &ProjectPages::Rename),
          write("/projects/{project_id}/archive", "project_archive", &ProjectPages::Archive),
          write("/projects/{project_id}/restore", "project_restore", &ProjectPages::Restore)};
}

}  // namespace breakpilot::portal
