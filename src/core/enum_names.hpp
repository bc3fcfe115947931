// Enums with a text form kept in one table of (value, name) pairs, looked up both ways:
//
//   constexpr std::pair<State, std::string_view> kNames[] = {{State::kDone, "done"}, ...};
//   std::string_view n = NameIn(kNames, State::kDone, "unknown");
//   std::optional<State> s = ValueIn(kNames, "done");
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace breakpilot {

template <class E>
std::string_view NameIn(std::span<const std::pair<E, std::string_view>> table, E value,
                        std::string_view fallback) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return fallback;
}

template <class E>
std::optional<E> ValueIn(std::span<const std::pair<E, std::string_view>> table,
                         std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace breakpilot
