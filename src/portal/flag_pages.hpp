// Feature flags on the backstage (§1.12, M19.1): `/flags` lists every flag of the built-in store
// with its rules, and lets staff make one, change its default and rules, or delete it: the same
// FlagService calls and permissions (flag.read, flag.manage) as the API's /flags.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class FlagPages : public PageModule {
 public:
  explicit FlagPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> List(http::Request& req, const Visit& v);
  Result<http::Response> Create(http::Request& req, const Visit& v);
  Result<http::Response> Change(http::Request& req, const Visit& v);
  Result<http::Response> Delete(http::Request& req, const Visit& v);
  http::Response Render(const Visit& v, const boost::json::object& extra, int status);
  // A rule as a line of text: "tenants acme, beta · plans enterprise · 30 % → on".
  std::string Describe(const flags::Rule& r);
  api::Services services_;
};

}  // namespace breakpilot::portal
