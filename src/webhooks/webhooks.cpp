#include "webhooks/webhooks.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "tracing/trace.hpp"
#include "webhooks/signature.hpp"

namespace breakpilot::webhooks {
namespace {

namespace json = boost::json;
using storage::Query;
using storage::Session;

const Logger kLog("webhooks");

constexpr std::string_view kEndpointColumns =
    "id, tenant_id, url, event_types, status, disabled_reason, failing_since, previous_until,"
    " created_at, updated_at";

constexpr Query kInsertEndpoint{
    "webhook_endpoint_insert",
    "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret, status, created_at,"
    " updated_at) VALUES ($1, $2, $3, $4, $5, 'enabled', $6, $6)"};
constexpr Query kSelectEndpoints{
    "webhook_endpoints_of_tenant",
    "SELECT id, tenant_id, url, event_types, status, disabled_reason, failing_since,"
    " previous_until, created_at, updated_at FROM webhook_endpoints WHERE tenant_id = $1"
    " ORDER BY created_at, id"};
constexpr Query kSelectEndpoint{
    "webhook_endpoint_select",
    "SELECT id, tenant_id, url, event_types, status, disabled_reason, failing_since,"
    " previous_until, created_at, updated_at FROM webhook_endpoints"
    " WHERE tenant_id = $1 AND id = $2"};
constexpr Query kUpdateEndpoint{
    "webhook_endpoint_update",
    "UPDATE webhook_endpoints SET url = $3, event_types = $4, status = $5, disabled_reason = $6,"
    " failing_since = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2"};
constexpr Query kDeleteEndpoint{"webhook_endpoint_delete",
                                "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"};
constexpr Query kSelectSecret{"webhook_endpoint_secret",
                              "SELECT secret FROM webhook_endpoints WHERE id = $1"};
constexpr Query kRotateSecret{
    "webhook_endpoint_rotate",
    "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3, previous_until = $4,"
    " updated_at = $5 WHERE id = $1"};
constexpr Query kDeliveryTarget{
    "webhook_delivery_target",
    "SELECT d.state, d.attempts, d.event_id, d.type, d.payload, e.id, e.url, e.secret,"
    " e.previous_secret, e.previous_until, e.status, e.failing_since, d.tenant_id"
    " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
    " WHERE d.id = $1"};
constexpr Query kClaimEvents{"webhook_events_claim",
                             "SELECT id, tenant_id, type, payload, traceparent FROM webhook_events"
                             " ORDER BY created_at, id LIMIT 100 FOR UPDATE SKIP LOCKED",
                             "SELECT id, tenant_id, type, payload, traceparent FROM webhook_events"
                             " ORDER BY created_at, id LIMIT 100"};
constexpr Query kEnabledEndpoints{
    "webhook_endpoints_enabled",
    "SELECT id, event_types FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'enabled'"};
constexpr Query kDeleteEvent{"webhook_event_delete", "DELETE FROM webhook_events WHERE id = $1"};
constexpr Query kInsertDelivery{
    "webhook_delivery_insert",
    "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, tenant_id, type, payload, state,"
    " attempts, next_at, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7) ON CONFLICT DO NOTHING"};
constexpr Query kDeliverySucceeded{
    "webhook_delivery_succeeded",
    "UPDATE webhook_deliveries SET state = 'succeeded', attempts = $2, last_status = $3,"
    " last_error = NULL, next_at = NULL, updated_at = $4 WHERE id = $1 AND state = 'pending'"};
constexpr Query kDeliveryFailed{
    "webhook_delivery_failed",
    "UPDATE webhook_deliveries SET state = $2, attempts = $3, last_status = $4, last_error = $5,"
    " next_at = $6, updated_at = $7 WHERE id = $1 AND state = 'pending'"};
constexpr Query kEndpointHealthy{"webhook_endpoint_healthy",
                                 "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 "
                                 "AND failing_since IS NOT NULL"};
constexpr Query kEndpointFailing{
    "webhook_endpoint_failing",
    "UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL"};
constexpr Query kEndpointDisable{
    "webhook_endpoint_disable",
    "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = $3"
    " WHERE id = $1 AND status = 'enabled'"};
constexpr Query kEndpointDeadLetter{
    "webhook_endpoint_dead_letter",
    "UPDATE webhook_deliveries SET state = 'dead', last_error = $2, next_at = NULL,"
    " updated_at = $3 WHERE endpoint_id = $1 AND state = 'pending'"};
constexpr Query kTenantContact{"webhook_tenant_contact",
                               "SELECT contact_email, name FROM tenants WHERE id = $1"};
constexpr Query kSelectDeliveries{
    "webhook_deliveries_select",
    "SELECT id, event_id, endpoint_id, tenant_id, type, state, attempts, next_at, last_status,"
    " last_error, created_at, updated_at FROM webhook_deliveries"
    " WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid) AND ($2::text IS NULL OR state = $2)"
    " AND ($3::uuid IS NULL OR endpoint_id = $3::uuid) ORDER BY created_at DESC, id DESC LIMIT $4",
    "SELECT id, event_id, endpoint_id, tenant_id, type, state, attempts, next_at, last_status,"
    " last_error, created_at, updated_at FROM webhook_deliveries"
    " WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR state = $2)"
    " AND ($3 IS NULL OR endpoint_id = $3) ORDER BY created_at DESC, id DESC LIMIT $4"};
constexpr Query kSelectDelivery{
    "webhook_delivery_select",
    "SELECT id, event_id, endpoint_id, tenant_id, type, state, attempts, next_at, last_status,"
    " last_error, created_at, updated_at FROM webhook_deliveries WHERE id = $1"};
constexpr Query kReplay{
    "webhook_delivery_replay",
    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $2,"
    " last_error = NULL, updated_at = $2 WHERE id = $1 AND state = 'dead'"};

std::vector<std::string> ParseTypes(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& t : v.as_array()) {
    if (t.is_string()) out.emplace_back(t.as_string());
  }
  return out;
}

std::string TypesJson(const std::vector<std::string>& types) {
  json::array a;
  for (const auto& t : types) a.emplace_back(t);
  return json::serialize(a);
}

Endpoint EndpointFromRow(const storage::Row& r) {
  return Endpoint{.id = r.Text(0),
                  .tenant_id = r.Text(1),
                  .url = r.Text(2),
                  .event_types = ParseTypes(r.Text(3)),
                  .status = r.Text(4),
                  .disabled_reason = r.Optional(5),
                  .failing_since = r.OptionalTime(6),
                  .previous_secret_until = r.OptionalTime(7),
                  .created_at = r.Time(8),
                  .updated_at = r.Time(9)};
}

Delivery DeliveryFromRow(const storage::Row& r) {
  Delivery d{.id = r.Text(0),
             .event_id = r.Text(1),
             .endpoint_id = r.Text(2),
             .tenant_id = r.Text(3),
             .type = r.Text(4),
             .state = r.Text(5),
             .attempts = static_cast<int>(r.Int(6)),
             .next_at = r.OptionalTime(7),
             .last_error = r.Optional(9),
             .created_at = r.Time(10),
             .updated_at = r.Time(11)};
  if (!r.IsNull(8)) d.last_status = static_cast<int>(r.Int(8));
  return d;
}

Result<std::vector<std::string>> CheckTypes(const std::vector<std::string>& types) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (std::find(std::begin(kEventTypes), std::end(kEventTypes), types[i]) ==
        std::end(kEventTypes)) {
      return InvalidInput("unknown-event-type", "Unknown event type",
                          "'" + types[i] + "' is not an event type",
                          {{"/event_types/" + std::to_string(i), "is not an event type"}});
    }
    if (std::find(out.begin(), out.end(), types[i]) == out.end()) out.push_back(types[i]);
  }
  return out;
}

