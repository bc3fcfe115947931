// `breakpilot serve`: opens the store, migrates, loads the catalog, serves until SIGTERM/SIGINT,
// then drains. Also the small commands that work on the database directly.
#pragma once

#include <chrono>
#include <memory>

#include "config/config.hpp"
#include "storage/database.hpp"

namespace breakpilot::app {

// Returns the process exit code. `started` is when main() began (for the start-to-ready log).
int Serve(const config::Config& config, std::chrono::steady_clock::time_point started);

// Opens and migrates the database named by the config; logs and returns nullptr on failure.
std::unique_ptr<storage::Database> OpenMigrated(const config::Config& config);

}  // namespace breakpilot::app
