// A tenant's projects at <slug>.D/projects (M5.2): list, create, rename, archive and restore,
// over the same tenants::ProjectService as /tenants/{id}/projects. Projects belong to products
// that use them (`supports_projects` in the manifest): without such a subscription the page
// says so and offers no form.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class ProjectPages : public PageModule {
 public:
  explicit ProjectPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Show(http::Request& req, const Visit& v);
  Result<http::Response> Create(http::Request& req, const Visit& v);
  Result<http::Response> Rename(http::Request& req, const Visit& v);
  Result<http::Response> Archive(http::Request& req, const Visit& v);
  Result<http::Response> Restore(http::Request& req, const Visit& v);
  Result<http::Response> SetArchived(http::Request& req, const Visit& v, bool archived);
  // The page (one page of projects from `cursor`), with what a form left to say.
  Result<http::Response> Render(const Visit& v, const std::optional<std::string>& cursor,
                                const boost::json::object& extra, int status);
  // A use case's refusal as the page with its message (a 5xx as a 503 page).
  Result<http::Response> Refused(const Visit& v, const Error& e, boost::json::object extra = {});
  // The subscribed products that use projects, by name.
  std::vector<std::string> ProjectProducts(const std::string& tenant_id);
  api::Services services_;
};

}  // namespace breakpilot::portal
