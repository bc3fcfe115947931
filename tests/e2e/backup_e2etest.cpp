// Backups and the restore drill (M1.3), on each store: after a day of warped lifecycle traffic,
// `breakpilot backup` takes a backup while the platform serves (and keeps writing), and
// scripts/restore-drill.sh restores it into a scratch database, migrates it, verifies every
// audit chain and compares every table: it passes. A backup with one row altered fails the
// drill, whether or not whoever altered it also fixed the file's checksum.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/crypto.hpp"
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

namespace fs = std::filesystem;

class BackupTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--enable-test-clock", "--seed-demo", "--password-memory-kib", "2048"};
  }
  static std::string Binary() { return BREAKPILOT_BINARY; }
  // Runs the drill on `dir` into `scratch`: its exit status and what it said.
  static std::pair<int, std::string> Drill(const std::string& dir, const std::string& scratch) {
    return RunCommand("BREAKPILOT_BINARY=" + Binary() +
                      " bash " BREAKPILOT_SOURCE_DIR "/scripts/restore-drill.sh --backups " + dir +
                      " --scratch '" + scratch + "' 2>&1");
  }
  // A scratch database of the store under test: a new SQLite path, or a new PostgreSQL database.
  std::string Scratch() {
    scratch_.push_back(std::make_unique<TestDatabase>(GetParam()));
    if (GetParam() == Store::kSqlite) {
      return "sqlite:" + MakeTempDir("bp-drill") + "/scratch.db";
    }
    return scratch_.back()->url();
  }
  // Rewrites the manifest's file checksum to the file's, as a careful forger would.
  static void FixChecksum(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    std::ifstream m(file + ".manifest.json");
    std::ostringstream text;
    text << m.rdbuf();
    auto manifest = boost::json::parse(text.str()).as_object();
    manifest["file_sha256"] = Sha256Hex(data.str());
    std::ofstream(file + ".manifest.json", std::ios::trunc) << boost::json::serialize(manifest);
  }

  std::vector<std::unique_ptr<TestDatabase>> scratch_;
};

