#include "lifecycle/test_clock.hpp"

#include <boost/json.hpp>

#include "jobs/queue.hpp"

namespace breakpilot::lifecycle {
namespace {

using storage::Query;

constexpr std::string_view kClockEvent = "clock";
constexpr std::int64_t kMaxAdvance = 400LL * 86400;

constexpr Query kAdvance{
    "test_clock_advance",
    "INSERT INTO platform_settings (name, value, updated_at) VALUES ('test_clock.offset_us', $1,"
    " $2) ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(platform_settings.value AS bigint)"
    " + CAST($1 AS bigint) AS text), updated_at = $2 RETURNING value"};
constexpr Query kSelectOffset{
    "test_clock_select", "SELECT value FROM platform_settings WHERE name = 'test_clock.offset_us'"};

}  // namespace

TestClock::TestClock(storage::Database& db, OffsetClock& clock) : db_(db), clock_(clock) {
  Reload();
  subscription_ = db_.Subscribe([this](std::string_view payload) {
    if (payload == kClockEvent || payload == "*") Reload();
  });
}

TestClock::~TestClock() {
  if (subscription_ != 0) db_.Unsubscribe(subscription_);
}

void TestClock::Reload() {
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelectOffset, {}); });
  clock_.SetOffset(row ? std::stoll(row->Text(0)) : 0);
}

Result<Timestamp> TestClock::Advance(const audit::Actor& actor, std::int64_t seconds) {
  if (seconds < 1 || seconds > kMaxAdvance) {
    return ValidationFailed(
        {{"/advance_seconds", "must be between 1 and " + std::to_string(kMaxAdvance) +
                                  " (the clock only moves forward)"}});
  }
  const std::string delta = std::to_string(seconds * kMicrosPerSecond);
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kAdvance, {delta, FormatStorage(SystemClock().Now())});
    clock_.SetOffset(std::stoll(row->Text(0)));
    audit::Record(s, clock_, actor,
                  {std::nullopt, "clock.advance", 'u', "clock", "test_clock",
                   "test clock moved forward by " + std::to_string(seconds) + " s",
                   boost::json::serialize(boost::json::object{{"advance_seconds", seconds}})});
    s.Notify(kClockEvent);
    s.Notify(jobs::kJobsEvent);  // jobs that just became due
  });
  return clock_.Now();
}

}  // namespace breakpilot::lifecycle
