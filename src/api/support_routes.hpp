// Support (M9.1, M9.2): a tenant's Helpdesk tickets, staff escalation to Gitea, and Gitea's
// signed issue webhook (`POST /gitea/webhook`).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class SupportRoutes : public Module {
 public:
  explicit SupportRoutes(const Services& s)
      : support_(s.support), tenants_(s.tenants), directory_(s.directory) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> TenantTickets(http::Request& req, const Caller& caller);
  Result<http::Response> OpenTicket(http::Request& req, const Caller& caller);
  Result<http::Response> AllTickets(http::Request& req, const Caller& caller);
  Result<http::Response> Escalate(http::Request& req, const Caller& caller);
  Result<http::Response> GiteaWebhook(http::Request& req, const Caller& caller);

  support::Support& support_;
  tenants::TenantService& tenants_;
  identity::Directory& directory_;
};

// A ticket and an escalation as the API shows them.
boost::json::object ToJson(const support::Ticket& t);
boost::json::object ToJson(const support::Escalation& e);

// Who the helpdesk answers for a ticket opened by `principal` for `tenant`: the signed-in
// user's address when their username is one, else the tenant's contact; empty when neither.
std::string ContactFor(identity::Directory& directory, const identity::Principal& principal,
                       const tenants::Tenant& tenant);

}  // namespace breakpilot::api
