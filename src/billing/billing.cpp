#include "billing/billing.hpp"

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "jobs/queue.hpp"

namespace breakpilot::billing {
namespace {

namespace json = boost::json;
using storage::Param;
using storage::Query;
using tenants::lifecycle::Action;

const Logger kLog("billing");
const audit::Actor kPolarActor{.id = "system:polar", .name = "Polar"};

constexpr Query kInsertEvent{
    "billing_polar_event_insert",
    "INSERT INTO polar_events (id, type, payload, received_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (id) DO NOTHING"};
constexpr Query kEvent{"billing_polar_event",
                       "SELECT type, payload, applied_at FROM polar_events WHERE id = $1"};
constexpr Query kMarkEvent{
    "billing_polar_event_mark",
    "UPDATE polar_events SET tenant_id = $2, outcome = $3, note = $4, applied_at = $5"
    " WHERE id = $1"};
constexpr Query kLockTenant{"billing_tenant_lock",
                            "SELECT status, kind FROM tenants WHERE id = $1 FOR UPDATE",
                            "SELECT status, kind FROM tenants WHERE id = $1"};
constexpr Query kUpsertSubscription{
    "billing_polar_subscription_upsert",
    "INSERT INTO polar_subscriptions (id, tenant_id, customer_id, product_id, plan, status,"
    " cancel_at_period_end, current_period_end, ended_at, modified_at, frozen_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11)"
    " ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,"
    " product_id = excluded.product_id, plan = COALESCE(excluded.plan, polar_subscriptions.plan),"
    " status = excluded.status, cancel_at_period_end = excluded.cancel_at_period_end,"
    " current_period_end = excluded.current_period_end, ended_at = excluded.ended_at,"
    " modified_at = excluded.modified_at, frozen_at = NULL, updated_at = excluded.updated_at"
    " WHERE excluded.modified_at >= polar_subscriptions.modified_at"
    " AND excluded.tenant_id = polar_subscriptions.tenant_id"};
constexpr Query kSubscriptions{
    "billing_polar_subscriptions",
    "SELECT id, status, plan, CASE WHEN cancel_at_period_end THEN 1 ELSE 0 END,"
    " current_period_end, ended_at, modified_at FROM polar_subscriptions WHERE tenant_id = $1"
    " ORDER BY modified_at DESC, id"};
constexpr Query kInsertOrder{
    "billing_polar_order_insert",
    "INSERT INTO polar_orders (id, tenant_id, subscription_id, customer_id, status, currency,"
    " total_amount, tax_amount, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10) ON CONFLICT (id) DO NOTHING"};
constexpr Query kOrders{
    "billing_polar_orders",
    "SELECT id, status, subscription_id, currency, total_amount, tax_amount, created_at"
    " FROM polar_orders WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT 50"};
// Paid orders whose subscription we do not know (yet): they entitle until it arrives.
constexpr Query kPaidWithoutSubscription{
    "billing_polar_orders_unmatched",
    "SELECT count(*) FROM polar_orders o WHERE o.tenant_id = $1 AND o.status = 'paid'"
    " AND (o.subscription_id IS NULL OR NOT EXISTS"
    " (SELECT 1 FROM polar_subscriptions s WHERE s.id = o.subscription_id))"};
constexpr Query kPeriodEnded{
    "billing_polar_period_ended",
    "SELECT id, tenant_id FROM polar_subscriptions WHERE cancel_at_period_end"
    " AND frozen_at IS NULL AND current_period_end <= $1"
    " AND status IN ('active', 'trialing', 'past_due') ORDER BY current_period_end LIMIT 100"};
constexpr Query kMarkFrozen{
    "billing_polar_mark_frozen",
    "UPDATE polar_subscriptions SET frozen_at = $2 WHERE id = $1 AND frozen_at IS NULL"};

Error Malformed(std::string detail) {
  return Error{.kind = ErrorKind::kMalformed,
               .type = "malformed-webhook",
               .title = "Malformed webhook",
               .detail = std::move(detail)};
}

const json::object* ObjectMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<std::string> OptionalString(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<Timestamp> OptionalTime(const json::object& o, std::string_view name) {
  auto text = OptionalString(o, name);
  return text ? ParseTimestamp(*text) : std::nullopt;
}

std::int64_t IntMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

// The tenant an object names: our checkout's metadata, else its customer's external id (a
// customer event: the customer itself).
std::string TenantHint(const json::object& data, std::string_view type) {
  if (const auto* m = ObjectMember(data, "metadata")) {
    if (auto id = OptionalString(*m, "tenant_id")) return *id;
  }
  if (const auto* c = ObjectMember(data, "customer")) {
    if (auto id = OptionalString(*c, "external_id")) return *id;
  }
  if (type.rfind("customer.", 0) == 0) return OptionalString(data, "external_id").value_or("");
  return "";
}

std::optional<std::string> CustomerId(const json::object& data) {
  if (auto id = OptionalString(data, "customer_id")) return id;
  if (const auto* c = ObjectMember(data, "customer")) return OptionalString(*c, "id");
  return std::nullopt;
}

// Our plan name for a Polar object: our checkout's metadata, else the product's plan.
std::optional<std::string> PlanOf(const json::object& data, const PolarSettings& settings) {
  if (const auto* m = ObjectMember(data, "metadata")) {
    if (auto plan = OptionalString(*m, "plan"); plan && settings.products.contains(*plan)) {
      return plan;
    }
  }
  const auto product = OptionalString(data, "product_id").value_or("");
  for (const auto& [plan, id] : settings.products) {
    if (!product.empty() && id == product) return plan;
  }
  return std::nullopt;
}

// The catalog plan a Polar plan sells: per seat is Professional, priced per member.
std::string CatalogPlan(const std::string& polar_plan) {
  return polar_plan == "starter" ? "starter" : "professional";
}

bool Live(const PolarSubscription& s, Timestamp now) {
  if (s.status != "active" && s.status != "trialing" && s.status != "past_due") return false;
  if (s.ended_at && s.ended_at->micros <= now.micros) return false;
  return !(s.cancel_at_period_end && s.current_period_end &&
           s.current_period_end->micros <= now.micros);
}

std::vector<PolarSubscription> SubscriptionsOf(storage::Session& s, const std::string& tenant) {
  std::vector<PolarSubscription> out;
  for (const auto& r : s.Fetch(kSubscriptions, {tenant})) {
    out.push_back({.id = r.Text(0),
                   .status = r.Text(1),
                   .plan = r.Optional(2),
                   .cancel_at_period_end = r.Int(3) != 0,
                   .current_period_end = r.OptionalTime(4),
                   .ended_at = r.OptionalTime(5),
                   .modified_at = r.Time(6)});
  }
  return out;
}

std::string Fields(std::initializer_list<std::pair<const char*, std::optional<std::string>>> kv) {
  json::object o;
  for (const auto& [k, v] : kv) {
    if (v) o[k] = *v;
  }
  return json::serialize(o);
}

}  // namespace

struct Billing::Applied {
  std::optional<std::string> tenant_id;
  std::string outcome;  // applied | ignored | no-tenant | stale | refused
  std::string note;
  std::optional<std::string> plan;  // the catalog plan the tenant now pays for
};

Billing::Billing(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
                 PolarClient polar)
    : db_(db), clock_(clock), tenants_(tenants), polar_(std::move(polar)) {}

Result<bool> Billing::ReceivePolar(const SignatureHeaders& headers, std::string_view body) {
  if (!settings().inbound()) {
    return NotFound("billing-off", "Polar webhooks are not configured on this platform");
  }
  if (auto ok = VerifyPolarSignature(settings().webhook_secret, headers, body, clock_.Now()); !ok) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return std::move(ok).error();
  }
  std::string problem;
  auto v = ParseStrictJson(body, {.max_depth = 64}, problem);
  if (!v) return Malformed("the body is not valid JSON: " + problem);
  if (!v->is_object()) return Malformed("the body is not a JSON object");
  const auto type = OptionalString(v->as_object(), "type");
  if (!type || type->empty() || type->size() > 100) {
    return Malformed("the event has no type");
  }
  if (ObjectMember(v->as_object(), "data") == nullptr) {
    return Malformed("the event has no data object");
  }
  const std::string id(headers.id);
  bool fresh = false;
  db_.Write([&](storage::Session& s) {
    const auto now = clock_.Now();
    fresh = s.Execute(kInsertEvent, {id, *type, std::string(body), FormatStorage(now)}) == 1;
    if (!fresh) return;
    jobs::Enqueue(s, clock_,
                  {.kind = std::string(kPolarJob),
                   .dedupe_key = "polar:" + id,
                   .payload = json::serialize(json::object{{"event_id", id}})});
  });
  (fresh ? received_ : duplicates_).fetch_add(1, std::memory_order_relaxed);
  return fresh;
}

void Billing::Register(jobs::Runner& runner) {
  runner.Register(std::string(kPolarJob), [this](jobs::JobContext& ctx) { ApplyPolar(ctx); });
}

void Billing::ApplyPolar(jobs::JobContext& ctx) {
  std::string problem;
  auto payload = ParseStrictJson(ctx.job().payload, {}, problem);
  const auto event_id =
      payload && payload->is_object() ? StringMember(payload->as_object(), "event_id") : "";
  std::optional<std::string> plan_after;
  std::optional<std::string> tenant_after;
  ctx.Complete([&](storage::Session& s) {
    const auto row = s.FetchOne(kEvent, {event_id});
    if (!row || !row->IsNull(2)) return;  // gone, or applied already
    auto done = Apply(s, event_id, row->Text(0), row->Text(1));
    s.Execute(kMarkEvent, {event_id, done.tenant_id, done.outcome, done.note.substr(0, 500),
                           FormatStorage(clock_.Now())});
    plan_after = done.plan;
    tenant_after = done.tenant_id;
  });
  applied_.fetch_add(1, std::memory_order_relaxed);
  // The plan paid for, once the event is applied (idempotent: the same plan again is no change).
  if (plan_after && tenant_after) {
    auto t = tenants_.Get(*tenant_after);
    if (t && ToString(t->plan) != *plan_after) {
      if (auto up = tenants_.Update(kPolarActor, *tenant_after, {.plan = *plan_after}, {}); !up) {
        kLog.Warn("plan not updated", {{"tenant_id", *tenant_after}, {"error", up.error().detail}});
      }
    }
  }
}

Billing::Applied Billing::Apply(storage::Session& s, const std::string& event_id,
                                const std::string& type, const std::string& payload) {
  std::string problem;
  auto v = ParseStrictJson(payload, {.max_depth = 64}, problem);
  const json::object* data = v && v->is_object() ? ObjectMember(v->as_object(), "data") : nullptr;
  if (data == nullptr) return {.outcome = "ignored", .note = "no data object"};
  const auto hint = TenantHint(*data, type);
  if (!IsCanonicalUuid(hint)) {
    return {.outcome = "no-tenant", .note = "names no tenant"};
  }
  const auto tenant_id = NormalizeUuid(hint);
  const auto locked = s.FetchOne(kLockTenant, {tenant_id});
  if (!locked) return {.outcome = "no-tenant", .note = "no tenant " + tenant_id};
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return {.outcome = "no-tenant", .note = "no tenant " + tenant_id};
  if (locked->Text(1) == "demo") {
    return {.tenant_id = tenant_id, .outcome = "ignored", .note = "the demo tenant is not billed"};
  }
  const auto now = clock_.Now();
  const auto object_id = OptionalString(*data, "id").value_or("");
  const auto customer = CustomerId(*data);
  std::optional<std::string> subscription_id;
  std::optional<std::string> order_id;
  std::optional<std::string> status = OptionalString(*data, "status");
  Applied out{.tenant_id = tenant_id, .outcome = "ignored"};
  if (type.rfind("subscription.", 0) == 0) {
    subscription_id = object_id;
    const auto modified = OptionalTime(*data, "modified_at");
    const auto created = OptionalTime(*data, "created_at");
    if (object_id.empty() || !status || (!modified && !created)) {
      out.note = "a subscription without id, status or time";
    } else {
      const auto plan = PlanOf(*data, settings());
      const auto cancel = data->if_contains("cancel_at_period_end");
      const bool cancels = cancel != nullptr && cancel->is_bool() && cancel->as_bool();
      const auto changed =
          s.Execute(kUpsertSubscription,
                    {object_id, tenant_id, customer, OptionalString(*data, "product_id"), plan,
                     *status, std::string(cancels ? "1" : "0"),
                     storage::TimeParam(OptionalTime(*data, "current_period_end")),
                     storage::TimeParam(OptionalTime(*data, "ended_at")),
                     FormatStorage(modified ? *modified : *created), FormatStorage(now)});
      if (changed == 0) {
        out.outcome = "stale";
        out.note = "a newer state of the subscription is applied";
      } else {
        out.outcome = "applied";
        if (plan) out.plan = CatalogPlan(*plan);
      }
    }
  } else if (type == "order.paid") {
    order_id = object_id;
    subscription_id = OptionalString(*data, "subscription_id");
    const auto created = OptionalTime(*data, "created_at");
    if (object_id.empty() || !created) {
      out.note = "an order without id or time";
    } else {
      const auto inserted = s.Execute(
          kInsertOrder,
          {object_id, tenant_id, subscription_id, customer, std::string("paid"),
           OptionalString(*data, "currency"), std::to_string(IntMember(*data, "total_amount")),
           std::to_string(IntMember(*data, "tax_amount")), payload, FormatStorage(*created)});
      if (inserted == 1 && on_order_paid_) on_order_paid_(s, tenant_id, *data);
      out.outcome = "applied";
      if (auto plan = PlanOf(*data, settings())) out.plan = CatalogPlan(*plan);
    }
  } else {
    out.note = "recorded; " + type + " changes nothing here";
  }
  std::string followed;
  if (out.outcome == "applied") followed = Follow(s, *tenant, type + " " + object_id);
  if (followed == "refused") out.outcome = "refused";
  audit::Record(
      s, clock_, kPolarActor,
      {.tenant_id = tenant_id,
       .action = "billing.polar." + type,
       .crud = 'u',
       .target_type = order_id ? "polar_order" : "polar_subscription",
       .target_id = object_id,
       .description =
           "Polar " + type +
           (followed.empty() || followed == "refused" ? std::string() : ": tenant " + followed),
       .fields_json =
           Fields({{"polar_event_id", event_id},
                   {"polar_subscription_id", subscription_id},
                   {"polar_order_id", order_id},
                   {"polar_customer_id", customer},
                   {"status", status},
                   {"outcome", out.outcome},
                   {"lifecycle",
                    followed.empty() ? std::nullopt : std::optional<std::string>(followed)}})});
  if (!followed.empty() && followed != "refused" && out.note.empty()) {
    out.note = "tenant " + followed;
  }
  return out;
}

std::string Billing::Follow(storage::Session& s, const tenants::Tenant& t, const std::string& why) {
  const auto now = clock_.Now();
  const auto subs = SubscriptionsOf(s, t.id);
  bool entitled = s.FetchOne(kPaidWithoutSubscription, {t.id})->Int(0) > 0;
  for (const auto& sub : subs) entitled = entitled || Live(sub, now);
  // The status as it stands in this transaction (the row is locked), not a cached copy.
  const auto row = s.FetchOne(kLockTenant, {t.id});
  const auto status = row ? tenants::ParseStatus(row->Text(0)) : std::nullopt;
  if (!status) return "";
  std::optional<Action> action;
  std::string word;
  if (entitled && *status == tenants::Status::kTrial) {
    action = Action::kActivate;
    word = "activated";
  } else if (entitled && *status == tenants::Status::kFrozen) {
    action = Action::kReactivate;
    word = "reactivated";
  } else if (!entitled && !subs.empty() &&
             (*status == tenants::Status::kActive || *status == tenants::Status::kTrial)) {
    action = Action::kCancel;
    word = "frozen";
  }
  if (!action) return "";
  tenants::LifecycleInput in{.reason = "Polar: " + why};
  if (*action == Action::kCancel) in.confirm = t.slug;
  auto done = tenants_.ApplyIn(s, kPolarActor, t.id, *action, in);
  if (!done) {
    kLog.Warn("billing could not move the tenant", {{"tenant_id", t.id},
                                                    {"action", std::string(ToString(*action))},
                                                    {"error", done.error().detail}});
    return "refused";
  }
  return word;
}

void Billing::FreezeEnded() {
  std::vector<std::pair<std::string, std::string>> due;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kPeriodEnded, {FormatStorage(clock_.Now())})) {
      due.emplace_back(r.Text(0), r.Text(1));
    }
  });
  for (const auto& entry : due) {
    const auto& sub = entry.first;
    const auto& tenant_id = entry.second;
    auto tenant = tenants_.Get(tenant_id);
    if (!tenant) continue;
    db_.Write([&](storage::Session& s) {
      if (s.FetchOne(kLockTenant, {tenant_id}) == std::nullopt) return;
      if (s.Execute(kMarkFrozen, {sub, FormatStorage(clock_.Now())}) != 1)
        return;  // another replica
      const auto followed = Follow(s, *tenant, "the period of subscription " + sub + " ended");
      audit::Record(s, clock_, kPolarActor,
                    {.tenant_id = tenant_id,
                     .action = "billing.polar.period_ended",
                     .crud = 'u',
                     .target_type = "polar_subscription",
                     .target_id = sub,
                     .description = "the cancelled subscription's period ended" +
                                    (followed.empty() ? std::string() : ": tenant " + followed),
                     .fields_json = Fields({{"polar_subscription_id", sub}})});
    });
  }
}

