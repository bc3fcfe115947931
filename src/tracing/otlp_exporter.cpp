#include "tracing/otlp_exporter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/log.hpp"

namespace breakpilot::tracing {
namespace {

const Logger kLog("tracing");

// Protobuf's wire format, for the few field types OTLP's trace messages use: varint (0),
// fixed64 (1), length-delimited (2), fixed32 (5). Nested messages are written into their own
// string first, then appended with their length.
class ProtoWriter {
 public:
  void Varint(int field, std::uint64_t value) {
    Tag(field, 0);
    RawVarint(value);
  }
  void Fixed64(int field, std::uint64_t value) {
    Tag(field, 1);
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xFFU);
  }
  void Fixed32(int field, std::uint32_t value) {
    Tag(field, 5);
    for (int i = 0; i < 4; ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xFFU);
  }
  void Bytes(int field, std::string_view bytes) {
    Tag(field, 2);
    RawVarint(bytes.size());
    out_.append(bytes);
  }
  template <std::size_t N>
  void Bytes(int field, const std::array<std::uint8_t, N>& bytes) {
    Bytes(field, std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
  }
  void Message(int field, const ProtoWriter& inner) { Bytes(field, inner.out_); }
  const std::string& str() const { return out_; }

 private:
  void Tag(int field, int wire_type) {
    RawVarint((static_cast<std::uint64_t>(field) << 3U) | static_cast<std::uint64_t>(wire_type));
  }
  void RawVarint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7FU) | 0x80U);
      v >>= 7U;
    }
    out_ += static_cast<char>(v);
  }
  std::string out_;
};

// opentelemetry.proto.common.v1.KeyValue { key = 1; AnyValue value = 2 }, AnyValue's
// string_value = 1, bool_value = 2, int_value = 3.
ProtoWriter KeyValue(const std::string& key, const AttributeValue& value) {
  ProtoWriter any;
  if (const auto* s = std::get_if<std::string>(&value)) {
    any.Bytes(1, *s);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    any.Varint(2, *b ? 1 : 0);
  } else {
    any.Varint(3, static_cast<std::uint64_t>(std::get<std::int64_t>(value)));
  }
  ProtoWriter kv;
  kv.Bytes(1, key);
  kv.Message(2, any);
  return kv;
}

// opentelemetry.proto.trace.v1.Span.
ProtoWriter EncodeSpan(const SpanData& s) {
  ProtoWriter w;
  w.Bytes(1, s.context.trace_id);
  w.Bytes(2, s.context.span_id);
  if (s.parent) w.Bytes(4, *s.parent);
  w.Bytes(5, s.name);
  w.Varint(6, static_cast<std::uint64_t>(s.kind));
  w.Fixed64(7, static_cast<std::uint64_t>(s.start_unix_ns));
  w.Fixed64(8, static_cast<std::uint64_t>(s.end_unix_ns));
  for (const auto& a : s.attributes) w.Message(9, KeyValue(a.key, a.value));
  ProtoWriter status;  // Status { message = 2; code = 3 }: UNSET 0, OK 1, ERROR 2
  if (s.error) {
    status.Bytes(2, s.status_message);
    status.Varint(3, 2);
  }
  w.Message(15, status);
  // SpanFlags: the trace flags in the low byte; bit 8 says whether bit 9 (remote parent) is known.
  std::uint32_t flags = s.context.flags | 0x100U;
  if (s.parent && s.parent_remote) flags |= 0x200U;
  w.Fixed32(16, flags);
  return w;
}

}  // namespace

std::string EncodeTraceRequest(const ExporterOptions& resource,
                               const std::vector<SpanData>& spans) {
  ProtoWriter res;  // Resource { repeated KeyValue attributes = 1 }
  res.Message(1, KeyValue("service.name", resource.service_name));
  if (!resource.service_version.empty()) {
    res.Message(1, KeyValue("service.version", resource.service_version));
  }
  if (!resource.instance_id.empty()) {
    res.Message(1, KeyValue("service.instance.id", resource.instance_id));
  }
  ProtoWriter scope;  // InstrumentationScope { name = 1; version = 2 }
  scope.Bytes(1, "breakpilot");
  if (!resource.service_version.empty()) scope.Bytes(2, resource.service_version);
  ProtoWriter scope_spans;  // ScopeSpans { scope = 1; repeated Span spans = 2 }
  scope_spans.Message(1, scope);
  for (const auto& s : spans) scope_spans.Message(2, EncodeSpan(s));
  ProtoWriter resource_spans;  // ResourceSpans { resource = 1; repeated ScopeSpans = 2 }
  resource_spans.Message(1, res);
  resource_spans.Message(2, scope_spans);
  ProtoWriter request;  // ExportTraceServiceRequest { repeated ResourceSpans = 1 }
  request.Message(1, resource_spans);
  return request.str();
}

