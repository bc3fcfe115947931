// Turns a bearer credential into a Principal: the bootstrap staff token, or a JWT from the
// built-in issuer (keys from the KeyRing) or from one external OpenID provider (keys from its
// JWKS, see JwksSource). Verified tokens are cached until they expire, so a token's signature is
// checked once, not on every request.
//
//   Authenticator auth(ring, settings, clock, bootstrap_token);
//   auto p = auth.Authenticate(bearer);   // Principal, or 401 with a reason
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "identity/jwt.hpp"
#include "identity/permissions.hpp"
#include "identity/token_issuer.hpp"

namespace breakpilot::identity {

// Keys of an external issuer. `refresh` is called on an unknown kid (rate-limited by the
// source) and returns the current key set.
struct ExternalIssuer {
  TokenRules rules;
  std::function<std::shared_ptr<const KeySet>(bool refresh)> keys;
};

class Authenticator {
 public:
  Authenticator(KeyRing& ring, const TokenIssuer& local, const Clock& clock,
                const std::string& bootstrap_token, std::optional<ExternalIssuer> external = {});

  Result<Principal> Authenticate(std::string_view bearer);
  // Maps verified claims to a principal (also for tests).
  static Principal FromClaims(const boost::json::object& claims);

 private:
  Result<boost::json::object> Verify(std::string_view token);

  struct Cached {
    Principal principal;
    std::int64_t expires_us = 0;
  };

  KeyRing& ring_;
  const TokenIssuer& local_;
  const Clock& clock_;
  std::string bootstrap_hash_;  // SHA-256 of the bootstrap token, empty when none
  std::optional<ExternalIssuer> external_;
  std::mutex mu_;
  // Keyed by the token itself, found without hashing it with SHA-256 (which cost more than the
  // rest of a cached authentication). Only verified tokens enter, so nobody who lacks a valid
  // token chooses the keys; the key comparison is constant-time all the same.
  struct TokenHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct TokenEquals {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  std::unordered_map<std::string, Cached, TokenHash, TokenEquals> cache_;
  std::size_t cached_text_ = 0;  // the keys' total length
};

}  // namespace breakpilot::identity
