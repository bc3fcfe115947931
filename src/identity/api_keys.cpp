#include "identity/api_keys.hpp"

#include <boost/crc.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::identity {
namespace {

using storage::Query;

const Logger kLog("api_keys");

constexpr std::string_view kPrefix = "bpk_";
constexpr std::size_t kRandomChars = 32;
constexpr std::size_t kChecksumChars = 6;
constexpr std::size_t kKeyLength = kPrefix.size() + kRandomChars + kChecksumChars;
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define BP_KEY_COLUMNS                                                                       \
  "id, tenant_id, name, prefix, scopes, expires_at, revoked_at, last_used_at, replaced_by, " \
  "created_at"
constexpr Query kInsertKey{"api_key_insert",
                           "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes,"
                           " expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Query kSelectKey{"api_key_select",
                           "SELECT " BP_KEY_COLUMNS " FROM api_keys WHERE id = $1"};
constexpr Query kSelectKeyForUpdate{
    "api_key_select_for_update", "SELECT " BP_KEY_COLUMNS " FROM api_keys WHERE id = $1 FOR UPDATE",
    "SELECT " BP_KEY_COLUMNS " FROM api_keys WHERE id = $1"};
constexpr Query kSelectKeys{
    "api_key_list",
    "SELECT " BP_KEY_COLUMNS
    " FROM api_keys WHERE tenant_id = $1"
    " AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3::integer",
    "SELECT " BP_KEY_COLUMNS
    " FROM api_keys WHERE tenant_id = $1"
    " AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT CAST($3 AS INTEGER)"};
constexpr Query kSelectForVerify{
    "api_key_verify",
    "SELECT k.id, k.tenant_id, t.status, k.scopes, k.expires_at, k.revoked_at"
    " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.secret_hash = $1"};
constexpr Query kRevokeKey{
    "api_key_revoke", "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"};
constexpr Query kReplaceKey{"api_key_replace",
                            "UPDATE api_keys SET replaced_by = $2, expires_at = $3 WHERE id = $1"};
constexpr Query kTouchKey{"api_key_touch",
                          "UPDATE api_keys SET last_used_at = $2 WHERE id = $1"
                          " AND (last_used_at IS NULL OR last_used_at < $2)"};

std::string Checksum(std::string_view body) {
  boost::crc_32_type crc;
  crc.process_bytes(body.data(), body.size());
  std::uint32_t v = crc.checksum();
  std::string out(kChecksumChars, '0');
  for (std::size_t i = kChecksumChars; i-- > 0;) {
    out[i] = kBase62[v % 62];
    v /= 62;
  }
  return out;
}

std::string NewSecret() {
  std::string body(kPrefix);
  while (body.size() < kPrefix.size() + kRandomChars) {
    unsigned char buf[48];
    RandomBytes(buf, sizeof buf);
    for (unsigned char b : buf) {
      if (b < 248 && body.size() < kPrefix.size() + kRandomChars) body.push_back(kBase62[b % 62]);
    }
  }
  return body + Checksum(body);
}

std::vector<std::string> ParseScopes(std::string_view json) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

std::string ScopesJson(const std::vector<std::string>& scopes) {
  boost::json::array a;
  for (const auto& s : scopes) a.emplace_back(s);
  return boost::json::serialize(a);
}

ApiKey RowToKey(const storage::Row& r) {
  ApiKey k;
  k.id = r.Text(0);
  k.tenant_id = r.Text(1);
  k.name = r.Text(2);
  k.prefix = r.Text(3);
  k.scopes = ParseScopes(r.Text(4));
  k.expires_at = r.OptionalTime(5);
  k.revoked_at = r.OptionalTime(6);
  k.last_used_at = r.OptionalTime(7);
  k.replaced_by = r.Optional(8);
  k.created_at = r.OptionalTime(9).value_or(Timestamp{});
  return k;
}

// "<product>:<permission>", lower case: "certifai:read".
bool ValidScope(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() || s.size() > 64) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

Error KeyNotFound(const std::string& id) {
  return NotFound("api-key-not-found", "no API key with id " + id);
}

std::string KeyEvent(const std::string& id) {
  return "apikey:" + id;
}

// The prefix, the length and base62 characters: what a key looks like before its checksum.
bool HasApiKeyShape(std::string_view secret) {
  if (secret.size() != kKeyLength || secret.substr(0, kPrefix.size()) != kPrefix) return false;
  return std::all_of(secret.begin() + kPrefix.size(), secret.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

// For a key of the right shape: its last characters are the checksum of the rest.
bool ChecksumMatches(std::string_view secret) {
  const auto body = secret.substr(0, kPrefix.size() + kRandomChars);
  return secret.substr(body.size()) == Checksum(body);
}

}  // namespace

bool LooksLikeApiKey(std::string_view secret) {
  return HasApiKeyShape(secret) && ChecksumMatches(secret);
}

ApiKeyService::ApiKeyService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {
  subscription_ = db_.Subscribe([this](std::string_view event) { OnEvent(event); });
}

ApiKeyService::~ApiKeyService() {
  db_.Unsubscribe(subscription_);
}

void ApiKeyService::OnEvent(std::string_view event) {
  cache_.OnEvent([&](Cache& c) {
    if (event == "*") {
      c.by_hash.clear();
      c.hash_of.clear();
    } else if (event.rfind("apikey:", 0) == 0) {
      if (auto it = c.hash_of.find(std::string(event.substr(7))); it != c.hash_of.end()) {
        c.by_hash.erase(it->second);
        c.hash_of.erase(it);
      }
    } else if (event.rfind("tenant:", 0) == 0) {
      const std::string_view tenant = event.substr(7);
      std::erase_if(c.by_hash, [&](const auto& kv) {
        if (kv.second->key.tenant_id != tenant) return false;
        c.hash_of.erase(kv.second->key.id);
        return true;
      });
    }
  });
}

Result<NewApiKey> ApiKeyService::Insert(storage::Session& s, const audit::Actor& actor, ApiKey key,
                                        std::string_view action) {
  NewApiKey out{std::move(key), NewSecret()};
  out.key.prefix = out.secret.substr(0, 12);
  s.Execute(kInsertKey,
            {out.key.id, out.key.tenant_id, out.key.name, out.key.prefix, Sha256Hex(out.secret),
             ScopesJson(out.key.scopes), storage::TimeParam(out.key.expires_at),
             FormatStorage(out.key.created_at)});
  audit::Record(s, clock_, actor,
                {out.key.tenant_id, std::string(action), 'c', "api_key", out.key.id,
                 "API key '" + out.key.name + "' (" + out.key.prefix + "...)",
                 boost::json::serialize(boost::json::object{
                     {"name", out.key.name},
                     {"prefix", out.key.prefix},
                     {"scopes", boost::json::parse(ScopesJson(out.key.scopes))}})});
  return out;
}

Result<NewApiKey> ApiKeyService::Create(const audit::Actor& actor, const CreateApiKeyInput& in) {
  std::vector<FieldError> errors;
  const Timestamp now = clock_.Now();
  if (!IsCanonicalUuid(in.tenant_id)) errors.push_back({"/tenant_id", "must be a UUID"});
  AddFieldError(errors, "/name", tenants::ValidateDisplayName(in.name, 100));
  if (in.scopes.empty()) errors.push_back({"/scopes", "name at least one scope"});
  if (in.scopes.size() > 32) errors.push_back({"/scopes", "at most 32 scopes"});
  for (std::size_t i = 0; i < in.scopes.size() && i < 32; ++i) {
    if (!ValidScope(in.scopes[i])) {
      errors.push_back({"/scopes/" + std::to_string(i),
                        "must look like <product>:<permission>, lower case (certifai:read)"});
    }
  }
  std::optional<Timestamp> expires;
  if (in.expires_at) {
    expires = ParseTimestamp(*in.expires_at);
    if (!expires) {
      errors.push_back({"/expires_at", "must be an RFC 3339 date-time"});
    } else if (*expires <= now) {
      errors.push_back({"/expires_at", "must be in the future"});
    }
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  const std::string tenant_id = NormalizeUuid(in.tenant_id);
  std::optional<Result<NewApiKey>> out;
  db_.Write([&](storage::Session& s) {
    auto t = tenants::store::SelectTenant(s, tenant_id);
    if (!t) return void(out = tenants::TenantNotFound(tenant_id));
    if (t->status == tenants::Status::kArchived)
      return void(out = tenants::TenantArchived(tenant_id));
    ApiKey k{.id = NewUuidV7(now),
             .tenant_id = tenant_id,
             .name = in.name,
             .scopes = in.scopes,
             .expires_at = expires,
             .created_at = now};
    out = Insert(s, actor, std::move(k), "api_key.create");
  });
  return *std::move(out);
}

Result<ApiKey> ApiKeyService::Get(const std::string& id) {
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelectKey, {id}); });
  if (!row) return KeyNotFound(id);
  return RowToKey(*row);
}

