// Runs the due jobs of a queue once each, as jobs::Runner would, with one handler: a failed
// attempt (jobs::FailAttempt) is recorded and retried on its backoff. For contract tests that
// step the durable jobs by hand on a manual clock. Returns how many completed.
#pragma once

#include <functional>

#include "jobs/queue.hpp"
#include "jobs/runner.hpp"

namespace breakpilot::testing {

inline int RunDueJobs(jobs::Queue& queue, const std::function<void(jobs::JobContext&)>& handler) {
  int done = 0;
  for (const auto& job : queue.Claim(50)) {
    jobs::JobContext ctx(queue, job);
    try {
      handler(ctx);
      if (!ctx.completed()) ctx.Complete();
      ++done;
    } catch (const jobs::AttemptFailed& e) {
      queue.Fail(job, e.what());
    }
  }
  return done;
}

}  // namespace breakpilot::testing
