// The portal's sessions (M5.1): a person signed in on one site of the portal, a tenant's or the
// backstage. Server-side rows on either store, so any replica serves any session; the browser
// holds only a random token (an HttpOnly cookie), the database its SHA-256. A session ends when
// idle past its idle lifetime, at its absolute lifetime, at sign-out, or when its user signs
// out everywhere. No HTTP here: the portal turns tokens into cookies.
//
// A sign-in on the public site cannot set a cookie for a tenant's host name; it creates the
// session with a single-use handoff code instead, which the tenant's site exchanges for the
// session's token within a minute (Handoff / TakeHandoff).
//
//   WebSessions sessions(db, clock, {});
//   auto s = sessions.Create(actor, user.id, "tenant:" + tenant_id, user_agent);
//   auto who = sessions.Find(cookie, "tenant:" + tenant_id);   // nullopt: signed out
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::identity {

struct WebSessionSettings {
  std::chrono::seconds idle{2 * 3600};       // ends after this long without a request
  std::chrono::seconds absolute{12 * 3600};  // ends this long after sign-in, whatever happens
  std::chrono::seconds handoff{60};          // a handoff code is good this long, once
  std::chrono::seconds idp_refresh{300};     // a provider's grant is refreshed this often
  std::chrono::seconds idp_retry{60};        // after a refresh that could not reach it
};

// What a session begun at the OpenID provider keeps of the provider's grant. The refresh token
// is stored sealed under the session's cookie token (core/crypto Seal), never readable.
struct IdpGrant {
  std::string id_token;       // the hint for RP-initiated logout
  std::string refresh_token;  // empty: the provider gave none (the session is not refreshed)
};

struct WebSession {
  std::string id;     // names the session in lists; never the token
  std::string token;  // the cookie value: only when just created or handed over
  std::string user_id;
  std::string site;  // "tenant:<id>" or "backstage"
  std::string csrf_token;
  std::string user_agent;
  Timestamp created_at;
  Timestamp last_seen_at;
  Timestamp expires_at;                     // the sooner of the idle and the absolute end
  std::string idp_id_token;                 // set when the session began at the OpenID provider
  std::optional<Timestamp> idp_refresh_at;  // when its grant is next refreshed
  std::string idp_refresh_sealed;           // opens only with the token
};

// The site string of a tenant's portal.
std::string TenantSite(const std::string& tenant_id);
inline constexpr std::string_view kBackstageSite = "backstage";

class WebSessions {
 public:
  WebSessions(storage::Database& db, const Clock& clock, WebSessionSettings settings)
      : db_(db), clock_(clock), settings_(settings) {}

  // A new session, its token set.
  WebSession Create(const audit::Actor& actor, const std::string& user_id, const std::string& site,
                    std::string_view user_agent);
  // A new session to be handed to its site: returns the single-use code. `grant`: the
  // provider's, when the sign-in went through the OpenID provider.
  std::string CreateForHandoff(const audit::Actor& actor, const std::string& user_id,
                               const std::string& site, std::string_view user_agent,
                               const IdpGrant* grant = nullptr);
  // The handed-over session with a fresh token, when `code` is current and for `site`; the code
  // is spent either way.
  std::optional<WebSession> TakeHandoff(std::string_view code, const std::string& site);
  // The live session of `token` on `site` (a session of another site is not found); moves the
  // idle end forward at most once a minute.
  std::optional<WebSession> Find(std::string_view token, const std::string& site);
  // Ends the session of `token` (sign-out). False when there was none.
  bool End(const audit::Actor& actor, std::string_view token);
  // The user's live sessions, newest first.
  std::vector<WebSession> ListForUser(const std::string& user_id);
  // Ends one of the user's sessions by id; false when the user has no such session.
  bool EndById(const audit::Actor& actor, const std::string& user_id, const std::string& id);
  // Ends every session of the user ("sign out everywhere"); returns how many.
  std::int64_t EndAllForUser(const audit::Actor& actor, const std::string& user_id);
  // For a session whose provider grant is due for refresh: claims the refresh (of concurrent
  // requests on any replica, one wins; the others go on with the session as it is) and returns
  // the refresh token, opened with `token`. Nothing when not due, claimed elsewhere, or sealed
  // under another token. A claimed refresh is tried again after idp_retry unless StoreGrant.
  std::optional<std::string> ClaimRefresh(const WebSession& session, std::string_view token);
  // Keeps the provider's refreshed grant; the next refresh is due after idp_refresh.
  void StoreGrant(const WebSession& session, std::string_view token, const IdpGrant& grant);

  // Deletes ended sessions (hourly). Returns how many.
  std::int64_t Prune();

  const WebSessionSettings& settings() const { return settings_; }

 private:
  std::string Insert(const audit::Actor& actor, const std::string& user_id, const std::string& site,
                     std::string_view user_agent, std::optional<std::string> handoff_code,
                     const IdpGrant* grant);

  storage::Database& db_;
  const Clock& clock_;
  WebSessionSettings settings_;
};

}  // namespace breakpilot::identity
