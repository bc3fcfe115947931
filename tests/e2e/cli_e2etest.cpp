// The command line: every subcommand answers --help, tenant create/list/show work on both stores,
// and configuration is validated at start (unknown keys, bad values, bad env) with exit code 2.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "e2e_fixture.hpp"
#include "storage/migrations.hpp"

namespace breakpilot::testing {
namespace {

struct Run {
  int code;
  std::string out;  // stdout and stderr together
};

Run Cli(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + BREAKPILOT_BINARY + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Every command, found by walking the "Subcommands:" of each --help, answers --help; serve's
// help names every setting's flag and environment variable.
TEST(CliTest, EveryCommandHasHelp) {
  std::vector<std::string> pending{""}, seen;
  while (!pending.empty()) {
    const std::string cmd = pending.back();
    pending.pop_back();
    auto r = Cli(cmd + (cmd.empty() ? "" : " ") + "--help");
    EXPECT_EQ(r.code, 0) << "'" << cmd << "'\n" << r.out;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd;
    seen.push_back(cmd);
    const auto sub = r.out.find("Subcommands:");
    if (sub == std::string::npos) continue;
    std::istringstream lines(r.out.substr(sub));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
      const auto name = line.substr(2, line.find(' ', 2) - 2);
      pending.push_back(cmd.empty() ? name : cmd + " " + name);
    }
  }
  EXPECT_GE(seen.size(), 18u) << "fewer commands than the CLI has";
  for (const char* cmd : {"serve", "tenant create", "jobs retry", "audit verify", "keys rotate"}) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), cmd), seen.end()) << cmd;
  }
  auto serve = Cli("serve --help");
  for (const auto& setting : config::Settings()) {
    // "  --listen TEXT", "  --seed-demo{true}": the flag whole, not a prefix of another.
    const std::string flag = "  " + setting.flag();
    const auto at = serve.out.find(flag);
    ASSERT_NE(at, std::string::npos) << setting.key;
    EXPECT_TRUE(std::string(" {\n").find(serve.out[at + flag.size()]) != std::string::npos)
        << setting.key;
    EXPECT_NE(serve.out.find(setting.env()), std::string::npos) << setting.key;
  }
  auto version = Cli("version");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.out.find("\"version\""), std::string::npos);
}

TEST(CliTest, ConfigIsValidatedAtStart) {
  const std::string dir = MakeTempDir("breakpilot-cli");
  const std::string file = dir + "/config.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:0\nlisten_port: 80\n";
  auto unknown = Cli("--config " + file + " serve");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("unknown setting 'listen_port'"), std::string::npos) << unknown.out;

  auto bad_flag = Cli("serve --listen nowhere");
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_NE(bad_flag.out.find("listen"), std::string::npos);
  auto bad_env = Cli("serve", "BREAKPILOT_MAX_BODY_BYTES=lots");
  EXPECT_EQ(bad_env.code, 2);
  EXPECT_NE(bad_env.out.find("BREAKPILOT_MAX_BODY_BYTES"), std::string::npos);
  auto bad_db = Cli("serve --database mysql://x");
  EXPECT_EQ(bad_db.code, 2);
  auto short_token = Cli("serve", "BREAKPILOT_ADMIN_TOKEN=short");
  EXPECT_EQ(short_token.code, 2);
  auto no_token = Cli("serve --database sqlite:" + dir + "/x.db --listen 127.0.0.1:0",
                      "env -u BREAKPILOT_ADMIN_TOKEN");
  EXPECT_EQ(no_token.code, 2) << no_token.out;

  // Flags beat the environment, which beats the file.
  std::ofstream(file) << "log_level: error\n";
  auto precedence =
      Cli("--config " + file + " serve --log-level nonsense", "BREAKPILOT_LOG_LEVEL=warn");
  EXPECT_EQ(precedence.code, 2);
  EXPECT_NE(precedence.out.find("log_level"), std::string::npos);
}

class CliStoreTest : public ::testing::TestWithParam<Store> {};

TEST_P(CliStoreTest, TenantCommandsWorkOnTheDatabase) {
  TestDatabase db(GetParam());
  BREAKPILOT_REQUIRE_STORE(db);
  const std::string dbflag = " --database '" + db.url() + "'";
  auto migrate = Cli("migrate" + dbflag);
  ASSERT_EQ(migrate.code, 0) << migrate.out;
  // The newest migration's number, from the migrations built into the binary.
  const std::string version =
      "\"schema_version\":" + std::to_string(storage::LatestVersion(db.Open()->dialect()));
  EXPECT_NE(migrate.out.find(version), std::string::npos) << migrate.out;

  auto created = Cli("tenant create --slug acme --name 'Acme GmbH'" + dbflag);
  ASSERT_EQ(created.code, 0) << created.out;
  auto t = boost::json::parse(created.out).as_object();
  EXPECT_EQ(t.at("slug").as_string(), "acme");
  auto dup = Cli("tenant create --slug acme --name Again" + dbflag);
  EXPECT_EQ(dup.code, 1);
  EXPECT_NE(dup.out.find("duplicate-slug"), std::string::npos);
  auto reserved = Cli("tenant create --slug admin --name Admin" + dbflag);
  EXPECT_EQ(reserved.code, 1);

  auto list = Cli("tenant list" + dbflag);
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_EQ(boost::json::parse(list.out).at("items").as_array().size(), 1u);
  auto by_slug = Cli("tenant show acme" + dbflag);
  ASSERT_EQ(by_slug.code, 0);
  EXPECT_EQ(boost::json::parse(by_slug.out).at("id"), t.at("id"));
  auto by_id = Cli("tenant show " + std::string(t.at("id").as_string()) + dbflag);
  ASSERT_EQ(by_id.code, 0);
  EXPECT_EQ(Cli("tenant show nobody" + dbflag).code, 1);

  // The job queue and a demo reset by hand, on the database directly.
  auto reset = Cli("demo reset" + dbflag);
  ASSERT_EQ(reset.code, 0) << reset.out;
  EXPECT_NE(reset.out.find("demo.reset:manual:"), std::string::npos);
  auto jobs = Cli("jobs list --kind demo.reset --state pending" + dbflag);
  ASSERT_EQ(jobs.code, 0) << jobs.out;
  const auto items = boost::json::parse(jobs.out).at("items").as_array();
  ASSERT_EQ(items.size(), 1U);
  const std::string job_id(items[0].at("id").as_string());
  auto retried = Cli("jobs retry " + job_id + dbflag);
  EXPECT_EQ(retried.code, 0) << retried.out;
  EXPECT_NE(retried.out.find("\"state\":\"pending\""), std::string::npos);
  EXPECT_EQ(Cli("jobs retry not-a-uuid" + dbflag).code, 2);
  EXPECT_EQ(Cli("jobs retry 01a2155a-9a34-773f-b59b-d8315a37c99c" + dbflag).code, 1);
  EXPECT_EQ(Cli("jobs list --state zombie" + dbflag).code, 2);
}

BREAKPILOT_ON_BOTH_STORES(CliStoreTest);

}  // namespace
}  // namespace breakpilot::testing
