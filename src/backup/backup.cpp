#include "backup/backup.hpp"

#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "storage/migrations.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): for posix_spawnp

namespace breakpilot::backup {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using storage::Query;

constexpr Query kTables{"backup_tables",
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "ORDER BY tablename",
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%' ORDER BY name"};
constexpr Query kColumns{"backup_columns", "SELECT name FROM pragma_table_info($1) ORDER BY cid"};
constexpr Query kExportSnapshot{"backup_export_snapshot", "SELECT pg_export_snapshot()"};
constexpr std::string_view kManifestSuffix = ".manifest.json";
constexpr int kManifestFormat = 1;

Error Failed(std::string detail) {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "backup-failed",
               .title = "Backup or restore failed",
               .detail = std::move(detail)};
}

bool IsSqlite(const std::string& url) {
  return url.rfind("sqlite:", 0) == 0;
}

std::string SqlitePath(const std::string& url) {
  return url.substr(std::string_view("sqlite:").size());
}

std::string Quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Failed("cannot read " + path);
  std::ostringstream data;
  data << in.rdbuf();
  return Sha256Hex(data.str());
}

// Runs a program (no shell) and waits; its output goes to ours. The exit status, or -1.
int Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// SQLite's online backup API from one file to another: every page, in one read transaction.
Result<Ok> CopySqlite(const std::string& from, const std::string& to, bool from_readonly) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  const auto close = [&] {
    sqlite3_close(src);
    sqlite3_close(dst);
  };
  if (sqlite3_open_v2(from.c_str(), &src,
                      from_readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                      nullptr) != SQLITE_OK ||
      sqlite3_open_v2(to.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
          SQLITE_OK) {
    close();
    return Failed("cannot open " + from + " or " + to);
  }
  sqlite3_busy_timeout(src, 5000);
  sqlite3_busy_timeout(dst, 5000);
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == nullptr) {
    std::string why = sqlite3_errmsg(dst);
    close();
    return Failed("cannot start the copy: " + why);
  }
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(b, -1);  // all pages at once: one consistent snapshot
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  std::string why = rc == SQLITE_DONE ? "" : sqlite3_errmsg(dst);
  close();
  if (rc != SQLITE_DONE) return Failed("the copy stopped: " + why);
  return Ok{};
}

Result<Manifest> WriteManifest(Manifest m, const std::string& file) {
  auto sha = FileSha256(file);
  if (!sha) return sha.error();
  m.file_sha256 = *sha;
  std::ofstream out(file + std::string(kManifestSuffix), std::ios::trunc);
  out << json::serialize(ToJson(m)) << "\n";
  if (!out) return Failed("cannot write " + file + std::string(kManifestSuffix));
  return m;
}

Manifest Describe(storage::Session& s, storage::Dialect dialect) {
  return Manifest{.dialect = dialect == storage::Dialect::kSqlite ? "sqlite" : "postgres",
                  .schema_version = storage::CurrentVersion(s),
                  .created = FormatRfc3339(SystemClock().Now()),
                  .tables = ReadTables(s)};
}

bool Empty(storage::Database& db) {
  bool empty = true;
  db.Read([&](storage::Session& s) { empty = s.Fetch(kTables, {}).empty(); });
  return empty;
}

}  // namespace

json::object ToJson(const Manifest& m) {
  json::object tables;
  for (const auto& [name, t] : m.tables) tables[name] = {{"rows", t.rows}, {"digest", t.digest}};
  return {{"format", kManifestFormat},          {"dialect", m.dialect},
          {"schema_version", m.schema_version}, {"created", m.created},
          {"file_sha256", m.file_sha256},       {"tables", std::move(tables)}};
}

Result<Manifest> ManifestFromJson(std::string_view text) {
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto bad = [] { return Failed("the manifest is not a backup manifest of ours"); };
  if (o == nullptr) return bad();
  try {
    if (o->at("format").as_int64() != kManifestFormat) return bad();
    Manifest m{.dialect = std::string(o->at("dialect").as_string()),
               .schema_version = o->at("schema_version").as_int64(),
               .created = std::string(o->at("created").as_string()),
               .file_sha256 = std::string(o->at("file_sha256").as_string())};
    for (const auto& [name, t] : o->at("tables").as_object()) {
      m.tables[std::string(name)] = {.rows = t.at("rows").as_int64(),
                                     .digest = std::string(t.at("digest").as_string())};
    }
    return m;
  } catch (const std::exception&) {
    return bad();
  }
}