bool Wants(const std::string& types_json, std::string_view type) {
  const auto types = ParseTypes(types_json);
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

std::string Purpose(const std::string& endpoint_id) {
  return "webhook-secret:" + endpoint_id;
}

std::string DeliverPayload(const std::string& delivery_id) {
  return json::serialize(json::object{{"delivery_id", delivery_id}});
}

// The job of one attempt; the key keeps two replicas from queueing the same attempt twice.
bool QueueAttempt(Session& s, const Clock& clock, const std::string& delivery_id,
                  const std::string& key, Timestamp at) {
  return jobs::Enqueue(s, clock,
                       {.kind = std::string(kDeliverJob),
                        .dedupe_key = "webhook.deliver:" + delivery_id + ":" + key,
                        .payload = DeliverPayload(delivery_id),
                        .run_at = at,
                        .max_attempts = 5});
}

Error NoEndpoint(const std::string& id) {
  return NotFound("webhook-not-found", "no webhook endpoint " + id);
}

}  // namespace

Result<std::vector<std::chrono::seconds>> ParseSchedule(std::string_view text) {
  std::vector<std::chrono::seconds> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    long long v = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size() || v < 0 || v > 86'400) {
      return InvalidInput("invalid-schedule", "Invalid schedule",
                          "webhook_schedule: seconds from 0 to 86400, comma-separated");
    }
    out.emplace_back(v);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  if (out.empty() || out.size() > 20) {
    return InvalidInput("invalid-schedule", "Invalid schedule",
                        "webhook_schedule: 1 to 20 attempts");
  }
  return out;
}

