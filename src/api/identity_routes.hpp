// The built-in identity: discovery, JWKS, the token endpoint, users, service clients, claims.
#pragma once

#include <vector>

#include "api/module.hpp"
#include "core/rate_limiter.hpp"

namespace breakpilot::api {

class IdentityRoutes : public Module {
 public:
  // `password_attempts_per_minute`: password grants one client address may try (429 beyond).
  IdentityRoutes(const Services& s, int password_attempts_per_minute);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> OidcDiscovery(http::Request& req, const Caller& caller);
  Result<http::Response> Jwks(http::Request& req, const Caller& caller);
  Result<http::Response> OauthToken(http::Request& req, const Caller& caller);
  Result<http::Response> UserCreate(http::Request& req, const Caller& caller);
  Result<http::Response> UserGet(http::Request& req, const Caller& caller);
  Result<http::Response> UserList(http::Request& req, const Caller& caller);
  Result<http::Response> ServiceClientList(http::Request& req, const Caller& caller);
  Result<http::Response> ServiceClientCreate(http::Request& req, const Caller& caller);
  Result<http::Response> Claims(http::Request& req, const Caller& caller);

  identity::ClaimsService& claims_;
  identity::Directory& directory_;
  identity::TokenIssuer& issuer_;
  identity::KeyRing& keys_;
  WorkPool& password_pool_;
  RateLimiter password_attempts_;  // password grants per client address
};

}  // namespace breakpilot::api
