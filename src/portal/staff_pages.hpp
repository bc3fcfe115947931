// The backstage's people and machines (M5.2, M13.2): the built-in identity's users (search by
// name, every user's staff roles and organisations; a platform admin adds a staff member with a
// first password) and the service clients (a new client's secret is shown once, on the page
// that answers the form). The same directory and permissions as GET/POST /users and
// /service-clients.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class StaffPages : public PageModule {
 public:
  explicit StaffPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Users(http::Request& req, const Visit& v);
  Result<http::Response> UserCreate(http::Request& req, const Visit& v);
  Result<http::Response> Clients(http::Request& req, const Visit& v);
  Result<http::Response> ClientCreate(http::Request& req, const Visit& v);
  // The users page for `query` after `cursor`, with `extra` (a message, the form's values).
  http::Response UsersPage(const Visit& v, const std::string& query, const std::string& cursor,
                           const boost::json::object& extra, int status);
  http::Response ClientsPage(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
