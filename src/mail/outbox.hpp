// The mail outbox (M3.2, M12.2): mail is queued in the transaction of the change that causes it
// (a trial created, a tenant frozen), so it goes out if and only if the change commits; a
// `mail.send` job hands it to the transport, with retries. Addresses that unsubscribed (RFC 8058
// one-click), bounced or complained are suppressed, and each suppression is audited.
//
//   db.Write([&](Session& s) {
//     ChangeSomething(s);
//     mailer.Queue(s, {.template_name = "trial_day7", .category = Category::kLifecycle,
//                      .to = email, .tenant_id = id, .vars = {...}, .dedupe_key = "..."});
//   });
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "jobs/runner.hpp"
#include "mail/transport.hpp"
#include "storage/database.hpp"
#include "storage/shared_secret.hpp"

namespace breakpilot::mail {

// Lifecycle mail (trial reminders) carries a one-click unsubscribe and stops after one;
// transactional mail (a confirmation link, the final export) does not, and only a bounce or a
// complaint stops it.
enum class Category { kTransactional, kLifecycle };

enum class SuppressReason { kUnsubscribe, kBounce, kComplaint };
std::string_view ToString(SuppressReason r);
std::optional<SuppressReason> ParseSuppressReason(std::string_view s);

struct MailRequest {
  std::string template_name;
  Category category = Category::kTransactional;
  std::string to;
  std::optional<std::string> tenant_id;
  boost::json::object vars;
  std::optional<std::string> dedupe_key;  // one mail per key, ever
  // Vars holding a secret (a confirmation link): the stored mail keeps them only until it is
  // sent (or refused, or suppressed); then the stored text is the mail without them.
  std::vector<std::string> secret_vars = {};
};

inline constexpr std::string_view kSendJob = "mail.send";

class Mailer {
 public:
  // A null transport keeps mail queued: sending fails and retries until one is configured.
  Mailer(storage::Database& db, const Clock& clock, std::shared_ptr<Transport> transport,
         std::string from);

  // The URL links in mail start with (the public URL of the platform).
  void SetPublicUrl(std::string url);
  std::string public_url() const;

  // Renders the message and queues it with its send job. False when the dedupe key was used
  // before (the mail exists already). Throws on an unknown template (a bug).
  bool Queue(storage::Session& s, const MailRequest& request);
  // The `mail.send` job.
  void SendJob(jobs::JobContext& ctx);

  // The one-click unsubscribe behind List-Unsubscribe; returns the address it suppressed.
  Result<std::string> Unsubscribe(const audit::Actor& actor, const std::string& token);
  // Bounce and complaint feedback (/inbound/postmaster), or a staff action.
  Result<std::string> Suppress(const audit::Actor& actor, std::string_view address,
                               SuppressReason reason, const std::string& detail);
  std::string UnsubscribeUrl(storage::Session& s, const std::string& address);

 private:
  void SuppressIn(storage::Session& s, const audit::Actor& actor, const std::string& address,
                  SuppressReason reason, const std::string& detail);

  storage::Database& db_;
  const Clock& clock_;
  std::shared_ptr<Transport> transport_;
  std::string from_;
  mutable std::mutex url_mu_;
  std::string public_url_;
  storage::SharedSecretCache secret_{"mail.unsubscribe"};
};

}  // namespace breakpilot::mail
