#include "identity/jwt.hpp"

#include <cjose/cjose.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/crypto.hpp"
#include "core/json.hpp"

namespace breakpilot::identity {
namespace {

Error Invalid(std::string detail) {
  return Error{ErrorKind::kUnauthenticated, "invalid-token", "Invalid token", std::move(detail)};
}

Jwk Wrap(cjose_jwk_t* raw) {
  return Jwk(raw, [](cjose_jwk_t* k) { cjose_jwk_release(k); });
}

struct JwsDeleter {
  void operator()(cjose_jws_t* j) const { cjose_jws_release(j); }
};
using Jws = std::unique_ptr<cjose_jws_t, JwsDeleter>;

// A JSON object from base64url text; nullopt on bad base64, bad JSON, or a non-object.
std::optional<boost::json::object> DecodeObject(std::string_view b64) {
  std::string raw;
  if (!Base64UrlDecode(b64, raw)) return std::nullopt;
  std::string problem;
  auto v = ParseStrictJson(raw, {.max_depth = 16}, problem);
  if (!v || !v->is_object()) return std::nullopt;
  return std::move(v->as_object());
}

std::string_view StringField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// Splits "a.b.c" into its three parts; false unless there are exactly three, all non-empty
// except that the signature may not be empty either.
bool SplitCompact(std::string_view token, std::string_view (&parts)[3]) {
  const auto d1 = token.find('.');
  if (d1 == std::string_view::npos) return false;
  const auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return false;
  }
  parts[0] = token.substr(0, d1);
  parts[1] = token.substr(d1 + 1, d2 - d1 - 1);
  parts[2] = token.substr(d2 + 1);
  return !parts[0].empty() && !parts[1].empty() && !parts[2].empty();
}

// The key type and size an algorithm needs. A key is usable for `alg` only if this holds, so
// a public key can never serve as an HMAC secret and a P-384 key never verifies ES256.
bool KeyFits(const cjose_jwk_t* jwk, std::string_view alg) {
  cjose_err err{};
  const auto kty = cjose_jwk_get_kty(jwk, &err);
  if (alg == "ES256") {
    return kty == CJOSE_JWK_KTY_EC && cjose_jwk_EC_get_curve(jwk, &err) == CJOSE_JWK_EC_P_256;
  }
  if (alg == "RS256") return kty == CJOSE_JWK_KTY_RSA && cjose_jwk_get_keysize(jwk, &err) >= 2048;
  return false;
}

std::optional<double> NumberClaim(const boost::json::object& claims, std::string_view key) {
  const auto* v = claims.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  // 1e999 parses as Infinity and 0e999 as NaN; a NaN exp would never compare as expired.
  if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
  return std::nullopt;
}

}  // namespace

const PublicKey* KeySet::Find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<KeySet> KeySet::FromJwks(std::string_view json) {
  const auto bad = [](std::string detail) {
    return Error{ErrorKind::kInvalidInput, "invalid-jwks", "Invalid JWKS", std::move(detail)};
  };
  std::string problem;
  auto doc = ParseStrictJson(json, {.max_depth = 8}, problem);
  if (!doc || !doc->is_object()) return bad("the JWKS is not a JSON object");
  const auto* keys = doc->as_object().if_contains("keys");
  if (!keys || !keys->is_array()) return bad("the JWKS has no \"keys\" array");
  KeySet set;
  for (const auto& k : keys->get_array()) {
    if (!k.is_object()) return bad("a JWKS entry is not an object");
    const auto& o = k.as_object();
    const std::string_view use = StringField(o, "use");
    if (!use.empty() && use != "sig") continue;  // encryption keys
    const std::string_view kty = StringField(o, "kty");
    std::string alg(StringField(o, "alg"));
    if (alg.empty()) alg = kty == "EC" ? "ES256" : kty == "RSA" ? "RS256" : "";
    if (alg != "ES256" && alg != "RS256") continue;  // algorithms we do not accept
    if (kty == "EC" && StringField(o, "crv") != "P-256") {
      if (StringField(o, "alg") == "ES256") return bad("an ES256 key is not on curve P-256");
      continue;
    }
    const std::string_view kid = StringField(o, "kid");
    if (kid.empty()) continue;  // unaddressable: tokens name their key
    if (o.contains("d")) return bad("the JWKS publishes a private key (" + std::string(kid) + ")");
    // The key's numbers must be base64url of a sane size before cjose reads them (see above).
    for (const char* member : {"x", "y", "n", "e"}) {
      const auto* v = o.if_contains(member);
      if (!v) continue;
      std::string raw;
      if (!v->is_string() || !Base64UrlDecode(v->get_string(), raw) || raw.empty() ||
          raw.size() > 1024) {
        return bad("key " + std::string(kid) + ": \"" + member + "\" is not base64url");
      }
      if (kty == "EC" && raw.size() != 32) {
        return bad("key " + std::string(kid) + ": a P-256 coordinate is 32 bytes");
      }
    }
    const std::string text = boost::json::serialize(o);
    cjose_err err{};
    cjose_jwk_t* raw = cjose_jwk_import(text.data(), text.size(), &err);
    if (!raw) return bad("key " + std::string(kid) + " cannot be read: " + err.message);
    Jwk jwk = Wrap(raw);
    if (!KeyFits(jwk.get(), alg)) return bad("key " + std::string(kid) + " does not fit " + alg);
    set.Add(PublicKey{std::string(kid), alg, std::move(jwk)});
  }
  return set;
}

