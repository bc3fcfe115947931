#include "jobs/queue.hpp"

#include "audit/trail.hpp"

#include <algorithm>
#include <random>

#include "core/crypto.hpp"
#include "core/enum_names.hpp"
#include "core/uuid.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::jobs {
namespace {

using storage::Param;
using storage::Query;
using storage::Row;

#define JOB_COLUMNS                                                                     \
  "id, kind, dedupe_key, payload, state, run_at, attempts, max_attempts, lease_token, " \
  "lease_until, last_error, created_at, updated_at, traceparent"

constexpr Query kInsert{
    "job_insert",
    "INSERT INTO jobs (id, kind, dedupe_key, payload, state, run_at, max_attempts, created_at,"
    " updated_at, traceparent) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $7, $8)"
    " ON CONFLICT (dedupe_key) DO NOTHING"};
// Due jobs, oldest first; SKIP LOCKED lets replicas claim side by side without waiting on one
// another. SQLite has a single writer, so the plain form is the same thing there. SQLite, with
// no statistics, prefers jobs_state_idx's equality on state to jobs_due_idx's range on run_at,
// then reads every pending job and sorts them: each trial tenant leaves three pending jobs due
// in one to two weeks, so every idle poll cost 5 ms at 8,000 tenants and grew with them. Hence
// INDEXED BY, which reads only the due ones in order (queue_storetest.cpp checks the plan).
constexpr Query kClaim{
    "job_claim",
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $2,"
    " lease_until = $3, updated_at = $1 WHERE id IN (SELECT id FROM jobs WHERE state = 'pending'"
    " AND run_at <= $1 ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " JOB_COLUMNS,
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $2,"
    " lease_until = $3, updated_at = $1 WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_due_idx"
    " WHERE state = 'pending' AND run_at <= $1 ORDER BY run_at LIMIT $4) RETURNING " JOB_COLUMNS};
constexpr Query kRenew{"job_renew",
                       "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_token = $2"
                       " AND state = 'running'"};
// Fenced: only the holder of the lease completes the job (0 rows: the lease was lost).
constexpr Query kDone{"job_done",
                      "UPDATE jobs SET state = 'done', lease_token = NULL, lease_until = NULL,"
                      " last_error = NULL, updated_at = $3"
                      " WHERE id = $1 AND lease_token = $2 AND state = 'running'"};
constexpr Query kFail{
    "job_fail",
    "UPDATE jobs SET state = $3, run_at = $4, last_error = $5, lease_token = NULL,"
    " lease_until = NULL, updated_at = $6"
    " WHERE id = $1 AND lease_token = $2 AND state = 'running'"};
// A lease that ran out means the worker died or hung: the attempt counts, so a job that kills
// its worker every time ends dead instead of looping.
constexpr Query kReclaim{
    "job_reclaim",
    "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,"
    " lease_token = NULL, lease_until = NULL, last_error = 'lease expired: the worker was lost',"
    " updated_at = $2 WHERE state = 'running' AND lease_until < $1"};
constexpr Query kList{"job_list",
                      "SELECT " JOB_COLUMNS
                      " FROM jobs WHERE ($1::text IS NULL OR state = $1)"
                      " AND ($2::text IS NULL OR kind = $2) ORDER BY run_at DESC, id DESC LIMIT $3",
                      "SELECT " JOB_COLUMNS
                      " FROM jobs WHERE ($1 IS NULL OR state = $1)"
                      " AND ($2 IS NULL OR kind = $2) ORDER BY run_at DESC, id DESC LIMIT $3"};
constexpr Query kCounts{"job_counts",
                        "SELECT state, count(*),"
                        " sum(CASE WHEN state = 'pending' AND run_at <= $1 THEN 1 ELSE 0 END)"
                        " FROM jobs GROUP BY state"};
constexpr Query kRetry{"job_retry",
                       "UPDATE jobs SET state = 'pending', run_at = $2, attempts = 0,"
                       " lease_token = NULL, lease_until = NULL, updated_at = $2"
                       " WHERE id = $1 AND state IN ('dead', 'pending') RETURNING " JOB_COLUMNS};
constexpr Query kPruneDone{"job_prune_done",
                           "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done'"
                           " AND updated_at < $1 LIMIT $2)"};
constexpr Query kSelect{"job_select", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1"};

constexpr std::pair<State, std::string_view> kStateNames[] = {{State::kPending, "pending"},
                                                              {State::kRunning, "running"},
                                                              {State::kDone, "done"},
                                                              {State::kDead, "dead"}};

Job ToJob(const Row& r) {
  Job j;
  j.id = r.Text(0);
  j.kind = r.Text(1);
  j.dedupe_key = r.Optional(2);
  j.payload = r.Text(3);
  j.state = ParseState(r.Text(4)).value_or(State::kDead);
  j.run_at = r.Time(5);
  j.attempts = static_cast<int>(r.Int(6));
  j.max_attempts = static_cast<int>(r.Int(7));
  j.lease_token = r.Optional(8);
  j.lease_until = r.OptionalTime(9);
  j.last_error = r.Optional(10);
  j.created_at = r.Time(11);
  j.updated_at = r.Time(12);
  if (auto tp = r.Optional(13)) j.trace_parent = tracing::ParseTraceparent(*tp);
  return j;
}

}  // namespace

std::string_view ToString(State s) {
  return NameIn<State>(kStateNames, s, "dead");
}

std::optional<State> ParseState(std::string_view s) {
  return ValueIn<State>(kStateNames, s);
}

bool Enqueue(storage::Session& s, const Clock& clock, const NewJob& job) {
  const Timestamp now = clock.Now();
  const bool added =
      s.Execute(kInsert, {NewUuidV7(now), job.kind, job.dedupe_key, job.payload,
                          FormatStorage(job.run_at), std::to_string(job.max_attempts),
                          FormatStorage(now), tracing::CurrentTraceparent()}) > 0;
  if (added && job.run_at <= now) s.Notify(kJobsEvent);
  return added;
}

Queue::Queue(storage::Database& db, const Clock& clock, QueueOptions options)
    : db_(db), clock_(clock), options_(options) {}

Timestamp Queue::LeaseUntil() const {
  return AddSeconds(SystemClock().Now(), options_.lease.count());
}

const storage::Query& ClaimQuery() {
  return kClaim;
}

std::vector<Job> Queue::Claim(int n) {
  std::vector<Job> jobs;
  const std::string token = RandomToken(12);
  db_.Write([&](storage::Session& s) {
    auto rows = s.Fetch(kClaim, {FormatStorage(clock_.Now()), token, FormatStorage(LeaseUntil()),
                                 std::to_string(n)});
    jobs.reserve(rows.size());
    for (const auto& r : rows) jobs.push_back(ToJob(r));
  });
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
    return a.run_at < b.run_at || (a.run_at == b.run_at && a.id < b.id);
  });
  return jobs;
}

