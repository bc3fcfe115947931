// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP (binary protobuf, POST
// <endpoint>/v1/traces), in batches, from a thread of its own: a request never waits on the
// collector. Off unless `--otlp-endpoint` is set.
//
//   Exporter exporter({.endpoint = "http://127.0.0.1:4318", .service_name = "breakpilot"},
//                     http::Fetch);
//   InstallSink(&exporter);    ...serve...    InstallSink(nullptr);   // ~Exporter flushes
//
// The queue is bounded: when the collector is slow or down, new spans are dropped and counted
// (breakpilot_trace_spans_dropped_total), never buffered without limit. A failed batch is
// dropped after one retry; traces are telemetry, not records.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "outbound/fetch.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::tracing {

struct ExporterOptions {
  std::string endpoint;  // the collector's base URL: http://collector:4318
  std::string service_name = "breakpilot";
  std::string service_version;
  std::string instance_id;    // service.instance.id: tells replicas apart
  double sample_ratio = 1.0;  // of new traces; a caller's traceparent decides for its own
  std::size_t max_queue = 8192;
  std::size_t max_batch = 512;
  std::chrono::milliseconds interval{1000};  // the longest a span waits for its batch
  std::chrono::milliseconds timeout{5000};   // one POST to the collector
};

// ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) of one resource and one
// instrumentation scope, in protobuf's wire format.
std::string EncodeTraceRequest(const ExporterOptions& resource, const std::vector<SpanData>& spans);

struct ExporterStats {
  std::uint64_t exported = 0;
  std::uint64_t dropped = 0;  // the queue was full, or the collector refused a batch twice
  std::uint64_t failed_posts = 0;
};

class Exporter final : public SpanSink {
 public:
  Exporter(ExporterOptions options, outbound::Fetcher fetch);
  ~Exporter() override;  // sends what is queued (one attempt), then stops
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  bool SampleRoot(const TraceId& trace_id) const override;
  void Submit(SpanData span) override;
  ExporterStats stats() const;
  // Prometheus text for /metrics.
  std::string Metrics() const;

 private:
  void Loop();
  bool Post(const std::vector<SpanData>& batch);

  ExporterOptions options_;
  outbound::Fetcher fetch_;
  std::uint64_t sample_below_;  // a new trace is sampled when its low 64 bits are below this
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> failed_posts_{0};
  int failures_in_a_row_ = 0;  // the exporter's thread only
  std::thread thread_;
};

}  // namespace breakpilot::tracing
