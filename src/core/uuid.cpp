#include "core/uuid.hpp"

#include <array>
#include <atomic>
#include <cctype>

#include "core/crypto.hpp"

namespace breakpilot {

std::string NewUuidV7(Timestamp now) {
  // RFC 9562 6.2 method 3: the 12 bits after the millisecond count carry the sub-millisecond
  // fraction, and a process-wide guard keeps ids strictly increasing even within one tick.
  static std::atomic<std::uint64_t> last{0};
  const auto ms = static_cast<std::uint64_t>(now.micros / 1000);
  const auto frac = static_cast<std::uint64_t>(now.micros % 1000) * 4096 / 1000;
  std::uint64_t want = (ms << 12) | frac;
  std::uint64_t prev = last.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    next = want > prev ? want : prev + 1;
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  std::array<unsigned char, 16> b{};
  RandomBytes(b.data(), b.size());
  const std::uint64_t stamp = next >> 12;
  const auto sub = static_cast<unsigned>(next & 0xFFF);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(stamp >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (sub >> 8));
  b[7] = static_cast<unsigned char>(sub & 0xFF);
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20);
}

bool IsCanonicalUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string NormalizeUuid(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace breakpilot
