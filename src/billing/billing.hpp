// Billing through Polar.sh, the merchant of record for self-serve customers (M8.3).
//
// In: POST /polar/webhook hands ReceivePolar the signed message. It is verified
// (polar_signature.hpp), stored by its webhook-id and answered at once; a repeat of a stored id
// changes nothing. The billing.polar job applies it once, in one transaction: the tenant is the
// one named by the object's metadata.tenant_id (set on our checkout, copied by Polar onto the
// order and the subscription) or its customer's external_id; a message for no known tenant is
// recorded and changes nothing. Subscriptions are kept as the newest event shows them (by
// Polar's modified_at: events arrive in any order and repeated), and the tenant follows:
//
//   a paid order, or a subscription active/trialing/past due  -> active (trial: activate,
//                                                                 frozen: reactivate)
//   cancelled at the period's end  -> active until current_period_end, then frozen (FreezeEnded;
//                                     uncanceled before then undoes it)
//   revoked (status canceled, ended) -> frozen now
//
// Each applied message is audited with Polar's ids (billing.polar.<type>).
//
// Out: StartCheckout creates a Polar checkout session for a plan with the tenant's id in its
// metadata; CustomerPortal a customer session for payment methods and invoices.
//
//   Billing billing(db, clock, tenants, PolarClient(settings, fetch));
//   billing.Register(runner);   billing.FreezeEnded();  // from Maintain
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "billing/polar_client.hpp"
#include "billing/polar_signature.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "jobs/runner.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::billing {

inline constexpr std::string_view kPolarJob = "billing.polar";

struct PolarSubscription {
  std::string id;
  std::string status;
  std::optional<std::string> plan;
  bool cancel_at_period_end = false;
  std::optional<Timestamp> current_period_end;
  std::optional<Timestamp> ended_at;
  Timestamp modified_at;
};

struct PolarOrder {
  std::string id;
  std::string status;
  std::optional<std::string> subscription_id;
  std::string currency;
  std::int64_t total_amount = 0;  // minor units, tax included
  std::int64_t tax_amount = 0;
  Timestamp created_at;
};

// What the billing page and GET /tenants/{id}/billing show.
struct TenantBilling {
  std::vector<PolarSubscription> subscriptions;
  std::vector<PolarOrder> orders;  // newest first, at most 50
};

struct BillingStats {
  std::int64_t received = 0;
  std::int64_t duplicates = 0;
  std::int64_t refused = 0;
  std::int64_t applied = 0;
  std::int64_t failures = 0;  // checkout and customer-session calls Polar refused or missed
  std::int64_t last_success_us = 0;
  std::int64_t last_failure_us = 0;
};

class Billing {
 public:
  Billing(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
          PolarClient polar);

  const PolarSettings& settings() const { return polar_.settings(); }

  // True when the message is new (stored, its job queued); false for a repeat of a stored id.
  // kNotFound while Polar is off; kUnauthenticated for a bad signature or timestamp;
  // kMalformed for a body that is not a Polar event.
  Result<bool> ReceivePolar(const SignatureHeaders& headers, std::string_view body);
  void Register(jobs::Runner& runner);
  void ApplyPolar(jobs::JobContext& ctx);
  // Freezes the tenants whose cancelled subscription's period has ended (once each).
  void FreezeEnded();

  // The URL of a Polar checkout for `plan`; audited (billing.checkout.create).
  Result<Checkout> StartCheckout(const audit::Actor& actor, const std::string& tenant_id,
                                 const std::string& plan,
                                 const std::optional<std::string>& customer_email,
                                 std::optional<int> seats, const std::string& success_url,
                                 const std::string& return_url);
  // The URL of the tenant's Polar customer portal.
  Result<std::string> CustomerPortal(const std::string& tenant_id, const std::string& return_url);
  Result<TenantBilling> Of(const std::string& tenant_id);

  // Called inside the transaction that records a paid order (once per order): the ERPNext
  // mirror queues its Sales Invoice there. `order` is Polar's order object as sent.
  using OrderPaidHook = std::function<void(storage::Session&, const std::string& tenant_id,
                                           const boost::json::object& order)>;
  void OnOrderPaid(OrderPaidHook hook) { on_order_paid_ = std::move(hook); }

  BillingStats stats() const;
  void WriteMetrics(std::string& out) const;

 private:
  struct Applied;
  Applied Apply(storage::Session& s, const std::string& event_id, const std::string& type,
                const std::string& payload);
  // The lifecycle action the tenant's Polar state calls for now, applied; "" when none.
  std::string Follow(storage::Session& s, const tenants::Tenant& t, const std::string& why);

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  PolarClient polar_;
  OrderPaidHook on_order_paid_;
  std::atomic<std::int64_t> received_{0}, duplicates_{0}, refused_{0}, applied_{0}, failures_{0},
      last_success_us_{0}, last_failure_us_{0};
};

}  // namespace breakpilot::billing
