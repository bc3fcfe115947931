// ERPNext, the single source of truth for customers, invoices and CRM (M8.2, M11.1, M13.2,
// M14.1), through Frappe's REST API (frappe_client.hpp).
//
// Out: what happens here is queued, in the transaction of the change that causes it, as a
// durable job (erpnext.sync) retried with backoff until ERPNext takes it, so nothing is lost
// while ERPNext is down and nothing is made twice (each document's name is derived from our
// ids: BP-<tenant id>, BP-LEAD-<lead id>, BP-SINV-<Polar order id>, BP-OPP-<tenant id>):
//   a tenant created          -> Customer (breakpilot_tenant_id)
//   a lead (catalog request)  -> Lead (lead_owner: the tenant's sales owner)
//   a demo's "Request trial"  -> Lead for the prospect (lead_owner: the rep who asked)
//   a Polar order paid        -> Sales Invoice with Polar's amounts and tax as charged
//   a tenant cancelled        -> its Opportunity set Lost with the cancel reason
// The portal's /billing reads the tenant's Sales Invoices (Invoices: cached a minute, dropped on
// every replica when an invoice of the tenant is mirrored; while ERPNext is down, the last
// list or a notice).
//
// In: ReceiveWebhook takes Frappe's webhook for Sales Orders, signed with the webhook's secret
// (X-Frappe-Webhook-Signature: base64 HMAC-SHA256 of the body): a submitted Sales Order for a
// customer with a Breakpilot tenant activates it, a cancelled one cancels it. A repeat of the
// same message changes nothing; an unknown customer is refused and changes nothing.
#pragma once

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backoffice/frappe_client.hpp"
#include "jobs/runner.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::backoffice {

inline constexpr std::string_view kErpNextJob = "erpnext.sync";

struct ErpNextSettings {
  FrappeSettings frappe;                      // url empty: ERPNext is off
  std::string webhook_secret;                 // empty: POST /erpnext/webhook is off
  std::string item_code = "Breakpilot plan";  // the Item the Sales Invoices sell
  std::string tax_account = "VAT - BP";       // the account head of Polar's tax line
};

struct ErpInvoice {
  std::string name;
  std::string posting_date;
  std::string currency;
  std::string grand_total;  // as ERPNext formats it
  std::string status;
};

struct InvoiceList {
  std::vector<ErpInvoice> invoices;
  bool unavailable = false;  // ERPNext did not answer: `invoices` is the last list, if any
};

// What the webhook did: the tenant it named and what happened to it.
struct SalesOrderOutcome {
  bool repeat = false;
  std::string tenant_id;
  std::string action;  // "activated", "reactivated", "frozen", "none"
};

struct LeadFacts {
  std::string lead_id;
  std::string tenant_id;
  std::string tenant_name;
  std::string product_id;
  std::optional<std::string> sales_owner;
  std::string requested_by_name;
  std::string note;
  // A prospect's lead (the demo's "Request trial"): the CRM Lead is the prospect's.
  std::optional<std::string> prospect_company, prospect_name, prospect_email;
};

struct IntegrationStatus {
  std::string name;  // "erpnext"
  bool configured = false;
  std::int64_t failures = 0;
  std::int64_t last_success_us = 0;  // 0: never
  std::int64_t last_failure_us = 0;
  std::string last_error;
  std::int64_t queued = 0;  // jobs waiting (pending)
  std::string job_kind;     // the durable job its calls are made from; empty: made while one waits
  std::string fallback;     // while it cannot be reached: what answers instead (empty: nothing)
};

class ErpNext {
 public:
  ErpNext(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
          ErpNextSettings settings, outbound::Fetcher fetch);
  ~ErpNext();
  ErpNext(const ErpNext&) = delete;
  ErpNext& operator=(const ErpNext&) = delete;
  bool on() const { return settings_.frappe.on(); }
  const ErpNextSettings& settings() const { return settings_; }

  // Each queues its job inside the caller's transaction (nothing while ERPNext is off).
  void QueueCustomer(storage::Session& s, const tenants::Tenant& t);
  void QueueLead(storage::Session& s, const LeadFacts& lead);
  void QueueInvoice(storage::Session& s, const std::string& tenant_id,
                    const boost::json::object& order);
  void QueueOpportunityLost(storage::Session& s, const tenants::Tenant& t);

  void Register(jobs::Runner& runner);
  void Sync(jobs::JobContext& ctx);

  InvoiceList Invoices(const std::string& tenant_id);
  Result<SalesOrderOutcome> ReceiveWebhook(std::string_view signature, std::string_view body);

  // For /readyz, /metrics and the backstage.
  IntegrationStatus Status() const;

 private:
  Result<std::string> Customer(const std::string& tenant_id);
  void Queue(storage::Session& s, const std::string& dedupe, const boost::json::object& payload);

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  ErpNextSettings settings_;
  FrappeClient frappe_;
  std::atomic<std::int64_t> failures_{0}, last_success_us_{0}, last_failure_us_{0};
  mutable std::mutex mu_;
  std::string last_error_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, InvoiceList>> invoices_;
  std::uint64_t subscription_ = 0;  // "erpnext-invoices:<tenant>" drops its cached list
};

}  // namespace breakpilot::backoffice
