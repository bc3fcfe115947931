// Support (M9.1, M9.2): a tenant's tickets in Frappe Helpdesk, escalated by staff to an issue
// in Gitea, resolved when that issue is closed.
//
//   portal /support, GET/POST /tenants/{id}/tickets   Tickets(tenant), Open(...): HD Tickets of
//       the tenant's HD Customer (BP-<tenant id>, made once), raised by the signed-in user's
//       email, which Helpdesk maps to the customer's contact
//   backstage /tickets, GET /tickets                  Tickets(nullopt): every tenant's
//   POST /tickets/{ticket_id}/escalate                Escalate: an issue in the configured Gitea
//       repository, once per ticket (a claimed row, so two clicks make one issue)
//   POST /gitea/webhook                               ReceiveGitea: Gitea's "issues" event,
//       signed (X-Gitea-Signature: hex HMAC-SHA256 of the body); an escalated issue closed ->
//       the ticket Resolved in Helpdesk through a durable job (support.sync), once
//
// Opening a ticket is a call made while the customer waits: when Helpdesk is down they are told
// so and nothing is recorded. Resolving is queued, so a close is never lost.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "backoffice/erpnext.hpp"
#include "backoffice/frappe_client.hpp"
#include "jobs/runner.hpp"
#include "storage/database.hpp"
#include "support/gitea_client.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::support {

inline constexpr std::string_view kSupportJob = "support.sync";

struct SupportSettings {
  backoffice::FrappeSettings helpdesk;  // url empty: tickets are off
  GiteaSettings gitea;                  // url empty: escalation is off
  std::string gitea_repo;               // "owner/name": where escalated tickets go
  std::string gitea_webhook_secret;     // empty: POST /gitea/webhook is off
  std::string public_url;               // for the link back in an issue's body
};

struct Escalation {
  std::string repo;
  std::int64_t number = 0;
  std::string url;
  std::string state;  // "open", "closed"
};

struct Ticket {
  std::string id;  // Helpdesk's name (an autoincrement number)
  std::string tenant_id;
  std::string subject;
  std::string description;
  std::string status;  // Helpdesk's: Open, Replied, Paused, Resolved, Closed
  std::string raised_by;
  std::string opened;  // Helpdesk's opening_date (YYYY-MM-DD)
  std::optional<Escalation> escalation;
};

struct TicketList {
  std::vector<Ticket> tickets;
  bool unavailable = false;  // Helpdesk did not answer
};

struct NewTicket {
  std::string subject;      // 1..140 characters
  std::string description;  // 1..20000
  std::string raised_by;    // the signed-in user's email
};

struct GiteaOutcome {
  bool repeat = false;
  bool ignored = false;  // not an escalated issue's close: nothing to do
  std::string ticket_id;
};

class Support {
 public:
  Support(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
          SupportSettings settings, const outbound::Fetcher& fetch);
  bool on() const { return settings_.helpdesk.on(); }
  bool escalation_on() const {
    return on() && settings_.gitea.on() && !settings_.gitea_repo.empty();
  }

  // A tenant's tickets, or every tenant's (staff), newest first, at most 100.
  TicketList Tickets(const std::optional<std::string>& tenant_id);
  Result<Ticket> Open(const audit::Actor& actor, const std::string& tenant_id, const NewTicket& in);
  Result<Escalation> Escalate(const audit::Actor& actor, const std::string& ticket_id);
  Result<GiteaOutcome> ReceiveGitea(std::string_view event, std::string_view signature,
                                    std::string_view body);

  void Register(jobs::Runner& runner);
  void Sync(jobs::JobContext& ctx);

  // Helpdesk's and Gitea's, for /readyz, /metrics and the backstage.
  std::vector<backoffice::IntegrationStatus> Status() const;

 private:
  struct Counters {
    std::atomic<std::int64_t> failures{0}, last_success_us{0}, last_failure_us{0};
    std::string last_error;  // under mu_
  };
  void Failed(Counters& c, const Error& e);
  void Succeeded(Counters& c);
  // The tickets with their escalations: of one tenant's, or (nullopt) the latest of all.
  std::vector<Ticket> WithEscalations(std::vector<Ticket> tickets,
                                      const std::optional<std::string>& tenant_id);

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  SupportSettings settings_;
  backoffice::FrappeClient helpdesk_;
  GiteaClient gitea_;
  Counters helpdesk_stats_, gitea_stats_;
  mutable std::mutex mu_;
};

}  // namespace breakpilot::support
