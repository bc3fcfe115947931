// Who is calling a product: the platform's access tokens, checked against its JWKS.
//
//   sdk::TokenVerifier tokens({.issuer = "https://bp.example", .audience = "echo-bot"});
//   auto who = tokens.Verify(bearer);          // Outcome<Principal>; 401 failures
//   if (who && who->HasRole("IT_ADMIN")) ...
//
// Only ES256 (P-256) and RS256 (2048 bits or more) are accepted, each only with a key of its own
// type; `alg: none`, HMAC and any mismatch fail before a signature is checked. The JWKS is
// fetched on first use, kept for `jwks_ttl`, and fetched again (at most once per
// `refetch_interval`) when a token names a key it does not hold: that is how key rotation
// reaches a product without a restart.
//
// A token that verified once is remembered by its SHA-256 digest (at most `cache_entries`, 0: no
// cache) until its exp, while the key set it was checked under is the current one and fresh:
// the signature, the costly part, is checked once per token rather than once per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "breakpilot/http.hpp"

namespace breakpilot::sdk {

// What a trial may use (the token's `trial_quota`; absent once the tenant pays).
struct Quota {
  std::int64_t seats = 0;
  std::int64_t projects = 0;
  std::int64_t api_calls_per_day = 0;
  std::string ends_at;  // RFC 3339
};

struct Principal {
  std::string subject;  // the user's id, "platform", or "api-key:<key id>"
  std::string tenant_id;
  std::string tenant_slug;
  std::string plan;                        // free, starter, professional, enterprise
  std::string tenant_status;               // trial, active, frozen, archived, demo
  std::vector<std::string> org_roles;      // IT_ADMIN, CXO, FINANCE, LEGAL, USER
  std::vector<std::string> realm_roles;    // BREAKPILOT_ADMIN, SERVICE, ...
  std::vector<std::string> product_roles;  // org_roles through the product's RoleMap
  std::vector<std::string> products;
  std::vector<std::string> scopes;  // an API key's
  std::optional<Quota> trial_quota;
  // A paying plan's daily API calls per product (`plan_limits`); nullopt: no limit.
  std::optional<std::int64_t> plan_api_calls_per_day;
  std::string via;  // "token" or "api_key"

  bool HasRole(std::string_view role) const;  // an org, realm or product role
  // The platform itself calling a contract endpoint (sub "platform", realm role SERVICE).
  bool IsPlatform() const;
};

// The platform's roles to the product's own: {"IT_ADMIN": {"admin"}, "USER": {"member"}}.
using RoleMap = std::map<std::string, std::vector<std::string>, std::less<>>;

struct TokenVerifierOptions {
  std::string issuer;    // the platform's public URL, exactly as tokens name it
  std::string audience;  // the product's id
  std::string jwks_url;  // default: issuer + "/.well-known/jwks.json"
  std::chrono::seconds skew{60};
  std::chrono::seconds jwks_ttl{300};
  std::chrono::milliseconds refetch_interval{1000};
  std::size_t cache_entries = 10'000;
  RoleMap roles;
  // Seconds since the epoch; default the system clock (tests pass their own).
  std::function<std::int64_t()> now;
};

class TokenVerifier {
 public:
  explicit TokenVerifier(TokenVerifierOptions options);
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // A compact JWS, without "Bearer ". Failures are 401 "invalid-token" (a detail naming what
  // failed) or 503 "jwks-unavailable" when the keys cannot be fetched.
  Outcome<Principal> Verify(std::string_view token);
  // Replaces the key set (a JWKS document), e.g. from a file; fetching still refreshes it.
  Outcome<bool> SetJwks(std::string_view jwks_json);
  std::uint64_t jwks_fetches() const;
  // Verifications answered from the verified-token cache.
  std::uint64_t cache_hits() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::sdk
