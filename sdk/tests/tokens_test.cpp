// The SDK's token checks against a JWKS served over loopback by the SDK's own server, with
// tokens signed by the platform's signer (identity::SigningKey): what a product sees in
// production, including a key rotation, without the platform running.
#include <gtest/gtest.h>

#include <breakpilot/sdk.hpp>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <thread>

#include "core/crypto.hpp"
#include "identity/jwt.hpp"

namespace breakpilot::sdk {
namespace {

constexpr const char* kIssuer = "https://platform.test";

class JwksServer {
 public:
  JwksServer()
      : server_({.threads = 1}, [this](const Request& r) {
          ++hits_;
          if (r.Path() != "/.well-known/jwks.json") return Problem(404, "nf", "Not found", "");
          std::lock_guard lock(mu_);
          return Json(200, jwks_);
        }) {
    server_.Listen();
    thread_ = std::thread([this] { server_.Run(); });
  }
  ~JwksServer() {
    server_.Stop();
    thread_.join();
  }
  void Publish(const std::vector<const identity::SigningKey*>& keys) {
    boost::json::array list;
    for (const auto* k : keys) list.emplace_back(k->PublicJwk());
    std::lock_guard lock(mu_);
    jwks_ = boost::json::serialize(boost::json::object{{"keys", list}});
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/.well-known/jwks.json";
  }
  int hits() const { return hits_; }

