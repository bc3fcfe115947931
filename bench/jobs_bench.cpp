// make bench (part 3): durable jobs claimed and completed per second on PostgreSQL, through the
// same Runner the server uses (claim in batches with FOR UPDATE SKIP LOCKED, then one fenced
// transaction per job that checks the lease and marks it done).
//
//   jobs_bench postgresql://... 30000 3 16     -> one JSON line with the figures
//
// Setup (not measured): the jobs table emptied and N no-op jobs enqueued, all due now.
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "jobs/runner.hpp"
#include "storage/migrations.hpp"

int main(int argc, char** argv) {
  using namespace breakpilot;
  if (argc != 5) {
    std::cerr << "usage: jobs_bench DATABASE_URL JOBS WORKERS BATCH\n";
    return 2;
  }
  const std::string url = argv[1];
  const int n = std::stoi(argv[2]);
  const int workers = std::stoi(argv[3]);
  const int batch = std::stoi(argv[4]);
  auto db = storage::OpenDatabase(url, {.pool_size = workers + 2});
  if (!storage::Migrate(*db)) return 1;
  db->ExecuteRaw("DELETE FROM jobs");
  const Clock& clock = SystemClock();
  for (int done = 0; done < n;) {
    const int chunk = std::min(1000, n - done);
    db->Write([&](storage::Session& s) {
      for (int i = 0; i < chunk; ++i) {
        jobs::Enqueue(s, clock, {.kind = "bench", .payload = "{}", .run_at = clock.Now()});
      }
    });
    done += chunk;
  }
  jobs::Queue queue(*db, clock);
  jobs::Runner runner(queue, {.workers = workers, .batch = batch});
  std::atomic<int> ran{0};
  runner.Register("bench", [&](jobs::JobContext&) { ran.fetch_add(1); });
  const auto start = std::chrono::steady_clock::now();
  runner.Start();
  // Watch the handler count (free), then the table (a scan) only for the last completions.
  while (ran.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  while (queue.Counts().done < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  runner.Stop();
  const auto c = queue.Counts();
  std::cout << boost::json::serialize(
                   boost::json::object{{"jobs", n},
                                       {"workers", workers},
                                       {"batch", batch},
                                       {"seconds", seconds},
                                       {"per_second", static_cast<std::int64_t>(n / seconds)},
                                       {"ran", ran.load()},
                                       {"done", c.done},
                                       {"dead", c.dead}})
            << "\n";
  return ran.load() == n && c.done == n ? 0 : 1;
}