void Queue::Renew(storage::Session& s, const Job& job) {
  if (s.Execute(kRenew, {job.id, job.lease_token, FormatStorage(LeaseUntil())}) == 0) {
    throw LeaseLost("job " + job.id + " (" + job.kind + ") is no longer leased by this worker");
  }
}

void Queue::Complete(const Job& job, const std::function<void(storage::Session&)>& fn) {
  db_.Write([&](storage::Session& s) {
    // Effects first, then the fenced completion: if the lease was lost, the whole transaction
    // (effects included) rolls back. One statement fewer than renew-then-complete.
    if (fn) fn(s);
    if (s.Execute(kDone, {job.id, job.lease_token, FormatStorage(clock_.Now())}) == 0) {
      throw LeaseLost("job " + job.id + " (" + job.kind + ") is no longer leased by this worker");
    }
  });
}

void Queue::Checkpoint(const Job& job, const std::function<void(storage::Session&)>& fn) {
  db_.Write([&](storage::Session& s) {
    Renew(s, job);
    if (fn) fn(s);
  });
}

void Queue::Fail(const Job& job, std::string_view error) {
  const Timestamp now = clock_.Now();
  const bool dead = job.attempts >= job.max_attempts;
  std::int64_t delay = options_.backoff_base.count();
  for (int i = 1; i < job.attempts && delay < options_.backoff_cap.count(); ++i) delay *= 2;
  delay = std::min<std::int64_t>(delay, options_.backoff_cap.count());
  thread_local std::minstd_rand rng{std::random_device{}()};
  const std::int64_t jitter_us =
      std::uniform_int_distribution<std::int64_t>(0, delay * kMicrosPerSecond / 5)(rng);
  const Timestamp run_at{AddSeconds(now, delay).micros + jitter_us};
  std::string message(error.substr(0, 2000));
  db_.Write([&](storage::Session& s) {
    s.Execute(kFail, {job.id, job.lease_token, dead ? "dead" : "pending",
                      FormatStorage(dead ? job.run_at : run_at), message, FormatStorage(now)});
  });
}

