#include "tracing/trace.hpp"

#include <atomic>
#include <chrono>
#include <random>

#include "core/crypto.hpp"

namespace breakpilot::tracing {
namespace {

std::atomic<SpanSink*> g_sink{nullptr};
thread_local const SpanContext* t_current = nullptr;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <std::size_t N>
bool ReadHex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  bool nonzero = false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    nonzero = nonzero || out[i] != 0;
  }
  return nonzero;
}

template <std::size_t N>
void WriteHex(const std::array<std::uint8_t, N>& in, std::string& out) {
  constexpr char kDigits[] = "0123456789abcdef";
  for (const std::uint8_t b : in) {
    out += kDigits[b >> 4U];
    out += kDigits[b & 15U];
  }
}

// Ids need to be unique, not secret: a per-thread generator seeded from the system RNG.
std::uint64_t NextRandom() {
  thread_local std::mt19937_64 rng = [] {
    std::uint64_t seed = 0;
    RandomBytes(&seed, sizeof seed);
    return std::mt19937_64(seed);
  }();
  return rng();
}

template <std::size_t N>
void FillRandom(std::array<std::uint8_t, N>& out) {
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      const std::uint64_t word = NextRandom();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j) {
        out[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
      }
    }
  } while (out == std::array<std::uint8_t, N>{});
}

std::int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<SpanContext> ParseTraceparent(std::string_view text) {
  // version "-" trace-id "-" parent-id "-" flags; version ff is invalid, and version 00 has
  // exactly these 55 characters. A later version may append "-..." fields, which are ignored.
  if (text.size() < 55 || text[2] != '-' || text[35] != '-' || text[52] != '-') return {};
  const int v_hi = HexValue(text[0]), v_lo = HexValue(text[1]);
  if (v_hi < 0 || v_lo < 0 || (v_hi == 15 && v_lo == 15)) return {};
  const bool version_00 = v_hi == 0 && v_lo == 0;
  if (version_00 ? text.size() != 55 : (text.size() > 55 && text[55] != '-')) return {};
  SpanContext c;
  std::array<std::uint8_t, 1> flags{};
  if (!ReadHex(text.substr(3, 32), c.trace_id) || !ReadHex(text.substr(36, 16), c.span_id)) {
    return {};
  }
  if (HexValue(text[53]) < 0 || HexValue(text[54]) < 0) return {};
  ReadHex(text.substr(53, 2), flags);  // all-zero flags are valid: not sampled
  c.flags = flags[0];
  return c;
}

std::string FormatTraceparent(const SpanContext& context) {
  std::string out = "00-";
  out.reserve(55);
  WriteHex(context.trace_id, out);
  out += '-';
  WriteHex(context.span_id, out);
  out += '-';
  WriteHex(std::array<std::uint8_t, 1>{context.flags}, out);
  return out;
}

const SpanContext* Current() {
  return t_current;
}

std::optional<std::string> CurrentTraceparent() {
  if (!t_current) return std::nullopt;
  return FormatTraceparent(*t_current);
}

void InstallSink(SpanSink* sink) {
  g_sink.store(sink, std::memory_order_release);
}

Span::Span(std::string_view name, SpanKind kind, const SpanContext* parent, bool root) {
  const bool remote = parent != nullptr;
  if (!parent) parent = t_current;
  SpanSink* sink = g_sink.load(std::memory_order_acquire);
  if (!sink) {
    // Not recording: a remote parent passes on unchanged, so callees still join its trace.
    if (!remote) return;
    context_ = *parent;
  } else {
    if (parent) {
      context_.trace_id = parent->trace_id;
      context_.flags = parent->flags;
    } else {
      if (!root) return;
      FillRandom(context_.trace_id);
      context_.flags = sink->SampleRoot(context_.trace_id) ? 1 : 0;
    }
    FillRandom(context_.span_id);
    if (context_.sampled()) {
      data_ = std::make_unique<SpanData>();
      data_->context = context_;
      if (parent) data_->parent = parent->span_id;
      data_->parent_remote = remote;
      data_->name = std::string(name);
      data_->kind = kind;
      data_->start_unix_ns = UnixNanos();
    }
  }
  active_ = true;
  previous_ = t_current;
  t_current = &context_;
}

Span::~Span() {
  if (!active_) return;
  t_current = previous_;
  if (!data_) return;
  data_->end_unix_ns = UnixNanos();
  // The sink may have gone since the start (shutdown): the span is dropped then.
  if (SpanSink* sink = g_sink.load(std::memory_order_acquire)) sink->Submit(std::move(*data_));
}

void Span::SetName(std::string_view name) {
  if (data_) data_->name = std::string(name);
}

void Span::Set(std::string_view key, std::string_view value) {
  if (data_) data_->attributes.push_back({std::string(key), std::string(value)});
}

void Span::Set(std::string_view key, std::int64_t value) {
  if (data_) data_->attributes.push_back({std::string(key), value});
}

void Span::Set(std::string_view key, bool value) {
  if (data_) data_->attributes.push_back({std::string(key), value});
}

void Span::Fail(std::string_view message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::string(message);
}

std::string Span::traceparent() const {
  return active_ ? FormatTraceparent(context_) : std::string();
}

ContextScope::ContextScope(const std::optional<SpanContext>& context) {
  if (!context) return;
  context_ = *context;
  active_ = true;
  previous_ = t_current;
  t_current = &context_;
}

ContextScope::~ContextScope() {
  if (active_) t_current = previous_;
}

}  // namespace breakpilot::tracing
