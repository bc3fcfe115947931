#include "storage/shared_secret.hpp"

#include "core/crypto.hpp"

namespace breakpilot::storage {
namespace {

constexpr Query kInsertSecret{
    "secret_insert",
    "INSERT INTO platform_secrets (name, value, created_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (name) DO NOTHING"};
constexpr Query kSelectSecret{"secret_select",
                              "SELECT value FROM platform_secrets WHERE name = $1"};

}  // namespace

std::string SharedSecret(Session& s, std::string_view name, Timestamp now) {
  const std::string n(name);
  if (auto row = s.FetchOne(kSelectSecret, {n})) {
    std::string raw;
    if (Base64UrlDecode(row->Text(0), raw)) return raw;
    throw DatabaseError("platform secret " + n + " is not base64url");
  }
  s.Execute(kInsertSecret, {n, RandomToken(32), FormatStorage(now)});
  auto row = s.FetchOne(kSelectSecret, {n});  // ours, or the one a replica wrote just before
  std::string raw;
  if (!row || !Base64UrlDecode(row->Text(0), raw)) {
    throw DatabaseError("platform secret " + n + " unavailable");
  }
  return raw;
}

const std::string& SharedSecretCache::Get(Session& s, Timestamp now) {
  std::lock_guard lock(mu_);
  if (value_.empty()) value_ = SharedSecret(s, name_, now);
  return value_;
}

const std::string& SharedSecretCache::Get(Database& db, Timestamp now) {
  {
    std::lock_guard lock(mu_);
    if (!value_.empty()) return value_;
  }
  std::string v;
  db.Write([&](Session& s) { v = SharedSecret(s, name_, now); });
  std::lock_guard lock(mu_);
  if (value_.empty()) value_ = std::move(v);
  return value_;
}

}  // namespace breakpilot::storage
