// The final export's container (M14.2): a ZIP built in memory with libzip.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace breakpilot::lifecycle {

// (name inside the archive, content) pairs; names are UTF-8 paths like "products/certifai.json".
std::string BuildZip(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace breakpilot::lifecycle
