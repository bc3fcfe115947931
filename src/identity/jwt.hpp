// JSON Web Tokens (RFC 7519) signed with ES256 or RS256, on cjose (Debian's libcjose).
//
//   auto keys = KeySet::FromJwks(R"({"keys":[...]})");            // public keys, by kid
//   auto claims = VerifyJwt(token, *keys, {.issuer = iss, .audience = "breakpilot"}, now);
//   SigningKey key = SigningKey::Generate("2026-11-25");
//   std::string jwt = key.Sign(claims_object);
//
// Only ES256 (P-256) and RS256 (2048 bits or more) are accepted, and only with a key of the
// matching type: `alg: none`, HS256 signed with a public key and every other confusion fail
// before any signature is checked.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

struct _cjose_jwk_int;  // NOLINT(bugprone-reserved-identifier): cjose_jwk_t, <cjose/jwk.h>

namespace breakpilot::identity {

inline constexpr std::size_t kMaxTokenBytes = std::size_t{16} * 1024;

// A public key (or a key pair) in cjose's form; shared, immutable once built.
using Jwk = std::shared_ptr<_cjose_jwk_int>;

struct PublicKey {
  std::string kid;
  std::string alg;  // "ES256" or "RS256"
  Jwk jwk;
};

class KeySet {
 public:
  // Parses a JWKS document. Keys we cannot use for ES256/RS256 signatures (encryption keys,
  // other curves, short RSA) are skipped; a key that claims to be usable but is broken (a point
  // off the curve, bad base64) makes the whole document invalid.
  static Result<KeySet> FromJwks(std::string_view json);
  void Add(PublicKey key) { keys_[key.kid] = std::move(key); }
  const PublicKey* Find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

struct TokenRules {
  std::string issuer;
  std::string audience;
  std::chrono::seconds skew{60};
};

// Error types of VerifyJwt: "unknown-key" (no key with the token's kid: the caller may refetch
// the JWKS) and "invalid-token" with a detail naming what failed. Both are 401.
Result<boost::json::object> VerifyJwt(std::string_view token, const KeySet& keys,
                                      const TokenRules& rules, Timestamp now);

// Reads the header's `kid` and the payload's `iss` without verifying anything, to pick the
// issuer and key. Never trust what it returns.
struct UnverifiedHead {
  std::string kid;
  std::string issuer;
};
Result<UnverifiedHead> PeekJwt(std::string_view token);

// An ES256 key pair for the built-in identity.
class SigningKey {
 public:
  static SigningKey Generate(std::string kid);
  // From the private JWK this class exported (ToPrivateJwk).
  static Result<SigningKey> FromPrivateJwk(std::string kid, std::string_view json);
  const std::string& kid() const { return kid_; }
  std::string ToPrivateJwk() const;
  boost::json::object PublicJwk() const;  // with kid, use, alg
  PublicKey Public() const;
  std::string Sign(const boost::json::object& claims) const;

 private:
  std::string kid_;
  Jwk jwk_;
};

}  // namespace breakpilot::identity
