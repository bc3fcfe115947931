#include "jobs/runner.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::jobs {
namespace {

const Logger kLog("jobs");

}  // namespace

Runner::Runner(Queue& queue, RunnerOptions options) : queue_(queue), options_(options) {}

Runner::~Runner() {
  Stop();
}

void FailAttempt(const std::string& why) {
  throw AttemptFailed(why);
}

void FailAttempt(const Error& error) {
  throw AttemptFailed(error.detail);
}

void Runner::Register(std::string kind, Handler handler) {
  Stats(kind);
  handlers_[std::move(kind)] = std::move(handler);
}

Runner::KindStats& Runner::Stats(const std::string& kind) {
  std::lock_guard lock(stats_mu_);
  auto& slot = stats_[kind];
  if (!slot) slot = std::make_unique<KindStats>();
  return *slot;
}

void Runner::Start() {
  subscription_ = queue_.db().Subscribe([this](std::string_view payload) {
    if (payload == kJobsEvent || payload == "*") Wake();
  });
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { Work(); });
}

void Runner::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (subscription_ != 0) {
    queue_.db().Unsubscribe(subscription_);
    subscription_ = 0;
  }
}

void Runner::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakeups_;
  }
  cv_.notify_all();
}

void Runner::MaybeReclaim() {
  const std::int64_t now = SystemClock().Now().micros;
  std::int64_t last = last_reclaim_us_.load();
  if (now - last < options_.reclaim_every.count() * kMicrosPerSecond) return;
  if (!last_reclaim_us_.compare_exchange_strong(last, now)) return;  // another worker does it
  if (const int n = queue_.Reclaim(); n > 0) {
    kLog.Warn("jobs reclaimed from lost workers", {{"count", n}});
  }
}

void Runner::Work() {
  while (true) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = wakeups_;
    }
    std::vector<Job> jobs;
    try {
      MaybeReclaim();
      jobs = queue_.Claim(options_.batch);
    } catch (const std::exception& e) {
      kLog.Error("claiming jobs failed", {{"error", ErrorText(e)}});
    }
    // A job claimed in a batch may wait behind a slow one: once a good part of its lease has
    // gone, make sure it is still ours before doing anything outside the database.
    const auto claimed = std::chrono::steady_clock::now();
    for (const auto& job : jobs) {
      Run(job, std::chrono::steady_clock::now() - claimed > options_.renew_after);
    }
    if (static_cast<int>(jobs.size()) == options_.batch) continue;  // maybe more are due
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.idle_poll, [&] { return stopping_ || wakeups_ != seen; });
  }
}

void Runner::Run(const Job& job, bool renew_first) {
  auto& stats = Stats(job.kind);
  const auto started = std::chrono::steady_clock::now();
  const auto it = handlers_.find(job.kind);
  // A span per job, under the span that queued it; a new trace for a job nothing traced queued.
  tracing::Span span("job " + job.kind, tracing::SpanKind::kConsumer,
                     job.trace_parent ? &*job.trace_parent : nullptr);
  span.Set("breakpilot.job.kind", job.kind);
  span.Set("breakpilot.job.id", job.id);
  span.Set("breakpilot.job.attempt", job.attempts);
  try {
    if (it == handlers_.end()) throw std::runtime_error("no handler for job kind " + job.kind);
    if (renew_first) queue_.Checkpoint(job, {});
    JobContext ctx(queue_, job);
    it->second(ctx);
    if (!ctx.completed()) ctx.Complete();
    stats.completed.fetch_add(1, std::memory_order_relaxed);
  } catch (const LeaseLost& e) {
    stats.lost.fetch_add(1, std::memory_order_relaxed);
    span.Fail("lease lost");
    kLog.Warn("job lease lost", {{"job", job.id}, {"kind", job.kind}, {"error", ErrorText(e)}});
  } catch (const std::exception& e) {
    stats.failed.fetch_add(1, std::memory_order_relaxed);
    span.Fail(ErrorText(e));
    const bool dead = job.attempts >= job.max_attempts;
    const bool expected = dynamic_cast<const AttemptFailed*>(&e) != nullptr;
    kLog.Write(
        dead || !expected ? LogLevel::kError : LogLevel::kWarn,
        dead ? "job dead" : (expected ? "job failed" : "job raised"),
        {{"job", job.id}, {"kind", job.kind}, {"attempt", job.attempts}, {"error", ErrorText(e)}});
    try {
      queue_.Fail(job, ErrorText(e));
    } catch (const std::exception& e2) {
      kLog.Error("recording a job failure failed", {{"job", job.id}, {"error", e2.what()}});
    }
  }
  stats.seconds_us.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count(),
                             std::memory_order_relaxed);
}

