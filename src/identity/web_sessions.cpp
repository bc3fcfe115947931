#include "identity/web_sessions.hpp"

#include "core/crypto.hpp"
#include "core/uuid.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

#define BP_WEB_SESSION_COLUMNS                                                             \
  "id, user_id, site, csrf_token, user_agent, created_at, last_seen_at, idle_expires_at, " \
  "expires_at, idp_id_token, idp_refresh_at, idp_refresh_sealed"

constexpr Query kInsert{
    "web_session_insert",
    "INSERT INTO web_sessions (id, token_hash, user_id, site, csrf_token, user_agent, created_at,"
    " last_seen_at, idle_expires_at, expires_at, handoff_hash, handoff_expires_at, idp_id_token,"
    " idp_refresh_sealed, idp_refresh_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14)"};
constexpr Query kSelectByToken{"web_session_select_by_token",
                               "SELECT " BP_WEB_SESSION_COLUMNS
                               " FROM web_sessions WHERE token_hash = $1 AND site = $2"
                               " AND expires_at > $3 AND idle_expires_at > $3"
                               " AND handoff_hash IS NULL"};
constexpr Query kSelectByHandoff{"web_session_select_by_handoff",
                                 "SELECT " BP_WEB_SESSION_COLUMNS
                                 ", handoff_expires_at FROM web_sessions WHERE handoff_hash = $1"};
constexpr Query kTakeHandoff{"web_session_take_handoff",
                             "UPDATE web_sessions SET token_hash = $2, handoff_hash = NULL,"
                             " handoff_expires_at = NULL, idp_refresh_sealed = $3 WHERE id = $1"};
// Claims a due refresh: only the request that still sees the old due time moves it.
constexpr Query kClaimRefresh{"web_session_claim_refresh",
                              "UPDATE web_sessions SET idp_refresh_at = $3"
                              " WHERE id = $1 AND idp_refresh_at = $2"};
constexpr Query kStoreGrant{"web_session_store_grant",
                            "UPDATE web_sessions SET idp_id_token = $2, idp_refresh_sealed = $3,"
                            " idp_refresh_at = $4 WHERE id = $1"};
constexpr Query kDeleteById{"web_session_delete_by_id", "DELETE FROM web_sessions WHERE id = $1"};
constexpr Query kTouch{"web_session_touch",
                       "UPDATE web_sessions SET last_seen_at = $2, idle_expires_at = $3"
                       " WHERE id = $1"};
constexpr Query kSelectForUser{"web_session_select_for_user",
                               "SELECT " BP_WEB_SESSION_COLUMNS
                               " FROM web_sessions WHERE user_id = $1 AND expires_at > $2"
                               " AND idle_expires_at > $2 AND handoff_hash IS NULL"
                               " ORDER BY created_at DESC, id DESC"};
constexpr Query kSelectIdByToken{
    "web_session_select_id_by_token",
    "SELECT id, user_id, site FROM web_sessions WHERE token_hash = $1"};
constexpr Query kDeleteForUserById{"web_session_delete_for_user_by_id",
                                   "DELETE FROM web_sessions WHERE user_id = $1 AND id = $2"};
constexpr Query kDeleteForUser{"web_session_delete_for_user",
                               "DELETE FROM web_sessions WHERE user_id = $1"};
constexpr Query kPrune{"web_session_prune",
                       "DELETE FROM web_sessions WHERE expires_at <= $1 OR idle_expires_at <= $1"
                       " OR (handoff_hash IS NOT NULL AND handoff_expires_at <= $1)"};

#undef BP_WEB_SESSION_COLUMNS

constexpr auto kTouchEvery = std::chrono::seconds(60);
constexpr std::size_t kMaxToken = 128;
constexpr std::size_t kMaxUserAgent = 256;

WebSession FromRow(const storage::Row& r) {
  const auto idle_end = storage::StoredTime(r.Text(7), 7);
  const auto end = storage::StoredTime(r.Text(8), 8);
  return WebSession{.id = r.Text(0),
                    .user_id = r.Text(1),
                    .site = r.Text(2),
                    .csrf_token = r.Text(3),
                    .user_agent = r.Text(4),
                    .created_at = storage::StoredTime(r.Text(5), 5),
                    .last_seen_at = storage::StoredTime(r.Text(6), 6),
                    .expires_at = std::min(idle_end, end),
                    .idp_id_token = r.Optional(9).value_or(""),
                    .idp_refresh_at = r.IsNull(10)
                                          ? std::nullopt
                                          : std::optional(storage::StoredTime(r.Text(10), 10)),
                    .idp_refresh_sealed = r.Optional(11).value_or("")};
}