Result<UnverifiedHead> PeekJwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Invalid("the token is longer than 16 KiB");
  std::string_view parts[3];
  if (!SplitCompact(token, parts)) return Invalid("the token is not a compact JWS (a.b.c)");
  auto header = DecodeObject(parts[0]);
  if (!header) return Invalid("the token header is not base64url JSON");
  auto payload = DecodeObject(parts[1]);
  if (!payload) return Invalid("the token payload is not base64url JSON");
  return UnverifiedHead{std::string(StringField(*header, "kid")),
                        std::string(StringField(*payload, "iss"))};
}

Result<boost::json::object> VerifyJwt(std::string_view token, const KeySet& keys,
                                      const TokenRules& rules, Timestamp now) {
  if (token.size() > kMaxTokenBytes) return Invalid("the token is longer than 16 KiB");
  std::string_view parts[3];
  if (!SplitCompact(token, parts)) return Invalid("the token is not a compact JWS (a.b.c)");
  auto header = DecodeObject(parts[0]);
  if (!header) return Invalid("the token header is not base64url JSON");
  const std::string_view alg = StringField(*header, "alg");
  if (alg != "ES256" && alg != "RS256") {
    return Invalid("algorithm '" + std::string(alg) + "' is not accepted (ES256, RS256)");
  }
  if (header->contains("crit")) return Invalid("the token has critical header parameters");
  if (header->contains("jku") || header->contains("x5u") || header->contains("jwk")) {
    return Invalid("the token names its own key; keys come from the issuer's JWKS only");
  }
  const std::string_view kid = StringField(*header, "kid");
  const PublicKey* key = keys.Find(kid);
  if (!key) {
    return Error{ErrorKind::kUnauthenticated, "unknown-key", "Invalid token",
                 "no key with kid '" + std::string(kid) + "'"};
  }
  if (key->alg != alg) return Invalid("key " + key->kid + " is for " + key->alg);
  // Every part is checked here before cjose sees the token: cjose's base64 decoder asserts
  // (aborting the process) on some malformed input, which our libFuzzer target found.
  auto claims = DecodeObject(parts[1]);
  if (!claims) return Invalid("the token payload is not base64url JSON");
  std::string signature;
  if (!Base64UrlDecode(parts[2], signature)) return Invalid("the signature is not base64url");
  cjose_err err{};
  const std::size_t expected =
      alg == "ES256" ? 64 : cjose_jwk_get_keysize(key->jwk.get(), &err) / 8;
  if (signature.size() != expected) return Invalid("the signature has the wrong length");
  Jws jws(cjose_jws_import(token.data(), token.size(), &err));
  if (!jws) return Invalid("the token cannot be parsed");
  if (!cjose_jws_verify(jws.get(), key->jwk.get(), &err)) return Invalid("bad signature");

  if (StringField(*claims, "iss") != rules.issuer) return Invalid("wrong issuer");
  const auto* aud = claims->if_contains("aud");
  bool aud_ok = false;
  if (aud && aud->is_string()) aud_ok = aud->get_string() == rules.audience;
  if (aud && aud->is_array()) {
    for (const auto& a : aud->get_array())
      aud_ok |= a.is_string() && a.get_string() == rules.audience;
  }
  if (!aud_ok) return Invalid("wrong audience");
  const double t = static_cast<double>(now.micros) / 1e6;
  const double skew = static_cast<double>(rules.skew.count());
  const auto exp = NumberClaim(*claims, "exp");
  if (!exp) return Invalid("the token has no numeric exp");
  if (t >= *exp + skew) return Invalid("the token has expired");
  if (claims->contains("nbf")) {
    const auto nbf = NumberClaim(*claims, "nbf");
    if (!nbf) return Invalid("nbf is not a number");
    if (t + skew < *nbf) return Invalid("the token is not valid yet");
  }
  if (StringField(*claims, "sub").empty()) return Invalid("the token has no subject");
  return std::move(*claims);
}

