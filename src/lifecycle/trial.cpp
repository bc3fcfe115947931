#include "lifecycle/trial.hpp"

#include "core/crypto.hpp"
#include "core/uuid.hpp"
#include "mail/message.hpp"
#include "tenants/slug.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::lifecycle {
namespace {

using storage::Query;

constexpr Query kInsertRequest{
    "trial_request_insert",
    "INSERT INTO trial_requests (id, email, slug, company_name, token_hash, source_ip,"
    " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Query kCountRecent{
    "trial_request_count_recent",
    "SELECT count(*) FROM trial_requests WHERE email = $1 AND created_at > $2"};
constexpr Query kSelectByToken{
    "trial_request_select",
    "SELECT id, email, slug, company_name, expires_at, confirmed_at, tenant_id"
    " FROM trial_requests WHERE token_hash = $1"};
constexpr Query kConfirm{"trial_request_confirm",
                         "UPDATE trial_requests SET confirmed_at = $2, tenant_id = $3"
                         " WHERE id = $1 AND confirmed_at IS NULL"};

Error TooMany(std::string detail) {
  Error e{ErrorKind::kTooManyRequests, "too-many-trial-requests", "Too many trial requests",
          std::move(detail)};
  e.extensions["retry_after_seconds"] = 3600;
  return e;
}

}  // namespace

Result<Ok> TrialService::Request(const audit::Actor& actor, const TrialRequestInput& in) {
  std::vector<FieldError> errors;
  const auto email = mail::NormalizeAddress(in.email);
  if (!email) errors.push_back({"/email", "must be an email address"});
  AddFieldError(errors, "/slug", tenants::ValidateSlug(in.slug));
  AddFieldError(errors, "/company_name", tenants::ValidateDisplayName(in.company_name, 200));
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  if (per_address_.Admit(actor.source_ip)) {
    return TooMany("at most " + std::to_string(per_address_.limit()) +
                   " trial requests per hour from one address");
  }
  const Timestamp now = clock_.Now();
  std::optional<Result<Ok>> out;
  db_.Write([&](storage::Session& s) {
    if (tenants::store::SelectTenantBySlug(s, in.slug)) {
      return void(out = Conflict("duplicate-slug", "Slug already taken",
                                 "a tenant with slug '" + in.slug + "' already exists"));
    }
    const auto recent =
        s.FetchOne(kCountRecent, {*email, FormatStorage(AddSeconds(now, -86400))})->Int(0);
    if (recent >= kTrialRequestsPerAddressPerDay) {
      return void(out = TooMany("this address asked for a trial " + std::to_string(recent) +
                                " times today; follow the link in one of those mails"));
    }
    const std::string id = NewUuidV7(now);
    const std::string token = RandomToken(32);
    s.Execute(kInsertRequest,
              {id, *email, in.slug, in.company_name, Sha256Hex(token), actor.source_ip,
               FormatStorage(now), FormatStorage(AddSeconds(now, kTrialConfirmHours * 3600LL))});
    audit::Record(s, clock_, actor,
                  {std::nullopt, "trial.requested", 'c', "trial_request", id,
                   "trial requested for " + in.slug,
                   boost::json::serialize(boost::json::object{{"slug", in.slug}})});
    mailer_.Queue(
        s, {.template_name = "trial_verify",
            .category = mail::Category::kTransactional,
            .to = *email,
            .vars = {{"company_name", in.company_name},
                     {"confirm_url", (in.confirm_url.empty()
                                          ? mailer_.public_url() + "/catalog/trial-request/confirm"
                                          : in.confirm_url) +
                                         "?token=" + token}},
            .dedupe_key = "trial_verify:" + id,
            .secret_vars = {"confirm_url"}});
    out = Ok{};
  });
  return *std::move(out);
}

Result<TrialService::Pending> TrialService::Load(const std::string& token) {
  std::optional<storage::Row> row;
  if (token.size() <= 128) {
    db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelectByToken, {Sha256Hex(token)}); });
  }
  if (!row) return NotFound("trial-request-not-found", "this confirmation link is not one we sent");
  if (!row->IsNull(5)) {
    Error e = Conflict("trial-already-confirmed", "Trial already confirmed",
                       "this trial was confirmed before; sign in instead");
    if (auto id = row->Optional(6)) e.extensions["tenant_id"] = *id;
    return e;
  }
  if (clock_.Now() >= row->Time(4)) {
    return Error{ErrorKind::kGone, "trial-request-expired", "Confirmation link expired",
                 "the link was valid for " + std::to_string(kTrialConfirmHours) +
                     " hours; ask for the trial again"};
  }
  return Pending{row->Text(0), {row->Text(1), row->Text(3), row->Text(2)}};
}

Result<PendingTrial> TrialService::Find(const std::string& token) {
  auto p = Load(token);
  if (!p) return p.error();
  return p->trial;
}

Result<tenants::Tenant> TrialService::Confirm(const audit::Actor& actor, const std::string& token) {
  auto p = Load(token);
  if (!p) return p.error();
  auto t = tenants_.Create(actor, {.slug = p->trial.slug,
                                   .name = p->trial.company_name,
                                   .initial_status = "trial",
                                   .contact_email = p->trial.email});
  if (!t) return t;
  db_.Write([&](storage::Session& s) {
    s.Execute(kConfirm, {p->id, FormatStorage(clock_.Now()), t->id});
  });
  return t;
}

}  // namespace breakpilot::lifecycle
