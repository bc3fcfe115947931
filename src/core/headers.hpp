// HTTP header fields as our code keeps them, for the server's requests and answers and for
// outbound calls alike: names keep their case, lookups ignore it (ASCII, no locale).
//
//   Headers h;
//   h.Add("Set-Cookie", "a=1");
//   h.Set("content-type", "text/plain");      // replaces
//   auto ct = h.Get("Content-Type");           // "text/plain"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace breakpilot {

// Header names are ASCII tokens: compared case-insensitively, without a locale.
bool HeaderNameEquals(std::string_view a, std::string_view b);

class Headers {
 public:
  void Add(std::string_view name, std::string_view value);
  void Set(std::string_view name, std::string_view value);  // replaces
  std::optional<std::string_view> Get(std::string_view name) const;
  std::size_t Count(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace breakpilot
