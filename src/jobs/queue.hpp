// Durable jobs (M12.2, M13.3, M14.2): a table of work to do at a time, safe with several
// replicas on one PostgreSQL.
//
//   jobs::Enqueue(session, clock, {.kind = "trial.expire", .dedupe_key = "trial.expire:" + id,
//                                  .payload = R"({"tenant_id":"..."})", .run_at = ends});
//   Queue q(db, clock);
//   for (Job& job : q.Claim(16)) { ...; q.Complete(job, [&](Session& s) { effects(s); }); }
//
// Claiming takes due jobs with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer) and
// leases them for a while: a replica that dies mid-job loses its lease and another one takes the
// job over. Every write a job makes goes through Complete or Checkpoint, which check that
// the lease is still this claim's (LeaseLost otherwise, and the write rolls back): a job's
// database effects happen exactly once. Effects outside the database (a mail handed to SMTP, an
// HTTP call to a product) happen at least once; handlers make them idempotent or fence them
// with a checkpoint before and after.
//
// Two clocks: `clock` decides when a job is due (the platform's clock, which the test clock
// moves); leases always run on the wall clock, so warping time never steals a running job.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::jobs {

enum class State { kPending, kRunning, kDone, kDead };
std::string_view ToString(State s);
std::optional<State> ParseState(std::string_view s);

struct NewJob {
  std::string kind;
  std::optional<std::string> dedupe_key;  // at most one job with this key, ever
  std::string payload = "{}";             // JSON object
  Timestamp run_at;
  int max_attempts = 10;
};

struct Job {
  std::string id;
  std::string kind;
  std::optional<std::string> dedupe_key;
  std::string payload;
  State state = State::kPending;
  Timestamp run_at;
  int attempts = 0;
  int max_attempts = 10;
  std::optional<std::string> lease_token;
  std::optional<Timestamp> lease_until;
  std::optional<std::string> last_error;
  Timestamp created_at;
  Timestamp updated_at;
  // The span that queued the job (tracing/trace.hpp), if any: the job's span continues its trace.
  std::optional<tracing::SpanContext> trace_parent;
};

// Adds a job inside the caller's transaction, so it exists if and only if the change that
// causes it commits. False when a job with the same dedupe key exists already.
bool Enqueue(storage::Session& s, const Clock& clock, const NewJob& job);

// The payload Notify'd when a job becomes due now, so idle workers wake at once.
inline constexpr std::string_view kJobsEvent = "jobs";

// Thrown by Complete/Checkpoint when the lease is no longer this claim's (it expired and another
// worker took the job): the caller stops working on it.
class LeaseLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct QueueOptions {
  std::chrono::seconds lease{300};
  std::chrono::seconds backoff_base{10};  // retry n waits base * 2^(n-1), jittered
  std::chrono::seconds backoff_cap{3600};
  // Done jobs older than this (by their last update) are deleted by PruneDone.
  std::chrono::hours keep_done{24 * 7};
};

struct JobFilter {
  std::optional<State> state;
  std::optional<std::string> kind;
  int limit = 100;
};

struct JobCounts {
  std::int64_t pending = 0;
  std::int64_t due = 0;  // pending with run_at <= now
  std::int64_t running = 0;
  std::int64_t done = 0;
  std::int64_t dead = 0;
};

// The statement Claim runs, for the test that checks its plan on both stores.
const storage::Query& ClaimQuery();

class Queue {
 public:
  Queue(storage::Database& db, const Clock& clock, QueueOptions options = {});

  // Leases up to `n` due jobs, oldest run_at first.
  std::vector<Job> Claim(int n);
  // Runs `fn` and marks the job done in one transaction, if the lease is still this claim's.
  void Complete(const Job& job, const std::function<void(storage::Session&)>& fn = {});
  // Runs `fn` in a transaction that first renews the lease; the job stays running. A handler
  // records each finished step this way, so whoever resumes the job skips it.
  void Checkpoint(const Job& job, const std::function<void(storage::Session&)>& fn = {});
  // Records a failure: pending again after a backoff, or dead after max_attempts. A lost lease
  // is not recorded (the new holder owns the job).
  void Fail(const Job& job, std::string_view error);
  // Makes running jobs whose lease expired pending again; returns how many.
  int Reclaim();

  std::vector<Job> List(const JobFilter& filter);
  JobCounts Counts();
  // A dead (or pending) job runs again now with a fresh attempt budget.
  // Runs a dead (or pending) job again now; the retry and its audit event are one transaction.
  Result<Job> Retry(const audit::Actor& actor, const std::string& id);
  // Deletes done jobs last updated more than `keep_done` ago, in batches (one transaction each,
  // so replicas pruning at once never wait long on each other); returns how many went. Their
  // dedupe keys go with them: every key the platform uses names one occurrence (a tenant's
  // day-7 mail, the reset of one night), scheduled close to when it runs, never weeks later.
  std::int64_t PruneDone();

  const Clock& clock() const { return clock_; }
  storage::Database& db() { return db_; }

 private:
  void Renew(storage::Session& s, const Job& job);
  Timestamp LeaseUntil() const;

  storage::Database& db_;
  const Clock& clock_;
  QueueOptions options_;
};

}  // namespace breakpilot::jobs