// The refresh token is sealed under the cookie token (or, until the handoff, its code) and
// bound to the session.
std::string RefreshPurpose(const std::string& session_id) {
  return "web-session.idp-refresh|" + session_id;
}

std::optional<std::string> TenantOf(const std::string& site) {
  if (site.rfind("tenant:", 0) == 0) return site.substr(7);
  return std::nullopt;
}

// Only printable ASCII of a browser's User-Agent is kept, and not all of it.
std::string CleanUserAgent(std::string_view ua) {
  std::string out;
  for (const char c : ua.substr(0, kMaxUserAgent)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

std::string TenantSite(const std::string& tenant_id) {
  return "tenant:" + tenant_id;
}

std::string WebSessions::Insert(const audit::Actor& actor, const std::string& user_id,
                                const std::string& site, std::string_view user_agent,
                                std::optional<std::string> handoff_code, const IdpGrant* grant) {
  const Timestamp now = clock_.Now();
  const std::string id = NewUuidV7(now);
  std::string token = RandomToken(32);
  storage::Param handoff_hash, handoff_end, id_token, sealed, refresh_at;
  if (handoff_code) {
    handoff_hash = Sha256Hex(*handoff_code);
    handoff_end = FormatStorage(AddSeconds(now, settings_.handoff.count()));
  }
  if (grant != nullptr) {
    id_token = grant->id_token;
    if (!grant->refresh_token.empty()) {
      sealed = Seal(handoff_code.value_or(token), RefreshPurpose(id), grant->refresh_token);
      refresh_at = FormatStorage(AddSeconds(now, settings_.idp_refresh.count()));
    }
  }
  db_.Write([&](storage::Session& s) {
    s.Execute(kInsert, {id, Sha256Hex(token), user_id, site, std::string(RandomToken(32)),
                        CleanUserAgent(user_agent), FormatStorage(now),
                        FormatStorage(AddSeconds(now, settings_.idle.count())),
                        FormatStorage(AddSeconds(now, settings_.absolute.count())), handoff_hash,
                        handoff_end, id_token, sealed, refresh_at});
    audit::Record(s, clock_, actor,
                  {TenantOf(site), "portal.sign_in", 'c', "session", id,
                   "signed in to the portal (" + site + ")"});
  });
  return token;
}

WebSession WebSessions::Create(const audit::Actor& actor, const std::string& user_id,
                               const std::string& site, std::string_view user_agent) {
  const std::string token = Insert(actor, user_id, site, user_agent, std::nullopt, nullptr);
  auto s = Find(token, site);
  if (!s) throw std::logic_error("a session just created is not found");
  s->token = token;
  return *std::move(s);
}

std::string WebSessions::CreateForHandoff(const audit::Actor& actor, const std::string& user_id,
                                          const std::string& site, std::string_view user_agent,
                                          const IdpGrant* grant) {
  std::string code = RandomToken(32);
  Insert(actor, user_id, site, user_agent, code, grant);
  return code;
}

std::optional<WebSession> WebSessions::TakeHandoff(std::string_view code, const std::string& site) {
  if (code.empty() || code.size() > kMaxToken) return std::nullopt;
  std::optional<WebSession> out;
  const std::string token = RandomToken(32);
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectByHandoff, {Sha256Hex(code)});
    if (!row) return;
    const auto session = FromRow(*row);
    const bool current = !row->IsNull(12) && storage::StoredTime(row->Text(12), 12) > clock_.Now();
    if (!current || session.site != site) {
      s.Execute(kDeleteById, {session.id});  // spent: a code works once, on its own site
      return;
    }
    // The grant's refresh token moves from under the code to under the new token.
    storage::Param sealed;
    std::string refresh_token;
    if (Unseal(code, RefreshPurpose(session.id), session.idp_refresh_sealed, refresh_token)) {
      sealed = Seal(token, RefreshPurpose(session.id), refresh_token);
    }
    s.Execute(kTakeHandoff, {session.id, Sha256Hex(token), sealed});
    out = session;
    out->token = token;
    out->idp_refresh_sealed = sealed.value_or("");
  });
  return out;
}

