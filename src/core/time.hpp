// Instants as microseconds since the Unix epoch (UTC), one injectable clock, and the two text
// forms we use: RFC 3339 for the API ("2026-11-25T17:22:35.123456Z") and the storage form
// ("2026-11-25 17:22:35.123456+00"), which both PostgreSQL and SQLite sort and compare correctly.
//
//   const Clock& clock = SystemClock();
//   std::string s = FormatRfc3339(clock.Now());
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace breakpilot {

struct Timestamp {
  std::int64_t micros = 0;  // since 1970-01-01T00:00:00Z
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const Timestamp&) const = default;
};

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

inline Timestamp AddSeconds(Timestamp t, std::int64_t seconds) {
  return Timestamp{t.micros + seconds * kMicrosPerSecond};
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The wall clock.
const Clock& SystemClock();

// The platform's clock: the wall clock plus an offset. The offset is zero unless the test clock
// is enabled (serve --enable-test-clock), where POST /internal/clock moves it forward so a
// black-box test runs a 44-day lifecycle in seconds. Every replica reads the same offset from
// the database (lifecycle::TestClock), so they agree on the time.
class OffsetClock final : public Clock {
 public:
  Timestamp Now() const override {
    return Timestamp{SystemClock().Now().micros + offset_.load(std::memory_order_relaxed)};
  }
  void SetOffset(std::int64_t micros) { offset_.store(micros, std::memory_order_relaxed); }
  std::int64_t offset() const { return offset_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> offset_{0};
};

std::string FormatRfc3339(Timestamp t);
void AppendRfc3339(std::string& out, Timestamp t);  // the same, appended (no allocation of its own)
std::string FormatStorage(Timestamp t);

// Accepts RFC 3339 (T or space separator, Z or a numeric offset) and PostgreSQL's timestamptz
// text output ("+00", variable fraction digits). Rejects anything else.
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// RFC 5322 date-time in UTC, for mail headers: "Thu, 26 Nov 2026 00:32:04 +0000".
std::string FormatRfc5322(Timestamp t);

// The first instant strictly after `after` at which the wall clock in the IANA time zone `zone`
// (read from the system's tz database) shows hour:minute. Correct across daylight-saving
// changes: a time that a spring-forward skips runs at the first instant after the gap, a time
// that a fall-back repeats runs once, at its first occurrence. nullopt for an unknown zone.
std::optional<Timestamp> NextLocalTime(Timestamp after, const std::string& zone, int hour,
                                       int minute);

}  // namespace breakpilot
