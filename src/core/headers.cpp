#include "core/headers.hpp"

#include <algorithm>

#include "core/ascii.hpp"

namespace breakpilot {

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  return AsciiIEquals(a, b);
}

void Headers::Add(std::string_view name, std::string_view value) {
  if (items_.empty()) items_.reserve(8);  // a typical request's or response's fields at once
  items_.emplace_back(std::string(name), std::string(value));
}

void Headers::Set(std::string_view name, std::string_view value) {
  for (auto& [k, v] : items_) {
    if (HeaderNameEquals(k, name)) {
      v = std::string(value);
      return;
    }
  }
  Add(name, value);
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (HeaderNameEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t Headers::Count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(items_.begin(), items_.end(), [&](const auto& kv) {
    return HeaderNameEquals(kv.first, name);
  }));
}

}  // namespace breakpilot
