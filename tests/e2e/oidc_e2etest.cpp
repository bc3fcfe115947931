// OpenID Connect sign-in for the portal (M5.1), end to end against oidc-provider (npm), a
// certified OpenID provider started by the test: authorization code + PKCE + state + nonce,
// the session cookie's flags, CSRF on logout, RP-initiated logout. Also: access tokens of that
// provider are accepted as bearer tokens, with the provider's keys fetched from its JWKS.
#include "core/crypto.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

constexpr const char* kClientSecret = "oidc-test-client-secret-0123456789";

class OidcTest : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam());
    BREAKPILOT_REQUIRE_STORE(*db_);
    const int our_port = FreePort();
    const int idp_port = FreePort();
    base_ = "http://127.0.0.1:" + std::to_string(our_port);
    issuer_ = "http://127.0.0.1:" + std::to_string(idp_port);
    idp_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            BREAKPILOT_NODE, BREAKPILOT_SOURCE_DIR "/tests/conformance/oidc_provider.mjs",
            std::to_string(idp_port), base_ + "/portal/callback", base_ + "/portal", kClientSecret},
        std::vector<std::pair<std::string, std::string>>{},
        [](const std::string& line) { return line.find("\"listening\"") != std::string::npos; });
    server_ = std::make_unique<ServerProcess>(
        db_->url(),
        std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(our_port),
                                 "--oidc-issuer", issuer_, "--oidc-client-id", "breakpilot-portal",
                                 "--oidc-client-secret", kClientSecret, "--seed-demo"});
    client_ = std::make_unique<HttpClient>("127.0.0.1", our_port, ServerProcess::kToken);
  }
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<ChildProcess> idp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::string base_, issuer_;
};

TEST_P(OidcTest, SignInWithCodeAndPkceThenLogOutEverywhere) {
  const auto [code, out] = RunNode("conformance/oidc_signin.mjs", base_ + " ada");
  ASSERT_EQ(code, 0) << out << "\n--- server:\n"
                     << server_->Log() << "\n--- provider:\n"
                     << idp_->Log();
  const auto r = boost::json::parse(out).as_object();
  const auto& me = r.at("me").as_object();
  EXPECT_EQ(me.at("subject").as_string(), "ada");
  EXPECT_EQ(me.at("name").as_string(), "User ada");
  EXPECT_EQ(me.at("email").as_string(), "ada@example.test");
  EXPECT_TRUE(r.at("home_mentions_user").as_bool());
  const std::string cookie(r.at("session_cookie").as_string());
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain http here; Secure under https";
  EXPECT_EQ(r.at("forged_logout_status").as_int64(), 403);
  EXPECT_EQ(r.at("logout_ended_at").as_string(), base_ + "/portal")
      << "RP-initiated logout went through the provider and came back";
  EXPECT_EQ(r.at("me_after_logout").as_int64(), 401);
  // Sign-in and sign-out are in the audit trail, by the provider's subject.
  static constexpr storage::Query kEvents{
      "test_portal_events",
      "SELECT action, actor_id, request_id, source_ip FROM audit_log"
      " WHERE action LIKE 'portal.%' ORDER BY created_at"};
  std::vector<storage::Row> rows;
  db_->Open()->Read([&](storage::Session& s) { rows = s.Fetch(kEvents, {}); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Text(0), "portal.sign_in");
  EXPECT_EQ(rows[0].Text(1), "ada");
  EXPECT_EQ(rows[1].Text(0), "portal.sign_out");
  for (const auto& row : rows) {
    EXPECT_FALSE(row.IsNull(2)) << "the request id is kept";
    EXPECT_EQ(row.Optional(3), "127.0.0.1");
  }
}

// Finding 2 of issue 21: `state` was not bound to the browser that began the sign-in, so a
// victim made to open an attacker's callback URL was signed in as the attacker. The PKCE
// verifier now lives in an HttpOnly cookie of the browser that began; without it the callback
// is refused and no session is made.
TEST_P(OidcTest, AnAttackersCallbackUrlSignsNoVictimIn) {
  const auto [code, out] = RunNode("conformance/oidc_signin.mjs", base_ + " mallory csrf");
  ASSERT_EQ(code, 0) << out << "\n--- server:\n" << server_->Log();
  const auto r = boost::json::parse(out).as_object();
  EXPECT_EQ(r.at("victim_status").as_int64(), 401) << out;
  EXPECT_NE(r.at("victim_problem").as_string().find("not started in this browser"),
            std::string::npos)
      << out;
  EXPECT_FALSE(r.at("session_cookie_set").as_bool());
  EXPECT_EQ(r.at("me_status").as_int64(), 401);
  static constexpr storage::Query kSessions{"test_sessions",
                                            "SELECT count(*) FROM portal_sessions"};
  std::int64_t sessions = -1;
  db_->Open()->Read([&](storage::Session& s) { sessions = s.FetchOne(kSessions, {})->Int(0); });
  EXPECT_EQ(sessions, 0);
}

TEST_P(OidcTest, TheLoginCookieIsShortLivedAndHttpOnlyAndLoginsAreRateLimited) {
  auto start = client_->Get("/portal/login");
  ASSERT_EQ(start.status, 302);
  const auto cookie = start.Header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("bp_login=", 0), 0u) << cookie;
  for (const char* attr : {"HttpOnly", "SameSite=Lax", "Path=/portal/callback", "Max-Age=600"}) {
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr << " in " << cookie;
  }
  // The verifier is in the cookie only: the state row keeps its hash.
  const std::string verifier = cookie.substr(9, cookie.find(';') - 9);
  static constexpr storage::Query kState{
      "test_state_binding", "SELECT code_verifier, browser_hash FROM oidc_login_states"};
  std::vector<storage::Row> rows;
  db_->Open()->Read([&](storage::Session& s) { rows = s.Fetch(kState, {}); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text(0), "");
  EXPECT_EQ(rows[0].Text(1), Sha256Hex(verifier));
  // One address may begin 30 sign-ins a minute (each writes a row); then 429 with Retry-After.
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = client_->Get("/portal/login");
    if (r.status == 429) {
      ++refused;
      EXPECT_FALSE(r.Header("Retry-After").empty());
      EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
    }
  }
  EXPECT_EQ(refused, 40 - 29) << "30 a minute from one address";
  db_->Open()->Read([&](storage::Session& s) { rows = s.Fetch(kState, {}); });
  EXPECT_EQ(rows.size(), 30u);
  HttpClient other("127.0.0.1", server_->port());
  other.BindSource("127.0.0.2");
  EXPECT_EQ(other.Get("/portal/login").status, 302) << "another address has its own budget";
}

