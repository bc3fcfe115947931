// The Breakpilot product SDK: everything a product needs to plug into the platform.
// See docs/SDK.md for a getting-started guide.
#pragma once

#include "breakpilot/audit.hpp"    // IWYU pragma: export
#include "breakpilot/http.hpp"     // IWYU pragma: export
#include "breakpilot/mcp.hpp"      // IWYU pragma: export
#include "breakpilot/product.hpp"  // IWYU pragma: export
#include "breakpilot/server.hpp"   // IWYU pragma: export
#include "breakpilot/tokens.hpp"   // IWYU pragma: export
