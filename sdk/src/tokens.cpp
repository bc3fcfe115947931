#include "breakpilot/tokens.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "internal.hpp"

namespace breakpilot::sdk {
namespace {

constexpr std::size_t kMaxTokenBytes = std::size_t{16} * 1024;

using Pkey = std::shared_ptr<EVP_PKEY>;

struct Key {
  std::string alg;  // ES256 or RS256
  Pkey pkey;
};

Failure Invalid(std::string detail) {
  return Failure{401, "invalid-token", "Invalid token", std::move(detail)};
}

std::string Str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::vector<std::string> Strings(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& e : v->as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

std::optional<std::int64_t> Int(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ULL << 62U))
    return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return std::nullopt;
}

Pkey Wrap(EVP_PKEY* k) {
  return Pkey(k, &EVP_PKEY_free);
}

// A public key of `type` ("EC", "RSA") from the parameters in `bld`, which it frees.
EVP_PKEY* PublicKeyFrom(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx != nullptr && params != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

// A P-256 public key from the JWK's x and y (32 bytes each).
Pkey EcKey(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  EVP_PKEY* key = PublicKeyFrom("EC", bld);
  if (key == nullptr) return nullptr;
  // The point must be on the curve.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new(key, nullptr);
  const bool ok = check != nullptr && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return Wrap(key);
}

Pkey RsaKey(const std::string& n, const std::string& e) {
  if (n.size() < 256 || e.empty() || e.size() > 8) return nullptr;  // 2048 bits or more
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  EVP_PKEY* key = PublicKeyFrom("RSA", bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key != nullptr ? Wrap(key) : nullptr;
}

using KeyMap = std::map<std::string, Key, std::less<>>;

// Parses a JWKS; keys of other kinds are skipped, a broken usable key fails the document.
Outcome<KeyMap> ParseJwks(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  const auto* keys = !ec && doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return Failure{503, "jwks-unavailable", "Keys unavailable", "the JWKS is not a key set"};
  }
  KeyMap out;
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) continue;
    const auto& o = k.as_object();
    const std::string kty = Str(o, "kty");
    const std::string use = Str(o, "use");
    const std::string kid = Str(o, "kid");
    if (kid.empty() || (!use.empty() && use != "sig")) continue;
    Key key;
    if (kty == "EC" && Str(o, "crv") == "P-256") {
      auto x = internal::Base64UrlDecode(Str(o, "x"));
      auto y = internal::Base64UrlDecode(Str(o, "y"));
      key = {"ES256", x && y ? EcKey(*x, *y) : nullptr};
    } else if (kty == "RSA") {
      auto n = internal::Base64UrlDecode(Str(o, "n"));
      auto e = internal::Base64UrlDecode(Str(o, "e"));
      if (n && n->size() < 256) continue;  // short RSA: not usable, skipped
      key = {"RS256", n && e ? RsaKey(*n, *e) : nullptr};
    } else {
      continue;
    }
    const std::string alg = Str(o, "alg");
    if (!alg.empty() && alg != key.alg) continue;
    if (!key.pkey) {
      return Failure{503, "jwks-unavailable", "Keys unavailable", "key '" + kid + "' is broken"};
    }
    out[kid] = std::move(key);
  }
  return out;
}

// ES256's signature is r||s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> EcdsaToDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySignature(const Key& key, std::string_view signed_part, const std::string& signature) {
  std::string sig = signature;
  if (key.alg == "ES256") {
    auto der = EcdsaToDer(signature);
    if (!der) return false;
    sig = std::move(*der);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.pkey.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool AudienceMatches(const boost::json::object& claims, std::string_view audience) {
  const auto* aud = claims.if_contains("aud");
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == audience;
  if (!aud->is_array()) return false;
  return std::any_of(aud->as_array().begin(), aud->as_array().end(),
                     [&](const auto& a) { return a.is_string() && a.as_string() == audience; });
}

}  // namespace

bool Principal::HasRole(std::string_view role) const {
  auto has = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), role) != v.end();
  };
  return has(org_roles) || has(realm_roles) || has(product_roles);
}

bool Principal::IsPlatform() const {
  return subject == "platform" &&
         std::find(realm_roles.begin(), realm_roles.end(), "SERVICE") != realm_roles.end();
}

