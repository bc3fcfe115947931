// The test clock (issue 5 §8): with `serve --enable-test-clock`, staff move the platform's clock
// forward through POST /internal/clock, so a black-box test runs a 44-day lifecycle in seconds.
// The offset lives in the database and every replica follows it (LISTEN/NOTIFY "clock"): they
// agree on the time, as they would on the wall clock. Off by default; refused in production.
#pragma once

#include <cstdint>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::lifecycle {

class TestClock {
 public:
  // Loads the stored offset into `clock` and follows changes until destroyed.
  TestClock(storage::Database& db, OffsetClock& clock);
  ~TestClock();
  TestClock(const TestClock&) = delete;
  TestClock& operator=(const TestClock&) = delete;

  // Moves every replica's clock forward by `seconds` (1 s .. 400 days); returns the new now.
  Result<Timestamp> Advance(const audit::Actor& actor, std::int64_t seconds);
  void Reload();
  std::int64_t offset_seconds() const { return clock_.offset() / kMicrosPerSecond; }

 private:
  storage::Database& db_;
  OffsetClock& clock_;
  std::uint64_t subscription_ = 0;
};

}  // namespace breakpilot::lifecycle