TEST_P(OidcTest, CallbacksThatDoNotFitAnOpenLoginAreRefused) {
  // No state we issued, a replayed state, the provider's error: 401 problem, no session.
  for (const std::string target :
       {"/portal/callback?code=x&state=forged", "/portal/callback?state=only",
        "/portal/callback?error=access_denied&state=x", "/portal/callback"}) {
    auto r = client_->Get(target);
    EXPECT_EQ(r.status, 401) << target << " " << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << target;
    EXPECT_EQ(r.Header("Set-Cookie"), "") << target;
  }
  // A login start is a redirect to the provider with PKCE S256, state and nonce.
  auto start = client_->Get("/portal/login?return_to=https://evil.example/");
  ASSERT_EQ(start.status, 302);
  const auto loc = start.Header("Location");
  EXPECT_EQ(loc.rfind(issuer_ + "/auth?", 0), 0u) << loc;
  for (const char* p : {"code_challenge_method=S256", "code_challenge=", "state=", "nonce=",
                        "response_type=code", "client_id=breakpilot-portal"}) {
    EXPECT_NE(loc.find(p), std::string::npos) << p << " in " << loc;
  }
  // ...and the open redirect was dropped: the state row keeps /portal/.
  static constexpr storage::Query kReturn{"test_return_to",
                                          "SELECT return_to FROM oidc_login_states"};
  std::vector<storage::Row> rows;
  db_->Open()->Read([&](storage::Session& s) { rows = s.Fetch(kReturn, {}); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text(0), "/portal");
  auto me = client_->Get("/portal/me");
  EXPECT_EQ(me.status, 401);
  auto home = client_->Get("/portal");
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("/portal/login"), std::string::npos);
  EXPECT_EQ(home.Header("X-Frame-Options"), "DENY");
  auto logout = client_->Request("POST", "/portal/logout", "csrf=x",
                                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(logout.status, 401);
}

TEST_P(OidcTest, BearerTokensOfTheProviderAreCheckedAgainstItsJwks) {
  // A JWT access token the provider issues (RS256, its own key, audience "breakpilot") is
  // accepted with the roles it carries.
  HttpClient idp("127.0.0.1", std::stoi(issuer_.substr(issuer_.rfind(':') + 1)), "", false);
  const std::string basic = Base64Encode(std::string("robot:") + kClientSecret);
  auto t = idp.Request(
      "POST", "/token", "grant_type=client_credentials&scope=api",
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", "Basic " + basic}});
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string access(boost::json::parse(t.body).at("access_token").as_string());
  auto list = client_->Request("GET", "/tenants", {}, BearerOf(access));
  EXPECT_EQ(list.status, 200) << list.body;
  auto create =
      client_->Request("POST", "/tenants", R"({"slug":"x1","name":"X"})", BearerOf(access));
  EXPECT_EQ(create.status, 403) << "SUPPORT_ENGINEER from the provider's token cannot create";

  // A token signed by a key that is not in the provider's JWKS (the kid is unknown even after
  // a refetch) and a token with the provider's issuer but bad parts: 401, and the server asked
  // the provider for its keys.
  const auto forged = identity::SigningKey::Generate("test-rs256")
                          .Sign({{"iss", issuer_},
                                 {"aud", "breakpilot"},
                                 {"sub", "x"},
                                 {"exp", static_cast<std::int64_t>(std::time(nullptr)) + 300},
                                 {"realm_roles", boost::json::array{"BREAKPILOT_ADMIN"}}});
  auto r = client_->Request("GET", "/tenants", {}, BearerOf(forged));
  EXPECT_EQ(r.status, 401) << r.body;
  const auto unknown = identity::SigningKey::Generate("nobody-knows")
                           .Sign({{"iss", issuer_},
                                  {"aud", "breakpilot"},
                                  {"sub", "x"},
                                  {"exp", static_cast<std::int64_t>(std::time(nullptr)) + 300}});
  EXPECT_EQ(client_->Request("GET", "/tenants", {}, BearerOf(unknown)).status, 401);
  EXPECT_EQ(server_->Log().find("provider keys not usable"), std::string::npos) << server_->Log();
}

BREAKPILOT_ON_BOTH_STORES(OidcTest);

// An issuer whose JWKS is broken (a P-384 key labelled ES256; a point off the curve; a
// private key): its tokens are refused with 401, the server neither crashes nor answers 5xx.
TEST(OidcBrokenKeys, TokensOfAnIssuerWithABrokenJwksAre401) {
  TestDatabase db(Store::kSqlite);
  const auto good = identity::SigningKey::Generate("k1");
  auto p384 = good.PublicJwk();
  p384["crv"] = "P-384";
  auto off_curve = good.PublicJwk();
  std::string x(off_curve["x"].as_string());
  x[5] = x[5] == 'A' ? 'B' : 'A';
  off_curve["x"] = x;
  auto with_private = boost::json::parse(good.ToPrivateJwk()).as_object();
  with_private["kid"] = "k1";
  for (const auto& bad : {p384, off_curve, with_private}) {
    const int idp_port = FreePort();
    const std::string issuer = "http://127.0.0.1:" + std::to_string(idp_port);
    ChildProcess idp(
        {BREAKPILOT_NODE, BREAKPILOT_SOURCE_DIR "/tests/conformance/static_issuer.mjs",
         std::to_string(idp_port), boost::json::serialize(boost::json::object{{"keys", {bad}}})},
        {}, [](const std::string& l) { return l.find("listening") != std::string::npos; });
    ServerProcess server(db.url(), {"--oidc-issuer", issuer});
    HttpClient client("127.0.0.1", server.port());
    const auto token = good.Sign({{"iss", issuer},
                                  {"aud", "breakpilot"},
                                  {"sub", "x"},
                                  {"exp", static_cast<std::int64_t>(std::time(nullptr)) + 300},
                                  {"realm_roles", boost::json::array{"BREAKPILOT_ADMIN"}}});
    for (int i = 0; i < 3; ++i) {
      auto r = client.Request("GET", "/tenants", {}, BearerOf(token));
      EXPECT_EQ(r.status, 401) << r.body;
    }
    EXPECT_NE(server.Log().find("provider keys not usable"), std::string::npos) << server.Log();
    EXPECT_EQ(server.Terminate(), 0);
  }
}

}  // namespace
}  // namespace breakpilot::testing