int Queue::Reclaim() {
  std::int64_t n = 0;
  db_.Write([&](storage::Session& s) {
    n = s.Execute(kReclaim, {FormatStorage(SystemClock().Now()), FormatStorage(clock_.Now())});
    if (n > 0) s.Notify(kJobsEvent);
  });
  return static_cast<int>(n);
}

std::vector<Job> Queue::List(const JobFilter& f) {
  std::vector<Job> out;
  db_.Read([&](storage::Session& s) {
    const auto rows =
        s.Fetch(kList, {f.state ? Param(std::string(ToString(*f.state))) : std::nullopt, f.kind,
                        std::to_string(f.limit)});
    for (const auto& r : rows) out.push_back(ToJob(r));
  });
  return out;
}

std::int64_t Queue::PruneDone() {
  constexpr int kBatch = 1000;
  const auto cutoff = FormatStorage(AddSeconds(
      clock_.Now(), -std::chrono::duration_cast<std::chrono::seconds>(options_.keep_done).count()));
  std::int64_t total = 0;
  for (;;) {
    std::int64_t n = 0;
    db_.Write([&](storage::Session& s) {
      n = s.Execute(kPruneDone, {cutoff, std::to_string(kBatch)});
    });
    total += n;
    if (n < kBatch) return total;
  }
}

JobCounts Queue::Counts() {
  JobCounts c;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kCounts, {FormatStorage(clock_.Now())})) {
      const auto state = ParseState(r.Text(0));
      const std::int64_t n = r.Int(1);
      if (state == State::kPending) {
        c.pending = n;
        c.due = r.IsNull(2) ? 0 : r.Int(2);
      } else if (state == State::kRunning) {
        c.running = n;
      } else if (state == State::kDone) {
        c.done = n;
      } else if (state == State::kDead) {
        c.dead = n;
      }
    }
  });
  return c;
}

Result<Job> Queue::Retry(const audit::Actor& actor, const std::string& id) {
  std::optional<Result<Job>> out;
  db_.Write([&](storage::Session& s) {
    if (auto r = s.FetchOne(kRetry, {id, FormatStorage(clock_.Now())})) {
      s.Notify(kJobsEvent);
      Job job = ToJob(*r);
      audit::Record(
          s, clock_, actor,
          {std::nullopt, "job.retry", 'u', "job", job.id, "job " + job.kind + " retried by hand"});
      return void(out = std::move(job));
    }
    auto existing = s.FetchOne(kSelect, {id});
    if (!existing) return void(out = NotFound("job-not-found", "no job with id " + id));
    out = Conflict("job-not-retryable", "Job cannot be retried",
                   "job " + id + " is " + existing->Text(4) + "; only dead or pending jobs retry");
  });
  return *std::move(out);
}

}  // namespace breakpilot::jobs
