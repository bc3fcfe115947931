// NextLocalTime, apart from the rest of core/time: it needs the tz database (libdate-tz), which
// the small fuzz targets that parse timestamps do not link.
#include <date/tz.h>

#include "core/time.hpp"

namespace breakpilot {

std::optional<Timestamp> NextLocalTime(Timestamp after, const std::string& zone, int hour,
                                       int minute) {
  using namespace std::chrono;
  const date::time_zone* tz = nullptr;
  try {
    tz = date::locate_zone(zone);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const sys_time<microseconds> from{microseconds(after.micros)};
  const auto local_day = date::floor<date::days>(tz->to_local(from));
  for (int d = 0; d < 3; ++d) {
    const date::local_seconds wanted = local_day + date::days(d) + hours(hour) + minutes(minute);
    sys_seconds at;
    const auto info = tz->get_info(wanted);
    if (info.result == date::local_info::nonexistent) {
      at = info.second.begin;  // skipped by a spring-forward: the first instant after the gap
    } else {
      at = tz->to_sys(wanted, date::choose::earliest);  // repeated by a fall-back: the first
    }
    const Timestamp t{duration_cast<microseconds>(at.time_since_epoch()).count()};
    if (t > after) return t;
  }
  return std::nullopt;  // unreachable: some day within three has the time after `after`
}

}  // namespace breakpilot