SigningKey SigningKey::Generate(std::string kid) {
  cjose_err err{};
  cjose_jwk_t* raw = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
  if (!raw) throw std::runtime_error(std::string("cannot generate a P-256 key: ") + err.message);
  SigningKey k;
  k.kid_ = std::move(kid);
  k.jwk_ = Wrap(raw);
  return k;
}

Result<SigningKey> SigningKey::FromPrivateJwk(std::string kid, std::string_view json) {
  cjose_err err{};
  cjose_jwk_t* raw = cjose_jwk_import(json.data(), json.size(), &err);
  if (!raw) return InvalidInput("invalid-key", "Invalid key", "the private JWK cannot be read");
  SigningKey k;
  k.kid_ = std::move(kid);
  k.jwk_ = Wrap(raw);
  if (!KeyFits(k.jwk_.get(), "ES256")) {
    return InvalidInput("invalid-key", "Invalid key", "the signing key is not a P-256 key");
  }
  return k;
}

std::string SigningKey::ToPrivateJwk() const {
  cjose_err err{};
  char* json = cjose_jwk_to_json(jwk_.get(), true, &err);
  if (!json) throw std::runtime_error("cannot export a signing key");
  std::string out(json);
  cjose_get_dealloc()(json);
  return out;
}

boost::json::object SigningKey::PublicJwk() const {
  cjose_err err{};
  char* json = cjose_jwk_to_json(jwk_.get(), false, &err);
  if (!json) throw std::runtime_error("cannot export a public key");
  auto v = boost::json::parse(json);
  cjose_get_dealloc()(json);
  auto& o = v.as_object();
  o["kid"] = kid_;
  o["use"] = "sig";
  o["alg"] = "ES256";
  return std::move(o);
}

PublicKey SigningKey::Public() const {
  return PublicKey{kid_, "ES256", jwk_};
}

std::string SigningKey::Sign(const boost::json::object& claims) const {
  cjose_err err{};
  std::unique_ptr<cjose_header_t, void (*)(cjose_header_t*)> hdr(cjose_header_new(&err),
                                                                 cjose_header_release);
  if (!hdr || !cjose_header_set(hdr.get(), CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err) ||
      !cjose_header_set(hdr.get(), CJOSE_HDR_KID, kid_.c_str(), &err) ||
      !cjose_header_set(hdr.get(), "typ", "JWT", &err)) {
    throw std::runtime_error("cannot build a JWS header");
  }
  const std::string payload = boost::json::serialize(claims);
  Jws jws(cjose_jws_sign(jwk_.get(), hdr.get(), reinterpret_cast<const uint8_t*>(payload.data()),
                         payload.size(), &err));
  if (!jws) throw std::runtime_error(std::string("cannot sign a token: ") + err.message);
  const char* compact = nullptr;
  if (!cjose_jws_export(jws.get(), &compact, &err)) throw std::runtime_error("cannot export JWS");
  return compact;  // owned by the JWS: copied before it is released
}

}  // namespace breakpilot::identity
