// An external OpenID provider (Keycloak in production, oidc-provider in tests): its discovery
// document and its signing keys, fetched over HTTP and cached. Keys are refetched when a token
// names an unknown kid, at most once every 10 seconds, so a flood of forged kids cannot turn
// into a flood of requests to the provider.
//
//   OidcIssuer idp("https://id.example/realms/breakpilot", http::Fetch, clock);
//   auto meta = idp.Metadata();          // authorization/token/end-session endpoints
//   auto keys = idp.Keys(false);         // shared_ptr<const KeySet>, nullptr if unreachable
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "identity/jwt.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::identity {

struct OidcMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string end_session_endpoint;  // empty when the provider has none
};

class OidcIssuer {
 public:
  OidcIssuer(std::string issuer, outbound::Fetcher fetch, const Clock& clock)
      : issuer_(std::move(issuer)), fetch_(std::move(fetch)), clock_(clock) {}

  const std::string& issuer() const { return issuer_; }
  // The issuer's origin: scheme and authority ("https://id.example.com" of
  // "https://id.example.com/realms/acme"): where the browser goes to sign in and out.
  std::string origin() const {
    const auto at = issuer_.find("://");
    return at == std::string::npos ? issuer_ : issuer_.substr(0, issuer_.find('/', at + 3));
  }
  Result<OidcMetadata> Metadata();
  // The current keys; `refresh` asks for a refetch (rate-limited). nullptr when never fetched.
  std::shared_ptr<const KeySet> Keys(bool refresh);
  // POSTs a form to the token endpoint with HTTP Basic client authentication.
  Result<boost::json::object> TokenRequest(const std::string& client_id,
                                           const std::string& client_secret,
                                           const std::string& form);

 private:
  Result<boost::json::object> GetJson(const std::string& url);

  std::string issuer_;
  outbound::Fetcher fetch_;
  const Clock& clock_;
  std::mutex mu_;
  std::optional<OidcMetadata> metadata_;
  std::shared_ptr<const KeySet> keys_;
  std::int64_t last_key_fetch_us_ = 0;
};

}  // namespace breakpilot::identity
