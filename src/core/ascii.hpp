// Case-insensitive comparison of ASCII protocol text (header names, auth schemes, media types).
// No locale: std::tolower is a library call per character and depends on the C locale.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace breakpilot {

constexpr char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// A copy of `s` with its ASCII letters in lower case (host names, DNS names, constraint values).
inline std::string AsciiLowerCopy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = AsciiLower(c);
  return out;
}

constexpr bool AsciiIEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

constexpr bool AsciiIStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && AsciiIEquals(s.substr(0, prefix.size()), prefix);
}

}  // namespace breakpilot