Result<tenants::Page<ApiKey>> ApiKeyService::List(const std::string& tenant_id,
                                                  const std::optional<std::string>& cursor,
                                                  std::optional<int> limit) {
  auto after = tenants::DecodeCursor(cursor);
  if (!after) return std::move(after).error();
  auto n = tenants::CheckLimit(limit);
  if (!n) return std::move(n).error();
  tenants::Page<ApiKey> page;
  bool tenant_exists = false;
  db_.Read([&](storage::Session& s) {
    tenant_exists = tenants::store::SelectTenant(s, tenant_id).has_value();
    if (!tenant_exists) return;
    for (const auto& r : s.Fetch(kSelectKeys, {tenant_id, *after, std::to_string(*n + 1)})) {
      page.items.push_back(RowToKey(r));
    }
  });
  if (!tenant_exists) return tenants::TenantNotFound(tenant_id);
  if (static_cast<int>(page.items.size()) > *n) {
    page.items.resize(static_cast<std::size_t>(*n));
    page.next_cursor = tenants::EncodeCursor(page.items.back().id);
  }
  return page;
}

Result<NewApiKey> ApiKeyService::Rotate(const audit::Actor& actor, const std::string& id,
                                        std::int64_t grace_seconds) {
  if (grace_seconds < 0 || grace_seconds > kMaxRotationGraceSeconds) {
    return ValidationFailed({{"/grace_seconds", "must be from 0 to 2592000 (30 days)"}});
  }
  const Timestamp now = clock_.Now();
  std::optional<Result<NewApiKey>> out;
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectKeyForUpdate, {id});
    if (!row) return void(out = KeyNotFound(id));
    const ApiKey old = RowToKey(*row);
    if (old.revoked_at) {
      return void(out = Conflict("api-key-revoked", "API key revoked",
                                 "a revoked key cannot be rotated; create a new one"));
    }
    if (old.replaced_by) {
      return void(out = Conflict("api-key-rotated", "API key already rotated",
                                 "this key was already replaced by " + *old.replaced_by));
    }
    if (old.expires_at && *old.expires_at <= now) {
      return void(out = Conflict("api-key-expired", "API key expired",
                                 "an expired key cannot be rotated; create a new one"));
    }
    auto t = tenants::store::SelectTenant(s, old.tenant_id);
    if (t && t->status == tenants::Status::kArchived) {
      return void(out = tenants::TenantArchived(old.tenant_id));
    }
    ApiKey next{.id = NewUuidV7(now),
                .tenant_id = old.tenant_id,
                .name = old.name,
                .scopes = old.scopes,
                .expires_at = old.expires_at,
                .created_at = now};
    Timestamp grace_end = AddSeconds(now, grace_seconds);
    if (old.expires_at && *old.expires_at < grace_end) grace_end = *old.expires_at;
    s.Execute(kReplaceKey, {old.id, next.id, FormatStorage(grace_end)});
    s.Notify(KeyEvent(old.id));
    out = Insert(s, actor, std::move(next), "api_key.rotate");
  });
  return *std::move(out);
}

