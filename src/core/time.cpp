#include "core/time.hpp"

#include <charconv>
#include <chrono>

#include <date/date.h>

namespace breakpilot {
namespace {

class WallClock final : public Clock {
 public:
  Timestamp Now() const override {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
  }
};

// Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second;
  std::int64_t micros;
};

Civil ToCivil(Timestamp t) {
  std::int64_t secs = t.micros / kMicrosPerSecond;
  std::int64_t micros = t.micros % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return Civil{y,
               m,
               d,
               static_cast<unsigned>(rem / 3600),
               static_cast<unsigned>(rem % 3600 / 60),
               static_cast<unsigned>(rem % 60),
               micros};
}

void PutDigits(char* out, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Hand-rolled: this runs several times per API response and once per cell of an export, and
// snprintf costs ten times more.
void AppendFormatted(std::string& out, Timestamp t, char sep, std::string_view zone) {
  const Civil c = ToCivil(t);
  if (c.year < 0 || c.year > 9999) {
    out += "invalid-time";
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + 26);  // YYYY-MM-DD?HH:MM:SS.ffffff
  char* p = out.data() + at;
  PutDigits(p, c.year, 4);
  p[4] = '-';
  PutDigits(p + 5, c.month, 2);
  p[7] = '-';
  PutDigits(p + 8, c.day, 2);
  p[10] = sep;
  PutDigits(p + 11, c.hour, 2);
  p[13] = ':';
  PutDigits(p + 14, c.minute, 2);
  p[16] = ':';
  PutDigits(p + 17, c.second, 2);
  p[19] = '.';
  PutDigits(p + 20, c.micros, 6);
  out.append(zone);
}

bool ReadDigits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char ch = s[pos + i];
    if (ch < '0' || ch > '9') return false;
    out = out * 10 + (ch - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char ch) {
  if (pos >= s.size() || s[pos] != ch) return false;
  ++pos;
  return true;
}

}  // namespace

const Clock& SystemClock() {
  static const WallClock kClock;
  return kClock;
}

std::string FormatRfc3339(Timestamp t) {
  std::string out;
  out.reserve(27);
  AppendFormatted(out, t, 'T', "Z");
  return out;
}
void AppendRfc3339(std::string& out, Timestamp t) {
  AppendFormatted(out, t, 'T', "Z");
}
std::string FormatStorage(Timestamp t) {
  std::string out;
  out.reserve(29);
  AppendFormatted(out, t, ' ', "+00");
  return out;
}

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second)) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!ReadDigits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (pos < s.size() && !ReadDigits(s, pos, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_seconds = std::int64_t{sign} * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60);
  } else {
    return std::nullopt;  // a time without a zone is ambiguous
  }
  if (pos != s.size()) return std::nullopt;
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  if (second == 60) second = 59;  // leap second: clamp
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 +
                            second - offset_seconds;
  return Timestamp{secs * kMicrosPerSecond + micros};
}

std::string FormatRfc5322(Timestamp t) {
  using namespace std::chrono;
  const auto secs = date::floor<seconds>(sys_time<microseconds>{microseconds(t.micros)});
  return date::format("%a, %d %b %Y %H:%M:%S +0000", secs);
}

}  // namespace breakpilot
