// Backups and restores (M1.3): one file per backup, and beside it a manifest of what it holds,
// taken from the same snapshot, so a restore can be checked row for row.
//
//   breakpilot backup  --database URL --output FILE     Backup: FILE and FILE.manifest.json
//   breakpilot restore --database URL --input FILE      Restore into an empty database
//   breakpilot restore-check --database URL --manifest FILE.manifest.json
//                                                        CheckRestore: counts and digests
//
// SQLite: SQLite's online backup API copies every page in one read transaction, consistent while
// the platform serves (WAL); the backup is itself a database file. PostgreSQL: `pg_dump
// --format=custom` inside an exported snapshot that the manifest is read from as well; restored
// with `pg_restore`. For production PostgreSQL, continuous archiving (pgBackRest) is the tool:
// see docs/OPERATIONS.md; these files are for drills, moves and small installations.
//
// The manifest: the format, the dialect, the schema version, the time, the backup file's
// SHA-256, and per table its row count and a digest of its rows (the sum of each row's SHA-256
// prefix, so the order rows come in does not matter). A restore refuses a file whose SHA-256
// differs; the check after a restore (and the migrations) compares every table's count, and its
// digest when the schema version is still the backup's.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "storage/database.hpp"

namespace breakpilot::backup {

struct TableState {
  std::int64_t rows = 0;
  std::string digest;  // 16 hex digits
};

struct Manifest {
  std::string dialect;  // "sqlite", "postgres"
  std::int64_t schema_version = 0;
  std::string created;  // RFC 3339
  std::string file_sha256;
  std::map<std::string, TableState> tables;
};

boost::json::object ToJson(const Manifest& m);
Result<Manifest> ManifestFromJson(std::string_view text);

// Writes `output` (through a temporary name, renamed when complete) and `output`.manifest.json.
Result<Manifest> Backup(const std::string& database_url, const std::string& output);

// Restores `input` into the database at `database_url`, which must be empty (no tables): a
// restore never overwrites data. The file's SHA-256 must match its manifest.
Result<Manifest> Restore(const std::string& database_url, const std::string& input);

// What differs between the database and the manifest: one line per table whose count (or, at
// the same schema version, digest) differs, or that is missing. Empty: the same.
std::vector<std::string> CheckRestore(storage::Database& db, const Manifest& manifest);

// The tables of the database (ours, not the driver's own) and their state now.
std::map<std::string, TableState> ReadTables(storage::Session& s);

}  // namespace breakpilot::backup
