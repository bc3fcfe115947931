// Outgoing webhooks (M15.2): a tenant's endpoints, the events they receive, signed deliveries
// from durable jobs on a retry schedule, the dead letter and its replay.
//
//   Webhooks hooks(db, clock, queue, fetch, {.policy = {.https_only = true}});
//   auto made = hooks.Create(actor, tenant_id, {.url = "https://x.example/hook"});  // + secret
//   hooks.FanOut();           // the outbox (audit::Record) into deliveries; also on "webhooks"
//   runner.Register(kDeliverJob, [&](jobs::JobContext& c) { hooks.Deliver(c); });
//
// Delivery: one job per attempt. A 2xx ends it; anything else (a status, a timeout, a refused
// address) schedules the next attempt after schedule[attempts] (default Svix's: at once, 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), in the same transaction that records the failure; after
// the last the delivery is dead and waits in the dead letter for a replay. An endpoint whose
// deliveries have failed for `disable_after` (5 days) with no success between is disabled.
// The tenant's contact is mailed when that happens.
// Each attempt re-resolves the host and connects only to addresses the policy allows (DNS
// rebinding); redirects are not followed.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "jobs/queue.hpp"
#include "jobs/runner.hpp"
#include "mail/outbox.hpp"
#include "outbound/fetch.hpp"
#include "storage/database.hpp"
#include "storage/shared_secret.hpp"

namespace breakpilot::webhooks {

inline constexpr std::string_view kDeliverJob = "webhook.deliver";
// The event types an endpoint may ask for (and "webhook.test", which only a test-send makes).
inline constexpr std::string_view kEventTypes[] = {
    "tenant.status_changed",  "subscription.updated", "api_key.created",
    "api_key.revoked",        "user.added",           "user.removed",
    "usage.threshold_reached"};

struct Options {
  outbound::TargetPolicy policy;
  std::vector<std::chrono::seconds> schedule{
      std::chrono::seconds(0),     std::chrono::seconds(5),    std::chrono::seconds(300),
      std::chrono::seconds(1800),  std::chrono::seconds(7200), std::chrono::seconds(18000),
      std::chrono::seconds(36000), std::chrono::seconds(36000)};
  std::chrono::milliseconds attempt_timeout{15'000};
  std::chrono::hours disable_after{24 * 5};
};

// "0,5,300,1800" -> the schedule; 422 for anything else (1 to 20 entries, each 0..86400).
Result<std::vector<std::chrono::seconds>> ParseSchedule(std::string_view text);

struct Endpoint {
  std::string id;
  std::string tenant_id;
  std::string url;
  std::vector<std::string> event_types;  // empty: every type
  std::string status;                    // enabled | disabled
  std::optional<std::string> disabled_reason;
  std::optional<Timestamp> failing_since;
  std::optional<Timestamp> previous_secret_until;
  Timestamp created_at;
  Timestamp updated_at;
};

struct NewEndpoint {
  std::string url;
  std::vector<std::string> event_types;
};

struct EndpointPatch {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> event_types;
  std::optional<std::string> status;  // enabled | disabled
};

struct Delivery {
  std::string id;
  std::string event_id;
  std::string endpoint_id;
  std::string tenant_id;
  std::string type;
  std::string state;  // pending | succeeded | dead
  int attempts = 0;
  std::optional<Timestamp> next_at;
  std::optional<int> last_status;
  std::optional<std::string> last_error;
  Timestamp created_at;
  Timestamp updated_at;
};

struct DeliveryFilter {
  std::optional<std::string> tenant_id;
  std::optional<std::string> state;
  std::optional<std::string> endpoint_id;
  int limit = 100;
};

class Webhooks {
 public:
  // `mailer`: where the owner hears of an endpoint disabled after failing (null: nobody).
  Webhooks(storage::Database& db, const Clock& clock, outbound::Fetcher fetch, Options options,
           mail::Mailer* mailer = nullptr);
  ~Webhooks();
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // The endpoint and its secret, shown this once.
  Result<std::pair<Endpoint, std::string>> Create(const audit::Actor& actor,
                                                  const std::string& tenant_id,
                                                  const NewEndpoint& in);
  Result<std::vector<Endpoint>> List(const std::string& tenant_id);
  Result<Endpoint> Get(const std::string& tenant_id, const std::string& id);
  Result<Endpoint> Update(const audit::Actor& actor, const std::string& tenant_id,
                          const std::string& id, const EndpointPatch& patch);
  Result<Ok> Delete(const audit::Actor& actor, const std::string& tenant_id, const std::string& id);
  // A new secret; the old one keeps signing beside it for `grace` (0: stops now).
  Result<std::string> RotateSecret(const audit::Actor& actor, const std::string& tenant_id,
                                   const std::string& id, std::chrono::seconds grace);
  // Queues a "webhook.test" delivery to this endpoint alone; returns the delivery.
  Result<Delivery> SendTest(const audit::Actor& actor, const std::string& tenant_id,
                            const std::string& id);

  std::vector<Delivery> Deliveries(const DeliveryFilter& filter);
  // A dead delivery runs again from its first attempt (the same webhook-id).
  Result<Delivery> Replay(const audit::Actor& actor, const std::string& delivery_id,
                          const std::optional<std::string>& only_tenant);

  // Turns the outbox into deliveries (FOR UPDATE SKIP LOCKED: any replica, each event once).
  // Returns how many events it took.
  std::size_t FanOut();
  void Deliver(jobs::JobContext& ctx);
  void Register(jobs::Runner& runner);

 private:
  Result<Endpoint> Find(storage::Session& s, const std::string& tenant_id, const std::string& id);

  storage::Database& db_;
  const Clock& clock_;
  outbound::Fetcher fetch_;
  Options options_;
  mail::Mailer* mailer_;
  storage::SharedSecretCache seal_key_{"webhooks.seal"};
  struct Waker;
  std::unique_ptr<Waker> waker_;
  std::uint64_t subscription_ = 0;
};

}  // namespace breakpilot::webhooks
