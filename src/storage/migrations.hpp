// Numbered, forward-only schema migrations, embedded in the binary from
// src/storage/migrations/{sqlite,postgres}/NNNN_name.sql. Applied by `breakpilot migrate` and at
// `serve` start, in one transaction, under an advisory lock on PostgreSQL so replicas starting
// together apply each migration once. A database newer than the binary is refused.
//
//   auto r = storage::Migrate(db);   // Result<MigrationReport>
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "storage/database.hpp"

namespace breakpilot::storage {

struct Migration {
  int version = 0;
  std::string name;
  std::string_view sql;
};

struct MigrationReport {
  int from = 0;
  int to = 0;
};

// The migrations compiled into this binary for a dialect, ordered by version.
std::vector<Migration> EmbeddedMigrations(Dialect dialect);
int LatestVersion(Dialect dialect);

// Version currently applied (0 for an empty database).
int CurrentVersion(Database& db);
int CurrentVersion(Session& s);  // the same, inside the caller's session

// Applies what is missing. Error kind kConflict when the schema is newer than the binary.
Result<MigrationReport> Migrate(Database& db);

}  // namespace breakpilot::storage