struct TokenVerifier::Impl {
  TokenVerifierOptions options;
  std::mutex mu;
  std::shared_ptr<const KeyMap> keys;
  std::chrono::steady_clock::time_point fetched_at{};
  std::chrono::steady_clock::time_point last_attempt{};
  std::atomic<std::uint64_t> fetches{0};
  // The verified-token cache: by the token's SHA-256, the principal until its exp, valid only
  // for the key set it was checked under (`generation`, bumped whenever the keys are replaced)
  // and only while that set is fresh (`fresh_until`, steady clock ticks): a stale set is fetched
  // again on the full path, so a key taken out of the JWKS stops its tokens within jwks_ttl.
  struct Cached {
    Principal principal;
    std::int64_t exp = 0;
    std::uint64_t generation = 0;
  };
  std::shared_mutex cache_mu;
  std::unordered_map<std::string, Cached> cache;
  std::atomic<std::uint64_t> generation{0};
  std::atomic<std::chrono::steady_clock::rep> fresh_until{0};
  std::atomic<std::uint64_t> hits{0};

  // The full check; `exp_out` and `generation_out`: the token's exp and the key set's generation.
  Outcome<Principal> Check(std::string_view token, std::int64_t& exp_out,
                           std::uint64_t& generation_out);

  // Under `mu`: the key set is now `next`, fetched (or set) at `at`.
  void Replace(std::shared_ptr<const KeyMap> next, std::chrono::steady_clock::time_point at) {
    keys = std::move(next);
    fetched_at = at;
    generation.fetch_add(1, std::memory_order_acq_rel);
    fresh_until.store((at + options.jwks_ttl).time_since_epoch().count(),
                      std::memory_order_release);
  }

  void Remember(const std::string& digest, const Principal& p, std::int64_t exp,
                std::uint64_t gen) {
    std::unique_lock lock(cache_mu);
    if (cache.size() >= options.cache_entries) {
      // Full: drop what can no longer hit; if that frees nothing, start over.
      const std::int64_t now = options.now();
      const std::uint64_t current = generation.load(std::memory_order_acquire);
      std::erase_if(cache, [&](const auto& e) {
        return e.second.generation != current || e.second.exp + options.skew.count() <= now;
      });
      if (cache.size() >= options.cache_entries) cache.clear();
    }
    cache.insert_or_assign(digest, Cached{p, exp, gen});
  }

  // The keys, fetched when missing or stale, or (rate-limited) when `kid` is unknown.
  // `used`: the generation of the set returned, for the cache.
  Outcome<std::shared_ptr<const KeyMap>> Keys(std::string_view kid, std::uint64_t& used) {
    std::lock_guard lock(mu);
    const auto now = std::chrono::steady_clock::now();
    const bool stale = !keys || now - fetched_at > options.jwks_ttl;
    const bool unknown = keys && !keys->contains(kid);
    const bool may_fetch = last_attempt == std::chrono::steady_clock::time_point{} ||
                           now - last_attempt >= options.refetch_interval;
    if ((stale || unknown) && may_fetch) {
      last_attempt = now;
      fetches.fetch_add(1, std::memory_order_relaxed);
      const internal::HttpResult r = internal::Send({.url = options.jwks_url,
                                                     .timeout = std::chrono::seconds(5),
                                                     .max_body = std::size_t{1} << 20});
      if (r.status == 200) {
        auto parsed = ParseJwks(r.body);
        if (parsed) Replace(std::make_shared<const KeyMap>(std::move(*parsed)), now);
      }
    }
    if (!keys) {
      return Failure{503, "jwks-unavailable", "Keys unavailable",
                     "the platform's signing keys could not be fetched"};
    }
    used = generation.load(std::memory_order_acquire);
    return keys;
  }
};

TokenVerifier::TokenVerifier(TokenVerifierOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.jwks_url.empty()) options.jwks_url = options.issuer + "/.well-known/jwks.json";
  if (!options.now) options.now = &internal::UnixNow;
  impl_->options = std::move(options);
}

TokenVerifier::~TokenVerifier() = default;

std::uint64_t TokenVerifier::jwks_fetches() const {
  return impl_->fetches.load(std::memory_order_relaxed);
}

Outcome<bool> TokenVerifier::SetJwks(std::string_view jwks_json) {
  auto parsed = ParseJwks(jwks_json);
  if (!parsed) return parsed.failure();
  std::lock_guard lock(impl_->mu);
  impl_->Replace(std::make_shared<const KeyMap>(std::move(*parsed)),
                 std::chrono::steady_clock::now());
  return true;
}

Outcome<Principal> TokenVerifier::Verify(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Invalid("the token is too long");
  Impl& i = *impl_;
  std::int64_t exp = 0;
  std::uint64_t generation = 0;
  if (i.options.cache_entries == 0) return i.Check(token, exp, generation);
  // A token seen before, under the same fresh key set and not yet expired, is the same
  // principal: its signature is not checked again. The key is the token's digest.
  const std::string digest = internal::Sha256(token);
  const auto steady_now = std::chrono::steady_clock::now().time_since_epoch().count();
  if (steady_now <= i.fresh_until.load(std::memory_order_acquire)) {
    const std::uint64_t current = i.generation.load(std::memory_order_acquire);
    std::shared_lock lock(i.cache_mu);
    if (auto it = i.cache.find(digest); it != i.cache.end() && it->second.generation == current &&
                                        it->second.exp + i.options.skew.count() > i.options.now()) {
      i.hits.fetch_add(1, std::memory_order_relaxed);
      return it->second.principal;
    }
  }
  auto checked = i.Check(token, exp, generation);
  if (checked) i.Remember(digest, *checked, exp, generation);
  return checked;
}

