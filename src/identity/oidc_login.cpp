#include "identity/oidc_login.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "core/crypto.hpp"
#include "core/json.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

constexpr std::int64_t kLoginSeconds = 600;  // a login must finish within 10 minutes

// The verifier itself stays in the browser (code_verifier is written empty); the row keeps its
// SHA-256, which binds the state to that browser.
constexpr Query kInsertState{
    "oidc_state_insert",
    "INSERT INTO oidc_login_states (state, nonce, code_verifier, browser_hash, return_to,"
    " created_at) VALUES ($1, $2, '', $3, $4, $5)"};
constexpr Query kTakeState{
    "oidc_state_take",
    "DELETE FROM oidc_login_states WHERE state = $1 RETURNING nonce, browser_hash, return_to,"
    " created_at"};
constexpr Query kPurgeStates{"oidc_state_purge",
                             "DELETE FROM oidc_login_states WHERE created_at < $1"};
constexpr Query kInsertSession{
    "portal_session_insert",
    "INSERT INTO portal_sessions (token_hash, subject, claims, id_token, csrf_token, created_at,"
    " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
constexpr Query kSelectSession{
    "portal_session_select",
    "SELECT subject, claims, csrf_token, expires_at, id_token FROM portal_sessions"
    " WHERE token_hash = $1 AND expires_at > $2"};
constexpr Query kDeleteSession{"portal_session_delete",
                               "DELETE FROM portal_sessions WHERE token_hash = $1"};

std::string Enc(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

Error LoginFailed(std::string detail) {
  return Error{ErrorKind::kUnauthenticated, "sign-in-failed", "Sign-in failed", std::move(detail)};
}

std::string SafeReturn(const std::string& r) {
  const bool under = r == "/portal" || r.rfind("/portal/", 0) == 0;
  const bool ok = under && r.find("//") == std::string::npos && r.find('\\') == std::string::npos &&
                  r.size() <= 512;
  return ok ? r : "/portal";
}

}  // namespace

Result<LoginStart> OidcLogin::Begin(const std::string& return_to) {
  return Start(SafeReturn(return_to), settings_.redirect_uri);
}

Result<LoginStart> OidcLogin::BeginAt(const std::string& redirect_uri) {
  return Start("", redirect_uri);
}

Result<LoginStart> OidcLogin::Start(const std::string& return_to, const std::string& redirect_uri) {
  auto meta = issuer_.Metadata();
  if (!meta) return std::move(meta).error();
  const Timestamp now = clock_.Now();
  const std::string state = RandomToken(32), nonce = RandomToken(32), verifier = RandomToken(32);
  db_.Write([&](storage::Session& s) {
    s.Execute(kPurgeStates, {FormatStorage(AddSeconds(now, -kLoginSeconds))});
    s.Execute(kInsertState, {state, nonce, Sha256Hex(verifier), return_to, FormatStorage(now)});
  });
  const std::string challenge = Base64UrlEncode(Sha256(verifier));
  const char sep = meta->authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  return LoginStart{.url = meta->authorization_endpoint + sep + "response_type=code&client_id=" +
                           Enc(settings_.client_id) + "&redirect_uri=" + Enc(redirect_uri) +
                           "&scope=openid%20profile%20email&state=" + state + "&nonce=" + nonce +
                           "&code_challenge=" + challenge + "&code_challenge_method=S256",
                    .browser_secret = verifier,
                    .lifetime = std::chrono::seconds(kLoginSeconds)};
}

Result<PortalSession> OidcLogin::Complete(const std::string& code, const std::string& state,
                                          const std::string& browser_secret,
                                          const audit::Actor& from) {
  auto in = Exchange(code, state, browser_secret, settings_.redirect_uri);
  if (!in) return std::move(in).error();
  const Timestamp now = clock_.Now();
  PortalSession session{.token = RandomToken(32),
                        .subject = in->subject,
                        .claims = in->claims,
                        .csrf_token = RandomToken(24),
                        .return_to = SafeReturn(in->return_to),
                        .expires_at = AddSeconds(now, settings_.session_ttl.count())};
  db_.Write([&](storage::Session& s) {
    s.Execute(kInsertSession,
              {Sha256Hex(session.token), session.subject, boost::json::serialize(session.claims),
               in->grant.id_token, session.csrf_token, FormatStorage(now),
               FormatStorage(session.expires_at)});
    audit::Record(s, clock_, audit::Actor{session.subject, from.request_id, from.source_ip},
                  {std::nullopt, "portal.sign_in", 'c', "session", session.subject,
                   "signed in to the portal through " + issuer_.issuer(), "{}"});
  });
  return session;
}

Result<IdpSignIn> OidcLogin::Exchange(const std::string& code, const std::string& state,
                                      const std::string& browser_secret,
                                      const std::string& redirect_uri) {
  if (code.empty() || state.empty() || code.size() > 2048 || state.size() > 128) {
    return LoginFailed("the provider's answer lacks code or state");
  }
  if (browser_secret.empty() || browser_secret.size() > 128) {
    return LoginFailed("this sign-in was not started in this browser: start it again");
  }
  const Timestamp now = clock_.Now();
  std::optional<storage::Row> row;
  // Taken (deleted) whatever follows: a state is used once, by its browser or by nobody.
  db_.Write([&](storage::Session& s) { row = s.FetchOne(kTakeState, {state}); });
  if (!row) return LoginFailed("unknown or already used state: start the sign-in again");
  if (row->IsNull(1) || !ConstantTimeEquals(Sha256Hex(browser_secret), row->Text(1))) {
    return LoginFailed("this sign-in was not started in this browser: start it again");
  }
  const std::string nonce = row->Text(0), return_to = row->Text(2);
  const std::string& verifier = browser_secret;
  const auto started = ParseTimestamp(row->Text(3));
  if (!started || now.micros - started->micros > kLoginSeconds * kMicrosPerSecond) {
    return LoginFailed("the sign-in took too long: start again");
  }
  auto tokens =
      issuer_.TokenRequest(settings_.client_id, settings_.client_secret,
                           "grant_type=authorization_code&code=" + Enc(code) +
                               "&redirect_uri=" + Enc(redirect_uri) + "&code_verifier=" + verifier);
  if (!tokens) return std::move(tokens).error();
  const auto* id_token_v = tokens->if_contains("id_token");
  if (!id_token_v || !id_token_v->is_string()) return LoginFailed("the provider sent no ID token");
  const std::string id_token(id_token_v->get_string());
  const TokenRules rules{.issuer = issuer_.issuer(), .audience = settings_.client_id};
  auto keys = issuer_.Keys(false);
  Result<boost::json::object> claims =
      keys ? VerifyJwt(id_token, *keys, rules, now) : Result<boost::json::object>(LoginFailed("x"));
  if (!claims && (!keys || claims.error().type == "unknown-key")) {
    keys = issuer_.Keys(true);
    if (keys) claims = VerifyJwt(id_token, *keys, rules, now);
  }
  if (!claims) return LoginFailed("the ID token is not valid: " + claims.error().detail);
  const auto* n = claims->if_contains("nonce");
  if (!n || !n->is_string() || !ConstantTimeEquals(n->get_string(), nonce)) {
    return LoginFailed("the ID token's nonce does not match this sign-in");
  }
  const auto* sub = claims->if_contains("sub");
  if (!sub || !sub->is_string() || sub->get_string().empty()) {
    return LoginFailed("the ID token names no subject");
  }
  return IdpSignIn{
      .subject = std::string(sub->get_string()),
      .claims = *std::move(claims),
      .grant = {.id_token = id_token, .refresh_token = StringMember(*tokens, "refresh_token")},
      .return_to = return_to};
}

Result<IdpGrant> OidcLogin::Refresh(const std::string& refresh_token) {
  auto tokens =
      issuer_.TokenRequest(settings_.client_id, settings_.client_secret,
                           "grant_type=refresh_token&refresh_token=" + Enc(refresh_token));
  if (!tokens) return std::move(tokens).error();
  // A provider may rotate the refresh token (and send a new ID token, kept only as the logout
  // hint); otherwise the old refresh token stays good.
  IdpGrant grant{.id_token = StringMember(*tokens, "id_token"),
                 .refresh_token = StringMember(*tokens, "refresh_token")};
  if (grant.refresh_token.empty()) grant.refresh_token = refresh_token;
  return grant;
}

std::string OidcLogin::EndSessionUrl(const std::string& id_token,
                                     const std::string& post_logout_uri) {
  auto meta = issuer_.Metadata();
  if (!meta || meta->end_session_endpoint.empty()) return "";
  const char sep = meta->end_session_endpoint.find('?') == std::string::npos ? '?' : '&';
  return meta->end_session_endpoint + sep + "id_token_hint=" + Enc(id_token) +
         "&post_logout_redirect_uri=" + Enc(post_logout_uri) +
         "&client_id=" + Enc(settings_.client_id);
}

std::optional<PortalSession> OidcLogin::Find(const std::string& token) {
  if (token.empty() || token.size() > 128) return std::nullopt;
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) {
    row = s.FetchOne(kSelectSession, {Sha256Hex(token), FormatStorage(clock_.Now())});
  });
  if (!row) return std::nullopt;
  boost::system::error_code ec;
  auto claims = boost::json::parse(row->Text(1), ec);
  return PortalSession{.subject = row->Text(0),
                       .claims = claims.is_object() ? claims.as_object() : boost::json::object{},
                       .csrf_token = row->Text(2),
                       .expires_at = ParseTimestamp(row->Text(3)).value_or(Timestamp{})};
}

Result<std::string> OidcLogin::Logout(const std::string& token, const audit::Actor& from) {
  std::optional<storage::Row> row;
  if (!token.empty() && token.size() <= 128) {
    db_.Read([&](storage::Session& s) {
      row = s.FetchOne(kSelectSession, {Sha256Hex(token), FormatStorage(clock_.Now())});
    });
  }
  if (!row) {
    return Error{ErrorKind::kUnauthenticated, "no-session", "Not signed in",
                 "there is no portal session to end"};
  }
  const std::string id_token = row->Text(4);
  db_.Write([&](storage::Session& s) {
    s.Execute(kDeleteSession, {Sha256Hex(token)});
    audit::Record(s, clock_, audit::Actor{row->Text(0), from.request_id, from.source_ip},
                  {std::nullopt, "portal.sign_out", 'd', "session", row->Text(0),
                   "signed out of the portal", "{}"});
  });
  std::string url = EndSessionUrl(id_token, settings_.post_logout_redirect_uri);
  return url.empty() ? std::string("/portal") : url;
}

}  // namespace breakpilot::identity