Exporter::Exporter(ExporterOptions options, outbound::Fetcher fetch)
    : options_(std::move(options)), fetch_(std::move(fetch)) {
  const double ratio = std::clamp(options_.sample_ratio, 0.0, 1.0);
  sample_below_ = ratio >= 1.0 ? std::numeric_limits<std::uint64_t>::max()
                               : static_cast<std::uint64_t>(std::ldexp(ratio, 64));
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
    options_.endpoint.pop_back();
  }
  thread_ = std::thread([this] { Loop(); });
}

Exporter::~Exporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool Exporter::SampleRoot(const TraceId& trace_id) const {
  if (sample_below_ == std::numeric_limits<std::uint64_t>::max()) return true;
  std::uint64_t low = 0;  // the last 8 bytes: random in every W3C trace id
  for (std::size_t i = 8; i < 16; ++i) low = (low << 8U) | trace_id[i];
  return low < sample_below_;
}

void Exporter::Submit(SpanData span) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.max_batch;
  }
  if (wake) wake_.notify_one();
}

ExporterStats Exporter::stats() const {
  return {.exported = exported_.load(std::memory_order_relaxed),
          .dropped = dropped_.load(std::memory_order_relaxed),
          .failed_posts = failed_posts_.load(std::memory_order_relaxed)};
}

std::string Exporter::Metrics() const {
  const auto s = stats();
  return "# HELP breakpilot_trace_spans_exported_total Spans the collector accepted.\n"
         "# TYPE breakpilot_trace_spans_exported_total counter\n"
         "breakpilot_trace_spans_exported_total " +
         std::to_string(s.exported) +
         "\n# HELP breakpilot_trace_spans_dropped_total Spans dropped: the queue was full or "
         "the collector refused them.\n"
         "# TYPE breakpilot_trace_spans_dropped_total counter\n"
         "breakpilot_trace_spans_dropped_total " +
         std::to_string(s.dropped) +
         "\n# HELP breakpilot_trace_export_failures_total Failed posts to the collector.\n"
         "# TYPE breakpilot_trace_export_failures_total counter\n"
         "breakpilot_trace_export_failures_total " +
         std::to_string(s.failed_posts) + "\n";
}

bool Exporter::Post(const std::vector<SpanData>& batch) {
  auto r = fetch_({.method = "POST",
                   .url = options_.endpoint + "/v1/traces",
                   .headers = {{"Content-Type", "application/x-protobuf"}},
                   .body = EncodeTraceRequest(options_, batch),
                   .timeout = options_.timeout,
                   .max_body = std::size_t{64} * 1024});
  if (r && r->status >= 200 && r->status < 300) return true;
  failed_posts_.fetch_add(1, std::memory_order_relaxed);
  // The first failure in a row is a warning; the rest would flood the log while it is down.
  kLog.Write(++failures_in_a_row_ == 1 ? LogLevel::kWarn : LogLevel::kDebug, "trace export failed",
             {{"endpoint", options_.endpoint},
              {"error", r ? "HTTP " + std::to_string(r->status) : r.error().detail}});
  return false;
}

void Exporter::Loop() {
  for (;;) {
    std::vector<SpanData> batch;
    bool stopping = false;
    bool more = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.interval,
                     [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      stopping = stopping_;
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      more = !queue_.empty();
    }
    if (!batch.empty()) {
      // While stopping, one attempt per batch and none after a failure: a collector that does
      // not answer must not hold the shutdown for a timeout per queued batch.
      const bool sent = Post(batch) || (!stopping && Post(batch));
      (sent ? exported_ : dropped_).fetch_add(batch.size(), std::memory_order_relaxed);
      if (sent) failures_in_a_row_ = 0;
      if (!sent && stopping) {
        std::lock_guard lock(mutex_);
        dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
        queue_.clear();
        return;
      }
    }
    if (stopping && !more) return;
  }
}

}  // namespace breakpilot::tracing
