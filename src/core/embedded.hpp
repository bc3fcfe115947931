// Files compiled into the binary (the OpenAPI document, the SQL migrations), looked up by their
// path relative to the source tree:
//   auto doc = breakpilot::embedded::Find("api/openapi.yaml");
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace breakpilot::embedded {

struct File {
  std::string_view path;
  std::string_view content;
};

const std::vector<File>& All();

inline std::optional<std::string_view> Find(std::string_view path) {
  for (const auto& f : All()) {
    if (f.path == path) return f.content;
  }
  return std::nullopt;
}

}  // namespace breakpilot::embedded
