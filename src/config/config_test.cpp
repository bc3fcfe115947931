#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace breakpilot::config {
namespace {

// What a check says is wrong, or "" when it passed.
std::string Message(const Result<Ok>& check) {
  return check ? std::string() : check.error().detail;
}

TEST(ConfigTest, DefaultsValidate) {
  Config c;
  EXPECT_EQ(Message(Validate(c)), "");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.database, "sqlite:var/breakpilot.db");
}

TEST(ConfigTest, EverySettingHasAnEnvVarAndAFlagAndItsDefaultReadsBack) {
  std::set<std::string> keys;
  for (const auto& s : Settings()) {
    EXPECT_TRUE(keys.insert(std::string(s.key)).second) << s.key << " twice";
    EXPECT_EQ(s.env().substr(0, 11), "BREAKPILOT_") << s.key;
    EXPECT_EQ(s.flag().substr(0, 2), "--") << s.key;
    EXPECT_FALSE(s.help.empty()) << s.key;
    // Each default, written back through the setting, is accepted and changes nothing.
    const Config defaults;
    Config c;
    EXPECT_EQ(Message(ApplySetting(c, s.key, s.Value(defaults))), "") << s.key;
    EXPECT_EQ(s.Value(c), s.Value(defaults)) << s.key;
  }
  EXPECT_EQ(Settings().size(), 84u) << "a setting was added or lost: update this count";
  Setting flag = Settings()[0];
  EXPECT_EQ(Setting::Number("max_body_bytes", "x", &Config::max_body_bytes, 1, 2).flag(),
            "--max-body-bytes");
  EXPECT_EQ(flag.env(), "BREAKPILOT_LISTEN");
}

TEST(ConfigTest, FileThenEnvironmentWithValidation) {
  const std::string path = ::testing::TempDir() + "/bp_config_test.yaml";
  std::ofstream(path) << "listen: 0.0.0.0:9000\nmax_body_bytes: 2048\naccess_log: false\n";
  Config c;
  ASSERT_EQ(Message(LoadConfigFile(path, c)), "");
  EXPECT_EQ(c.max_body_bytes, 2048u);
  EXPECT_FALSE(c.access_log);
  std::map<std::string, std::string> env{{"BREAKPILOT_LISTEN", "127.0.0.1:7000"}};
  ASSERT_EQ(Message(ApplyEnvironment(c,
                                     [&](const char* n) -> const char* {
                                       auto it = env.find(n);
                                       return it == env.end() ? nullptr : it->second.c_str();
                                     })),
            "");
  ASSERT_EQ(Message(Validate(c)), "");
  EXPECT_EQ(c.port, 7000);

  std::ofstream(path) << "listen: 0.0.0.0:9000\nlisen: typo\n";
  Config d;
  auto err = LoadConfigFile(path, d);
  ASSERT_FALSE(err);
  EXPECT_NE(Message(err).find("unknown setting 'lisen'"), std::string::npos);
  std::remove(path.c_str());
}

TEST(ConfigTest, RejectsBadValues) {
  Config c;
  EXPECT_FALSE(ApplySetting(c, "threads", "-1"));
  EXPECT_FALSE(ApplySetting(c, "threads", "two"));
  EXPECT_FALSE(ApplySetting(c, "max_body_bytes", "10"));
  EXPECT_FALSE(ApplySetting(c, "max_header_bytes", "1048577"));
  EXPECT_EQ(Message(ApplySetting(c, "max_header_bytes", "1048576")), "");
  EXPECT_FALSE(ApplySetting(c, "access_log", "perhaps"));
  for (const char* listen : {"8080", ":8080", "host:99999", "host:http"}) {
    Config d;
    d.listen = listen;
    EXPECT_FALSE(Validate(d)) << listen;
  }
  Config e;
  e.database = "mysql://x";
  EXPECT_FALSE(Validate(e));
  Config f;
  f.admin_token = "short";
  EXPECT_FALSE(Validate(f));
  Config g;
  g.listen = "[::1]:8080";
  EXPECT_EQ(Message(Validate(g)), "");
  EXPECT_EQ(g.host, "::1");
}

// The lifecycle settings (issue 5): the test clock never in production, mail and schedule sane.
TEST(ConfigTest, LifecycleSettingsAreChecked) {
  const auto valid = [](const std::vector<std::pair<const char*, const char*>>& kv) {
    Config c;
    for (const auto& [k, v] : kv) {
      if (auto ok = ApplySetting(c, k, v); !ok) return "apply: " + ok.error().detail;
    }
    return Message(Validate(c));
  };
  EXPECT_EQ(valid({{"enable_test_clock", "true"}}), "");
  EXPECT_NE(valid({{"environment", "production"},
                   {"public_url", "https://bp.example"},
                   {"enable_test_clock", "true"}})
                .find("enable_test_clock"),
            std::string::npos);
  EXPECT_EQ(valid({{"environment", "production"}, {"public_url", "https://bp.example"}}), "");
  EXPECT_NE(valid({{"environment", "production"}, {"public_url", "http://bp.example"}})
                .find("public_url"),
            std::string::npos);
  EXPECT_NE(valid({{"environment", "staging"}}), "");
  EXPECT_NE(valid({{"smtp_url", "http://mail.example"}}).find("smtp_url"), std::string::npos);
  EXPECT_EQ(valid({{"smtp_url", "smtp://mail.example:587"}}), "");
  EXPECT_NE(valid({{"mail_from", "nobody"}}).find("mail_from"), std::string::npos);
  EXPECT_NE(valid({{"demo_reset_time", "3:00"}}).find("demo_reset_time"), std::string::npos);
  EXPECT_NE(valid({{"demo_reset_time", "24:00"}}).find("demo_reset_time"), std::string::npos);
  EXPECT_NE(valid({{"demo_reset_zone", "Europe/Atlantis"}}).find("demo_reset_zone"),
            std::string::npos);
  Config c;
  ASSERT_EQ(Message(ApplySetting(c, "demo_reset_time", "04:30")), "");
  ASSERT_EQ(Message(Validate(c)), "");
  EXPECT_EQ(c.demo_reset_hour, 4);
  EXPECT_EQ(c.demo_reset_minute, 30);
  EXPECT_FALSE(ApplySetting(c, "job_lease_seconds", "1"));
  EXPECT_EQ(c.job_keep_done_days, 7);
  EXPECT_FALSE(ApplySetting(c, "job_keep_done_days", "0")) << "done jobs kept a day at least";
  EXPECT_EQ(Message(ApplySetting(c, "job_keep_done_days", "30")), "");
  EXPECT_EQ(c.job_keep_done_days, 30);
  EXPECT_EQ(c.max_exports, 4);
  EXPECT_FALSE(ApplySetting(c, "max_exports", "0")) << "no exports at all is no setting";
  EXPECT_EQ(Message(ApplySetting(c, "max_exports", "8")), "");
  EXPECT_EQ(c.max_exports, 8);
  EXPECT_NE(Message(Validate(c)).find("db_pool_size"), std::string::npos)
      << "eight exports on two connections each would take all of twelve";
  EXPECT_EQ(Message(ApplySetting(c, "db_pool_size", "17")), "");
  EXPECT_EQ(Message(Validate(c)), "");
}

}  // namespace
}  // namespace breakpilot::config
