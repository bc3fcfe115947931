// An organisation's members (M5.2): /tenants/{id}/members, the same use cases as the portal's
// /settings/users (identity::Members).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class MemberRoutes : public Module {
 public:
  explicit MemberRoutes(const Services& s) : members_(s.members) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> MemberList(http::Request& req, const Caller& caller);
  Result<http::Response> MemberAdd(http::Request& req, const Caller& caller);
  Result<http::Response> MemberSetRoles(http::Request& req, const Caller& caller);
  Result<http::Response> MemberRemove(http::Request& req, const Caller& caller);

  identity::Members& members_;
};

// A member as the API shows it.
boost::json::object ToJson(const identity::Member& m);

}  // namespace breakpilot::api
