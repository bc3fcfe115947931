// Self-serve trials (M12.1): anyone may ask for a 14-day trial with an address, a company name
// and a slug; the tenant exists only once the link mailed to that address is followed, so every
// trial has a verified contact. Requests are limited per source address and per mail address.
#pragma once

#include <string>

#include "audit/trail.hpp"
#include "core/rate_limiter.hpp"
#include "mail/outbox.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::lifecycle {

struct TrialRequestInput {
  std::string email;
  std::string company_name;
  std::string slug;
  // The page the mailed link opens, `?token=...` appended: the portal's /start/confirm for a
  // request made there; empty: the API's /catalog/trial-request/confirm.
  std::string confirm_url;
};

// A request whose link was followed but not yet confirmed: what the confirmation page shows.
struct PendingTrial {
  std::string email;
  std::string company_name;
  std::string slug;
};

inline constexpr int kTrialRequestsPerAddressPerDay = 3;
inline constexpr int kTrialConfirmHours = 24;

class TrialService {
 public:
  TrialService(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
               mail::Mailer& mailer, int requests_per_hour)
      : db_(db),
        clock_(clock),
        tenants_(tenants),
        mailer_(mailer),
        per_address_(requests_per_hour, std::chrono::hours(1)) {}

  // Validates, stores the request and mails the confirmation link. 429 when the caller's IP
  // or the address asked too often; 409 when the slug is taken.
  Result<Ok> Request(const audit::Actor& actor, const TrialRequestInput& in);
  // Follows the mailed link: creates the trial tenant (status trial, 14 days, contact = the
  // verified address). 404 unknown, 410 expired, 409 used already.
  Result<tenants::Tenant> Confirm(const audit::Actor& actor, const std::string& token);
  // What Confirm would create, with the same refusals; changes nothing (a GET of the link).
  Result<PendingTrial> Find(const std::string& token);

 private:
  struct Pending {
    std::string id;
    PendingTrial trial;
  };
  Result<Pending> Load(const std::string& token);

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  mail::Mailer& mailer_;
  RateLimiter per_address_;  // per source IP, wall clock
};

}  // namespace breakpilot::lifecycle