std::map<std::string, TableState> ReadTables(storage::Session& s) {
  std::map<std::string, TableState> out;
  std::vector<std::string> names;
  for (const auto& row : s.Fetch(kTables, {})) names.push_back(row.Text(0));
  for (const auto& name : names) {
    TableState t;
    if (s.dialect() == storage::Dialect::kPostgres) {
      // In the database: each row's text (in UTC, ISO dates), its MD5's first 60 bits, summed.
      const std::string sql =
          "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))"
          "::bit(60)::bigint), 0)::text FROM public." +
          Quoted(name) + " t";
      const Query q{"backup_table_digest", sql, {}, true};
      auto row = s.FetchOne(q, {});
      t.rows = row->Int(0);
      // Kept to 64 bits, in hex like SQLite's.
      const std::string sum = row->Text(1);
      std::uint64_t v = 0;
      for (char c : sum) v = v * 10 + static_cast<std::uint64_t>(c - '0');
      t.digest = Hex16(v);
    } else {
      // Each row as SQLite's quote() of its columns, its SHA-256's first 64 bits, summed; read a
      // page at a time by rowid.
      std::string expr;
      for (const auto& col : s.Fetch(kColumns, {name})) {
        expr +=
            (expr.empty() ? "" : " || ',' || ") + std::string("quote(") + Quoted(col.Text(0)) + ")";
      }
      if (expr.empty()) expr = "''";
      const std::string sql = "SELECT rowid, " + expr + " FROM " + Quoted(name) +
                              " WHERE rowid > $1 ORDER BY rowid LIMIT 5000";
      const Query q{"backup_table_page", sql, {}, true};
      std::uint64_t sum = 0;
      std::int64_t last = std::numeric_limits<std::int64_t>::min();
      for (;;) {
        auto rows = s.Fetch(q, {std::to_string(last)});
        if (rows.empty()) break;
        for (const auto& r : rows) {
          const std::string h = Sha256(r.Text(1));
          std::uint64_t part = 0;
          std::memcpy(&part, h.data(), sizeof part);
          sum += part;
          ++t.rows;
        }
        last = rows.back().Int(0);
      }
      t.digest = Hex16(sum);
    }
    out[name] = std::move(t);
  }
  return out;
}

Result<Manifest> Backup(const std::string& database_url, const std::string& output) {
  const std::string partial = output + ".partial";
  fs::remove(partial);
  if (IsSqlite(database_url)) {
    if (auto ok = CopySqlite(SqlitePath(database_url), partial, true); !ok) return ok.error();
    // The manifest from the copy itself: the same snapshot by construction.
    Manifest m;
    {
      auto copy = storage::OpenDatabase("sqlite:" + partial);
      copy->Read([&](storage::Session& s) { m = Describe(s, storage::Dialect::kSqlite); });
    }
    fs::rename(partial, output);
    return WriteManifest(std::move(m), output);
  }
  auto db = storage::OpenDatabase(database_url, {.pool_size = 1});
  Manifest m;
  int status = -1;
  db->Write([&](storage::Session& s) {
    s.ExecuteScript(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL TIME ZONE 'UTC'; "
        "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3");
    const std::string snapshot = s.FetchOne(kExportSnapshot, {})->Text(0);
    // pg_dump reads the snapshot this transaction exported, while it stays open.
    status = Run({"pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  "--snapshot=" + snapshot, "--file=" + partial, "--dbname=" + database_url});
    m = Describe(s, storage::Dialect::kPostgres);
  });
  if (status != 0) {
    fs::remove(partial);
    return Failed("pg_dump failed (exit " + std::to_string(status) + ")");
  }
  fs::rename(partial, output);
  return WriteManifest(std::move(m), output);
}

Result<Manifest> Restore(const std::string& database_url, const std::string& input) {
  std::ifstream text(input + std::string(kManifestSuffix));
  if (!text) return Failed("no manifest beside " + input);
  std::ostringstream data;
  data << text.rdbuf();
  auto m = ManifestFromJson(data.str());
  if (!m) return m.error();
  auto sha = FileSha256(input);
  if (!sha) return sha.error();
  if (*sha != m->file_sha256) {
    return Failed("the backup file is not the one its manifest describes (SHA-256 differs)");
  }
  if (m->dialect != (IsSqlite(database_url) ? "sqlite" : "postgres")) {
    return Failed("a " + m->dialect + " backup cannot be restored into this database");
  }
  {
    auto target = storage::OpenDatabase(database_url, {.pool_size = 1});
    if (!Empty(*target)) {
      return Failed("the target database is not empty; restore into a new database");
    }
  }
  if (IsSqlite(database_url)) {
    if (auto ok = CopySqlite(input, SqlitePath(database_url), true); !ok) return ok.error();
    return m;
  }
  const int status = Run({"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                          "--single-transaction", "--dbname=" + database_url, input});
  if (status != 0) return Failed("pg_restore failed (exit " + std::to_string(status) + ")");
  return m;
}

std::vector<std::string> CheckRestore(storage::Database& db, const Manifest& manifest) {
  std::vector<std::string> out;
  std::map<std::string, TableState> now;
  std::int64_t version = 0;
  db.Write([&](storage::Session& s) {
    if (s.dialect() == storage::Dialect::kPostgres) {
      s.ExecuteScript(
          "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL TIME ZONE 'UTC'; "
          "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3");
    }
    version = storage::CurrentVersion(s);
    now = ReadTables(s);
  });
  const bool same_schema = version == manifest.schema_version;
  for (const auto& [name, want] : manifest.tables) {
    auto it = now.find(name);
    if (it == now.end()) {
      out.push_back(name + ": missing");
    } else if (it->second.rows != want.rows) {
      out.push_back(name + ": " + std::to_string(it->second.rows) + " rows, the backup had " +
                    std::to_string(want.rows));
    } else if (same_schema && it->second.digest != want.digest) {
      out.push_back(name + ": the same number of rows, but their contents differ");
    }
  }
  return out;
}

}  // namespace breakpilot::backup
