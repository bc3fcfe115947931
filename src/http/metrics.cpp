#include "http/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

namespace breakpilot::http {

void Metrics::Observe(const std::string& route, const std::string& method, int status,
                      double seconds) {
  std::string key;
  key.reserve(route.size() + method.size() + 40);
  key.append("route=\"").append(route).append("\",method=\"").append(method);
  key.append("\",status=\"").append(std::to_string(status)).append("\"");
  Series* s = nullptr;
  {
    std::shared_lock lock(mutex_);
    auto it = series_.find(key);
    if (it != series_.end()) s = it->second.get();
  }
  if (!s) {
    std::unique_lock lock(mutex_);
    auto& slot = series_[key];
    if (!slot) {
      slot = std::make_unique<Series>();
      slot->labels = key;
    }
    s = slot.get();
  }
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) s->buckets[i].fetch_add(1, std::memory_order_relaxed);
  }
  s->count.fetch_add(1, std::memory_order_relaxed);
  s->sum_micros.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e6),
                          std::memory_order_relaxed);
}

void Metrics::AddCollector(std::function<void(std::string&)> collector) {
  std::unique_lock lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::string out;
  out += "# HELP breakpilot_http_requests_total HTTP requests answered.\n";
  out += "# TYPE breakpilot_http_requests_total counter\n";
  std::shared_lock lock(mutex_);
  std::map<std::string, const Series*> sorted;
  for (const auto& [k, v] : series_) sorted.emplace(k, v.get());
  for (const auto& [k, s] : sorted) {
    out += "breakpilot_http_requests_total{" + k + "} " + std::to_string(s->count.load()) + "\n";
  }
  out +=
      "# HELP breakpilot_http_request_duration_seconds Time from request read to response "
      "written.\n";
  out += "# TYPE breakpilot_http_request_duration_seconds histogram\n";
  char num[64];
  for (const auto& [k, s] : sorted) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(num, sizeof num, "%g", kBuckets[i]);
      out += "breakpilot_http_request_duration_seconds_bucket{" + k + ",le=\"" + num + "\"} " +
             std::to_string(s->buckets[i].load()) + "\n";
    }
    out += "breakpilot_http_request_duration_seconds_bucket{" + k + ",le=\"+Inf\"} " +
           std::to_string(s->count.load()) + "\n";
    std::snprintf(num, sizeof num, "%.6f", static_cast<double>(s->sum_micros.load()) / 1e6);
    out += "breakpilot_http_request_duration_seconds_sum{" + k + "} " + num + "\n";
    out += "breakpilot_http_request_duration_seconds_count{" + k + "} " +
           std::to_string(s->count.load()) + "\n";
  }
  for (const auto& c : collectors_) c(out);
  return out;
}

}  // namespace breakpilot::http
