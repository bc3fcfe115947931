// API keys (M15.1): created for a tenant with scopes ("certifai:read"), shown once, stored as a
// SHA-256 hash; listed without secrets; rotated with a grace period; revoked. Verification
// answers from an in-memory cache, kept right on every replica by events (storage::Database::
// Subscribe): a revocation or a tenant status change elsewhere drops the cached entry.
//
//   ApiKeyService keys(db, clock);
//   auto k = keys.Create(actor, {.tenant_id = t, .name = "ci", .scopes = {"certifai:read"}});
//   auto v = keys.Verify(k->secret);         // v.valid, v.key_id, v.tenant_status ...
//
// Secret format: "bpk_" + 32 base62 characters + 6 base62 characters of CRC-32 over the rest,
// so secret scanners can recognise a key and reject typos without a lookup.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/trail.hpp"
#include "core/event_guarded.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::identity {

struct ApiKey {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string prefix;  // the first 12 characters, to recognise a key in a list
  std::vector<std::string> scopes;
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> revoked_at;
  std::optional<Timestamp> last_used_at;
  std::optional<std::string> replaced_by;
  Timestamp created_at;
};

struct NewApiKey {
  ApiKey key;
  std::string secret;  // shown once
};

struct CreateApiKeyInput {
  std::string tenant_id;
  std::string name;
  std::vector<std::string> scopes;
  std::optional<std::string> expires_at;  // RFC 3339
};

struct Verification {
  bool valid = false;
  std::string reason;  // when not valid: malformed, unknown, revoked, expired, tenant_archived
  std::string key_id;
  std::string tenant_id;
  std::string tenant_status;
  std::vector<std::string> scopes;
  std::optional<Timestamp> expires_at;
};

// The answer of POST /internal/api-keys/verify: {"valid", "reason" (when not valid), and for a
// known key "key_id", "tenant_id", "tenant_status", "scopes", "expires_at"}.
std::string VerificationJson(const Verification& v);

inline constexpr std::int64_t kDefaultRotationGraceSeconds = 24LL * 3600;
inline constexpr std::int64_t kMaxRotationGraceSeconds = 30LL * 24 * 3600;

// True when `secret` has the shape and checksum of one of our keys.
bool LooksLikeApiKey(std::string_view secret);

class ApiKeyService {
 public:
  ApiKeyService(storage::Database& db, const Clock& clock);
  ~ApiKeyService();
  ApiKeyService(const ApiKeyService&) = delete;
  ApiKeyService& operator=(const ApiKeyService&) = delete;

  Result<NewApiKey> Create(const audit::Actor& actor, const CreateApiKeyInput& in);
  Result<ApiKey> Get(const std::string& id);
  Result<tenants::Page<ApiKey>> List(const std::string& tenant_id,
                                     const std::optional<std::string>& cursor,
                                     std::optional<int> limit);
  // A new key with the same tenant, name, scopes and expiry; the old one keeps working for
  // `grace_seconds` (0: stops now), then expires.
  Result<NewApiKey> Rotate(const audit::Actor& actor, const std::string& id,
                           std::int64_t grace_seconds);
  // Idempotent: revoking a revoked key changes nothing.
  Result<ApiKey> Revoke(const audit::Actor& actor, const std::string& id);

  Verification Verify(std::string_view secret);
  // Verify's answer as VerificationJson text; for a valid cached key, the text rendered when the
  // key was cached. A use is noted for last_used_at at most once a second per key and replica
  // (the first use in that second), so a verify takes no lock but the cache's read lock.
  std::string VerifyJson(std::string_view secret);
  // Writes the last-use times gathered since the previous flush, in one transaction.
  void FlushLastUsed();
  // Applies an event ("apikey:<id>", "tenant:<id>", "*").
  void OnEvent(std::string_view event);

 private:
  struct Cached {
    std::string id;
    std::string tenant_id;
    std::string tenant_status;
    std::vector<std::string> scopes;
    std::optional<Timestamp> expires_at;
    bool revoked = false;
  };
  // A cached key, with its answer while valid rendered once.
  struct Entry {
    explicit Entry(Cached k);
    Cached key;
    std::string valid_answer;
    // The last second in which a use was noted in used_ (seconds since the epoch).
    mutable std::atomic<std::int64_t> noted_second{0};
  };
  // Why a known key does not verify at `now`; empty when it does.
  static std::string_view Refusal(const Cached& k, Timestamp now);
  static Verification VerificationOf(const Cached& k, std::string_view refusal);
  // The same for a key not found (e null): malformed or unknown.
  static Verification VerificationOf(const Entry* e, std::string_view refusal);
  std::optional<Cached> Load(const std::string& hash);
  // Finds the key of secret hash `hash` (cache, else database, then cached) and returns
  // fn(entry), entry null for an unknown key. On a cache miss the database is asked only if
  // may_load() is true. A cached entry is read under the cache's read lock, so fn must be short
  // and must not touch the cache.
  template <class Fn, class MayLoad>
  auto WithEntry(const std::string& hash, Fn&& fn, MayLoad&& may_load);
  // Notes a use of a valid key at `now` for FlushLastUsed.
  void NoteUse(const Entry& e, Timestamp now);
  // Verify and VerifyJson: checks `secret`, notes the use of a valid key, and returns
  // answer(entry, refusal), entry null for a malformed or unknown key, refusal empty when valid.
  template <class Fn>
  auto Judge(std::string_view secret, Fn&& answer);
  Result<NewApiKey> Insert(storage::Session& s, const audit::Actor& actor, ApiKey key,
                           std::string_view action);

  storage::Database& db_;
  const Clock& clock_;
  struct Cache {
    std::unordered_map<std::string, std::unique_ptr<const Entry>> by_hash;  // by secret hash
    std::unordered_map<std::string, std::string> hash_of;                   // key id -> secret hash
  };
  EventGuarded<Cache> cache_;
  std::mutex used_mu_;
  std::unordered_map<std::string, Timestamp> used_;  // key id -> last use, not yet written
  std::uint64_t subscription_ = 0;
};

}  // namespace breakpilot::identity