// The fan-out's own thread: woken by the "webhooks" event (an outbox row committed on any
// replica), it never runs on the database's listener thread.
struct Webhooks::Waker {
  std::mutex mu;
  std::condition_variable cv;
  bool due = false;
  bool stopping = false;
  std::thread thread;
};

Webhooks::Webhooks(storage::Database& db, const Clock& clock, outbound::Fetcher fetch,
                   Options options, mail::Mailer* mailer)
    : db_(db),
      clock_(clock),
      fetch_(std::move(fetch)),
      options_(std::move(options)),
      mailer_(mailer),
      waker_(std::make_unique<Waker>()) {
  waker_->thread = std::thread([this] {
    std::unique_lock lock(waker_->mu);
    for (;;) {
      waker_->cv.wait(lock, [&] { return waker_->due || waker_->stopping; });
      if (waker_->stopping) return;
      waker_->due = false;
      lock.unlock();
      try {
        while (FanOut() > 0) {
        }
      } catch (const std::exception& e) {
        kLog.Warn("webhook fan-out failed", {{"error", ErrorText(e)}});
      }
      lock.lock();
    }
  });
  subscription_ = db_.Subscribe([this](std::string_view event) {
    if (event != audit::kWebhooksEvent && event != "*") return;
    {
      std::lock_guard lock(waker_->mu);
      waker_->due = true;
    }
    waker_->cv.notify_one();
  });
}

Webhooks::~Webhooks() {
  db_.Unsubscribe(subscription_);
  {
    std::lock_guard lock(waker_->mu);
    waker_->stopping = true;
  }
  waker_->cv.notify_one();
  waker_->thread.join();
}

Result<Endpoint> Webhooks::Find(Session& s, const std::string& tenant_id, const std::string& id) {
  if (!IsCanonicalUuid(id)) return NoEndpoint(id);
  auto row = s.FetchOne(kSelectEndpoint, {tenant_id, NormalizeUuid(id)});
  if (!row) return NoEndpoint(id);
  return EndpointFromRow(*row);
}

