// The built-in identity's token side: a ring of ES256 signing keys kept in the database (so every
// replica signs with the same key and publishes the same JWKS), and the OAuth 2 grants that
// issue access tokens with the claims a Keycloak token would carry.
//
//   KeyRing ring(db, clock, {.rotation = 30 days, .overlap = 1 h});
//   ring.Refresh();                                  // loads, creates the first key, rotates
//   TokenIssuer issuer(db, clock, directory, ring, {.issuer = "https://bp.example"});
//   auto t = issuer.PasswordGrant("ada", "...", std::nullopt);   // {access_token, expires_in}
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "audit/trail.hpp"
#include "identity/directory.hpp"
#include "identity/jwt.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::identity {

struct KeyRingOptions {
  std::chrono::seconds rotation{30LL * 24 * 3600};  // a key signs this long
  std::chrono::seconds overlap{3600};  // then stays published this long (> token lifetime)
};

class KeyRing {
 public:
  struct State {
    std::optional<SigningKey> signer;  // the newest unretired key
    Timestamp signer_created;          // when it was made (rotation is due from it)
    KeySet public_keys;                // every published key
    std::string jwks;                  // the JWKS document
  };

  KeyRing(storage::Database& db, const Clock& clock, KeyRingOptions options)
      : db_(db), clock_(clock), options_(options) {}

  // Loads the keys; creates the first one, or rotates when the current one is due.
  void Refresh();
  // As Refresh, at most once a second: called on a token with an unknown kid.
  void RefreshSoon();
  // A new key signs from now on; the previous one stays published for `overlap`.
  std::string Rotate(const audit::Actor& actor);
  std::shared_ptr<const State> state() const;
  // The key that signs now; 503 "no-signing-key" before the first Refresh made one.
  Result<SigningKey> Signer() const;

 private:
  void Load();

  storage::Database& db_;
  const Clock& clock_;
  KeyRingOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const State> state_ = std::make_shared<State>();
  std::atomic<std::int64_t> last_refresh_us_{0};  // of RefreshSoon: an unknown kid
};

struct TokenSettings {
  std::string issuer;  // our public URL
  std::string audience = "breakpilot";
  std::chrono::seconds ttl{900};
};

struct IssuedToken {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string scope;
};

class TokenIssuer {
 public:
  TokenIssuer(storage::Database& db, const Clock& clock, Directory& directory, KeyRing& ring,
              TokenSettings settings)
      : db_(db),
        clock_(clock),
        directory_(directory),
        ring_(ring),
        settings_(std::move(settings)) {}

  // Resource owner password grant. `org`: tenant id or slug, needed when the user belongs to
  // several organizations; with exactly one membership it is implied. `audience`: a product
  // the organization has booked, for a token that product accepts (a user calling a product's
  // API); absent, the platform's own audience. Anything else is 400 "invalid-target".
  Result<IssuedToken> PasswordGrant(std::string_view username, std::string_view password,
                                    const std::optional<std::string>& org,
                                    const std::optional<std::string>& audience = std::nullopt);
  Result<IssuedToken> ClientCredentialsGrant(std::string_view client_id, std::string_view secret);
  // What the platform presents to a product's lifecycle endpoints (export, delete data, demo
  // reset): sub "platform", realm role SERVICE, audience the product's id, valid 120 s.
  Result<IssuedToken> PlatformToken(const std::string& product_id);
  // What the portal hands a product's web component on /products/{id}: the signed-in user's
  // token for the tenant (the password grant's claims), audience the product, valid 300 s.
  Result<IssuedToken> PortalToken(const User& user, const std::string& tenant_id,
                                  const std::string& product_id);

  // What the MCP gateway presents to a product on behalf of a caller with no user (an API key):
  // the tenant's claims without roles, `sub` the caller, audience the product, valid 120 s.
  Result<IssuedToken> TenantToken(const tenants::Tenant& tenant,
                                  const std::vector<tenants::Subscription>& subscriptions,
                                  const std::string& subject, const std::string& product_id);

  const TokenSettings& settings() const { return settings_; }
  void SetIssuer(const std::string& issuer) { settings_.issuer = issuer; }
  // The OpenID discovery document for this issuer.
  boost::json::object Discovery() const;

 private:
  Result<boost::json::object> UserClaims(const User& user,
                                         const std::optional<std::string>& tenant_id);
  // Signs `claims` for `audience` (empty: the configured one), valid for `ttl` (zero: the
  // configured lifetime).
  Result<IssuedToken> Sign(boost::json::object claims, std::string_view audience = {},
                           std::chrono::seconds ttl = std::chrono::seconds::zero());

  storage::Database& db_;
  const Clock& clock_;
  Directory& directory_;
  KeyRing& ring_;
  TokenSettings settings_;
};

}  // namespace breakpilot::identity