Result<ApiKey> ApiKeyService::Revoke(const audit::Actor& actor, const std::string& id) {
  const Timestamp now = clock_.Now();
  std::optional<Result<ApiKey>> out;
  db_.Write([&](storage::Session& s) {
    auto row = s.FetchOne(kSelectKeyForUpdate, {id});
    if (!row) return void(out = KeyNotFound(id));
    ApiKey k = RowToKey(*row);
    if (!k.revoked_at && s.Execute(kRevokeKey, {id, FormatStorage(now)}) == 1) {
      k.revoked_at = now;
      s.Notify(KeyEvent(id));
      audit::Record(s, clock_, actor,
                    {k.tenant_id, "api_key.revoke", 'd', "api_key", id,
                     "revoked API key '" + k.name + "' (" + k.prefix + "...)", "{}"});
    }
    out = std::move(k);
  });
  return *std::move(out);
}

std::optional<ApiKeyService::Cached> ApiKeyService::Load(const std::string& hash) {
  std::optional<storage::Row> row;
  db_.Read([&](storage::Session& s) { row = s.FetchOne(kSelectForVerify, {hash}); });
  if (!row) return std::nullopt;
  return Cached{.id = row->Text(0),
                .tenant_id = row->Text(1),
                .tenant_status = row->Text(2),
                .scopes = ParseScopes(row->Text(3)),
                .expires_at = row->OptionalTime(4),
                .revoked = !row->IsNull(5)};
}

std::string VerificationJson(const Verification& v) {
  boost::json::object o;
  o["valid"] = v.valid;
  if (!v.valid) o["reason"] = v.reason;
  if (!v.key_id.empty()) {
    o["key_id"] = v.key_id;
    o["tenant_id"] = v.tenant_id;
    o["tenant_status"] = v.tenant_status;
    boost::json::array scopes;
    for (const auto& scope : v.scopes) scopes.emplace_back(scope);
    o["scopes"] = std::move(scopes);
    o["expires_at"] = v.expires_at ? boost::json::value(FormatRfc3339(*v.expires_at)) : nullptr;
  }
  return boost::json::serialize(o);
}