 private:
  std::mutex mu_;
  std::string jwks_ = R"({"keys":[]})";
  std::atomic<int> hits_{0};
  Server server_;
  std::thread thread_;
};

std::int64_t g_now = 1'800'000'000;

boost::json::object Claims(boost::json::object extra = {}) {
  boost::json::object c{{"iss", kIssuer},
                        {"aud", "echo-bot"},
                        {"sub", "user-1"},
                        {"iat", g_now},
                        {"nbf", g_now},
                        {"exp", g_now + 300},
                        {"org_id", "tenant-a"},
                        {"org_slug", "acme"},
                        {"org_roles", boost::json::array{"IT_ADMIN"}},
                        {"products", boost::json::array{"echo-bot"}},
                        {"plan", "starter"},
                        {"tenant_status", "trial"},
                        {"trial_quota",
                         {{"seats", 5},
                          {"projects", 3},
                          {"api_calls_per_day", 2},
                          {"ends_at", "2027-01-01T00:00:00Z"}}}};
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

class TokensTest : public ::testing::Test {
 protected:
  TokensTest()
      : key_(identity::SigningKey::Generate("k1")),
        verifier_({.issuer = kIssuer,
                   .audience = "echo-bot",
                   .jwks_url = jwks_.url(),
                   .refetch_interval = std::chrono::milliseconds(0),
                   .roles = {{"IT_ADMIN", {"admin"}}},
                   .now = [] { return g_now; }}) {
    jwks_.Publish({&key_});
  }
  JwksServer jwks_;
  identity::SigningKey key_;
  TokenVerifier verifier_;
};

TEST_F(TokensTest, APlatformTokenGivesThePrincipal) {
  auto who = verifier_.Verify(key_.Sign(Claims()));
  ASSERT_TRUE(who) << who.failure().detail;
  EXPECT_EQ(who->subject, "user-1");
  EXPECT_EQ(who->tenant_id, "tenant-a");
  EXPECT_EQ(who->tenant_slug, "acme");
  EXPECT_EQ(who->tenant_status, "trial");
  EXPECT_EQ(who->plan, "starter");
  EXPECT_TRUE(who->HasRole("IT_ADMIN"));
  EXPECT_TRUE(who->HasRole("admin"));  // through the role map
  EXPECT_FALSE(who->HasRole("USER"));
  ASSERT_TRUE(who->trial_quota.has_value());
  EXPECT_EQ(who->trial_quota->api_calls_per_day, 2);
  EXPECT_EQ(who->trial_quota->ends_at, "2027-01-01T00:00:00Z");
  EXPECT_FALSE(who->IsPlatform());
  // The keys were fetched once and are kept.
  ASSERT_TRUE(verifier_.Verify(key_.Sign(Claims())));
  EXPECT_EQ(verifier_.jwks_fetches(), 1U);
}

TEST_F(TokensTest, WrongIssuerAudienceTimesAndSignaturesAreRefused) {
  auto refused = [&](const std::string& token, const std::string& why) {
    auto who = verifier_.Verify(token);
    EXPECT_FALSE(who) << why;
    if (!who) {
      EXPECT_EQ(who.failure().status, 401) << why;
      EXPECT_FALSE(who.failure().detail.empty());
    }
  };
  refused(key_.Sign(Claims({{"iss", "https://evil.test"}})), "issuer");
  refused(key_.Sign(Claims({{"aud", "breakpilot"}})), "audience");
  refused(key_.Sign(Claims({{"aud", boost::json::array{"other", "breakpilot"}}})), "aud array");
  refused(key_.Sign(Claims({{"exp", g_now - 61}})), "expired beyond the skew");
  refused(key_.Sign(Claims({{"nbf", g_now + 61}})), "not yet valid");
  refused(key_.Sign(Claims({{"iat", g_now + 120}})), "issued in the future");
  refused(key_.Sign(Claims({{"sub", ""}})), "no subject");
  // Within the 60 s skew an expired token still passes.
  EXPECT_TRUE(verifier_.Verify(key_.Sign(Claims({{"exp", g_now - 30}}))));
  EXPECT_TRUE(verifier_.Verify(key_.Sign(Claims({{"aud", boost::json::array{"x", "echo-bot"}}}))));

  const std::string good = key_.Sign(Claims());
  std::string flipped = good;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  refused(flipped, "signature");
  // The payload swapped for another tenant's, signature kept.
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const std::string forged =
      good.substr(0, dot1 + 1) +
      Base64UrlEncode(boost::json::serialize(Claims({{"org_id", "tenant-b"}}))) + good.substr(dot2);
  refused(forged, "payload swapped");
  // alg none, HS256, and garbage.
  const std::string none_head = Base64UrlEncode(R"({"alg":"none","kid":"k1"})");
  refused(none_head + good.substr(dot1, dot2 - dot1) + ".", "alg none");
  const std::string hs_head = Base64UrlEncode(R"({"alg":"HS256","kid":"k1"})");
  refused(hs_head + good.substr(dot1), "HS256");
  const std::string rs_head = Base64UrlEncode(R"({"alg":"RS256","kid":"k1"})");
  refused(rs_head + good.substr(dot1), "RS256 on an EC key");
  refused("", "empty");
  refused("a.b", "two parts");
  refused("a.b.c.d", "four parts");
  refused("!!.??.**", "bad base64");
  refused(std::string(20'000, 'a'), "too long");
}

TEST_F(TokensTest, ARotatedKeyIsFetchedOnFirstSightAndTheOldOneStopsAfterItsRemoval) {
  ASSERT_TRUE(verifier_.Verify(key_.Sign(Claims())));
  const int before = jwks_.hits();
  const auto next = identity::SigningKey::Generate("k2");
  jwks_.Publish({&key_, &next});  // the platform publishes the new key beside the old one
  auto who = verifier_.Verify(next.Sign(Claims()));
  ASSERT_TRUE(who) << who.failure().detail;
  EXPECT_EQ(jwks_.hits(), before + 1);                 // one fetch, for the unknown kid
  EXPECT_TRUE(verifier_.Verify(key_.Sign(Claims())));  // the old one still verifies
  EXPECT_EQ(jwks_.hits(), before + 1);

  // A token naming a kid nobody published is refused after (at most) one more fetch.
  const auto rogue = identity::SigningKey::Generate("k3");
  EXPECT_FALSE(verifier_.Verify(rogue.Sign(Claims())));
  EXPECT_EQ(jwks_.hits(), before + 2);
}

// The verified-token cache: a token seen before is the same principal without a second
// signature check, until it expires or its key set changes; a changed byte never hits.
TEST_F(TokensTest, AVerifiedTokenIsRememberedUntilItExpiresOrItsKeysChange) {
  const std::string token = key_.Sign(Claims({{"exp", g_now + 120}}));
  ASSERT_TRUE(verifier_.Verify(token));
  EXPECT_EQ(verifier_.cache_hits(), 0U);
  auto again = verifier_.Verify(token);
  ASSERT_TRUE(again) << again.failure().detail;
  EXPECT_EQ(verifier_.cache_hits(), 1U);
  EXPECT_EQ(again->tenant_id, "tenant-a");
  EXPECT_TRUE(again->HasRole("admin"));
  ASSERT_TRUE(again->trial_quota.has_value());

  std::string flipped = token;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifier_.Verify(flipped));
  EXPECT_EQ(verifier_.cache_hits(), 1U);

  // Past exp and the skew the remembered token is refused, as on first sight.
  const std::int64_t saved = g_now;
  g_now += 120 + 61;
  auto late = verifier_.Verify(token);
  g_now = saved;
  ASSERT_FALSE(late);
  EXPECT_EQ(late.failure().detail, "the token has expired");
  EXPECT_EQ(verifier_.cache_hits(), 1U);

  // A new key set (another key only): the remembered token is checked again, and refused.
  ASSERT_TRUE(verifier_.Verify(token));
  EXPECT_EQ(verifier_.cache_hits(), 2U);
  const auto other = identity::SigningKey::Generate("k9");
  jwks_.Publish({&other});
  ASSERT_TRUE(verifier_.SetJwks(boost::json::serialize(
      boost::json::object{{"keys", boost::json::array{other.PublicJwk()}}})));
  EXPECT_FALSE(verifier_.Verify(token));
  EXPECT_EQ(verifier_.cache_hits(), 2U);
}

// A stale key set is never trusted from the cache: with jwks_ttl 0 every check fetches the keys,
// so a key the platform took out of its JWKS stops its tokens at once.
TEST(TokensCache, AStaleKeySetSendsEveryTokenDownTheFullPath) {
  JwksServer jwks;
  auto key = identity::SigningKey::Generate("k1");
  jwks.Publish({&key});
  TokenVerifier verifier({.issuer = kIssuer,
                          .audience = "echo-bot",
                          .jwks_url = jwks.url(),
                          .jwks_ttl = std::chrono::seconds(0),
                          .refetch_interval = std::chrono::milliseconds(0),
                          .now = [] { return g_now; }});
  const std::string token = key.Sign(Claims());
  ASSERT_TRUE(verifier.Verify(token));
  ASSERT_TRUE(verifier.Verify(token));
  EXPECT_EQ(verifier.cache_hits(), 0U);
  const auto next = identity::SigningKey::Generate("k2");
  jwks.Publish({&next});
  EXPECT_FALSE(verifier.Verify(token));

  // cache_entries 0: no cache at all.
  jwks.Publish({&key});
  TokenVerifier uncached({.issuer = kIssuer,
                          .audience = "echo-bot",
                          .jwks_url = jwks.url(),
                          .cache_entries = 0,
                          .now = [] { return g_now; }});
  ASSERT_TRUE(uncached.Verify(token));
  ASSERT_TRUE(uncached.Verify(token));
  EXPECT_EQ(uncached.cache_hits(), 0U);
}

TEST(TokensRefetch, UnknownKidsAreFetchedAtMostOncePerInterval) {
  JwksServer jwks;
  auto key = identity::SigningKey::Generate("k1");
  jwks.Publish({&key});
  TokenVerifier verifier({.issuer = kIssuer,
                          .audience = "echo-bot",
                          .jwks_url = jwks.url(),
                          .refetch_interval = std::chrono::hours(1),
                          .now = [] { return g_now; }});
  ASSERT_TRUE(verifier.Verify(key.Sign(Claims())));
  for (int i = 0; i < 50; ++i) {
    auto rogue = identity::SigningKey::Generate("rogue-" + std::to_string(i));
    EXPECT_FALSE(verifier.Verify(rogue.Sign(Claims())));
  }
  EXPECT_EQ(jwks.hits(), 1);  // a flood of made-up kids costs the platform nothing
}

TEST(TokensJwks, NoKeysIs503AndABrokenJwksIsRefused) {
  TokenVerifier verifier({.issuer = kIssuer,
                          .audience = "echo-bot",
                          .jwks_url = "http://127.0.0.1:1/.well-known/jwks.json",
                          .now = [] { return g_now; }});
  auto key = identity::SigningKey::Generate("k1");
  auto who = verifier.Verify(key.Sign(Claims()));
  ASSERT_FALSE(who);
  EXPECT_EQ(who.failure().status, 503);
  EXPECT_FALSE(verifier.SetJwks("not json"));
  EXPECT_FALSE(
      verifier.SetJwks(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"x","x":"AAAA","y":"AAAA"}]})"));
  // A point off the curve.
  const std::string zeros = Base64UrlEncode(std::string(32, '\0'));
  EXPECT_FALSE(verifier.SetJwks(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"x","x":")" + zeros +
                                R"(","y":")" + zeros + R"("}]})"));
  // Encryption keys and other curves are skipped, not fatal.
  ASSERT_TRUE(verifier.SetJwks(boost::json::serialize(boost::json::object{
      {"keys", boost::json::array{{{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}},
                                  {{"kty", "oct"}, {"kid", "hmac"}, {"k", "AAAA"}},
                                  key.PublicJwk()}}})));
  EXPECT_TRUE(verifier.Verify(key.Sign(Claims())));
}

}  // namespace
}  // namespace breakpilot::sdk
