#include "storage/migrations.hpp"

#include <algorithm>
#include <charconv>

#include "core/embedded.hpp"
#include "core/time.hpp"

namespace breakpilot::storage {
namespace {

constexpr Query kCreateMigrationsTable{
    "schema_migrations_create",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
    "name text NOT NULL, applied_at text NOT NULL)"};
constexpr Query kSelectVersion{"schema_migrations_max",
                               "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"};
constexpr Query kInsertVersion{
    "schema_migrations_insert",
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"};
constexpr Query kLock{"schema_migrations_lock", "SELECT pg_advisory_xact_lock(7242025)"};
constexpr Query kTableExists{
    "schema_migrations_exists",
    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'",
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"};

}  // namespace

std::vector<Migration> EmbeddedMigrations(Dialect dialect) {
  const std::string prefix = dialect == Dialect::kSqlite ? "src/storage/migrations/sqlite/"
                                                         : "src/storage/migrations/postgres/";
  std::vector<Migration> out;
  for (const auto& f : embedded::All()) {
    if (f.path.rfind(prefix, 0) != 0) continue;
    std::string_view file = f.path.substr(prefix.size());  // "0001_registry.sql"
    Migration m;
    auto [p, ec] = std::from_chars(file.data(), file.data() + file.size(), m.version);
    if (ec != std::errc() || m.version <= 0) continue;
    m.name = std::string(file.substr(static_cast<std::size_t>(p - file.data())));
    if (!m.name.empty() && m.name.front() == '_') m.name.erase(0, 1);
    if (m.name.size() > 4 && m.name.ends_with(".sql")) m.name.resize(m.name.size() - 4);
    m.sql = f.content;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

int LatestVersion(Dialect dialect) {
  auto all = EmbeddedMigrations(dialect);
  return all.empty() ? 0 : all.back().version;
}

int CurrentVersion(Session& s) {
  if (s.FetchOne(kTableExists, {})->Int(0) == 0) return 0;
  return static_cast<int>(s.FetchOne(kSelectVersion, {})->Int(0));
}

int CurrentVersion(Database& db) {
  int version = 0;
  db.Read([&](Session& s) { version = CurrentVersion(s); });
  return version;
}

Result<MigrationReport> Migrate(Database& db) {
  const auto migrations = EmbeddedMigrations(db.dialect());
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  MigrationReport report;
  std::optional<Error> error;
  db.Write([&](Session& s) {
    if (s.dialect() == Dialect::kPostgres) s.Fetch(kLock, {});
    s.Execute(kCreateMigrationsTable, {});
    report.from = static_cast<int>(s.FetchOne(kSelectVersion, {})->Int(0));
    report.to = report.from;
    if (report.from > latest) {
      error = Error{ErrorKind::kConflict, "schema-too-new", "Database schema is newer than binary",
                    "the database is at schema version " + std::to_string(report.from) +
                        " but this binary knows versions up to " + std::to_string(latest) +
                        ": run a newer breakpilot binary"};
      return;
    }
    for (const auto& m : migrations) {
      if (m.version <= report.from) continue;
      s.ExecuteScript(m.sql);
      s.Execute(kInsertVersion,
                {std::to_string(m.version), m.name, FormatStorage(SystemClock().Now())});
      report.to = m.version;
    }
  });
  if (error) return *std::move(error);
  return report;
}

}  // namespace breakpilot::storage
