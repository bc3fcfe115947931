// Distributed traces (§1.9): W3C trace context and spans. A span is a unit of work with a name,
// a start and an end, under a parent span of the same trace. The platform opens one per request
// (api/), per job (jobs/) and per outbound call (http/client.cpp, mail/), and passes the
// current span on as a `traceparent` header, so the callee's spans join the same trace.
//
//   auto parent = ParseTraceparent(header);           // the caller's span, if it sent one
//   Span span("GET /tenants/{id}", SpanKind::kServer, parent ? &*parent : nullptr);
//   span.Set("http.response.status_code", 200);
//   outbound.headers.emplace_back("traceparent", *CurrentTraceparent());  // inside the span
//
// A span is current on its thread from its start to its end (RAII; nested spans restore their
// parent). Spans are recorded only while an exporter is installed (tracing/otlp_exporter.hpp,
// `--otlp-endpoint`); without one a span costs a few stores, and one with a parent passes the
// parent's context on unchanged, so an inbound trace still reaches the callees.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace breakpilot::tracing {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  std::uint8_t flags = 0;  // bit 0: sampled
  bool sampled() const { return (flags & 1U) != 0; }
};

// W3C Trace Context, version 00: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>",
// lowercase. A later version is read by its first four fields (the spec's forward rule).
// nullopt for anything else, and for an all-zero id.
std::optional<SpanContext> ParseTraceparent(std::string_view text);
std::string FormatTraceparent(const SpanContext& context);

// The current span's context on this thread, or nullptr outside any span.
const SpanContext* Current();
// FormatTraceparent(*Current()), or nullopt outside any span (a NULL column when stored).
std::optional<std::string> CurrentTraceparent();

enum class SpanKind : std::uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};

using AttributeValue = std::variant<std::string, std::int64_t, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// A finished span, as the exporter sends it.
struct SpanData {
  SpanContext context;
  std::optional<SpanId> parent;
  bool parent_remote = false;  // the parent came from another process (a traceparent header)
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::int64_t start_unix_ns = 0;
  std::int64_t end_unix_ns = 0;
  std::vector<Attribute> attributes;
  bool error = false;
  std::string status_message;  // why it failed
};

// Where finished spans go: tracing/otlp_exporter.hpp's Exporter, or a test's list.
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  // Whether a new trace (a span without a parent) is recorded; its id's random bits decide.
  virtual bool SampleRoot(const TraceId& trace_id) const = 0;
  virtual void Submit(SpanData span) = 0;
};

// Installs the sink every span of the process reports to (nullptr: none). The composition root
// installs it before serving and removes it after the last request and job ended.
void InstallSink(SpanSink* sink);

class Span {
 public:
  // A span under `parent`, a remote context (from a traceparent), or else under the thread's
  // current span; a new trace when there is neither, and `root` allows one.
  Span(std::string_view name, SpanKind kind, const SpanContext* parent = nullptr, bool root = true);
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  bool recording() const { return data_ != nullptr; }
  void SetName(std::string_view name);
  void Set(std::string_view key, std::string_view value);
  void Set(std::string_view key, std::int64_t value);
  void Set(std::string_view key, bool value);
  void Set(std::string_view key, const char* value) { Set(key, std::string_view(value)); }
  void Set(std::string_view key, int value) { Set(key, static_cast<std::int64_t>(value)); }
  // Marks the span failed, with why (never a secret: it is exported).
  void Fail(std::string_view message);
  // Ends the span unrecorded: the work is done again under a new span (a read an I/O thread
  // declined, which the blocking pool answers).
  void Discard() { data_.reset(); }
  // This span's traceparent (the parent's when passing through); "" when the span is inactive.
  std::string traceparent() const;

 private:
  bool active_ = false;  // current on this thread (recorded, or passing a remote parent on)
  SpanContext context_;
  const SpanContext* previous_ = nullptr;
  std::unique_ptr<SpanData> data_;
};

// Makes a stored context current for a scope without a span of its own: a job enqueued inside
// it carries the context (jobs::Enqueue), as when the webhooks fan out an event a request made.
class ContextScope {
 public:
  explicit ContextScope(const std::optional<SpanContext>& context);
  ~ContextScope();
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  bool active_ = false;
  SpanContext context_;
  const SpanContext* previous_ = nullptr;
};

}  // namespace breakpilot::tracing