std::optional<WebSession> WebSessions::Find(std::string_view token, const std::string& site) {
  if (token.empty() || token.size() > kMaxToken) return std::nullopt;
  const Timestamp now = clock_.Now();
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) {
    row = s.FetchOne(kSelectByToken, {Sha256Hex(token), site, FormatStorage(now)});
  });
  if (!row) return std::nullopt;
  auto session = FromRow(*row);
  if (now.micros - session.last_seen_at.micros >= kTouchEvery.count() * kMicrosPerSecond) {
    const Timestamp idle_end = AddSeconds(now, settings_.idle.count());
    db_.Write([&](storage::Session& s) {
      s.Execute(kTouch, {session.id, FormatStorage(now), FormatStorage(idle_end)});
    });
    session.last_seen_at = now;
    const auto end = storage::StoredTime(row->Text(8), 8);
    session.expires_at = std::min(idle_end, end);
  }
  return session;
}

bool WebSessions::End(const audit::Actor& actor, std::string_view token) {
  if (token.empty() || token.size() > kMaxToken) return false;
  bool ended = false;
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectIdByToken, {Sha256Hex(token)});
    if (!row) return;
    s.Execute(kDeleteById, {row->Text(0)});
    audit::Record(s, clock_, actor,
                  {TenantOf(row->Text(2)), "portal.sign_out", 'd', "session", row->Text(0),
                   "signed out of the portal"});
    ended = true;
  });
  return ended;
}

std::vector<WebSession> WebSessions::ListForUser(const std::string& user_id) {
  std::vector<WebSession> out;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kSelectForUser, {user_id, FormatStorage(clock_.Now())})) {
      out.push_back(FromRow(r));
    }
  });
  return out;
}

bool WebSessions::EndById(const audit::Actor& actor, const std::string& user_id,
                          const std::string& id) {
  bool ended = false;
  db_.Write([&](storage::Session& s) {
    ended = s.Execute(kDeleteForUserById, {user_id, id}) > 0;
    if (ended) {
      audit::Record(s, clock_, actor,
                    {std::nullopt, "portal.sign_out", 'd', "session", id,
                     "a portal session was ended from the session list"});
    }
  });
  return ended;
}

std::int64_t WebSessions::EndAllForUser(const audit::Actor& actor, const std::string& user_id) {
  std::int64_t n = 0;
  db_.Write([&](storage::Session& s) {
    n = s.Execute(kDeleteForUser, {user_id});
    audit::Record(s, clock_, actor,
                  {std::nullopt, "portal.sign_out_everywhere", 'd', "user", user_id,
                   "ended every portal session of the user (" + std::to_string(n) + ")"});
  });
  return n;
}

std::optional<std::string> WebSessions::ClaimRefresh(const WebSession& session,
                                                     std::string_view token) {
  const Timestamp now = clock_.Now();
  if (!session.idp_refresh_at || *session.idp_refresh_at > now) return std::nullopt;
  std::string refresh_token;
  if (!Unseal(token, RefreshPurpose(session.id), session.idp_refresh_sealed, refresh_token)) {
    return std::nullopt;
  }
  std::int64_t claimed = 0;
  db_.Write([&](storage::Session& s) {
    claimed =
        s.Execute(kClaimRefresh, {session.id, FormatStorage(*session.idp_refresh_at),
                                  FormatStorage(AddSeconds(now, settings_.idp_retry.count()))});
  });
  if (claimed == 0) return std::nullopt;
  return refresh_token;
}

void WebSessions::StoreGrant(const WebSession& session, std::string_view token,
                             const IdpGrant& grant) {
  storage::Param sealed, refresh_at;
  if (!grant.refresh_token.empty()) {
    sealed = Seal(token, RefreshPurpose(session.id), grant.refresh_token);
    refresh_at = FormatStorage(AddSeconds(clock_.Now(), settings_.idp_refresh.count()));
  }
  const std::string id_token = grant.id_token.empty() ? session.idp_id_token : grant.id_token;
  db_.Write([&](storage::Session& s) {
    s.Execute(kStoreGrant, {session.id, id_token, sealed, refresh_at});
  });
}

std::int64_t WebSessions::Prune() {
  std::int64_t n = 0;
  db_.Write([&](storage::Session& s) { n = s.Execute(kPrune, {FormatStorage(clock_.Now())}); });
  return n;
}

}  // namespace breakpilot::identity
