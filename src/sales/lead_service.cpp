#include "sales/lead_service.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/uuid.hpp"

namespace breakpilot::sales {
namespace {

using storage::Query;

#define BP_LEAD_COLUMNS                                                             \
  "l.id, l.tenant_id, t.slug, t.name, l.product_id, l.status, l.sales_owner, "      \
  "l.requested_by, l.requested_by_name, l.note, l.created_at, l.prospect_company, " \
  "l.prospect_name, l.prospect_email"

constexpr Query kInsertLead{
    "lead_insert",
    "INSERT INTO leads (id, tenant_id, product_id, status, sales_owner, requested_by,"
    " requested_by_name, note, created_at) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8)"};
constexpr Query kSelectOpenLead{
    "lead_select_open", "SELECT " BP_LEAD_COLUMNS
                        " FROM leads l JOIN tenants t ON t.id = l.tenant_id"
                        " WHERE l.tenant_id = $1 AND l.product_id = $2 AND l.status = 'open'"
                        " AND l.prospect_email IS NULL"};
constexpr Query kInsertTrialLead{
    "lead_insert_trial",
    "INSERT INTO leads (id, tenant_id, product_id, status, sales_owner, requested_by,"
    " requested_by_name, note, created_at, prospect_company, prospect_name, prospect_email)"
    " VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11)"};
constexpr Query kSelectLeads{
    "lead_list",
    "SELECT " BP_LEAD_COLUMNS
    " FROM leads l JOIN tenants t ON t.id = l.tenant_id"
    " WHERE ($1::text IS NULL OR l.sales_owner = $1::text)"
    " AND ($2::uuid IS NULL OR l.tenant_id = $2::uuid)"
    " ORDER BY l.created_at DESC, l.id DESC LIMIT $3::integer",
    "SELECT " BP_LEAD_COLUMNS
    " FROM leads l JOIN tenants t ON t.id = l.tenant_id"
    " WHERE ($1 IS NULL OR l.sales_owner = $1) AND ($2 IS NULL OR l.tenant_id = $2)"
    " ORDER BY l.created_at DESC, l.id DESC LIMIT CAST($3 AS INTEGER)"};
constexpr Query kSelectOpenProducts{
    "lead_open_products",
    "SELECT product_id FROM leads WHERE tenant_id = $1 AND status = 'open'"
    " AND prospect_email IS NULL ORDER BY product_id"};

Lead ToLead(const storage::Row& r) {
  return Lead{r.Text(0),  r.Text(1),      r.Text(2),      r.Text(3),     r.Text(4),
              r.Text(5),  r.Optional(6),  r.Text(7),      r.Text(8),     r.Text(9),
              r.Time(10), r.Optional(11), r.Optional(12), r.Optional(13)};
}

// The note's rules, for both kinds of lead.
void CheckNote(const std::string& note, std::vector<FieldError>& errors) {
  if (note.size() > kMaxLeadNote) {
    errors.push_back({"/note", "must be at most " + std::to_string(kMaxLeadNote) + " bytes"});
  } else if (std::any_of(note.begin(), note.end(), [](unsigned char c) {
               return (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F;
             })) {
    errors.push_back({"/note", "must not contain control characters"});
  }
}

// One line of text of 1..200 bytes, no control characters.
bool IsLine(const std::string& s) {
  return !s.empty() && s.size() <= 200 &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; });
}

}  // namespace