TEST_P(BackupTest, TheDrillPassesAfterADayOfTrafficAndFailsWhenARowOfTheBackupIsAltered) {
  // A warped day: every hour some tenants come, change, pay or leave, keys are made and
  // revoked; the lifecycle's jobs run as the clock moves.
  std::vector<std::string> tenants;
  for (int hour = 0; hour < 24; ++hour) {
    const auto t = CreateTenant("day-" + std::to_string(hour));
    ASSERT_FALSE(t.empty());
    const std::string id = Str(t, "id");
    tenants.push_back(id);
    ASSERT_EQ(client()
                  .Post("/tenants/" + id + "/projects",
                        R"({"name":"Project )" + std::to_string(hour) + "\"}")
                  .status,
              201);
    auto k = client().Post(
        "/api-keys", R"({"tenant_id":")" + id + R"(","name":"ci","scopes":["certifai:read"]})");
    ASSERT_EQ(k.status, 201) << k.body;
    if (hour % 3 == 0) {
      EXPECT_EQ(client().Request("DELETE", "/api-keys/" + Str(Json(k), "id")).status, 204);
    }
    if (hour % 4 == 1) {
      EXPECT_EQ(client().Post("/tenants/" + id + "/activate", "").status, 200);
    }
    if (hour % 5 == 2) {
      EXPECT_EQ(
          client()
              .Post("/tenants/" + id + "/cancel",
                    R"({"reason":"too expensive","confirm":"day-)" + std::to_string(hour) + "\"}")
              .status,
          200);
    }
    AdvanceClock(client(), 3600);
  }
  WaitForIdleJobs(client());

  // The backup, taken while the platform serves and another client keeps writing.
  const std::string dir = MakeTempDir("bp-backups");
  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    HttpClient c("127.0.0.1", server_->port(), ServerProcess::kToken);
    for (int i = 0; writing && i < 500; ++i) {
      if (c.Post("/tenants/" + tenants[0] + "/projects",
                 R"({"name":"While backing up )" + std::to_string(i) + "\"}")
              .status == 201) {
        ++written;
      }
    }
  });
  const auto [code, out] = RunCommand(Binary() + " backup --database '" + db_->url() +
                                      "' --output " + dir + "/day.bp 2>&1");
  writing = false;
  writer.join();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find(R"("schema_version")"), std::string::npos) << out;
  EXPECT_GT(written.load(), 0);

  auto [drill, said] = Drill(dir, Scratch());
  EXPECT_EQ(drill, 0) << said;
  EXPECT_NE(said.find("passed"), std::string::npos) << said;
  EXPECT_NE(said.find(R"("differences":[])"), std::string::npos) << said;

  // One row altered in the backup, the checksum left: the restore refuses the file.
  const std::string file = dir + "/day.bp";
  const auto alter = [&](const std::string& sql) {
    const storage::Query q{"test_alter_backup", sql.c_str()};
    if (GetParam() == Store::kSqlite) {
      auto backup = storage::OpenDatabase("sqlite:" + file);
      backup->Write([&](storage::Session& s) { s.Execute(q, {}); });
      return;
    }
    // Restored elsewhere, altered, and dumped again into the same file.
    TestDatabase side(Store::kPostgres);
    auto [rc, restored] = RunCommand("pg_restore --no-owner --no-privileges --dbname='" +
                                     side.url() + "' " + file + " 2>&1");
    ASSERT_EQ(rc, 0) << restored;
    side.Open()->Write([&](storage::Session& s) { s.Execute(q, {}); });
    auto [rd, dumped] =
        RunCommand("pg_dump --format=custom --no-owner --no-privileges --file=" + file +
                   " --dbname='" + side.url() + "' 2>&1");
    ASSERT_EQ(rd, 0) << dumped;
  };
  alter("UPDATE tenants SET name = 'Altered' WHERE slug = 'day-7'");
  std::tie(drill, said) = Drill(dir, Scratch());
  EXPECT_NE(drill, 0) << said;
  EXPECT_NE(said.find("SHA-256 differs"), std::string::npos) << said;

  // And with the checksum made to match: the contents give it away.
  FixChecksum(file);
  std::tie(drill, said) = Drill(dir, Scratch());
  EXPECT_NE(drill, 0) << said;
  EXPECT_NE(said.find("tenants: the same number of rows, but their contents differ"),
            std::string::npos)
      << said;

  // An audit event rewritten (the tenant row put back): its hash chain gives it away first.
  alter("UPDATE tenants SET name = 'Tenant day-7' WHERE slug = 'day-7'");
  alter("UPDATE audit_log SET description = 'nothing happened' WHERE action = 'tenant.cancel'");
  FixChecksum(file);
  std::tie(drill, said) = Drill(dir, Scratch());
  EXPECT_NE(drill, 0) << said;
  EXPECT_NE(said.find("an audit chain does not verify"), std::string::npos) << said;
}

TEST_P(BackupTest, ARestoreNeverOverwritesADatabaseAndRefusesAnotherStoresBackup) {
  const std::string dir = MakeTempDir("bp-backups");
  auto [code, out] = RunCommand(Binary() + " backup --database '" + db_->url() + "' --output " +
                                dir + "/b.bp 2>&1");
  ASSERT_EQ(code, 0) << out;
  // Into the serving database itself: refused, nothing touched.
  std::tie(code, out) = RunCommand(Binary() + " restore --database '" + db_->url() + "' --input " +
                                   dir + "/b.bp 2>&1");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("not empty"), std::string::npos) << out;
  EXPECT_EQ(client().Get("/healthz").status, 200);
  // Into the other kind of store: refused.
  const std::string other =
      GetParam() == Store::kSqlite
          ? (scratch_.push_back(std::make_unique<TestDatabase>(Store::kPostgres)),
             scratch_.back()->url())
          : "sqlite:" + MakeTempDir("bp-drill") + "/x.db";
  if (!other.empty()) {
    std::tie(code, out) =
        RunCommand(Binary() + " restore --database '" + other + "' --input " + dir + "/b.bp 2>&1");
    EXPECT_NE(code, 0);
    EXPECT_NE(out.find("cannot be restored into this database"), std::string::npos) << out;
  }
  // A missing manifest, and no backups at all for the drill.
  fs::remove(dir + "/b.bp.manifest.json");
  std::tie(code, out) =
      RunCommand(Binary() + " restore --database 'sqlite:" + MakeTempDir("bp-drill") +
                 "/y.db' --input " + dir + "/b.bp 2>&1");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("no manifest"), std::string::npos) << out;
  std::tie(code, out) = Drill(MakeTempDir("bp-empty"), "sqlite:/nonexistent/z.db");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("no backup with a manifest"), std::string::npos) << out;
}

BREAKPILOT_ON_BOTH_STORES(BackupTest);

}  // namespace
}  // namespace breakpilot::testing
