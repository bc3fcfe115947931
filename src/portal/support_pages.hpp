// Support (M9.1, M9.2): the tenant's helpdesk tickets at <slug>.D/support, listed and opened
// through Frappe Helpdesk (support.use, as GET/POST /tenants/{id}/tickets), and the backstage's
// /tickets: every tenant's tickets, each with a button that escalates it to an issue in Gitea
// (support.escalate, as POST /tickets/{ticket_id}/escalate). While Helpdesk does not answer,
// the pages say so in a notice, never an error page.
#pragma once

#include "portal/page.hpp"

namespace breakpilot::portal {

class SupportPages : public PageModule {
 public:
  explicit SupportPages(const api::Services& s) : services_(s) {}
  std::vector<Page> Pages() override;

 private:
  Result<http::Response> Support(http::Request& req, const Visit& v);
  Result<http::Response> Open(http::Request& req, const Visit& v);
  Result<http::Response> Tickets(http::Request& req, const Visit& v);
  Result<http::Response> Escalate(http::Request& req, const Visit& v);
  http::Response RenderSupport(const Visit& v, const boost::json::object& extra, int status);
  http::Response RenderTickets(const Visit& v, const boost::json::object& extra, int status);
  api::Services services_;
};

}  // namespace breakpilot::portal
