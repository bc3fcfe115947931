#include "core/work_pool.hpp"

#include <algorithm>

namespace breakpilot {

WorkPool::WorkPool(std::string name, int threads, std::size_t queue_limit)
    : name_(std::move(name)), queue_limit_(queue_limit) {
  const int n = std::max(1, threads);
  threads_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkPool::TrySubmit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= queue_limit_) {
      ++stats_.refused;
      return false;
    }
    queue_.push_back(std::move(job));
    ++stats_.queued;
  }
  wake_.notify_one();
  return true;
}

WorkPool::Stats WorkPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void WorkPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      --stats_.queued;
      ++stats_.running;
    }
    job();
    std::lock_guard lock(mu_);
    --stats_.running;
    ++stats_.done;
  }
}

}  // namespace breakpilot
