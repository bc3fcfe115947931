#include "backoffice/erpnext.hpp"

#include "audit/trail.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "jobs/queue.hpp"

namespace breakpilot::backoffice {
namespace {

namespace json = boost::json;
using storage::Query;
using tenants::lifecycle::Action;

const Logger kLog("backoffice");
const audit::Actor kErpActor{.id = "system:erpnext", .name = "ERPNext"};
constexpr auto kInvoiceCache = std::chrono::seconds(60);

constexpr Query kInsertEvent{
    "backoffice_erpnext_event_insert",
    "INSERT INTO erpnext_events (id, doctype, name, docstatus, tenant_id, outcome, received_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"};
constexpr Query kEventSeen{"backoffice_erpnext_event_seen",
                           "SELECT 1 FROM erpnext_events WHERE id = $1"};
constexpr Query kQueued{
    "backoffice_erpnext_queued",
    "SELECT count(*) FROM jobs WHERE kind = 'erpnext.sync' AND state = 'pending'"};

std::string CustomerName(const std::string& tenant_id) {
  return "BP-" + tenant_id;
}

// "12.34" from minor units.
std::string Major(std::int64_t minor) {
  return std::to_string(minor / 100) + "." + std::to_string(100 + (minor % 100)).substr(1);
}

std::int64_t IntOf(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

Error Refused(std::string type, std::string detail) {
  return Error{.kind = ErrorKind::kInvalidInput,
               .type = std::move(type),
               .title = "Webhook not applied",
               .detail = std::move(detail)};
}

}  // namespace

ErpNext::ErpNext(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
                 ErpNextSettings settings, outbound::Fetcher fetch)
    : db_(db),
      clock_(clock),
      tenants_(tenants),
      settings_(std::move(settings)),
      frappe_(settings_.frappe, std::move(fetch)) {
  if (!on()) return;
  subscription_ = db_.Subscribe([this](std::string_view event) {
    constexpr std::string_view kPrefix = "erpnext-invoices:";
    if (event != "*" && event.substr(0, kPrefix.size()) != kPrefix) return;
    std::lock_guard lock(mu_);
    if (event == "*") {
      invoices_.clear();
    } else {
      invoices_.erase(std::string(event.substr(kPrefix.size())));
    }
  });
}

ErpNext::~ErpNext() {
  if (subscription_ != 0) db_.Unsubscribe(subscription_);
}

void ErpNext::Queue(storage::Session& s, const std::string& dedupe, const json::object& payload) {
  if (!on()) return;
  jobs::Enqueue(s, clock_,
                {.kind = std::string(kErpNextJob),
                 .dedupe_key = "erpnext:" + dedupe,
                 .payload = json::serialize(payload),
                 .run_at = clock_.Now(),
                 .max_attempts = 25});
}

void ErpNext::QueueCustomer(storage::Session& s, const tenants::Tenant& t) {
  if (t.kind == tenants::Kind::kDemo) return;
  Queue(s, "customer:" + t.id, {{"op", "customer"}, {"tenant_id", t.id}});
}

void ErpNext::QueueLead(storage::Session& s, const LeadFacts& lead) {
  Queue(
      s, "lead:" + lead.lead_id,
      {{"op", "lead"},
       {"lead_id", lead.lead_id},
       {"tenant_id", lead.tenant_id},
       {"tenant_name", lead.tenant_name},
       {"product_id", lead.product_id},
       {"sales_owner", lead.sales_owner ? json::value(*lead.sales_owner) : nullptr},
       {"requested_by", lead.requested_by_name},
       {"note", lead.note},
       {"prospect_company", lead.prospect_company ? json::value(*lead.prospect_company) : nullptr},
       {"prospect_name", lead.prospect_name ? json::value(*lead.prospect_name) : nullptr},
       {"prospect_email", lead.prospect_email ? json::value(*lead.prospect_email) : nullptr}});
}

void ErpNext::QueueInvoice(storage::Session& s, const std::string& tenant_id,
                           const json::object& order) {
  const auto id = StringMember(order, "id");
  if (id.empty()) return;
  json::array items;
  if (const auto* list = order.if_contains("items"); list != nullptr && list->is_array()) {
    for (const auto& item : list->as_array()) {
      if (!item.is_object()) continue;
      items.push_back({{"label", StringMember(item.as_object(), "label")},
                       {"amount", IntOf(item.as_object(), "amount")},
                       {"tax_amount", IntOf(item.as_object(), "tax_amount")}});
    }
  }
  Queue(s, "invoice:" + id,
        {{"op", "invoice"},
         {"tenant_id", tenant_id},
         {"order_id", id},
         {"currency", StringMember(order, "currency")},
         {"created_at", StringMember(order, "created_at")},
         {"net_amount", IntOf(order, "net_amount")},
         {"tax_amount", IntOf(order, "tax_amount")},
         {"total_amount", IntOf(order, "total_amount")},
         {"items", std::move(items)}});
}

void ErpNext::QueueOpportunityLost(storage::Session& s, const tenants::Tenant& t) {
  if (t.kind == tenants::Kind::kDemo) return;
  Queue(s, "lost:" + t.id + ":" + std::to_string(t.status_changed_at.micros),
        {{"op", "opportunity_lost"},
         {"tenant_id", t.id},
         {"reason", t.cancel_reason.value_or("cancelled")}});
}

void ErpNext::Register(jobs::Runner& runner) {
  runner.Register(std::string(kErpNextJob), [this](jobs::JobContext& ctx) { Sync(ctx); });
}

Result<std::string> ErpNext::Customer(const std::string& tenant_id) {
  auto t = tenants_.Get(tenant_id);
  if (!t) return std::move(t).error();
  json::object fields{{"customer_name", t->name},
                      {"customer_type", "Company"},
                      {"breakpilot_tenant_id", t->id},
                      {"breakpilot_slug", t->slug}};
  if (t->contact_email) fields["email_id"] = *t->contact_email;
  auto made = frappe_.Ensure("Customer", CustomerName(t->id), std::move(fields));
  if (!made) return std::move(made).error();
  return CustomerName(t->id);
}

void ErpNext::Sync(jobs::JobContext& ctx) {
  std::string problem;
  auto parsed = ParseStrictJson(ctx.job().payload, {}, problem);
  if (!parsed || !parsed->is_object()) return;  // nothing to retry: completed as it is
  const auto& p = parsed->as_object();
  const auto op = StringMember(p, "op");
  const auto tenant_id = StringMember(p, "tenant_id");
  std::string doctype, name;
  Result<json::object> done = json::object{};
  if (op == "customer") {
    auto c = Customer(tenant_id);
    if (!c) done = std::move(c).error();
    doctype = "Customer";
    name = CustomerName(tenant_id);
  } else if (op == "lead") {
    doctype = "Lead";
    name = "BP-LEAD-" + StringMember(p, "lead_id");
    const auto prospect = StringMember(p, "prospect_email");
    json::object fields{
        {"lead_name", StringMember(p, prospect.empty() ? "requested_by" : "prospect_name")},
        {"company_name", StringMember(p, prospect.empty() ? "tenant_name" : "prospect_company")},
        {"source", prospect.empty() ? "Breakpilot catalog" : "Breakpilot demo"},
        {"breakpilot_tenant_id", tenant_id},
        {"breakpilot_product", StringMember(p, "product_id")},
        {"notes", StringMember(p, "note")}};
    if (const auto* owner = p.if_contains("sales_owner"); owner && owner->is_string()) {
      fields["lead_owner"] = owner->as_string();
    }
    if (!prospect.empty()) fields["email_id"] = prospect;
    done = frappe_.Ensure(doctype, name, std::move(fields));
  } else if (op == "invoice") {
    doctype = "Sales Invoice";
    name = "BP-SINV-" + StringMember(p, "order_id");
    auto c = Customer(tenant_id);
    if (!c) {
      done = std::move(c).error();
    } else {
      std::string currency = StringMember(p, "currency");
      for (auto& ch : currency)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      json::array items;
      if (const auto* list = p.if_contains("items"); list != nullptr && list->is_array()) {
        for (const auto& item : list->as_array()) {
          const auto& o = item.as_object();
          items.push_back({{"item_code", settings_.item_code},
                           {"item_name", StringMember(o, "label")},
                           {"description", StringMember(o, "label")},
                           {"qty", 1},
                           {"rate", Major(IntOf(o, "amount"))}});
        }
      }
      const auto created = ParseTimestamp(StringMember(p, "created_at"));
      const auto date = created ? FormatRfc3339(*created).substr(0, 10) : std::string();
      done = frappe_.Ensure(
          doctype, name,
          {{"customer", *c},
           {"posting_date", date},
           {"due_date", date},
           {"set_posting_time", 1},
           {"currency", currency},
           {"items", std::move(items)},
           // Polar is the merchant of record: the tax is what it charged, one line as given.
           {"taxes",
            json::array{json::object{{"charge_type", "Actual"},
                                     {"account_head", settings_.tax_account},
                                     {"description", "Tax charged by Polar (merchant of record)"},
                                     {"tax_amount", Major(IntOf(p, "tax_amount"))}}}},
           {"polar_order_id", StringMember(p, "order_id")},
           {"breakpilot_total", Major(IntOf(p, "total_amount"))},
           {"docstatus", 1}});
    }
  } else if (op == "opportunity_lost") {
    doctype = "Opportunity";
    name = "BP-OPP-" + tenant_id;
    auto c = Customer(tenant_id);
    if (!c) {
      done = std::move(c).error();
    } else {
      auto opp = frappe_.Ensure(doctype, name,
                                {{"opportunity_from", "Customer"},
                                 {"party_name", *c},
                                 {"status", "Open"},
                                 {"breakpilot_tenant_id", tenant_id}});
      if (!opp) {
        done = std::move(opp).error();
      } else {
        done = frappe_.Update(
            doctype, name,
            {{"status", "Lost"}, {"order_lost_reason", StringMember(p, "reason").substr(0, 1000)}});
      }
    }
  } else {
    return;  // an operation this build does not know: completed, nothing to do
  }
  if (!done) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    last_failure_us_.store(clock_.Now().micros, std::memory_order_relaxed);
    {
      std::lock_guard lock(mu_);
      last_error_ = done.error().detail;
    }
    jobs::FailAttempt(done.error());
  }
  last_success_us_.store(clock_.Now().micros, std::memory_order_relaxed);
  ctx.Complete([&](storage::Session& s) {
    // A new invoice: every replica drops the tenant's cached list.
    if (op == "invoice") s.Notify("erpnext-invoices:" + tenant_id);
    audit::Record(
        s, clock_, kErpActor,
        {.tenant_id = tenant_id.empty() ? std::nullopt : std::optional<std::string>(tenant_id),
         .action = "backoffice.erpnext." + op,
         .crud = 'c',
         .target_type = "erpnext_" + doctype,
         .target_id = name,
         .description = "ERPNext " + doctype + " " + name,
         .fields_json = json::serialize(json::object{{"doctype", doctype}, {"name", name}})});
  });
}

InvoiceList ErpNext::Invoices(const std::string& tenant_id) {
  if (!on()) return {};
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    const auto it = invoices_.find(tenant_id);
    if (it != invoices_.end() && now - it->second.first < kInvoiceCache) return it->second.second;
  }
  auto list = frappe_.List("Sales Invoice",
                           json::array{json::array{"customer", "=", CustomerName(tenant_id)}},
                           {"name", "posting_date", "currency", "grand_total", "status"}, 50);
  std::lock_guard lock(mu_);
  if (!list) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    last_failure_us_.store(clock_.Now().micros, std::memory_order_relaxed);
    last_error_ = list.error().detail;
    InvoiceList stale;
    if (const auto it = invoices_.find(tenant_id); it != invoices_.end()) stale = it->second.second;
    stale.unavailable = true;
    return stale;
  }
  last_success_us_.store(clock_.Now().micros, std::memory_order_relaxed);
  InvoiceList out;
  for (const auto& o : *list) {
    const auto* total = o.if_contains("grand_total");
    std::string amount;
    if (total != nullptr && total->is_string()) amount = std::string(total->as_string());
    if (total != nullptr && total->is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", total->to_number<double>());
      amount = buf;
    }
    out.invoices.push_back({.name = StringMember(o, "name"),
                            .posting_date = StringMember(o, "posting_date"),
                            .currency = StringMember(o, "currency"),
                            .grand_total = amount,
                            .status = StringMember(o, "status")});
  }
  if (invoices_.size() > 10'000) invoices_.clear();
  invoices_[tenant_id] = {now, out};
  return out;
}

