// Workers that run the durable jobs of jobs/queue.hpp: claim due jobs, call the handler
// registered for their kind, complete or fail them. Idle workers sleep until a job becomes due
// (the "jobs" event from any replica, or a poll).
//
//   Runner runner(queue, {.workers = 2});
//   runner.Register("mail.send", [&](JobContext& ctx) { Send(ctx.job()); });
//   runner.Start();  ...  runner.Stop();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "jobs/queue.hpp"

namespace breakpilot::jobs {

// What a handler gets: its job, and the two ways to write with the lease checked.
class JobContext {
 public:
  JobContext(Queue& queue, const Job& job) : queue_(queue), job_(job) {}
  const Job& job() const { return job_; }
  const Clock& clock() const { return queue_.clock(); }
  // Records a finished step (the job keeps running); throws LeaseLost if the job was taken over.
  void Checkpoint(const std::function<void(storage::Session&)>& fn) { queue_.Checkpoint(job_, fn); }
  // Ends the job with its last effects. A handler that returns without calling Complete has its
  // job completed with no effects.
  void Complete(const std::function<void(storage::Session&)>& fn = {}) {
    queue_.Complete(job_, fn);
    completed_ = true;
  }
  bool completed() const { return completed_; }

 private:
  Queue& queue_;
  const Job& job_;
  bool completed_ = false;
};

// A job has no caller to hand a value to, so a handler fails its attempt by throwing, and the
// runner is the one place that catches: the message becomes last_error, the job retries with
// backoff and is dead after max_attempts. A failure the handler expects (a product down, a use
// case's Error, a trial that is not over yet) is FailAttempt: a warning in the log. Any other
// exception is unexpected (a bug, a broken database): the same retry, logged as an error.
using Handler = std::function<void(JobContext&)>;

class AttemptFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void FailAttempt(const std::string& why);
[[noreturn]] void FailAttempt(const Error& error);  // its detail

struct RunnerOptions {
  int workers = 2;
  int batch = 8;  // jobs claimed at a time per worker
  std::chrono::milliseconds idle_poll{1000};
  std::chrono::seconds reclaim_every{5};
  std::chrono::seconds renew_after{30};  // a batched job older than this renews before it runs
};

class Runner {
 public:
  Runner(Queue& queue, RunnerOptions options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void Register(std::string kind, Handler handler);
  void Start();
  // Lets the running jobs finish, then joins the workers.
  void Stop();
  void Wake();
  // Runs due jobs on the calling thread until none is due or `max` ran (the CLI, tests).
  int RunDue(int max = 10'000);
  // Prometheus text: jobs finished, failed and lost per kind, and the queue's state. Counting
  // the queue reads every job, so a scrape writes the copy RefreshCounts keeps and does not wait
  // on the database; only the first scrape, or the first after a minute without one, counts.
  void WriteMetrics(std::string& out);
  // Recounts the queue if a scrape has read the copy since the last count and the copy is older
  // than `max_age`. Called off the I/O threads, every few seconds (app/serve.cpp): a process
  // nobody scrapes never counts.
  void RefreshCounts(std::chrono::seconds max_age = std::chrono::seconds(10));

 private:
  struct KindStats {
    std::atomic<std::int64_t> completed{0};
    std::atomic<std::int64_t> failed{0};
    std::atomic<std::int64_t> lost{0};
    std::atomic<std::int64_t> seconds_us{0};
  };
  void Work();
  void Run(const Job& job, bool renew_first);
  void MaybeReclaim();
  KindStats& Stats(const std::string& kind);
  JobCounts Recount();  // counts the queue and keeps the copy

  Queue& queue_;
  RunnerOptions options_;
  std::map<std::string, Handler> handlers_;
  std::mutex stats_mu_;
  std::map<std::string, std::unique_ptr<KindStats>> stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  std::atomic<std::int64_t> last_reclaim_us_{0};
  std::mutex counts_mu_;
  std::optional<JobCounts> counts_;  // none: never counted
  std::chrono::steady_clock::time_point counts_at_;
  bool counts_read_ = false;  // a scrape wrote the copy since it was counted
  std::uint64_t subscription_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace breakpilot::jobs
