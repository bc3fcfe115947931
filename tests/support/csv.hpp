// A reader of RFC 4180 CSV for tests, written apart from the platform's writer (audit/export.hpp)
// so that a test compares the writer's output against an independent reading of it.
//
//   auto rows = ParseCsv(body);   // rows[0] is the header line
#pragma once

#include <string>
#include <vector>

namespace breakpilot::testing {

// Fields split on commas outside quotes, "" inside quotes is a quote, records end at CRLF.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text);

}  // namespace breakpilot::testing
