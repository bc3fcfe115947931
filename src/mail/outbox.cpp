#include "mail/outbox.hpp"

#include "core/crypto.hpp"
#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "mail/message.hpp"

namespace breakpilot::mail {
namespace {

const Logger kLog("mail");
using storage::Query;

constexpr Query kInsertMail{
    "mail_insert",
    "INSERT INTO mail_outbox (id, dedupe_key, tenant_id, template, category, recipient, subject,"
    " message, redacted, state, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10)"
    " ON CONFLICT (dedupe_key) DO NOTHING"};
constexpr Query kSelectMail{
    "mail_select",
    "SELECT m.recipient, m.message, m.state, m.category, s.reason, m.tenant_id, m.template"
    " FROM mail_outbox m LEFT JOIN mail_suppressions s ON s.address = m.recipient"
    " WHERE m.id = $1"};
// Once a mail is done with (sent, refused, suppressed), its secret links go: the stored text
// becomes the redacted one.
constexpr Query kMarkMail{"mail_mark",
                          "UPDATE mail_outbox SET state = $2, sent_at = $3, last_error = $4,"
                          " attempts = attempts + 1, message = COALESCE(redacted, message),"
                          " redacted = NULL WHERE id = $1 AND state = 'pending'"};
constexpr Query kInsertSuppression{
    "mail_suppression_upsert",
    "INSERT INTO mail_suppressions (address, reason, detail, created_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,"
    " created_at = excluded.created_at WHERE mail_suppressions.reason = 'unsubscribe'"};

constexpr std::pair<SuppressReason, std::string_view> kReasons[] = {
    {SuppressReason::kUnsubscribe, "unsubscribe"},
    {SuppressReason::kBounce, "bounce"},
    {SuppressReason::kComplaint, "complaint"}};

constexpr std::string_view kUnsubscribePurpose = "mail.unsubscribe";
constexpr std::string_view kRedacted = "(removed from our copy once the mail was sent)";

}  // namespace

std::string_view ToString(SuppressReason r) {
  return NameIn<SuppressReason>(kReasons, r, "bounce");
}

std::optional<SuppressReason> ParseSuppressReason(std::string_view s) {
  return ValueIn<SuppressReason>(kReasons, s);
}

Mailer::Mailer(storage::Database& db, const Clock& clock, std::shared_ptr<Transport> transport,
               std::string from)
    : db_(db), clock_(clock), transport_(std::move(transport)), from_(std::move(from)) {}

void Mailer::SetPublicUrl(std::string url) {
  std::lock_guard lock(url_mu_);
  public_url_ = std::move(url);
}

std::string Mailer::public_url() const {
  std::lock_guard lock(url_mu_);
  return public_url_;
}

std::string Mailer::UnsubscribeUrl(storage::Session& s, const std::string& address) {
  const std::string& key = secret_.Get(s, clock_.Now());
  return public_url() + "/mail/unsubscribe?token=" + SignToken(key, kUnsubscribePurpose, address);
}

bool Mailer::Queue(storage::Session& s, const MailRequest& request) {
  const auto to = NormalizeAddress(request.to);
  if (!to) throw std::invalid_argument("not a mail address: " + request.to);
  const Timestamp now = clock_.Now();
  const std::string id = NewUuidV7(now);
  boost::json::object vars = request.vars;
  const std::string base = public_url();
  vars["portal_url"] = base + "/portal";
  std::string unsubscribe;
  if (request.category == Category::kLifecycle) {
    unsubscribe = UnsubscribeUrl(s, *to);
    vars["unsubscribe_url"] = unsubscribe;
  }
  const auto compose = [&](const boost::json::object& values) {
    auto rendered = RenderTemplate(request.template_name, values);
    if (!rendered) throw std::invalid_argument(rendered.error().detail);
    return std::pair{rendered->subject, ComposeMessage({.from = from_,
                                                        .to = *to,
                                                        .message_id = id + "@" + DomainOf(from_),
                                                        .date = now,
                                                        .rendered = *rendered,
                                                        .unsubscribe_url = unsubscribe})};
  };
  const auto [subject, message] = compose(vars);
  storage::Param redacted;
  if (!request.secret_vars.empty()) {
    boost::json::object without = vars;
    for (const auto& name : request.secret_vars) without[name] = kRedacted;
    redacted = compose(without).second;
  }
  const bool added =
      s.Execute(kInsertMail,
                {id, request.dedupe_key, request.tenant_id, request.template_name,
                 request.category == Category::kLifecycle ? "lifecycle" : "transactional", *to,
                 subject, message, redacted, FormatStorage(now)}) > 0;
  if (!added) return false;
  jobs::Enqueue(s, clock_,
                {.kind = std::string(kSendJob),
                 .dedupe_key = "mail.send:" + id,
                 .payload = boost::json::serialize(boost::json::object{{"outbox_id", id}}),
                 .run_at = now});
  return true;
}

void Mailer::SendJob(jobs::JobContext& ctx) {
  const auto payload = boost::json::parse(ctx.job().payload).as_object();
  const std::string id(payload.at("outbox_id").as_string());
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelectMail, {id}); });
  if (!row || row->Text(2) != "pending") return;  // sent already, or gone
  const std::string& to = row->Text(0);
  const auto reason = row->Optional(4);
  const bool lifecycle = row->Text(3) == "lifecycle";
  const audit::Actor system{"system:mail", "", ""};
  if (reason && (*reason != "unsubscribe" || lifecycle)) {
    ctx.Complete([&](storage::Session& s) {
      s.Execute(kMarkMail, {id, "suppressed", std::nullopt, "address suppressed: " + *reason});
    });
    return;
  }
  if (!transport_) jobs::FailAttempt("no mail transport configured");
  try {
    transport_->Send(EnvelopeAddress(from_), to, row->Text(1));
  } catch (const PermanentFailure& e) {
    // The server refused the address for good: a hard bounce.
    ctx.Complete([&](storage::Session& s) {
      s.Execute(kMarkMail, {id, "failed", std::nullopt, ErrorText(e)});
      SuppressIn(s, system, to, SuppressReason::kBounce, ErrorText(e));
    });
    kLog.Warn("mail refused for good", {{"outbox_id", id}, {"error", ErrorText(e)}});
    return;
  } catch (const std::runtime_error& e) {  // the server is away or busy: try again later
    jobs::FailAttempt("mail transport: " + ErrorText(e));
  }
  ctx.Complete([&](storage::Session& s) {
    s.Execute(kMarkMail, {id, "sent", FormatStorage(clock_.Now()), std::nullopt});
  });
}

