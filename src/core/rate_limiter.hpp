// A sliding-window rate limit per key (a client address), in memory: at most `limit` admissions
// per `window` for each key. Memory is bounded: at most `max_keys` keys are tracked, and a flood
// of new keys beyond that starts the table afresh (so it may admit more than the limit then,
// never fewer). Per replica: several replicas each admit up to the limit.
//
//   RateLimiter per_ip(30, std::chrono::minutes(1));
//   if (auto wait = per_ip.Admit(req.remote_ip)) return TooMany(*wait);   // seconds to wait
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace breakpilot {

class RateLimiter {
 public:
  RateLimiter(int limit, std::chrono::seconds window, std::size_t max_keys = 100'000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}

  // nullopt when admitted (and counted); else the whole seconds until the oldest admission in
  // the window leaves it (at least 1).
  std::optional<std::int64_t> Admit(std::string_view key);
  int limit() const { return limit_; }
  std::chrono::seconds window() const { return window_; }

 private:
  const int limit_;
  const std::chrono::seconds window_;
  const std::size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> recent_;
};

}  // namespace breakpilot