Result<std::pair<Endpoint, std::string>> Webhooks::Create(const audit::Actor& actor,
                                                          const std::string& tenant_id,
                                                          const NewEndpoint& in) {
  if (auto ok = outbound::CheckUrl(in.url, options_.policy); !ok) return std::move(ok).error();
  auto types = CheckTypes(in.event_types);
  if (!types) return std::move(types).error();
  const Timestamp now = clock_.Now();
  const std::string id = NewUuidV7(now);
  const std::string secret = NewSecret();
  Endpoint made;
  db_.Write([&](Session& s) {
    const std::string& key = seal_key_.Get(s, now);
    s.Execute(kInsertEndpoint, {id, tenant_id, in.url, TypesJson(*types),
                                Seal(key, Purpose(id), secret), FormatStorage(now)});
    audit::Record(
        s, clock_, actor,
        {tenant_id, "webhook.create", 'c', "webhook", id, "webhook endpoint " + in.url + " created",
         json::serialize(json::object{{"url", in.url}, {"event_types", TypesJson(*types)}})});
    made = EndpointFromRow(*s.FetchOne(kSelectEndpoint, {tenant_id, id}));
  });
  return std::make_pair(made, secret);
}

Result<std::vector<Endpoint>> Webhooks::List(const std::string& tenant_id) {
  std::vector<Endpoint> out;
  db_.Read([&](Session& s) {
    for (const auto& r : s.Fetch(kSelectEndpoints, {tenant_id})) out.push_back(EndpointFromRow(r));
  });
  return out;
}

Result<Endpoint> Webhooks::Get(const std::string& tenant_id, const std::string& id) {
  Result<Endpoint> out = NoEndpoint(id);
  db_.Read([&](Session& s) { out = Find(s, tenant_id, id); });
  return out;
}

Result<Endpoint> Webhooks::Update(const audit::Actor& actor, const std::string& tenant_id,
                                  const std::string& id, const EndpointPatch& patch) {
  if (patch.url) {
    if (auto ok = outbound::CheckUrl(*patch.url, options_.policy); !ok) {
      return std::move(ok).error();
    }
  }
  std::optional<std::vector<std::string>> types;
  if (patch.event_types) {
    auto checked = CheckTypes(*patch.event_types);
    if (!checked) return std::move(checked).error();
    types = std::move(*checked);
  }
  if (patch.status && *patch.status != "enabled" && *patch.status != "disabled") {
    return InvalidInput("invalid-status", "Invalid status", "status is enabled or disabled",
                        {{"/status", "must be enabled or disabled"}});
  }
  Result<Endpoint> out = NoEndpoint(id);
  db_.Write([&](Session& s) {
    auto e = Find(s, tenant_id, id);
    if (!e) {
      out = std::move(e).error();
      return;
    }
    Endpoint next = *e;
    if (patch.url) next.url = *patch.url;
    if (types) next.event_types = *types;
    if (patch.status && *patch.status != next.status) {
      next.status = *patch.status;
      next.disabled_reason = next.status == "disabled" ? std::optional<std::string>(
                                                             "disabled by "
                                                             "hand")
                                                       : std::nullopt;
      next.failing_since.reset();  // enabled again: the 5 days start afresh
    }
    const Timestamp now = clock_.Now();
    s.Execute(kUpdateEndpoint,
              {tenant_id, next.id, next.url, TypesJson(next.event_types), next.status,
               next.disabled_reason, storage::TimeParam(next.failing_since), FormatStorage(now)});
    audit::Record(s, clock_, actor,
                  {tenant_id, "webhook.update", 'u', "webhook", next.id,
                   "webhook endpoint " + next.url + " changed",
                   json::serialize(json::object{{"url", next.url},
                                                {"event_types", TypesJson(next.event_types)},
                                                {"status", next.status}})});
    out = EndpointFromRow(*s.FetchOne(kSelectEndpoint, {tenant_id, next.id}));
  });
  return out;
}

Result<Ok> Webhooks::Delete(const audit::Actor& actor, const std::string& tenant_id,
                            const std::string& id) {
  Result<Ok> out = NoEndpoint(id);
  db_.Write([&](Session& s) {
    auto e = Find(s, tenant_id, id);
    if (!e) return;
    s.Execute(kDeleteEndpoint, {tenant_id, e->id});
    audit::Record(s, clock_, actor,
                  {tenant_id, "webhook.delete", 'd', "webhook", e->id,
                   "webhook endpoint " + e->url + " deleted"});
    out = Ok{};
  });
  return out;
}

