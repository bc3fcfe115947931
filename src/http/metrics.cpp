#include "http/metrics.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <mutex>

namespace breakpilot::http {

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  for (auto m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

std::string_view StatusLabel(int status) {
  static constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  if (status < 100 || status > 599) return "other";
  return kClasses[static_cast<std::size_t>(status / 100 - 1)];
}

void Metrics::Observe(std::string_view route, std::string_view method, int status, double seconds) {
  // The key is built in a buffer each thread keeps, so a request to a known series allocates
  // nothing. Every label comes from a closed set (route names, MethodLabel, StatusLabel), so
  // no request can add a series: the count is bounded by routes x 10 x 6.
  thread_local std::string key;
  key.clear();
  key.append("route=\"").append(route).append("\",method=\"").append(MethodLabel(method));
  key.append("\",status=\"").append(StatusLabel(status)).append("\"");
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
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin());
  s->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
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
  // Each series' buckets, read once and summed up: bucket i counts the observations <= bound i.
  struct Snapshot {
    std::array<std::uint64_t, kBuckets.size() + 1> cumulative{};
    std::uint64_t sum_micros = 0;
  };
  std::map<std::string, Snapshot> sorted;
  for (const auto& [k, v] : series_) {
    Snapshot snap;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < v->buckets.size(); ++i) {
      running += v->buckets[i].load(std::memory_order_relaxed);
      snap.cumulative[i] = running;
    }
    snap.sum_micros = v->sum_micros.load(std::memory_order_relaxed);
    sorted.emplace(k, snap);
  }
  for (const auto& [k, s] : sorted) {
    out +=
        "breakpilot_http_requests_total{" + k + "} " + std::to_string(s.cumulative.back()) + "\n";
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
             std::to_string(s.cumulative[i]) + "\n";
    }
    const std::string count = std::to_string(s.cumulative.back());
    out.append("breakpilot_http_request_duration_seconds_bucket{")
        .append(k)
        .append(",le=\"+Inf\"} ")
        .append(count)
        .append("\n");
    std::snprintf(num, sizeof num, "%.6f", static_cast<double>(s.sum_micros) / 1e6);
    out += "breakpilot_http_request_duration_seconds_sum{" + k + "} " + num + "\n";
    out.append("breakpilot_http_request_duration_seconds_count{")
        .append(k)
        .append("} ")
        .append(count)
        .append("\n");
  }
  for (const auto& c : collectors_) c(out);
  return out;
}

}  // namespace breakpilot::http