Result<SalesOrderOutcome> ErpNext::ReceiveWebhook(std::string_view signature,
                                                  std::string_view body) {
  if (settings_.webhook_secret.empty()) {
    return NotFound("backoffice-off", "ERPNext webhooks are not configured on this platform");
  }
  std::string mac;
  if (signature.empty() || !Base64Decode(signature, mac) ||
      !ConstantTimeEquals(mac, HmacSha256(settings_.webhook_secret, body))) {
    return WebhookSignatureInvalid(
        "X-Frappe-Webhook-Signature does not match the body under the configured secret");
  }
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 32}, problem);
  if (!v || !v->is_object()) return MalformedWebhook(problem);
  const auto& doc = v->as_object();
  const auto doctype = StringMember(doc, "doctype");
  const auto name = StringMember(doc, "name");
  const auto customer = StringMember(doc, "customer");
  if (doctype != "Sales Order" || name.empty() || customer.empty()) {
    return Refused("not-a-sales-order",
                   "only Sales Orders (doctype, name and customer) are acted on here");
  }
  const auto docstatus = IntOf(doc, "docstatus");
  const bool cancelled = docstatus == 2 || StringMember(doc, "workflow_state") == "Cancelled";
  if (docstatus != 1 && !cancelled) {
    return Refused("sales-order-draft", "Sales Order " + name + " is a draft: nothing to do");
  }
  // The tenant: our own customers are named BP-<tenant id>; one made in ERPNext carries it in
  // its breakpilot_tenant_id field.
  std::string tenant_id;
  if (customer.rfind("BP-", 0) == 0 && IsCanonicalUuid(customer.substr(3))) {
    tenant_id = NormalizeUuid(customer.substr(3));
  } else {
    auto c = frappe_.Get("Customer", customer);
    if (!c) return std::move(c).error();
    if (*c) {
      const auto id = StringMember(**c, "breakpilot_tenant_id");
      if (IsCanonicalUuid(id)) tenant_id = NormalizeUuid(id);
    }
  }
  auto tenant = tenant_id.empty() ? Result<tenants::Tenant>(NotFound("tenant-not-found", ""))
                                  : tenants_.Get(tenant_id);
  if (!tenant) {
    return Refused("unknown-customer", "the customer " + customer + " of Sales Order " + name +
                                           " has no Breakpilot tenant: nothing changed");
  }
  const auto id = Sha256Hex(body);
  SalesOrderOutcome out{.tenant_id = tenant->id, .action = "none"};
  Result<Ok> applied = Ok{};
  db_.Write([&](storage::Session& s) {
    if (s.FetchOne(kEventSeen, {id})) {
      out.repeat = true;
      return;
    }
    std::optional<Action> action;
    tenants::LifecycleInput in;
    if (cancelled) {
      if (tenant->status == tenants::Status::kActive || tenant->status == tenants::Status::kTrial) {
        action = Action::kCancel;
        in = {.reason = "ERPNext Sales Order " + name + " cancelled", .confirm = tenant->slug};
        out.action = "frozen";
      }
    } else if (tenant->status == tenants::Status::kTrial) {
      action = Action::kActivate;
      out.action = "activated";
    } else if (tenant->status == tenants::Status::kFrozen) {
      action = Action::kReactivate;
      out.action = "reactivated";
    }
    if (action) {
      in.reason = in.reason.value_or("ERPNext Sales Order " + name + " submitted");
      auto moved = tenants_.ApplyIn(s, kErpActor, tenant->id, *action, in);
      if (!moved) {  // refused before it wrote anything: the message is not recorded either
        applied = std::move(moved).error();
        return;
      }
    }
    s.Execute(kInsertEvent, {id, doctype, name, std::to_string(docstatus), tenant->id,
                             cancelled ? "cancel" : "submit", FormatStorage(clock_.Now())});
    audit::Record(
        s, clock_, kErpActor,
        {.tenant_id = tenant->id,
         .action = "backoffice.erpnext.sales_order",
         .crud = 'u',
         .target_type = "erpnext_sales_order",
         .target_id = name,
         .description = "ERPNext Sales Order " + name + (cancelled ? " cancelled" : " submitted"),
         .fields_json = json::serialize(json::object{
             {"sales_order", name}, {"customer", customer}, {"lifecycle", out.action}})});
  });
  if (!applied) return std::move(applied).error();
  return out;
}

IntegrationStatus ErpNext::Status() const {
  IntegrationStatus st{.name = "erpnext",
                       .configured = on(),
                       .failures = failures_.load(),
                       .last_success_us = last_success_us_.load(),
                       .last_failure_us = last_failure_us_.load(),
                       .job_kind = std::string(kErpNextJob)};
  {
    std::lock_guard lock(mu_);
    st.last_error = last_error_;
  }
  if (on()) {
    db_.Read([&](storage::Session& s) { st.queued = s.FetchOne(kQueued, {})->Int(0); });
  }
  return st;
}

}  // namespace breakpilot::backoffice
