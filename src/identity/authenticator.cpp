#include "identity/authenticator.hpp"

#include <boost/json.hpp>

#include "core/crypto.hpp"
#include "core/json.hpp"

namespace breakpilot::identity {
namespace {

// The cache is emptied when it holds this many tokens, or this much token text: 100,000 typical
// tokens of about 1 KB stay under the second.
constexpr std::size_t kCacheLimit = 100'000;
constexpr std::size_t kCacheTextLimit = std::size_t{128} << 20;

std::vector<Role> RolesOf(const boost::json::value* v, bool realm) {
  std::vector<Role> roles;
  if (!v || !v->is_array()) return roles;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) continue;
    auto r = ParseRole(e.get_string());
    if (r && IsRealmRole(*r) == realm && std::find(roles.begin(), roles.end(), *r) == roles.end()) {
      roles.push_back(*r);
    }
  }
  return roles;
}

}  // namespace

Authenticator::Authenticator(KeyRing& ring, const TokenIssuer& local, const Clock& clock,
                             const std::string& bootstrap_token,
                             std::optional<ExternalIssuer> external)
    : ring_(ring),
      local_(local),
      clock_(clock),
      bootstrap_hash_(bootstrap_token.empty() ? std::string() : Sha256(bootstrap_token)),
      external_(std::move(external)) {}

Principal Authenticator::FromClaims(const boost::json::object& c) {
  Principal p;
  const auto str = [&](std::string_view k) { return StringMember(c, k); };
  p.subject = str("sub");
  p.name = str("preferred_username");
  if (const auto client = str("client_id"); !client.empty()) {
    p.subject = "client:" + client;
    p.name = client;
  }
  p.realm_roles = RolesOf(c.if_contains("realm_roles"), true);
  if (const auto* ra = c.if_contains("realm_access"); ra && ra->is_object()) {
    for (Role r : RolesOf(ra->get_object().if_contains("roles"), true)) {
      if (std::find(p.realm_roles.begin(), p.realm_roles.end(), r) == p.realm_roles.end()) {
        p.realm_roles.push_back(r);
      }
    }
  }
  if (const auto org = str("org_id"); !org.empty()) p.org_id = org;
  p.org_roles = RolesOf(c.if_contains("org_roles"), false);
  if (const auto* prods = c.if_contains("products"); prods && prods->is_array()) {
    for (const auto& e : prods->get_array()) {
      if (e.is_string()) p.products.emplace_back(e.get_string());
    }
  }
  return p;
}

Result<boost::json::object> Authenticator::Verify(std::string_view token) {
  auto head = PeekJwt(token);
  if (!head) return std::move(head).error();
  const Timestamp now = clock_.Now();
  if (head->issuer == local_.settings().issuer) {
    const TokenRules rules{.issuer = local_.settings().issuer,
                           .audience = local_.settings().audience};
    auto claims = VerifyJwt(token, ring_.state()->public_keys, rules, now);
    if (!claims && claims.error().type == "unknown-key") {
      ring_.RefreshSoon();  // another replica may have rotated
      claims = VerifyJwt(token, ring_.state()->public_keys, rules, now);
    }
    return claims;
  }
  if (external_ && head->issuer == external_->rules.issuer) {
    auto keys = external_->keys(false);
    auto claims = keys ? VerifyJwt(token, *keys, external_->rules, now)
                       : Result<boost::json::object>(Error{ErrorKind::kUnauthenticated,
                                                           "unknown-key", "Invalid token",
                                                           "the issuer's keys are not available"});
    if (!claims && claims.error().type == "unknown-key") {
      keys = external_->keys(true);
      if (keys) claims = VerifyJwt(token, *keys, external_->rules, now);
    }
    return claims;
  }
  return Error{ErrorKind::kUnauthenticated, "invalid-token", "Invalid token",
               "the token's issuer is not trusted"};
}

bool Authenticator::TokenEquals::operator()(std::string_view a, std::string_view b) const {
  return ConstantTimeEquals(a, b);
}

Result<Principal> Authenticator::Authenticate(std::string_view bearer) {
  const std::int64_t now_us = clock_.Now().micros;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(bearer); it != cache_.end()) {
      if (now_us < it->second.expires_us) return it->second.principal;
      cached_text_ -= it->first.size();
      cache_.erase(it);
    }
  }
  // Compared as digests, so that the time taken does not tell the bootstrap token's length.
  if (!bootstrap_hash_.empty() && ConstantTimeEquals(Sha256(bearer), bootstrap_hash_)) {
    return Principal{
        .subject = "staff:bootstrap", .name = "bootstrap", .realm_roles = {Role::kBreakpilotAdmin}};
  }
  auto claims = Verify(bearer);
  if (!claims) {
    auto e = std::move(claims).error();
    e.type = "unauthenticated";
    e.title = "Authentication required";
    return e;
  }
  Principal p = FromClaims(*claims);
  const auto* exp = claims->if_contains("exp");
  const std::int64_t exp_s = exp && exp->is_int64() ? exp->get_int64() : 0;
  // Cached until exp (the verifier allows 60 s of skew past it; the cache does not).
  if (exp_s > 0) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= kCacheLimit || cached_text_ + bearer.size() > kCacheTextLimit) {
      cache_.clear();
      cached_text_ = 0;
    }
    if (cache_.insert_or_assign(std::string(bearer), Cached{p, exp_s * kMicrosPerSecond}).second) {
      cached_text_ += bearer.size();
    }
  }
  return p;
}

}  // namespace breakpilot::identity