std::uint64_t TokenVerifier::cache_hits() const {
  return impl_->hits.load(std::memory_order_relaxed);
}

Outcome<Principal> TokenVerifier::Impl::Check(std::string_view token, std::int64_t& exp_out,
                                              std::uint64_t& generation_out) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Invalid("not a compact JWS");
  }
  auto header_json = internal::Base64UrlDecode(token.substr(0, dot1));
  auto payload_json = internal::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = internal::Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) return Invalid("bad base64url");
  boost::system::error_code ec;
  const boost::json::value header = boost::json::parse(*header_json, ec);
  if (ec || !header.is_object()) return Invalid("the header is not a JSON object");
  const std::string alg = Str(header.as_object(), "alg");
  const std::string kid = Str(header.as_object(), "kid");
  if (alg != "ES256" && alg != "RS256") return Invalid("algorithm '" + alg + "' is not accepted");
  if (header.as_object().contains("crit")) return Invalid("critical header parameters");

  auto set = Keys(kid, generation_out);
  if (!set) return set.failure();
  const auto it = (*set)->find(kid);
  if (it == (*set)->end()) return Invalid("no key '" + kid + "' in the platform's JWKS");
  if (it->second.alg != alg) return Invalid("the key does not sign " + alg);
  if (!VerifySignature(it->second, token.substr(0, dot2), *signature)) {
    return Invalid("the signature does not verify");
  }

  const boost::json::value payload = boost::json::parse(*payload_json, ec);
  if (ec || !payload.is_object()) return Invalid("the payload is not a JSON object");
  const auto& c = payload.as_object();
  const auto& o = options;
  const std::int64_t now = o.now();
  const std::int64_t skew = o.skew.count();
  if (Str(c, "iss") != o.issuer) return Invalid("issuer '" + Str(c, "iss") + "' is not trusted");
  if (!AudienceMatches(c, o.audience)) return Invalid("the token is not for " + o.audience);
  const auto exp = Int(c, "exp");
  if (!exp) return Invalid("no exp");
  if (*exp + skew <= now) return Invalid("the token has expired");
  exp_out = *exp;
  if (auto nbf = Int(c, "nbf"); nbf && *nbf - skew > now)
    return Invalid("the token is not valid yet");
  if (auto iat = Int(c, "iat"); iat && *iat - skew > now) return Invalid("issued in the future");

  Principal p;
  p.via = "token";
  p.subject = Str(c, "sub");
  if (p.subject.empty()) return Invalid("no sub");
  p.tenant_id = Str(c, "org_id");
  p.tenant_slug = Str(c, "org_slug");
  p.plan = Str(c, "plan");
  p.tenant_status = Str(c, "tenant_status");
  p.org_roles = Strings(c, "org_roles");
  p.realm_roles = Strings(c, "realm_roles");
  p.products = Strings(c, "products");
  if (const auto* s = c.if_contains("scope"); s != nullptr && s->is_string()) {
    std::string_view rest = s->as_string();
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      if (sp != 0) p.scopes.emplace_back(rest.substr(0, sp));
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  }
  for (const auto& role : p.org_roles) {
    if (auto m = o.roles.find(role); m != o.roles.end()) {
      for (const auto& r : m->second) {
        if (std::find(p.product_roles.begin(), p.product_roles.end(), r) == p.product_roles.end()) {
          p.product_roles.push_back(r);
        }
      }
    }
  }
  if (const auto* q = c.if_contains("trial_quota"); q != nullptr && q->is_object()) {
    const auto& qo = q->as_object();
    p.trial_quota = Quota{.seats = Int(qo, "seats").value_or(0),
                          .projects = Int(qo, "projects").value_or(0),
                          .api_calls_per_day = Int(qo, "api_calls_per_day").value_or(0),
                          .ends_at = Str(qo, "ends_at")};
  }
  if (const auto* l = c.if_contains("plan_limits"); l != nullptr && l->is_object()) {
    if (auto n = Int(l->as_object(), "api_calls_per_day"); n && *n > 0) {
      p.plan_api_calls_per_day = *n;
    }
  }
  return p;
}

}  // namespace breakpilot::sdk