int Runner::RunDue(int max) {
  int ran = 0;
  while (ran < max) {
    auto jobs = queue_.Claim(std::min(options_.batch, max - ran));
    if (jobs.empty()) break;
    for (const auto& job : jobs) Run(job, false);
    ran += static_cast<int>(jobs.size());
  }
  return ran;
}

void Runner::WriteMetrics(std::string& out) {
  out += "# HELP breakpilot_jobs_total Jobs this process finished, by kind and outcome.\n";
  out += "# TYPE breakpilot_jobs_total counter\n";
  std::string seconds;
  {
    std::lock_guard lock(stats_mu_);
    for (const auto& [kind, s] : stats_) {
      const std::string k = "kind=\"" + kind + "\"";
      out += "breakpilot_jobs_total{" + k + ",outcome=\"completed\"} " +
             std::to_string(s->completed.load()) + "\n";
      out += "breakpilot_jobs_total{" + k + ",outcome=\"failed\"} " +
             std::to_string(s->failed.load()) + "\n";
      out += "breakpilot_jobs_total{" + k + ",outcome=\"lease_lost\"} " +
             std::to_string(s->lost.load()) + "\n";
      seconds += "breakpilot_job_seconds_total{" + k + "} " +
                 std::to_string(static_cast<double>(s->seconds_us.load()) / 1e6) + "\n";
    }
  }
  out += "# HELP breakpilot_job_seconds_total Time this process spent running jobs, by kind.\n";
  out += "# TYPE breakpilot_job_seconds_total counter\n";
  out += seconds;
  JobCounts c;
  bool fresh = false;
  {
    std::lock_guard lock(counts_mu_);
    // Kept fresh by RefreshCounts while scrapes come at least once a minute.
    fresh = counts_ && std::chrono::steady_clock::now() - counts_at_ < std::chrono::minutes(1);
    if (fresh) c = *counts_;
    counts_read_ = true;
  }
  try {
    if (!fresh) c = Recount();  // the first scrape, or the first after a pause
    out +=
        "# HELP breakpilot_jobs Jobs in the queue (all replicas), by state; counted every 10-15 s"
        " while scraped.\n";
    out += "# TYPE breakpilot_jobs gauge\n";
    out += "breakpilot_jobs{state=\"pending\"} " + std::to_string(c.pending) + "\n";
    out += "breakpilot_jobs{state=\"due\"} " + std::to_string(c.due) + "\n";
    out += "breakpilot_jobs{state=\"running\"} " + std::to_string(c.running) + "\n";
    out += "breakpilot_jobs{state=\"dead\"} " + std::to_string(c.dead) + "\n";
  } catch (const std::exception& e) {
    kLog.Warn("job counts unavailable", {{"error", ErrorText(e)}});
  }
}

void Runner::RefreshCounts(std::chrono::seconds max_age) {
  {
    std::lock_guard lock(counts_mu_);
    if (!counts_read_ || std::chrono::steady_clock::now() - counts_at_ < max_age) return;
    counts_read_ = false;
  }
  try {
    Recount();
  } catch (const std::exception& e) {
    kLog.Warn("job counts unavailable", {{"error", ErrorText(e)}});
  }
}

JobCounts Runner::Recount() {
  const JobCounts c = queue_.Counts();
  std::lock_guard lock(counts_mu_);
  counts_ = c;
  counts_at_ = std::chrono::steady_clock::now();
  return c;
}

}  // namespace breakpilot::jobs
