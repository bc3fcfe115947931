#include "identity/oidc_issuer.hpp"

#include "core/json.hpp"

#include <boost/json.hpp>

#include "core/crypto.hpp"
#include "core/log.hpp"

namespace breakpilot::identity {
namespace {

const Logger kLog("oidc");
constexpr std::int64_t kKeyRefetchMicros = 10 * kMicrosPerSecond;

Error Upstream(std::string detail) {
  return Error{ErrorKind::kUnavailable, "idp-unavailable", "Identity provider unavailable",
               std::move(detail)};
}

}  // namespace

Result<boost::json::object> OidcIssuer::GetJson(const std::string& url) {
  auto r = fetch_({.url = url, .headers = {{"Accept", "application/json"}}});
  if (!r) return Upstream(r.error().detail);
  if (r->status != 200) return Upstream(url + " answered " + std::to_string(r->status));
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec || !v.is_object()) return Upstream(url + " did not answer a JSON object");
  return std::move(v.as_object());
}

Result<OidcMetadata> OidcIssuer::Metadata() {
  {
    std::lock_guard lock(mu_);
    if (metadata_) return *metadata_;
  }
  auto doc = GetJson(issuer_ + "/.well-known/openid-configuration");
  if (!doc) return std::move(doc).error();
  OidcMetadata m{StringMember(*doc, "issuer"), StringMember(*doc, "authorization_endpoint"),
                 StringMember(*doc, "token_endpoint"), StringMember(*doc, "jwks_uri"),
                 StringMember(*doc, "end_session_endpoint")};
  // OpenID Connect Discovery §4.3: the issuer in the document must be the one we asked.
  if (m.issuer != issuer_) {
    return Upstream("the discovery document names issuer '" + m.issuer + "', not " + issuer_);
  }
  if (m.jwks_uri.empty() || m.token_endpoint.empty() || m.authorization_endpoint.empty()) {
    return Upstream("the discovery document lacks jwks_uri, token or authorization endpoint");
  }
  std::lock_guard lock(mu_);
  metadata_ = m;
  return m;
}

std::shared_ptr<const KeySet> OidcIssuer::Keys(bool refresh) {
  const std::int64_t now = clock_.Now().micros;
  {
    std::lock_guard lock(mu_);
    if (keys_ && (!refresh || now - last_key_fetch_us_ < kKeyRefetchMicros)) return keys_;
    if (!keys_ && last_key_fetch_us_ != 0 && now - last_key_fetch_us_ < kMicrosPerSecond) {
      return nullptr;  // failed a moment ago: do not hammer the provider
    }
    last_key_fetch_us_ = now;
  }
  auto meta = Metadata();
  if (!meta) {
    kLog.Warn("no provider metadata", {{"issuer", issuer_}, {"error", meta.error().detail}});
    std::lock_guard lock(mu_);
    return keys_;
  }
  auto r = fetch_({.url = meta->jwks_uri, .headers = {{"Accept", "application/json"}}});
  std::optional<Result<KeySet>> parsed;
  if (r && r->status == 200) parsed = KeySet::FromJwks(r->body);
  std::lock_guard lock(mu_);
  if (!parsed || !*parsed) {
    kLog.Warn("provider keys not usable",
              {{"issuer", issuer_},
               {"error", !r       ? r.error().detail
                         : parsed ? parsed->error().detail
                                  : "status " + std::to_string(r->status)}});
    return keys_;  // keep the last good keys
  }
  keys_ = std::make_shared<const KeySet>(std::move(**parsed));
  return keys_;
}

Result<boost::json::object> OidcIssuer::TokenRequest(const std::string& client_id,
                                                     const std::string& client_secret,
                                                     const std::string& form) {
  auto meta = Metadata();
  if (!meta) return std::move(meta).error();
  // RFC 6749 §2.3.1: id and secret are form-encoded before Basic; ours are URL-safe already.
  const std::string basic = Base64Encode(client_id + ":" + client_secret);
  auto r = fetch_({.method = "POST",
                   .url = meta->token_endpoint,
                   .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                               {"Accept", "application/json"},
                               {"Authorization", "Basic " + basic}},
                   .body = form});
  if (!r) return Upstream(r.error().detail);
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (r->status >= 500) {
    return Upstream("the token endpoint failed (HTTP " + std::to_string(r->status) + ")");
  }
  if (ec || !v.is_object()) return Upstream("the token endpoint did not answer JSON");
  if (r->status != 200) {
    return Error{ErrorKind::kUnauthenticated, "code-exchange-failed", "Sign-in failed",
                 "the provider refused the code: " + StringMember(v.as_object(), "error") + " " +
                     StringMember(v.as_object(), "error_description")};
  }
  return std::move(v.as_object());
}

}  // namespace breakpilot::identity
