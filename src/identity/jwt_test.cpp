#include "identity/jwt.hpp"

#include <cjose/cjose.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <utility>

#include "core/crypto.hpp"

namespace breakpilot::identity {
namespace {

const Timestamp kNow{1'800'000'000LL * kMicrosPerSecond};
const TokenRules kRules{.issuer = "https://id.example", .audience = "breakpilot"};

boost::json::object Claims(std::int64_t exp_in = 300) {
  return {{"iss", "https://id.example"},
          {"aud", "breakpilot"},
          {"sub", "user-1"},
          {"iat", 1'800'000'000},
          {"exp", 1'800'000'000 + exp_in}};
}

struct Fixture : ::testing::Test {
  SigningKey key = SigningKey::Generate("k1");
  KeySet keys;
  void SetUp() override { keys.Add(key.Public()); }
  Result<boost::json::object> Verify(std::string_view t, Timestamp now = kNow) {
    return VerifyJwt(t, keys, kRules, now);
  }
};

std::string Part(const boost::json::object& o) {
  return Base64UrlEncode(boost::json::serialize(o));
}

std::string Detail(const Result<boost::json::object>& r) {
  return r ? std::string("valid") : r.error().detail;
}

using Jwt = Fixture;

TEST_F(Jwt, ASignedTokenVerifiesAndCarriesItsClaims) {
  auto c = Verify(key.Sign(Claims()));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->at("sub").as_string(), "user-1");
}

TEST_F(Jwt, AudienceMayBeAList) {
  auto claims = Claims();
  claims["aud"] = boost::json::array{"other", "breakpilot"};
  EXPECT_TRUE(Verify(key.Sign(claims)));
  claims["aud"] = boost::json::array{"other"};
  EXPECT_EQ(Detail(Verify(key.Sign(claims))), "wrong audience");
}

TEST_F(Jwt, TimeRulesAllowSixtySecondsOfSkewAndNoMore) {
  const auto t = key.Sign(Claims(300));
  EXPECT_TRUE(Verify(t, AddSeconds(kNow, 359)));
  EXPECT_EQ(Detail(Verify(t, AddSeconds(kNow, 360))), "the token has expired");
  auto nbf = Claims();
  nbf["nbf"] = 1'800'000'000 + 100;
  const auto n = key.Sign(nbf);
  EXPECT_EQ(Detail(Verify(n, AddSeconds(kNow, 39))), "the token is not valid yet");
  EXPECT_TRUE(Verify(n, AddSeconds(kNow, 40)));
  auto noexp = Claims();
  noexp.erase("exp");
  EXPECT_EQ(Detail(Verify(key.Sign(noexp))), "the token has no numeric exp");
}

// A compact JWS over exactly `payload`, signed by the real key: for payloads that a JSON object
// cannot produce (a name twice, a number beyond a double).
std::string SignRaw(const SigningKey& key, const std::string& payload) {
  cjose_err err{};
  const std::string jwk = key.ToPrivateJwk();
  std::unique_ptr<cjose_jwk_t, bool (*)(cjose_jwk_t*)> priv(
      cjose_jwk_import(jwk.data(), jwk.size(), &err), cjose_jwk_release);
  std::unique_ptr<cjose_header_t, void (*)(cjose_header_t*)> hdr(cjose_header_new(&err),
                                                                 cjose_header_release);
  if (!priv || !hdr || !cjose_header_set(hdr.get(), CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err) ||
      !cjose_header_set(hdr.get(), CJOSE_HDR_KID, "k1", &err)) {
    return {};
  }
  std::unique_ptr<cjose_jws_t, void (*)(cjose_jws_t*)> jws(
      cjose_jws_sign(priv.get(), hdr.get(), reinterpret_cast<const uint8_t*>(payload.data()),
                     payload.size(), &err),
      cjose_jws_release);
  const char* compact = nullptr;
  if (!jws || !cjose_jws_export(jws.get(), &compact, &err)) return {};
  return compact;
}

// A payload Boost.JSON would read with exp = NaN (0e999) or Infinity (1e999), signed by the real
// key: NaN never compares as expired, so neither may count as a numeric exp. The strict reader
// (core/json.hpp) refuses such a payload before its claims are looked at.
TEST_F(Jwt, AnExpBeyondADoubleIsNotANumericExp) {
  const std::pair<std::string, std::string> cases[] = {
      {"0e999", "the token payload is not base64url JSON"},
      {"1e999", "the token payload is not base64url JSON"},
      {"1800000300.5", "valid"}};
  for (const auto& [exp, expect] : cases) {
    const std::string payload =
        R"({"iss":"https://id.example","aud":"breakpilot","sub":"user-1","exp":)" + exp + "}";
    const std::string compact = SignRaw(key, payload);
    ASSERT_FALSE(compact.empty());
    EXPECT_EQ(Detail(Verify(compact)), expect) << exp;
  }
}

TEST_F(Jwt, WrongIssuerOrNoSubjectIsRefused) {
  auto c = Claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(Detail(Verify(key.Sign(c))), "wrong issuer");
  c = Claims();
  c.erase("sub");
  EXPECT_EQ(Detail(Verify(key.Sign(c))), "the token has no subject");
}

TEST_F(Jwt, ATamperedPayloadOrSignatureFails) {
  const auto t = key.Sign(Claims());
  const auto d1 = t.find('.'), d2 = t.rfind('.');
  auto c = Claims();
  c["sub"] = "admin";
  EXPECT_EQ(Detail(Verify(t.substr(0, d1 + 1) + Part(c) + t.substr(d2))), "bad signature");
  std::string sig = t;
  sig[d2 + 5] = sig[d2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Verify(sig));
  // Another key with the same kid: not ours.
  const auto other = SigningKey::Generate("k1");
  EXPECT_EQ(Detail(Verify(other.Sign(Claims()))), "bad signature");
}

TEST_F(Jwt, AlgNoneIsRefused) {
  const auto t = Part({{"alg", "none"}, {"kid", "k1"}}) + "." + Part(Claims()) + ".";
  EXPECT_FALSE(Verify(t));
  const auto t2 = Part({{"alg", "none"}, {"kid", "k1"}}) + "." + Part(Claims()) + ".e30";
  EXPECT_EQ(Detail(Verify(t2)), "algorithm 'none' is not accepted (ES256, RS256)");
}

TEST_F(Jwt, Hs256SignedWithThePublicKeyIsRefused) {
  // The classic confusion: sign with HMAC, using the public key's text as the secret.
  const std::string pub = boost::json::serialize(key.PublicJwk());
  const std::string input = Part({{"alg", "HS256"}, {"kid", "k1"}}) + "." + Part(Claims());
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), pub.data(), static_cast<int>(pub.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  const auto t = input + "." + Base64UrlEncode({reinterpret_cast<char*>(mac), len});
  EXPECT_EQ(Detail(Verify(t)), "algorithm 'HS256' is not accepted (ES256, RS256)");
}

TEST_F(Jwt, AnEs256TokenLabelledRs256IsRefused) {
  const auto t = key.Sign(Claims());
  const auto rest = t.substr(t.find('.'));
  EXPECT_EQ(Detail(Verify(Part({{"alg", "RS256"}, {"kid", "k1"}}) + rest)), "key k1 is for ES256");
}

TEST_F(Jwt, UnknownKidIsItsOwnErrorSoTheCallerCanRefetch) {
  const auto t = SigningKey::Generate("k2").Sign(Claims());
  auto r = Verify(t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, "unknown-key");
  EXPECT_EQ(r.error().kind, ErrorKind::kUnauthenticated);
}

TEST_F(Jwt, EmbeddedKeysAndCriticalHeadersAreRefused) {
  const auto t = key.Sign(Claims());
  const auto rest = t.substr(t.find('.'));
  for (const char* h : {"jku", "x5u", "jwk", "crit"}) {
    boost::json::object hdr{{"alg", "ES256"}, {"kid", "k1"}};
    hdr[h] = "x";
    EXPECT_FALSE(Verify(Part(hdr) + rest)) << h;
  }
}

TEST_F(Jwt, MalformedPartsNeverReachTheJoseLibrary) {
  // Found by jwt_fuzz: cjose asserts (and aborts the process) on base64 whose length is 1 mod 4.
  const auto t = key.Sign(Claims());
  const auto a = t.find('.'), b = t.rfind('.');
  const std::string head = t.substr(0, a), body = t.substr(a + 1, b - a - 1), sig = t.substr(b + 1);
  for (const std::string& bad :
       {head + "." + body + "." + sig + "A", head + "." + body + "A." + sig,
        head + "." + body.substr(0, body.size() - 1) + "=." + sig,
        head + "." + body + "." + sig.substr(0, 10), head + "." + body + ".A",
        head + ".e30=]." + sig}) {
    EXPECT_FALSE(Verify(bad)) << bad;
  }
}

// RFC 7515 §4 and RFC 7519 §4: a header parameter or a claim named twice is refused rather than
// read as its last value, even under a good signature.
TEST_F(Jwt, ANameTwiceInTheHeaderOrTheClaimsIsRefused) {
  const std::string claims = R"({"iss":"https://id.example","aud":"breakpilot","sub":"user-1",)"
                             R"("exp":1800000300})";
  ASSERT_EQ(Detail(Verify(SignRaw(key, claims))), "valid");
  const std::string twice_sub =
      R"({"iss":"https://id.example","aud":"breakpilot","sub":"user-1","sub":"admin",)"
      R"("exp":1800000300})";
  EXPECT_EQ(Detail(Verify(SignRaw(key, twice_sub))), "the token payload is not base64url JSON");
  const auto t = key.Sign(Claims());
  const std::string twice_kid = Base64UrlEncode(R"({"alg":"ES256","kid":"k1","kid":"k1"})");
  EXPECT_EQ(Detail(Verify(twice_kid + t.substr(t.find('.')))),
            "the token header is not base64url JSON");
}

TEST_F(Jwt, GarbageNeverVerifies) {
  for (std::string t :
       std::vector<std::string>{"", ".", "..", "a.b.c", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30",
                                std::string(100 * 1024, 'a') + ".b.c", "W10.W10.AA"}) {
    auto r = Verify(t);
    EXPECT_FALSE(r) << t.substr(0, 20);
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::kUnauthenticated);
    }
  }
}

TEST(JwtKeys, Rs256KeysFromAJwksVerify) {
  cjose_err err{};
  static const uint8_t kE[] = {1, 0, 1};
  cjose_jwk_t* rsa = cjose_jwk_create_RSA_random(2048, kE, sizeof kE, &err);
  ASSERT_TRUE(rsa);
  cjose_jwk_set_kid(rsa, "r1", 2, &err);
  char* pub = cjose_jwk_to_json(rsa, false, &err);
  const std::string jwks = std::string(R"({"keys":[)") + pub + "]}";
  cjose_get_dealloc()(pub);
  auto keys = KeySet::FromJwks(jwks);
  ASSERT_TRUE(keys) << keys.error().detail;
  ASSERT_TRUE(keys->Find("r1"));
  EXPECT_EQ(keys->Find("r1")->alg, "RS256");

  cjose_header_t* hdr = cjose_header_new(&err);
  cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_RS256, &err);
  cjose_header_set(hdr, CJOSE_HDR_KID, "r1", &err);
  const std::string payload = boost::json::serialize(Claims());
  cjose_jws_t* jws = cjose_jws_sign(rsa, hdr, reinterpret_cast<const uint8_t*>(payload.data()),
                                    payload.size(), &err);
  ASSERT_TRUE(jws);
  const char* compact = nullptr;
  cjose_jws_export(jws, &compact, &err);
  const std::string token = compact;
  cjose_jws_release(jws);
  cjose_header_release(hdr);
  cjose_jwk_release(rsa);
  auto c = VerifyJwt(token, *keys, kRules, kNow);
  EXPECT_TRUE(c) << (c ? "" : c.error().detail);
}

TEST(JwtKeys, BadCurvesBrokenPointsAndPrivateKeysMakeTheJwksInvalid) {
  const auto good = SigningKey::Generate("g").PublicJwk();
  auto p384 = good;
  p384["crv"] = "P-384";
  EXPECT_FALSE(KeySet::FromJwks(
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{p384}}})));
  auto off_curve = good;
  std::string x(off_curve["x"].as_string());
  x[3] = x[3] == 'A' ? 'B' : 'A';
  off_curve["x"] = x;
  EXPECT_FALSE(KeySet::FromJwks(
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{off_curve}}})));
  auto short_b64 = good;
  short_b64["x"] = "AAAAA";  // 5 characters: 1 mod 4, which cjose asserts on
  EXPECT_FALSE(KeySet::FromJwks(
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{short_b64}}})));
  auto bad_b64 = good;
  bad_b64["y"] = "!!!";
  EXPECT_FALSE(KeySet::FromJwks(
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{bad_b64}}})));
  auto priv = boost::json::parse(SigningKey::Generate("p").ToPrivateJwk()).as_object();
  priv["kid"] = "p";
  EXPECT_FALSE(KeySet::FromJwks(
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{priv}}})));
  for (const char* doc : {"", "[]", "{}", R"({"keys":{}})", R"({"keys":[1]})"}) {
    EXPECT_FALSE(KeySet::FromJwks(doc)) << doc;
  }
  // Keys we do not use (encryption, HMAC) are skipped, not fatal.
  auto ks = KeySet::FromJwks(R"({"keys":[{"kty":"oct","k":"AAAA","kid":"h"},)" +
                             boost::json::serialize(good) + "]}");
  ASSERT_TRUE(ks) << ks.error().detail;
  EXPECT_EQ(ks->size(), 1u);
}

TEST(JwtKeys, APrivateJwkRoundTrips) {
  const auto k = SigningKey::Generate("a");
  auto back = SigningKey::FromPrivateJwk("a", k.ToPrivateJwk());
  ASSERT_TRUE(back);
  KeySet keys;
  keys.Add(k.Public());
  EXPECT_TRUE(VerifyJwt(back->Sign(Claims()), keys, kRules, kNow));
}

}  // namespace
}  // namespace breakpilot::identity