Result<std::string> Webhooks::RotateSecret(const audit::Actor& actor, const std::string& tenant_id,
                                           const std::string& id, std::chrono::seconds grace) {
  if (grace.count() < 0 || grace > std::chrono::hours(24 * 7)) {
    return InvalidInput("invalid-grace", "Invalid grace", "grace_seconds is 0 to 604800",
                        {{"/grace_seconds", "must be 0 to 604800"}});
  }
  const std::string secret = NewSecret();
  Result<std::string> out = NoEndpoint(id);
  db_.Write([&](Session& s) {
    auto e = Find(s, tenant_id, id);
    if (!e) return;
    const Timestamp now = clock_.Now();
    const std::string& key = seal_key_.Get(s, now);
    const auto old = s.FetchOne(kSelectSecret, {e->id});
    const bool keep = grace.count() > 0;
    s.Execute(kRotateSecret, {e->id, Seal(key, Purpose(e->id), secret),
                              keep ? storage::Param(old->Text(0)) : std::nullopt,
                              keep ? storage::Param(FormatStorage(
                                         Timestamp{now.micros + grace.count() * kMicrosPerSecond}))
                                   : std::nullopt,
                              FormatStorage(now)});
    audit::Record(s, clock_, actor,
                  {tenant_id, "webhook.rotate", 'u', "webhook", e->id,
                   "webhook secret rotated; the old one signs for " +
                       std::to_string(grace.count()) + " s more"});
    out = secret;
  });
  return out;
}

Result<Delivery> Webhooks::SendTest(const audit::Actor& actor, const std::string& tenant_id,
                                    const std::string& id) {
  Result<Delivery> out = NoEndpoint(id);
  db_.Write([&](Session& s) {
    auto e = Find(s, tenant_id, id);
    if (!e) return;
    const Timestamp now = clock_.Now();
    const std::string event_id = NewUuidV7(now);
    const std::string delivery_id = NewUuidV7(now);
    const json::object payload{{"type", "webhook.test"},
                               {"timestamp", FormatRfc3339(now)},
                               {"data", {{"tenant_id", tenant_id}, {"endpoint_id", e->id}}}};
    s.Execute(kInsertDelivery, {delivery_id, event_id, e->id, tenant_id, "webhook.test",
                                json::serialize(payload), FormatStorage(now)});
    QueueAttempt(s, clock_, delivery_id, "0", now);
    audit::Record(s, clock_, actor,
                  {tenant_id, "webhook.test", 'c', "webhook", e->id, "test event sent"});
    out = DeliveryFromRow(*s.FetchOne(kSelectDelivery, {delivery_id}));
  });
  return out;
}

std::vector<Delivery> Webhooks::Deliveries(const DeliveryFilter& f) {
  std::vector<Delivery> out;
  db_.Read([&](Session& s) {
    for (const auto& r : s.Fetch(kSelectDeliveries,
                                 {f.tenant_id, f.state, f.endpoint_id, std::to_string(f.limit)})) {
      out.push_back(DeliveryFromRow(r));
    }
  });
  return out;
}

