// echo-bot beside the platform in end-to-end tests: its manifest (examples/echo-bot) copied into
// a catalog directory with the base_url of a port chosen before either process starts, and the
// process itself, started once the platform runs, with a service client made for it.
//
//   int port = FreePort();
//   WriteEchoBotCatalog(catalog_dir, port);          // before the platform starts
//   EchoBot bot(client(), server_->port(), port);    // after
#pragma once

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../support/http_client.hpp"
#include "../support/test_env.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {

inline void WriteEchoBotCatalog(const std::string& dir, int port) {
  namespace fs = std::filesystem;
  const fs::path source = BREAKPILOT_SOURCE_DIR "/examples/echo-bot";
  std::ifstream in(source / "product.manifest.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const std::string manifest =
      std::regex_replace(text.str(), std::regex(R"(http://127\.0\.0\.1:8091)"),
                         "http://127.0.0.1:" + std::to_string(port));
  fs::create_directories(fs::path(dir) / "echo-bot" / "demo");
  std::ofstream(fs::path(dir) / "echo-bot" / "product.manifest.yaml") << manifest;
  fs::copy_file(source / "demo" / "seed.json", fs::path(dir) / "echo-bot" / "demo" / "seed.json",
                fs::copy_options::overwrite_existing);
}

class EchoBot : public ChildProcess {
 public:
  // `staff`: a client with the staff token, to make the service client "echo-bot".
  EchoBot(HttpClient& staff, int platform_port, int port, std::vector<std::string> extra = {})
      : EchoBot(MakeClient(staff), platform_port, port, std::move(extra)) {}
  // With the secret of a service client made before: echo-bot started again (after a kill).
  EchoBot(const std::string& secret, int platform_port, int port,
          std::vector<std::string> extra = {})
      : ChildProcess(Args(platform_port, port, std::move(extra)),
                     {{"ECHO_BOT_CLIENT_SECRET", secret}},
                     [](const std::string& line) {
                       return line.find("\"msg\":\"listening\"") != std::string::npos;
                     }),
        port_(port),
        secret_(secret) {}

  const std::string& secret() const { return secret_; }
  int port() const { return port_; }
  HttpClient Client(const std::string& token = "") const {
    return HttpClient("127.0.0.1", port_, token, /*record=*/false);  // not our OpenAPI
  }

 private:
  static std::vector<std::string> Args(int platform_port, int port,
                                       std::vector<std::string> extra) {
    std::vector<std::string> args{BREAKPILOT_ECHO_BOT,
                                  "--listen",
                                  "127.0.0.1:" + std::to_string(port),
                                  "--database",
                                  MakeTempDir("echo-bot") + "/echo-bot.db",
                                  "--platform",
                                  "http://127.0.0.1:" + std::to_string(platform_port),
                                  "--threads",
                                  "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  static std::string MakeClient(HttpClient& staff) {
    auto r = staff.Post("/service-clients", R"({"client_id":"echo-bot"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(boost::json::parse(r.body).at("client_secret").as_string())
                           : std::string();
  }
  int port_;
  std::string secret_;
};

// A user's token for echo-bot: the password grant with audience=echo-bot.
inline std::string EchoBotToken(HttpClient& platform, const std::string& user,
                                const std::string& org = "") {
  std::vector<std::pair<std::string, std::string>> kv = {{"grant_type", "password"},
                                                         {"username", user},
                                                         {"password", kPassword},
                                                         {"audience", "echo-bot"}};
  if (!org.empty()) kv.emplace_back("org_id", org);
  auto r = PostForm(platform, "/oauth/token", kv);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? std::string(boost::json::parse(r.body).at("access_token").as_string())
                         : std::string();
}

// The fixture of the tests with echo-bot beside the platform: the catalog holds echo-bot's
// manifest, and echo-bot runs (with BotArgs) once the platform does.
class EchoBotE2eTest : public E2eTest {
 protected:
  EchoBotE2eTest() { WriteEchoBotCatalog(catalog_, echo_port_); }
  virtual std::vector<std::string> BotArgs() { return {"--api-key-cache", "0"}; }
  void SetUp() override {
    E2eTest::SetUp();
    if (!db_ || !db_->available()) return;
    bot_ = std::make_unique<EchoBot>(client(), server_->port(), echo_port_, BotArgs());
  }
  void TearDown() override {
    bot_.reset();
    E2eTest::TearDown();
  }

  // A tenant subscribed to echo-bot with an IT_ADMIN user "<slug>-admin"; returns the id.
  std::string BookedTenant(const std::string& slug) {
    std::string id = Str(CreateTenant(slug), "id");
    EXPECT_EQ(client().Post("/tenants/" + id + "/products", R"({"product_id":"echo-bot"})").status,
              201);
    CreateUser(client(), slug + "-admin", {}, id, {"IT_ADMIN"});
    return id;
  }

  int echo_port_ = FreePort();
  std::string catalog_ = MakeTempDir("bp-catalog");
  std::unique_ptr<EchoBot> bot_;
};

}  // namespace breakpilot::testing
