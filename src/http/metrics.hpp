// Prometheus metrics for the HTTP server: request counts and latency histograms by route name,
// method and status class, rendered in the text exposition format at GET /metrics. Labels come
// only from closed sets, so junk requests cannot grow the number of series: the route is a
// route's name (or "unmatched"), the method one of the nine of RFC 9110 or OTHER, the status
// its class (2xx).
//
//   metrics.Observe("tenant_get", "GET", 200, 0.0012);   // route="tenant_get",...,status="2xx"
//   std::string text = metrics.Render();
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace breakpilot::http {

// The method as a label: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT, else OTHER.
std::string_view MethodLabel(std::string_view method);
// 1xx..5xx, else "other".
std::string_view StatusLabel(int status);

class Metrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void Observe(std::string_view route, std::string_view method, int status, double seconds);
  // Extra gauges/counters rendered after the HTTP ones (store state, build info, ...).
  void AddCollector(std::function<void(std::string&)> collector);
  std::string Render() const;

 private:
  struct Series {
    std::string labels;  // route="...",method="...",status="2xx"
    // Per bucket, not cumulative: an observation adds to one counter, the last one past the
    // largest bound. Render sums them up, so the +Inf bucket and the count always agree.
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_micros{0};
  };

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Series>> series_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace breakpilot::http