std::string_view ApiKeyService::Refusal(const Cached& k, Timestamp now) {
  if (k.revoked) return "revoked";
  if (k.expires_at && *k.expires_at <= now) return "expired";
  if (k.tenant_status == "archived") return "tenant_archived";
  return {};
}

Verification ApiKeyService::VerificationOf(const Cached& k, std::string_view refusal) {
  return Verification{.valid = refusal.empty(),
                      .reason = std::string(refusal),
                      .key_id = k.id,
                      .tenant_id = k.tenant_id,
                      .tenant_status = k.tenant_status,
                      .scopes = k.scopes,
                      .expires_at = k.expires_at};
}

ApiKeyService::Entry::Entry(Cached k)
    : key(std::move(k)), valid_answer(VerificationJson(VerificationOf(key, {}))) {}

template <class Fn, class MayLoad>
auto ApiKeyService::WithEntry(const std::string& hash, Fn&& fn, MayLoad&& may_load) {
  using Answer = decltype(fn(static_cast<const Entry*>(nullptr)));
  std::optional<Answer> out;
  cache_.Read([&](const Cache& c) {
    if (auto it = c.by_hash.find(hash); it != c.by_hash.end()) out.emplace(fn(it->second.get()));
  });
  if (out) return std::move(*out);
  if (!may_load()) return fn(nullptr);
  const auto ticket = cache_.Ticket();  // before the read: see EventGuarded
  auto loaded = Load(hash);
  // Not cached: a key created on another replica must verify at once.
  if (!loaded) return fn(nullptr);
  auto entry = std::make_unique<const Entry>(std::move(*loaded));
  Answer answer = fn(entry.get());
  cache_.StoreIfCurrent(ticket, [&](Cache& c) {
    if (c.by_hash.size() >= 200'000) {
      c.by_hash.clear();
      c.hash_of.clear();
    }
    c.hash_of[entry->key.id] = hash;
    c.by_hash[hash] = std::move(entry);
  });
  return answer;
}

void ApiKeyService::NoteUse(const Entry& e, Timestamp now) {
  const std::int64_t second = now.micros / kMicrosPerSecond;
  if (e.noted_second.load(std::memory_order_relaxed) == second) return;
  e.noted_second.store(second, std::memory_order_relaxed);
  std::lock_guard lock(used_mu_);
  used_[e.key.id] = now;
}

template <class Fn>
auto ApiKeyService::Judge(std::string_view secret, Fn&& answer) {
  if (!HasApiKeyShape(secret)) return answer(nullptr, "malformed");
  const Timestamp now = clock_.Now();
  // Only keys we issued are ever cached, and their checksums are right, so the checksum (250 ns
  // in a profile) is checked on a cache miss only, before the database is asked: a mistyped key
  // is "malformed" and costs no query.
  bool checksum_ok = true;
  return WithEntry(
      Sha256Hex(secret),
      [&](const Entry* e) {
        if (!e) return answer(nullptr, checksum_ok ? "unknown" : "malformed");
        const auto refusal = Refusal(e->key, now);
        if (refusal.empty()) NoteUse(*e, now);
        return answer(e, refusal);
      },
      [&] { return checksum_ok = ChecksumMatches(secret); });
}

Verification ApiKeyService::VerificationOf(const Entry* e, std::string_view refusal) {
  return e ? VerificationOf(e->key, refusal) : Verification{.reason = std::string(refusal)};
}

Verification ApiKeyService::Verify(std::string_view secret) {
  return Judge(secret,
               [](const Entry* e, std::string_view refusal) { return VerificationOf(e, refusal); });
}

std::string ApiKeyService::VerifyJson(std::string_view secret) {
  return Judge(secret, [](const Entry* e, std::string_view refusal) {
    return e && refusal.empty() ? e->valid_answer : VerificationJson(VerificationOf(e, refusal));
  });
}

void ApiKeyService::FlushLastUsed() {
  std::unordered_map<std::string, Timestamp> batch;
  {
    std::lock_guard lock(used_mu_);
    batch.swap(used_);
  }
  if (batch.empty()) return;
  try {
    db_.Write([&](storage::Session& s) {
      for (const auto& [id, at] : batch) s.Execute(kTouchKey, {id, FormatStorage(at)});
    });
  } catch (const std::exception& e) {
    kLog.Warn("last_used_at not written", {{"keys", batch.size()}, {"error", ErrorText(e)}});
  }
}

}  // namespace breakpilot::identity
