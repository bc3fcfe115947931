// A tenant's projects: create, list, read, rename, delete.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class ProjectRoutes : public Module {
 public:
  explicit ProjectRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> ProjectCreate(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectList(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectGet(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectUpdate(http::Request& req, const Caller& caller);
  Result<http::Response> ProjectDelete(http::Request& req, const Caller& caller);

  tenants::ProjectService& projects_;
};

}  // namespace breakpilot::api