Result<std::pair<Lead, bool>> LeadService::Request(const audit::Actor& actor,
                                                   const std::string& tenant_id,
                                                   const LeadRequest& in) {
  std::vector<FieldError> errors;
  if (!catalog_.Find(in.product_id)) {
    errors.push_back({"/product_id", "is no product of the catalog"});
  }
  CheckNote(in.note, errors);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return tenant.error();
  if (tenant->status == tenants::Status::kArchived) return tenants::TenantArchived(tenant_id);
  auto subscribed = subscriptions_.List(tenant->id);
  if (!subscribed) return subscribed.error();
  if (std::any_of(subscribed->begin(), subscribed->end(),
                  [&](const auto& s) { return s.product_id == in.product_id; })) {
    return Conflict("already-subscribed", "Already subscribed",
                    "the organisation has " + in.product_id + " already");
  }
  const Timestamp now = clock_.Now();
  std::optional<std::pair<Lead, bool>> out;
  const auto existing = [&](storage::Session& s) -> bool {
    if (auto row = s.FetchOne(kSelectOpenLead, {tenant->id, in.product_id})) {
      out = std::pair{ToLead(*row), false};
      return true;
    }
    return false;
  };
  try {
    db_.Write([&](storage::Session& s) {
      if (existing(s)) return;
      Lead lead{NewUuidV7(now),
                tenant->id,
                tenant->slug,
                tenant->name,
                in.product_id,
                "open",
                tenant->sales_owner,
                actor.id,
                actor.name.empty() ? actor.id : actor.name,
                in.note,
                now};
      s.Execute(kInsertLead,
                {lead.id, lead.tenant_id, lead.product_id, lead.sales_owner, lead.requested_by,
                 lead.requested_by_name, lead.note, FormatStorage(now)});
      audit::Record(
          s, clock_, actor,
          {tenant->id, "lead.create", 'c', "lead", lead.id, "asked for " + in.product_id,
           boost::json::serialize(boost::json::object{
               {"product_id", in.product_id}, {"sales_owner", lead.sales_owner.value_or("")}})});
      if (on_created_) on_created_(s, lead);
      out = std::pair{std::move(lead), true};
    });
  } catch (const storage::UniqueViolation&) {
    // Two requests at once: the other made the open lead; this one returns it.
    db_.Read([&](storage::Session& s) { existing(s); });
  }
  if (!out) return Conflict("lead-conflict", "Try again", "the request met another; send it again");
  return *std::move(out);
}

Result<Lead> LeadService::RequestTrial(const audit::Actor& actor, const std::string& sales_owner,
                                       const TrialLeadRequest& in) {
  std::vector<FieldError> errors;
  if (!IsLine(in.company)) errors.push_back({"/company", "1 to 200 characters, one line"});
  if (!IsLine(in.name)) errors.push_back({"/name", "1 to 200 characters, one line"});
  const auto at = in.email.find('@');
  if (!IsLine(in.email) || at == std::string::npos || at == 0 || at + 1 == in.email.size() ||
      in.email.find(' ') != std::string::npos) {
    errors.push_back({"/email", "must be an email address"});
  }
  if (!catalog_.Find(in.product_id)) {
    errors.push_back({"/product_id", "is no product of the catalog"});
  }
  CheckNote(in.note, errors);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  auto demo = tenants_.GetBySlug("demo");
  if (!demo || demo->kind != tenants::Kind::kDemo) {
    return NotFound("demo-not-found", "there is no demo tenant on this platform");
  }
  const Timestamp now = clock_.Now();
  Lead lead{NewUuidV7(now), demo->id,      demo->slug,
            demo->name,     in.product_id, "open",
            sales_owner,    actor.id,      actor.name.empty() ? actor.id : actor.name,
            in.note,        now,           in.company,
            in.name,        in.email};
  db_.Write([&](storage::Session& s) {
    s.Execute(kInsertTrialLead, {lead.id, lead.tenant_id, lead.product_id, lead.sales_owner,
                                 lead.requested_by, lead.requested_by_name, lead.note,
                                 FormatStorage(now), in.company, in.name, in.email});
    audit::Record(s, clock_, actor,
                  {demo->id, "lead.create", 'c', "lead", lead.id,
                   in.company + " asked for a trial of " + in.product_id,
                   boost::json::serialize(boost::json::object{{"product_id", in.product_id},
                                                              {"sales_owner", sales_owner},
                                                              {"prospect_company", in.company}})});
    if (on_created_) on_created_(s, lead);
  });
  return lead;
}

std::vector<Lead> LeadService::List(const identity::Principal& viewer, const LeadFilter& filter) {
  const bool sees_all = std::find(viewer.realm_roles.begin(), viewer.realm_roles.end(),
                                  identity::Role::kBreakpilotAdmin) != viewer.realm_roles.end();
  const storage::Param owner = sees_all ? storage::Param{} : storage::Param{viewer.name};
  std::vector<Lead> out;
  db_.Read([&](storage::Session& s) {
    for (const auto& r :
         s.Fetch(kSelectLeads,
                 {owner, filter.tenant_id, std::to_string(std::clamp(filter.limit, 1, 500))})) {
      out.push_back(ToLead(r));
    }
  });
  return out;
}

std::vector<std::string> LeadService::OpenProducts(const std::string& tenant_id) {
  std::vector<std::string> out;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kSelectOpenProducts, {tenant_id})) out.push_back(r.Text(0));
  });
  return out;
}

}  // namespace breakpilot::sales