Result<Delivery> Webhooks::Replay(const audit::Actor& actor, const std::string& delivery_id,
                                  const std::optional<std::string>& only_tenant) {
  const Error missing = NotFound("delivery-not-found", "no dead delivery " + delivery_id);
  if (!IsCanonicalUuid(delivery_id)) return missing;
  const std::string id = NormalizeUuid(delivery_id);
  Result<Delivery> out = missing;
  db_.Write([&](Session& s) {
    auto row = s.FetchOne(kSelectDelivery, {id});
    if (!row) return;
    Delivery d = DeliveryFromRow(*row);
    if (only_tenant && d.tenant_id != *only_tenant) return;
    if (d.state != "dead") {
      out = Error{ErrorKind::kConflict, "delivery-not-dead", "Not in the dead letter",
                  "only a dead delivery is replayed; this one is " + d.state};
      return;
    }
    const Timestamp now = clock_.Now();
    s.Execute(kReplay, {id, FormatStorage(now)});
    QueueAttempt(s, clock_, id, "replay:" + NewUuidV7(now), now);
    audit::Record(s, clock_, actor,
                  {d.tenant_id, "webhook.replay", 'u', "webhook_delivery", id,
                   "dead delivery of " + d.type + " replayed"});
    out = DeliveryFromRow(*s.FetchOne(kSelectDelivery, {id}));
  });
  return out;
}

std::size_t Webhooks::FanOut() {
  std::size_t taken = 0;
  db_.Write([&](Session& s) {
    taken = 0;
    const Timestamp now = clock_.Now();
    for (const auto& ev : s.Fetch(kClaimEvents, {})) {
      ++taken;
      const std::string& event_id = ev.Text(0);
      const std::string& type = ev.Text(2);
      // The delivery jobs continue the trace of the request that made the event.
      const auto tp = ev.Optional(4);
      const tracing::ContextScope trace(tp ? tracing::ParseTraceparent(*tp) : std::nullopt);
      for (const auto& ep : s.Fetch(kEnabledEndpoints, {ev.Text(1)})) {
        if (!Wants(ep.Text(1), type)) continue;
        const std::string delivery_id = NewUuidV7(now);
        if (s.Execute(kInsertDelivery, {delivery_id, event_id, ep.Text(0), ev.Text(1), type,
                                        ev.Text(3), FormatStorage(now)}) == 1) {
          QueueAttempt(s, clock_, delivery_id, "0", now);
        }
      }
      s.Execute(kDeleteEvent, {event_id});
    }
  });
  return taken;
}

