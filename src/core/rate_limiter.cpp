#include "core/rate_limiter.hpp"

namespace breakpilot {

std::optional<std::int64_t> RateLimiter::Admit(std::string_view key) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = recent_.find(std::string(key));
  if (it == recent_.end()) {
    if (recent_.size() >= max_keys_) recent_.clear();
    it = recent_.emplace(std::string(key), std::deque<std::chrono::steady_clock::time_point>{})
             .first;
  }
  auto& q = it->second;
  while (!q.empty() && now - q.front() >= window_) q.pop_front();
  if (static_cast<int>(q.size()) >= limit_) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(q.front() + window_ - now).count();
    return std::max<std::int64_t>(1, left);
  }
  q.push_back(now);
  return std::nullopt;
}

}  // namespace breakpilot
