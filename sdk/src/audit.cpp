#include "breakpilot/audit.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "internal.hpp"

namespace breakpilot::sdk {
namespace {

std::string NowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

boost::json::object ToRetraced(const AuditEvent& e, const std::string& created) {
  boost::json::object o{{"action", e.action},
                        {"crud", std::string(1, e.crud)},
                        {"created", created},
                        {"is_failure", e.is_failure}};
  if (!e.tenant_id.empty()) o["group"] = {{"id", e.tenant_id}};
  if (!e.actor_id.empty()) {
    boost::json::object actor{{"id", e.actor_id}};
    if (!e.actor_name.empty()) actor["name"] = e.actor_name;
    o["actor"] = std::move(actor);
  }
  if (!e.target_id.empty()) {
    boost::json::object target{{"id", e.target_id}};
    if (!e.target_type.empty()) target["type"] = e.target_type;
    o["target"] = std::move(target);
  }
  if (!e.description.empty()) o["description"] = e.description;
  if (!e.source_ip.empty()) o["source_ip"] = e.source_ip;
  if (!e.fields.empty()) {
    boost::json::object f;
    for (const auto& [k, v] : e.fields) f[k] = v;
    o["fields"] = std::move(f);
  }
  return o;
}

}  // namespace

struct AuditEmitter::Impl {
  AuditOptions options;
  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable drained;
  std::deque<boost::json::object> queue;
  std::size_t in_flight = 0;
  bool stopping = false;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> failures{0};
  std::thread worker;

  bool Send(const boost::json::array& events) {
    auto token = options.token();
    if (!token) return false;
    const internal::HttpResult r = internal::Send(
        {.method = "POST",
         .url =
             options.platform_url + "/publisher/v1/project/" + options.product_id + "/event/bulk",
         .headers = {"Content-Type: application/json", "Authorization: Bearer " + *token},
         .body = boost::json::serialize(boost::json::object{{"events", events}}),
         .timeout = std::chrono::seconds(10)});
    // A 4xx other than 401/429 will never succeed: the batch is dropped rather than retried
    // forever (and counted).
    if (r.status == 201) return true;
    if (r.status >= 400 && r.status < 500 && r.status != 401 && r.status != 408 &&
        r.status != 429) {
      dropped.fetch_add(events.size(), std::memory_order_relaxed);
      return true;
    }
    return false;
  }

  void Loop() {
    auto backoff = std::chrono::milliseconds(0);
    std::unique_lock lock(mu);
    for (;;) {
      wake.wait_for(lock, backoff.count() > 0 ? backoff : options.flush_interval, [&] {
        return stopping || (backoff.count() == 0 && queue.size() >= options.batch);
      });
      if (queue.empty()) {
        drained.notify_all();
        if (stopping) return;
        continue;
      }
      boost::json::array batch;
      while (!queue.empty() && batch.size() < options.batch) {
        batch.emplace_back(std::move(queue.front()));
        queue.pop_front();
      }
      in_flight = batch.size();
      lock.unlock();
      const bool ok = Send(batch);
      lock.lock();
      in_flight = 0;
      if (ok) {
        sent.fetch_add(batch.size(), std::memory_order_relaxed);
        backoff = std::chrono::milliseconds(0);
      } else {
        failures.fetch_add(1, std::memory_order_relaxed);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          queue.push_front(std::move(it->as_object()));
        }
        while (queue.size() > options.max_queue) {
          queue.pop_back();
          dropped.fetch_add(1, std::memory_order_relaxed);
        }
        backoff = std::min(options.max_backoff,
                           backoff.count() == 0 ? std::chrono::milliseconds(250) : backoff * 2);
        if (stopping) return;
      }
      if (queue.empty()) drained.notify_all();
    }
  }
};

AuditEmitter::AuditEmitter(AuditOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->worker = std::thread([this] { impl_->Loop(); });
}

AuditEmitter::~AuditEmitter() {
  Flush(std::chrono::seconds(2));
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->worker.join();
}

void AuditEmitter::Emit(const AuditEvent& event) {
  boost::json::object o = ToRetraced(event, NowRfc3339());
  std::lock_guard lock(impl_->mu);
  if (impl_->queue.size() >= impl_->options.max_queue) {
    impl_->queue.pop_front();
    impl_->dropped.fetch_add(1, std::memory_order_relaxed);
  }
  impl_->queue.push_back(std::move(o));
  if (impl_->queue.size() >= impl_->options.batch) impl_->wake.notify_one();
}

bool AuditEmitter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->wake.notify_one();
  return impl_->drained.wait_for(lock, timeout,
                                 [&] { return impl_->queue.empty() && impl_->in_flight == 0; });
}

std::uint64_t AuditEmitter::sent() const {
  return impl_->sent.load(std::memory_order_relaxed);
}
std::uint64_t AuditEmitter::dropped() const {
  return impl_->dropped.load(std::memory_order_relaxed);
}
std::uint64_t AuditEmitter::failed_attempts() const {
  return impl_->failures.load(std::memory_order_relaxed);
}

}  // namespace breakpilot::sdk
