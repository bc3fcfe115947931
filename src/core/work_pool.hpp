// A bounded pool of threads for CPU-heavy work that must not run where requests are read
// (password hashing): a fixed number of threads and a queue of fixed length. When the queue is
// full, TrySubmit says so at once, and the caller answers "busy" instead of waiting; so a storm
// of such work can neither stall the I/O threads nor grow memory without bound.
//
//   WorkPool pool("password", 1, 32);
//   if (!pool.TrySubmit([] { HashPassword(...); })) return Busy();
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace breakpilot {

class WorkPool {
 public:
  struct Stats {
    std::size_t queued = 0;   // waiting for a thread
    std::size_t running = 0;  // on a thread now
    std::uint64_t done = 0;
    std::uint64_t refused = 0;  // TrySubmit found the queue full
  };

  // `threads` at least 1; `queue_limit` jobs may wait beyond those running.
  WorkPool(std::string name, int threads, std::size_t queue_limit);
  ~WorkPool();  // finishes what was queued, then joins
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `job`; false (and `job` dropped) when the queue is full. A job must not throw.
  bool TrySubmit(std::function<void()> job);
  Stats stats() const;
  const std::string& name() const { return name_; }
  int threads() const { return static_cast<int>(threads_.size()); }
  std::size_t queue_limit() const { return queue_limit_; }

 private:
  void Run();

  const std::string name_;
  const std::size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  Stats stats_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace breakpilot
