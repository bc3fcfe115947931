// Instants as microseconds since the Unix epoch (UTC), one injectable clock, and the two text
// forms we use: RFC 3339 for the API ("2026-11-25T17:22:35.123456Z") and the storage form
// ("2026-11-25 17:22:35.123456+00"), which both PostgreSQL and SQLite sort and compare correctly.
//
//   const Clock& clock = SystemClock();
//   std::string s = FormatRfc3339(clock.Now());
#pragma once

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

inline Timestamp AddSeconds(Timestamp t, std::int64_t seconds) {
  return Timestamp{t.micros + seconds * kMicrosPerSecond};
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The wall clock. Later issues add an adjustable test clock behind the same interface.
const Clock& SystemClock();

std::string FormatRfc3339(Timestamp t);
std::string FormatStorage(Timestamp t);

// Accepts RFC 3339 (T or space separator, Z or a numeric offset) and PostgreSQL's timestamptz
// text output ("+00", variable fraction digits). Rejects anything else.
std::optional<Timestamp> ParseTimestamp(std::string_view text);

}  // namespace breakpilot