Result<Checkout> Billing::StartCheckout(const audit::Actor& actor, const std::string& tenant_id,
                                        const std::string& plan,
                                        const std::optional<std::string>& customer_email,
                                        std::optional<int> seats, const std::string& success_url,
                                        const std::string& return_url) {
  if (!settings().outbound()) {
    return NotFound("billing-off", "checkout through Polar is not configured on this platform");
  }
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return std::move(tenant).error();
  if (tenant->kind == tenants::Kind::kDemo) {
    return Error{.kind = ErrorKind::kConflict,
                 .type = "demo-not-billed",
                 .title = "Demo tenant",
                 .detail = "the demo tenant cannot buy a plan"};
  }
  if (plan != "per_seat") seats.reset();
  if (plan == "per_seat" && (!seats || *seats < 1 || *seats > 10'000)) {
    return ValidationFailed({{"/seats", "a per-seat plan needs 1 to 10000 seats"}});
  }
  auto made = polar_.CreateCheckout({.tenant_id = tenant_id,
                                     .plan = plan,
                                     .customer_email = customer_email,
                                     .seats = seats,
                                     .success_url = success_url,
                                     .return_url = return_url});
  if (!made) {
    if (made.error().kind == ErrorKind::kUnavailable) {
      failures_.fetch_add(1);
      last_failure_us_.store(clock_.Now().micros);
    }
    return std::move(made).error();
  }
  last_success_us_.store(clock_.Now().micros);
  db_.Write([&](storage::Session& s) {
    audit::Record(s, clock_, actor,
                  {.tenant_id = tenant_id,
                   .action = "billing.checkout.create",
                   .crud = 'c',
                   .target_type = "polar_checkout",
                   .target_id = made->id,
                   .description = "a Polar checkout for the " + plan + " plan",
                   .fields_json = Fields({{"polar_checkout_id", made->id}, {"plan", plan}})});
  });
  return made;
}

Result<std::string> Billing::CustomerPortal(const std::string& tenant_id,
                                            const std::string& return_url) {
  if (!settings().outbound()) {
    return NotFound("billing-off", "Polar is not configured on this platform");
  }
  auto url = polar_.CustomerPortalUrl(tenant_id, return_url);
  if (!url && url.error().kind == ErrorKind::kUnavailable) {
    failures_.fetch_add(1);
    last_failure_us_.store(clock_.Now().micros);
  }
  if (url) last_success_us_.store(clock_.Now().micros);
  return url;
}

Result<TenantBilling> Billing::Of(const std::string& tenant_id) {
  TenantBilling out;
  db_.Read([&](storage::Session& s) {
    out.subscriptions = SubscriptionsOf(s, tenant_id);
    for (const auto& r : s.Fetch(kOrders, {tenant_id})) {
      out.orders.push_back({.id = r.Text(0),
                            .status = r.Text(1),
                            .subscription_id = r.Optional(2),
                            .currency = r.Optional(3).value_or(""),
                            .total_amount = r.Int(4),
                            .tax_amount = r.Int(5),
                            .created_at = r.Time(6)});
    }
  });
  return out;
}

BillingStats Billing::stats() const {
  return {.received = received_.load(),
          .duplicates = duplicates_.load(),
          .refused = refused_.load(),
          .applied = applied_.load(),
          .failures = failures_.load(),
          .last_success_us = last_success_us_.load(),
          .last_failure_us = last_failure_us_.load()};
}

void Billing::WriteMetrics(std::string& out) const {
  const auto st = stats();
  out += "# HELP breakpilot_polar_webhooks_total Polar webhook messages: new, repeated, refused.\n";
  out += "# TYPE breakpilot_polar_webhooks_total counter\n";
  out += "breakpilot_polar_webhooks_total{outcome=\"new\"} " + std::to_string(st.received) + "\n";
  out +=
      "breakpilot_polar_webhooks_total{outcome=\"repeat\"} " + std::to_string(st.duplicates) + "\n";
  out +=
      "breakpilot_polar_webhooks_total{outcome=\"refused\"} " + std::to_string(st.refused) + "\n";
  out += "# HELP breakpilot_polar_events_applied_total Polar messages applied by the job.\n";
  out += "# TYPE breakpilot_polar_events_applied_total counter\n";
  out += "breakpilot_polar_events_applied_total " + std::to_string(st.applied) + "\n";
}

}  // namespace breakpilot::billing
