#include "storage/idempotency_store.hpp"

namespace breakpilot::storage {
namespace {

constexpr Query kReserve{
    "idempotency_reserve",
    "INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status, created_at)"
    " VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (principal, key) DO NOTHING"};
constexpr Query kSelect{"idempotency_select",
                        "SELECT request_hash, status, response, created_at FROM idempotency_keys"
                        " WHERE principal = $1 AND key = $2"};
constexpr Query kTakeOver{
    "idempotency_take_over",
    "UPDATE idempotency_keys SET method = $3, path = $4, request_hash = $5, status = 0,"
    " response = NULL, created_at = $6 WHERE principal = $1 AND key = $2 AND created_at = $7"};
constexpr Query kComplete{
    "idempotency_complete",
    "UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND key = $2"};
constexpr Query kRelease{"idempotency_release",
                         "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2"};

}  // namespace

IdempotencyStore::Claim IdempotencyStore::Reserve(const std::string& principal,
                                                  const std::string& key, const std::string& method,
                                                  const std::string& path,
                                                  const std::string& fingerprint, Timestamp now) {
  Claim claim{Outcome::kNoRecord};
  db_.Write([&](Session& s) {
    if (s.Execute(kReserve, {principal, key, method, path, fingerprint, FormatStorage(now)}) == 1) {
      claim.outcome = Outcome::kReserved;
      return;
    }
    auto row = s.FetchOne(kSelect, {principal, key});
    if (!row) return;  // released between the two statements
    const auto created = ParseTimestamp(row->Text(3)).value_or(now);
    const std::int64_t age = (now.micros - created.micros) / kMicrosPerSecond;
    const bool expired = age >= kRetentionSeconds;
    const bool stale = row->Int(1) == 0 && age >= kStaleInProgressSeconds;
    if (expired || stale) {
      const bool taken = s.Execute(kTakeOver, {principal, key, method, path, fingerprint,
                                               FormatStorage(now), row->Text(3)}) == 1;
      claim.outcome = taken ? Outcome::kReserved : Outcome::kInProgress;
      return;
    }
    if (row->Text(0) != fingerprint) {
      claim.outcome = Outcome::kReused;
    } else if (row->Int(1) == 0) {
      claim.outcome = Outcome::kInProgress;
    } else {
      claim = {Outcome::kAnswered, static_cast<int>(row->Int(1)), row->Text(2)};
    }
  });
  return claim;
}

void IdempotencyStore::Complete(const std::string& principal, const std::string& key, int status,
                                const std::string& stored) {
  db_.Write([&](Session& s) {
    s.Execute(kComplete, {principal, key, std::to_string(status), stored});
  });
}

void IdempotencyStore::Release(const std::string& principal, const std::string& key) {
  db_.Write([&](Session& s) { s.Execute(kRelease, {principal, key}); });
}

}  // namespace breakpilot::storage
