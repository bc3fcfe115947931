// No secret is stored readable (issue 21, findings 1 and 9): every secret the platform hands out
// or is handed (API keys, service client secrets, passwords, the links mailed to people) is
// looked for in a logical dump of the whole database afterwards, on both stores.
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

class SecretsTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--password-memory-kib", "2048"}; }

  // Every row of every table, as SQL text.
  std::string Dump() {
    const std::string& url = db_->url();
    const std::string cmd = url.rfind("sqlite:", 0) == 0
                                ? "sqlite3 '" + url.substr(7) + "' .dump"
                                : "pg_dump --data-only --inserts '" + url + "'";
    auto [status, out] = RunCommand(cmd + " 2>&1");
    EXPECT_EQ(status, 0) << out.substr(0, 400);
    EXPECT_NE(out.find("INSERT INTO"), std::string::npos) << "the dump is not empty";
    return out;
  }
  HttpResponse Post(const std::string& path, const std::string& body, const std::string& key) {
    return client().Request("POST", path, body, {{"Idempotency-Key", key}});
  }
};

// Finding 1: POST /api-keys, /api-keys/{id}/rotate and /service-clients with an
// Idempotency-Key stored the whole 201 answer, secret included, for 24 hours; POST /users kept a
// plain SHA-256 over a body holding the password. A replay now answers with the resource and
// without the secret, and says so.
TEST_P(SecretsTest, IdempotencyKeepsNoSecret) {
  const auto tenant = Str(CreateTenant("acme"), "id");
  const std::string key_body =
      R"({"tenant_id":")" + tenant + R"(","name":"ci","scopes":["certifai:read"]})";
  auto key = Post("/api-keys", key_body, "key-1");
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string secret = Str(Json(key), "secret");
  ASSERT_EQ(secret.rfind("bpk_", 0), 0u);
  EXPECT_TRUE(key.Header("Idempotent-Withheld").empty()) << "the first answer holds the secret";

  auto replay = Post("/api-keys", key_body, "key-1");
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replay.Header("Idempotent-Withheld"), "secret");
  auto replayed = Json(replay);
  EXPECT_FALSE(replayed.contains("secret"));
  EXPECT_EQ(Str(replayed, "id"), Str(Json(key), "id"));
  EXPECT_EQ(Str(replayed, "prefix"), Str(Json(key), "prefix"));

  auto rotated = Post("/api-keys/" + Str(Json(key), "id") + "/rotate", "{}", "rotate-1");
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string rotated_secret = Str(Json(rotated), "secret");
  EXPECT_EQ(Post("/api-keys/" + Str(Json(key), "id") + "/rotate", "{}", "rotate-1")
                .Header("Idempotent-Withheld"),
            "secret");

  auto client_r = Post("/service-clients", R"({"client_id":"billing"})", "client-1");
  ASSERT_EQ(client_r.status, 201) << client_r.body;
  const std::string client_secret = Str(Json(client_r), "client_secret");
  auto client_replay = Post("/service-clients", R"({"client_id":"billing"})", "client-1");
  EXPECT_EQ(client_replay.Header("Idempotent-Withheld"), "client_secret");
  EXPECT_FALSE(Json(client_replay).contains("client_secret"));
  EXPECT_EQ(Str(Json(client_replay), "client_id"), "billing");

  const std::string password = "a password nobody guesses 7";
  const std::string user_body =
      R"({"username":"ada","password":")" + password + R"(","realm_roles":["SUPPORT_ENGINEER"]})";
  ASSERT_EQ(Post("/users", user_body, "user-1").status, 201);
  EXPECT_EQ(Post("/users", user_body, "user-1").Header("Idempotent-Replayed"), "true");
  // The same key with another password is the same request (the password is not in the
  // fingerprint): the first answer again, not a second user.
  const std::string other_body =
      R"({"username":"ada","password":"another password, 8","realm_roles":["SUPPORT_ENGINEER"]})";
  EXPECT_EQ(Post("/users", other_body, "user-1").Header("Idempotent-Replayed"), "true");
  EXPECT_FALSE(SignIn(client(), "ada", password).empty()) << "the user signs in as created";

  const std::string dump = Dump();
  for (const auto& [what, s] : {std::pair{"API key", secret},
                                {"rotated API key", rotated_secret},
                                {"client secret", client_secret},
                                {"password", password}}) {
    EXPECT_EQ(dump.find(s), std::string::npos) << what << " stored readable";
  }
  EXPECT_EQ(dump.find(Sha256Hex("POST\n/users\n" + user_body)), std::string::npos)
      << "a plain hash of a body holding a password";
}

BREAKPILOT_ON_BOTH_STORES(SecretsTest);

}  // namespace
}  // namespace breakpilot::testing