void Mailer::SuppressIn(storage::Session& s, const audit::Actor& actor, const std::string& address,
                        SuppressReason reason, const std::string& detail) {
  s.Execute(kInsertSuppression,
            {address, std::string(ToString(reason)), detail, FormatStorage(clock_.Now())});
  audit::Record(s, clock_, actor,
                {std::nullopt, "mail.suppressed", 'c', "mail_address", address,
                 "mail to " + address + " suppressed (" + std::string(ToString(reason)) + ")",
                 boost::json::serialize(
                     boost::json::object{{"reason", ToString(reason)}, {"detail", detail}})});
}

Result<std::string> Mailer::Unsubscribe(const audit::Actor& actor, const std::string& token) {
  const std::string& key = secret_.Get(db_, clock_.Now());
  std::string address;
  if (!VerifySignedToken(key, kUnsubscribePurpose, token, address) || !NormalizeAddress(address)) {
    return InvalidInput("invalid-unsubscribe-token", "Invalid unsubscribe link",
                        "this unsubscribe link is not one we sent", {{"token", "is not valid"}});
  }
  db_.Write([&](storage::Session& s) {
    SuppressIn(s, actor, address, SuppressReason::kUnsubscribe, "one-click unsubscribe");
  });
  return address;
}

Result<std::string> Mailer::Suppress(const audit::Actor& actor, std::string_view address,
                                     SuppressReason reason, const std::string& detail) {
  const auto normal = NormalizeAddress(address);
  if (!normal) return ValidationFailed({{"/recipient", "must be a mail address"}});
  if (detail.size() > 2000) return ValidationFailed({{"/detail", "must be at most 2000 bytes"}});
  db_.Write([&](storage::Session& s) { SuppressIn(s, actor, *normal, reason, detail); });
  return *normal;
}

}  // namespace breakpilot::mail
