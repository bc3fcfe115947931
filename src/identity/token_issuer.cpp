#include "identity/token_issuer.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "identity/claims.hpp"

namespace breakpilot::identity {
namespace {

const Logger kLog("identity");

constexpr storage::Query kSelectKeys{
    "signing_key_list",
    "SELECT kid, private_jwk, created_at, retired_at FROM signing_keys"
    " WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at DESC, kid DESC"};
constexpr storage::Query kInsertKey{
    "signing_key_insert",
    "INSERT INTO signing_keys (kid, private_jwk, created_at) VALUES ($1, $2, $3)"};
constexpr storage::Query kRetireKeys{"signing_key_retire",
                                     "UPDATE signing_keys SET retired_at = $2, expires_at = $3"
                                     " WHERE retired_at IS NULL AND kid <> $1"};

}  // namespace

std::shared_ptr<const KeyRing::State> KeyRing::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void KeyRing::Load() {
  auto next = std::make_shared<State>();
  boost::json::array jwks;
  db_.Read([&](storage::Session& s) {
    for (const auto& row : s.Fetch(kSelectKeys, {FormatStorage(clock_.Now())})) {
      auto key = SigningKey::FromPrivateJwk(row.Text(0), row.Text(1));
      if (!key) {
        kLog.Error("unreadable signing key skipped", {{"kid", row.Text(0)}});
        continue;
      }
      next->public_keys.Add(key->Public());
      jwks.push_back(key->PublicJwk());
      if (!next->signer && row.IsNull(3)) {
        next->signer = std::move(*key);
        next->signer_created = ParseTimestamp(row.Text(2)).value_or(Timestamp{});
      }
    }
  });
  next->jwks = boost::json::serialize(boost::json::object{{"keys", jwks}});
  std::lock_guard lock(mu_);
  state_ = std::move(next);
}

void KeyRing::Refresh() {
  Load();
  auto s = state();
  const bool due = !s->signer || clock_.Now().micros - s->signer_created.micros >=
                                     options_.rotation.count() * kMicrosPerSecond;
  if (due) Rotate(audit::Actor{"system:key-rotation", "", ""});
}

void KeyRing::RefreshSoon() {
  const auto now = clock_.Now().micros;
  auto last = last_refresh_us_.load();
  if (now - last < kMicrosPerSecond) return;
  if (!last_refresh_us_.compare_exchange_strong(last, now)) return;  // another thread does it
  Load();
}

std::string KeyRing::Rotate(const audit::Actor& actor) {
  const Timestamp now = clock_.Now();
  std::string kid = "k-" + std::to_string(now.micros) + "-" + RandomToken(6);
  const SigningKey key = SigningKey::Generate(kid);
  db_.Write([&](storage::Session& s) {
    s.Execute(kInsertKey, {kid, key.ToPrivateJwk(), FormatStorage(now)});
    s.Execute(kRetireKeys,
              {kid, FormatStorage(now), FormatStorage(AddSeconds(now, options_.overlap.count()))});
    audit::Record(s, clock_, actor,
                  {std::nullopt, "signing_key.rotate", 'c', "signing_key", kid,
                   "new token signing key " + kid, "{}"});
  });
  kLog.Info("signing key rotated", {{"kid", kid}});
  Load();
  return kid;
}

Result<SigningKey> KeyRing::Signer() const {
  auto s = state();
  if (!s->signer) {
    return Error{ErrorKind::kUnavailable, "no-signing-key", "Unavailable",
                 "the identity has no signing key yet; retry shortly"};
  }
  return *s->signer;
}

Result<IssuedToken> TokenIssuer::Sign(boost::json::object claims, std::string_view audience,
                                      std::chrono::seconds ttl) {
  auto signer = ring_.Signer();
  if (!signer) return std::move(signer).error();
  const Timestamp now = clock_.Now();
  const std::int64_t iat = now.micros / kMicrosPerSecond;
  const std::int64_t lifetime = (ttl.count() > 0 ? ttl : settings_.ttl).count();
  claims["iss"] = settings_.issuer;
  claims["aud"] = audience.empty() ? std::string_view(settings_.audience) : audience;
  claims["iat"] = iat;
  claims["nbf"] = iat;
  claims["exp"] = iat + lifetime;
  claims["jti"] = NewUuidV7(now);
  return IssuedToken{signer->Sign(claims), lifetime, ""};
}

Result<IssuedToken> TokenIssuer::PlatformToken(const std::string& product_id) {
  return Sign({{"sub", "platform"}, {"realm_roles", boost::json::array{"SERVICE"}}}, product_id,
              std::chrono::seconds(120));
}

// A user's claims, and the organisation's (`tenant_id`) when given.
Result<boost::json::object> TokenIssuer::UserClaims(const User& user,
                                                    const std::optional<std::string>& tenant_id) {
  boost::json::object claims{{"sub", user.id},
                             {"preferred_username", user.username},
                             {"name", user.display_name},
                             {"realm_roles", RoleNames(user.realm_roles)}};
  if (tenant_id) {
    auto c = ClaimsFor(db_, user.id, *tenant_id, {});
    if (!c) return std::move(c).error();
    for (auto& [k, v] : ClaimsJson(*c)) {
      if (!v.is_null()) claims[k] = std::move(v);
    }
  }
  return claims;
}

Result<IssuedToken> TokenIssuer::TenantToken(
    const tenants::Tenant& tenant, const std::vector<tenants::Subscription>& subscriptions,
    const std::string& subject, const std::string& product_id) {
  boost::json::object claims{{"sub", subject}, {"realm_roles", boost::json::array{}}};
  for (auto& [k, v] : ClaimsJson(TenantClaims(tenant, subscriptions))) {
    if (!v.is_null()) claims[k] = std::move(v);
  }
  return Sign(std::move(claims), product_id, std::chrono::seconds(120));
}

Result<IssuedToken> TokenIssuer::PortalToken(const User& user, const std::string& tenant_id,
                                             const std::string& product_id) {
  auto claims = UserClaims(user, tenant_id);
  if (!claims) return std::move(claims).error();
  return Sign(std::move(*claims), product_id, std::chrono::seconds(300));
}

Result<IssuedToken> TokenIssuer::PasswordGrant(std::string_view username, std::string_view password,
                                               const std::optional<std::string>& org,
                                               const std::optional<std::string>& audience) {
  auto user = directory_.CheckPassword(username, password);
  if (!user) return std::move(user).error();
  std::optional<std::string> target = org;
  if (!target && user->memberships.size() == 1) target = user->memberships.front().tenant_id;
  if (!target && user->memberships.size() > 1) {
    return InvalidInput("org-required", "Organization required",
                        "the user belongs to several organizations: pass org_id");
  }
  auto claims = UserClaims(*user, target);
  if (!claims) return std::move(claims).error();
  if (audience && *audience != settings_.audience) {
    const auto* products = claims->if_contains("products");
    const bool booked = products != nullptr && products->is_array() &&
                        std::ranges::any_of(products->as_array(), [&](const auto& p) {
                          return p.is_string() && p.as_string() == *audience;
                        });
    if (!booked) {
      return InvalidInput("invalid-target", "Invalid audience",
                          "audience must be a product the organization has booked");
    }
    return Sign(std::move(*claims), *audience);
  }
  return Sign(std::move(*claims));
}

Result<IssuedToken> TokenIssuer::ClientCredentialsGrant(std::string_view client_id,
                                                        std::string_view secret) {
  auto client = directory_.CheckClient(client_id, secret);
  if (!client) return std::move(client).error();
  return Sign({{"sub", "service-account-" + client->client_id},
               {"client_id", client->client_id},
               {"azp", client->client_id},
               {"realm_roles", RoleNames(client->realm_roles)}});
}

boost::json::object TokenIssuer::Discovery() const {
  const std::string& iss = settings_.issuer;
  return {{"issuer", iss},
          {"jwks_uri", iss + "/.well-known/jwks.json"},
          {"token_endpoint", iss + "/oauth/token"},
          {"grant_types_supported", boost::json::array{"password", "client_credentials"}},
          {"token_endpoint_auth_methods_supported",
           boost::json::array{"client_secret_basic", "client_secret_post"}},
          {"response_types_supported", boost::json::array{"token"}},
          {"subject_types_supported", boost::json::array{"public"}},
          {"id_token_signing_alg_values_supported", boost::json::array{"ES256"}},
          {"claims_supported",
           boost::json::array{"sub", "org_id", "org_roles", "realm_roles", "products", "plan",
                              "tenant_status", "preferred_username", "name"}}};
}

}  // namespace breakpilot::identity
