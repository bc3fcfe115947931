// libFuzzer: product manifests (YAML) through the strict manifest parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)breakpilot::catalog::ParseManifest(text, "fuzz");
  return 0;
}
