#include "support/support.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "jobs/queue.hpp"

namespace breakpilot::support {
namespace {

namespace json = boost::json;
using storage::Query;

const Logger kLog("support");
const audit::Actor kGiteaActor{.id = "system:gitea", .name = "Gitea"};
constexpr std::int64_t kStaleClaimSeconds = 300;

constexpr Query kClaim{
    "support_escalation_claim",
    "INSERT INTO support_escalations (ticket_id, tenant_id, repo, state, escalated_by, created_at)"
    " VALUES ($1, $2, $3, 'claimed', $4, $5) ON CONFLICT (ticket_id) DO NOTHING"};
// A claim left by a replica that died between Gitea's answer and ours: taken over.
constexpr Query kReclaim{"support_escalation_reclaim",
                         "UPDATE support_escalations SET escalated_by = $2, created_at = $3"
                         " WHERE ticket_id = $1 AND state = 'claimed' AND created_at < $4"};
constexpr Query kRelease{
    "support_escalation_release",
    "DELETE FROM support_escalations WHERE ticket_id = $1 AND state = 'claimed'"};
constexpr Query kOpened{"support_escalation_opened",
                        "UPDATE support_escalations SET state = 'open', issue_number = $2,"
                        " issue_url = $3 WHERE ticket_id = $1 AND state = 'claimed'"};
constexpr Query kOne{"support_escalation_one",
                     "SELECT repo, issue_number, issue_url, state FROM support_escalations"
                     " WHERE ticket_id = $1"};
constexpr Query kOfTenant{"support_escalations_of_tenant",
                          "SELECT ticket_id, repo, issue_number, issue_url, state"
                          " FROM support_escalations WHERE tenant_id = $1 AND state <> 'claimed'"};
constexpr Query kAll{"support_escalations_all",
                     "SELECT ticket_id, repo, issue_number, issue_url, state"
                     " FROM support_escalations WHERE state <> 'claimed'"
                     " ORDER BY created_at DESC LIMIT 1000"};
constexpr Query kByIssue{"support_escalation_by_issue",
                         "SELECT ticket_id, tenant_id, state, issue_url FROM support_escalations"
                         " WHERE repo = $1 AND issue_number = $2"};
constexpr Query kClosed{"support_escalation_closed",
                        "UPDATE support_escalations SET state = 'closed', closed_at = $2"
                        " WHERE ticket_id = $1 AND state = 'open'"};
constexpr Query kQueued{
    "support_queued",
    "SELECT count(*) FROM jobs WHERE kind = 'support.sync' AND state = 'pending'"};

std::string CustomerName(const std::string& tenant_id) {
  return "BP-" + tenant_id;
}

// Helpdesk's names are autoincrement numbers: JSON numbers, or strings from older sites.
std::string NameOf(const json::object& o) {
  const auto* v = o.if_contains("name");
  if (v == nullptr) return "";
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_string()) return std::string(v->as_string());
  return "";
}

bool IsTicketId(std::string_view id) {
  return !id.empty() && id.size() <= 18 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string TenantOf(const json::object& ticket) {
  const auto customer = StringMember(ticket, "customer");
  if (customer.rfind("BP-", 0) == 0 && IsCanonicalUuid(customer.substr(3))) {
    return NormalizeUuid(customer.substr(3));
  }
  return "";
}

Ticket ToTicket(const json::object& o) {
  return {.id = NameOf(o),
          .tenant_id = TenantOf(o),
          .subject = StringMember(o, "subject"),
          .description = StringMember(o, "description"),
          .status = StringMember(o, "status"),
          .raised_by = StringMember(o, "raised_by"),
          .opened = StringMember(o, "opening_date")};
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

Error HelpdeskDown() {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "support-unavailable",
               .title = "Helpdesk unavailable",
               .detail =
                   "the helpdesk cannot be reached just now; nothing was sent, please try "
                   "again in a few minutes"};
}

Escalation EscalationOf(const storage::Row& r, std::size_t at) {
  return {.repo = r.Text(at),
          .number = r.IsNull(at + 1) ? 0 : r.Int(at + 1),
          .url = r.Optional(at + 2).value_or(""),
          .state = r.Text(at + 3)};
}

}  // namespace

Support::Support(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
                 SupportSettings settings, const outbound::Fetcher& fetch)
    : db_(db),
      clock_(clock),
      tenants_(tenants),
      settings_(std::move(settings)),
      helpdesk_(settings_.helpdesk, fetch),
      gitea_(settings_.gitea, fetch) {}

void Support::Failed(Counters& c, const Error& e) {
  c.failures.fetch_add(1, std::memory_order_relaxed);
  c.last_failure_us.store(clock_.Now().micros, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  c.last_error = e.detail;
}

void Support::Succeeded(Counters& c) {
  c.last_success_us.store(clock_.Now().micros, std::memory_order_relaxed);
}

std::vector<Ticket> Support::WithEscalations(std::vector<Ticket> tickets,
                                             const std::optional<std::string>& tenant_id) {
  if (tickets.empty()) return tickets;
  std::map<std::string, Escalation> by_ticket;
  db_.Read([&](storage::Session& s) {
    const auto rows = tenant_id ? s.Fetch(kOfTenant, {*tenant_id}) : s.Fetch(kAll, {});
    for (const auto& r : rows) by_ticket[r.Text(0)] = EscalationOf(r, 1);
  });
  for (auto& t : tickets) {
    if (const auto it = by_ticket.find(t.id); it != by_ticket.end()) t.escalation = it->second;
  }
  return tickets;
}

TicketList Support::Tickets(const std::optional<std::string>& tenant_id) {
  if (!on()) return {};
  json::array filters;
  if (tenant_id) filters.push_back(json::array{"customer", "=", CustomerName(*tenant_id)});
  auto list = helpdesk_.List(
      "HD Ticket", filters,
      {"name", "subject", "status", "raised_by", "opening_date", "customer", "description"}, 100);
  if (!list) {
    Failed(helpdesk_stats_, list.error());
    return {.unavailable = true};
  }
  Succeeded(helpdesk_stats_);
  std::vector<Ticket> out;
  for (const auto& o : *list) {
    auto t = ToTicket(o);
    if (t.id.empty()) continue;
    if (tenant_id && t.tenant_id != *tenant_id) continue;  // never another tenant's
    out.push_back(std::move(t));
  }
  // Newest first: the highest number.
  std::sort(out.begin(), out.end(), [](const Ticket& a, const Ticket& b) {
    return a.id.size() != b.id.size() ? a.id.size() > b.id.size() : a.id > b.id;
  });
  return {.tickets = WithEscalations(std::move(out), tenant_id)};
}

Result<Ticket> Support::Open(const audit::Actor& actor, const std::string& tenant_id,
                             const NewTicket& in) {
  if (!on()) return NotFound("support-off", "the helpdesk is not configured on this platform");
  const auto subject = Trimmed(in.subject);
  const auto description = Trimmed(in.description);
  std::vector<FieldError> errors;
  if (subject.empty() || subject.size() > 140) {
    errors.push_back({"/subject", "a subject of 1 to 140 characters"});
  }
  if (description.empty() || description.size() > 20'000) {
    errors.push_back({"/description", "a description of 1 to 20000 characters"});
  }
  if (in.raised_by.find('@') == std::string::npos || in.raised_by.size() > 254) {
    errors.push_back({"/raised_by", "the email address the helpdesk answers"});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return std::move(tenant).error();

  auto customer =
      helpdesk_.Ensure("HD Customer", CustomerName(tenant->id),
                       {{"customer_name", tenant->name}, {"breakpilot_tenant_id", tenant->id}});
  if (!customer) {
    Failed(helpdesk_stats_, customer.error());
    return HelpdeskDown();
  }
  auto made = helpdesk_.Insert("HD Ticket", {{"subject", subject},
                                             {"description", description},
                                             {"raised_by", in.raised_by},
                                             {"customer", CustomerName(tenant->id)},
                                             {"ticket_type", "Unspecified"},
                                             {"priority", "Medium"},
                                             {"via_customer_portal", 1},
                                             {"breakpilot_tenant_id", tenant->id}});
  if (!made) {
    Failed(helpdesk_stats_, made.error());
    return HelpdeskDown();
  }
  Succeeded(helpdesk_stats_);
  auto ticket = ToTicket(*made);
  ticket.tenant_id = tenant->id;
  if (ticket.status.empty()) ticket.status = "Open";
  db_.Write([&](storage::Session& s) {
    audit::Record(s, clock_, actor,
                  {.tenant_id = tenant->id,
                   .action = "support.ticket.create",
                   .crud = 'c',
                   .target_type = "hd_ticket",
                   .target_id = ticket.id,
                   .description = "Helpdesk ticket " + ticket.id + " opened: " + subject,
                   .fields_json = json::serialize(
                       json::object{{"ticket_id", ticket.id}, {"raised_by", in.raised_by}})});
  });
  return ticket;
}

Result<Escalation> Support::Escalate(const audit::Actor& actor, const std::string& ticket_id) {
  if (!escalation_on()) {
    return NotFound("escalation-off", "escalation to Gitea is not configured on this platform");
  }
  if (!IsTicketId(ticket_id)) return NotFound("ticket-not-found", "no such ticket");
  auto found = helpdesk_.Get("HD Ticket", ticket_id);
  if (!found) {
    Failed(helpdesk_stats_, found.error());
    return HelpdeskDown();
  }
  if (!*found) return NotFound("ticket-not-found", "the helpdesk has no ticket " + ticket_id);
  const auto ticket = ToTicket(**found);
  if (ticket.tenant_id.empty() || !tenants_.Get(ticket.tenant_id)) {
    return Error{.kind = ErrorKind::kConflict,
                 .type = "ticket-without-tenant",
                 .title = "Ticket of no tenant",
                 .detail = "ticket " + ticket_id + " belongs to no Breakpilot tenant"};
  }
  const auto& repo = settings_.gitea_repo;
  // Claim the escalation: of two clicks (on any replica) one calls Gitea, the other is told.
  std::optional<Escalation> existing;
  bool claimed = false;
  db_.Write([&](storage::Session& s) {
    const auto now = clock_.Now();
    claimed =
        s.Execute(kClaim, {ticket_id, ticket.tenant_id, repo, actor.id, FormatStorage(now)}) == 1;
    if (!claimed) {
      const Timestamp cutoff{now.micros - kStaleClaimSeconds * kMicrosPerSecond};
      claimed = s.Execute(kReclaim,
                          {ticket_id, actor.id, FormatStorage(now), FormatStorage(cutoff)}) == 1;
    }
    if (!claimed) {
      if (auto r = s.FetchOne(kOne, {ticket_id})) existing = EscalationOf(*r, 0);
    }
  });
  if (existing) {
    if (existing->state == "claimed") {
      return Error{.kind = ErrorKind::kConflict,
                   .type = "escalation-in-progress",
                   .title = "Escalation under way",
                   .detail = "ticket " + ticket_id + " is being escalated; reload in a moment"};
    }
    return *existing;  // escalated before: the same issue
  }
  std::string body = ticket.description + "\n\n---\nFrappe Helpdesk ticket " + ticket_id +
                     ", raised by " + ticket.raised_by + " for tenant " + ticket.tenant_id +
                     ". Escalated by " + (actor.name.empty() ? actor.id : actor.name) +
                     " from Breakpilot.";
  if (!settings_.public_url.empty()) {
    body += "\n" + settings_.public_url + "/tenants/" + ticket.tenant_id;
  }
  auto issue = gitea_.CreateIssue(repo, "Ticket " + ticket_id + ": " + ticket.subject, body);
  if (!issue) {
    Failed(gitea_stats_, issue.error());
    db_.Write([&](storage::Session& s) { s.Execute(kRelease, {ticket_id}); });
    return std::move(issue).error();
  }
  Succeeded(gitea_stats_);
  Escalation out{.repo = repo, .number = issue->number, .url = issue->html_url, .state = "open"};
  db_.Write([&](storage::Session& s) {
    s.Execute(kOpened, {ticket_id, std::to_string(out.number), out.url});
    audit::Record(s, clock_, actor,
                  {.tenant_id = ticket.tenant_id,
                   .action = "support.ticket.escalate",
                   .crud = 'u',
                   .target_type = "hd_ticket",
                   .target_id = ticket_id,
                   .description = "Helpdesk ticket " + ticket_id + " escalated to " + repo + "#" +
                                  std::to_string(out.number),
                   .fields_json = json::serialize(json::object{{"ticket_id", ticket_id},
                                                               {"gitea_repo", repo},
                                                               {"gitea_issue", out.number},
                                                               {"gitea_url", out.url}})});
  });
  return out;
}

Result<GiteaOutcome> Support::ReceiveGitea(std::string_view event, std::string_view signature,
                                           std::string_view body) {
  if (settings_.gitea_webhook_secret.empty()) {
    return NotFound("gitea-off", "Gitea webhooks are not configured on this platform");
  }
  std::string given(signature);
  for (auto& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (given.size() != 64 ||
      !ConstantTimeEquals(given, HexEncode(HmacSha256(settings_.gitea_webhook_secret, body)))) {
    return WebhookSignatureInvalid(
        "X-Gitea-Signature does not match the body under the configured secret");
  }
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 32}, problem);
  if (!v || !v->is_object()) return MalformedWebhook(problem);
  const auto& o = v->as_object();
  GiteaOutcome out;
  if (event != "issues" || StringMember(o, "action") != "closed") {
    out.ignored = true;  // Gitea sends every issue event of the repository: only closes count
    return out;
  }
  const auto* issue = o.if_contains("issue");
  const auto* repository = o.if_contains("repository");
  if (issue == nullptr || !issue->is_object() || repository == nullptr ||
      !repository->is_object() || !issue->as_object().contains("number") ||
      !issue->as_object().at("number").is_int64()) {
    return Error{.kind = ErrorKind::kInvalidInput,
                 .type = "not-an-issue-event",
                 .title = "Webhook not applied",
                 .detail = "an issues event names its issue (number) and repository (full_name)"};
  }
  const auto number = issue->as_object().at("number").as_int64();
  const auto repo = StringMember(repository->as_object(), "full_name");
  std::string sender;
  if (const auto* s = o.if_contains("sender"); s != nullptr && s->is_object()) {
    sender = StringMember(s->as_object(), "login");
  }
  db_.Write([&](storage::Session& s) {
    const auto row = s.FetchOne(kByIssue, {repo, std::to_string(number)});
    if (!row) {
      out.ignored = true;  // an issue nobody escalated from here
      return;
    }
    out.ticket_id = row->Text(0);
    const auto tenant_id = row->Text(1);
    if (s.Execute(kClosed, {out.ticket_id, FormatStorage(clock_.Now())}) != 1) {
      out.repeat = true;
      return;
    }
    jobs::Enqueue(
        s, clock_,
        {.kind = std::string(kSupportJob),
         .dedupe_key = "support:resolve:" + out.ticket_id,
         .payload = json::serialize(json::object{{"op", "resolve"}, {"ticket_id", out.ticket_id}}),
         .run_at = clock_.Now(),
         .max_attempts = 25});
    audit::Record(s, clock_, kGiteaActor,
                  {.tenant_id = tenant_id,
                   .action = "support.ticket.resolve",
                   .crud = 'u',
                   .target_type = "hd_ticket",
                   .target_id = out.ticket_id,
                   .description = "Helpdesk ticket " + out.ticket_id + " resolved: " + repo + "#" +
                                  std::to_string(number) + " closed",
                   .fields_json = json::serialize(json::object{{"ticket_id", out.ticket_id},
                                                               {"gitea_repo", repo},
                                                               {"gitea_issue", number},
                                                               {"closed_by", sender}})});
  });
  return out;
}

void Support::Register(jobs::Runner& runner) {
  runner.Register(std::string(kSupportJob), [this](jobs::JobContext& ctx) { Sync(ctx); });
}

void Support::Sync(jobs::JobContext& ctx) {
  std::string problem;
  auto parsed = ParseStrictJson(ctx.job().payload, {}, problem);
  if (!parsed || !parsed->is_object()) return;  // nothing to retry: completed as it is
  const auto& p = parsed->as_object();
  if (StringMember(p, "op") != "resolve") return;
  const auto ticket_id = StringMember(p, "ticket_id");
  auto done = helpdesk_.Update("HD Ticket", ticket_id, {{"status", "Resolved"}});
  if (!done) {
    Failed(helpdesk_stats_, done.error());
    jobs::FailAttempt(done.error());
  }
  Succeeded(helpdesk_stats_);
  kLog.Info("ticket resolved in the helpdesk", {{"ticket_id", ticket_id}});
}

std::vector<backoffice::IntegrationStatus> Support::Status() const {
  std::int64_t queued = 0;
  if (on()) db_.Read([&](storage::Session& s) { queued = s.FetchOne(kQueued, {})->Int(0); });
  std::lock_guard lock(mu_);
  return {{.name = "helpdesk",
           .configured = on(),
           .failures = helpdesk_stats_.failures.load(),
           .last_success_us = helpdesk_stats_.last_success_us.load(),
           .last_failure_us = helpdesk_stats_.last_failure_us.load(),
           .last_error = helpdesk_stats_.last_error,
           .queued = queued,
           .job_kind = std::string(kSupportJob)},
          {.name = "gitea",
           .configured = escalation_on(),
           .failures = gitea_stats_.failures.load(),
           .last_success_us = gitea_stats_.last_success_us.load(),
           .last_failure_us = gitea_stats_.last_failure_us.load(),
           .last_error = gitea_stats_.last_error}};
}

}  // namespace breakpilot::support