void Webhooks::Deliver(jobs::JobContext& ctx) {
  boost::system::error_code ec;
  const auto payload = json::parse(ctx.job().payload, ec);
  const auto* id =
      !ec && payload.is_object() ? payload.as_object().if_contains("delivery_id") : nullptr;
  if (id == nullptr || !id->is_string()) {
    ctx.Complete();
    return;
  }
  const std::string delivery_id(id->as_string());
  std::optional<storage::Row> target;
  db_.Read([&](Session& s) { target = s.FetchOne(kDeliveryTarget, {delivery_id}); });
  if (!target || target->Text(0) != "pending") {
    ctx.Complete();  // delivered, dead or gone (its endpoint deleted): nothing to do
    return;
  }
  const int attempt = static_cast<int>(target->Int(1)) + 1;
  const std::string event_id = target->Text(2);
  const std::string body = target->Text(4);
  const std::string endpoint_id = target->Text(5);
  const std::string url = target->Text(6);
  const std::string tenant_id = target->Text(12);
  const Timestamp now = clock_.Now();
  if (target->Text(10) != "enabled") {
    ctx.Complete([&](Session& s) {
      s.Execute(kDeliveryFailed, {delivery_id, "dead", std::to_string(attempt - 1), std::nullopt,
                                  "the endpoint is disabled", std::nullopt, FormatStorage(now)});
    });
    return;
  }
  // The signatures: the current secret's, and the previous one's during a rotation's grace.
  const std::string& key = seal_key_.Get(db_, now);
  const std::int64_t ts = now.micros / kMicrosPerSecond;
  std::string signatures;
  for (int column : {7, 8}) {
    if (target->IsNull(column)) continue;
    if (column == 8 && (target->IsNull(9) || target->Time(9) <= now)) continue;
    std::string secret;
    if (!Unseal(key, Purpose(endpoint_id), target->Text(column), secret)) continue;
    if (auto sig = Sign(secret, event_id, ts, body)) {
      signatures += (signatures.empty() ? "" : " ") + *sig;
    }
  }
  std::optional<int> status;
  std::string error;
  if (signatures.empty()) {
    error = "the endpoint's secret cannot be read";
  } else {
    auto r = fetch_({.method = "POST",
                     .url = url,
                     .headers = {{"Content-Type", "application/json"},
                                 {"webhook-id", event_id},
                                 {"webhook-timestamp", std::to_string(ts)},
                                 {"webhook-signature", signatures},
                                 {"User-Agent", "Breakpilot-Webhooks/1"}},
                     .body = body,
                     .timeout = options_.attempt_timeout,
                     .max_body = std::size_t{64} << 10,
                     .guard = options_.policy});
    if (!r) {
      error = r.error().detail;
    } else {
      status = r->status;
      if (r->status < 200 || r->status >= 300) error = "HTTP " + std::to_string(r->status);
    }
  }
  const bool ok = error.empty();
  ctx.Complete([&](Session& s) {
    const std::string at = FormatStorage(now);
    const storage::Param code = status ? storage::Param(std::to_string(*status)) : std::nullopt;
    if (ok) {
      s.Execute(kDeliverySucceeded, {delivery_id, std::to_string(attempt), code, at});
      s.Execute(kEndpointHealthy, {endpoint_id});
      return;
    }
    s.Execute(kEndpointFailing, {endpoint_id, at});
    const auto failing = s.FetchOne({"webhook_endpoint_failing_since",
                                     "SELECT failing_since FROM webhook_endpoints WHERE id = $1"},
                                    {endpoint_id});
    const bool give_up =
        failing && !failing->IsNull(0) &&
        now.micros - failing->Time(0).micros >=
            std::chrono::duration_cast<std::chrono::microseconds>(options_.disable_after).count();
    const bool last = static_cast<std::size_t>(attempt) >= options_.schedule.size();
    std::optional<Timestamp> next;
    if (!last && !give_up) {
      next = Timestamp{now.micros + options_.schedule[static_cast<std::size_t>(attempt)].count() *
                                        kMicrosPerSecond};
    }
    s.Execute(kDeliveryFailed, {delivery_id, next ? "pending" : "dead", std::to_string(attempt),
                                code, error.substr(0, 500), storage::TimeParam(next), at});
    if (next) QueueAttempt(s, clock_, delivery_id, std::to_string(attempt), *next);
    if (give_up &&
        s.Execute(kEndpointDisable,
                  {endpoint_id, "failing for 5 days: " + error.substr(0, 200), at}) == 1) {
      s.Execute(kEndpointDeadLetter, {endpoint_id, "the endpoint was disabled", at});
      audit::Record(
          s, clock_, audit::Actor{"system:webhooks", "webhooks", ""},
          {tenant_id, "webhook.disabled", 'u', "webhook", endpoint_id,
           "webhook endpoint " + url + " disabled after failing for 5 days: " + error, "{}", true});
      // The owner hears of it: the tenant's contact, once per disable.
      const auto owner = s.FetchOne(kTenantContact, {tenant_id});
      if (mailer_ != nullptr && owner && !owner->IsNull(0) && !owner->Text(0).empty()) {
        mailer_->Queue(s, {.template_name = "webhook_disabled",
                           .to = owner->Text(0),
                           .tenant_id = tenant_id,
                           .vars = {{"tenant_name", owner->Text(1)},
                                    {"endpoint_url", url},
                                    {"reason", error.substr(0, 200)}},
                           .dedupe_key = "webhook.disabled:" + endpoint_id + ":" + at});
      }
    }
  });
  if (!ok)
    kLog.Debug("delivery failed",
               {{"delivery", delivery_id}, {"attempt", attempt}, {"error", error}});
}

void Webhooks::Register(jobs::Runner& runner) {
  runner.Register(std::string(kDeliverJob), [this](jobs::JobContext& ctx) { Deliver(ctx); });
}

}  // namespace breakpilot::webhooks
