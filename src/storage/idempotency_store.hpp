// The records behind Idempotency-Key (api/idempotency.hpp), shared by every replica: one row per
// (caller, key) with the request's fingerprint and, once answered, the answer to replay. The
// HTTP side (which answers to keep, how to replay them) is api/idempotency.cpp's; this is only
// the records and their rules of age.
//
//   IdempotencyStore store(db);
//   auto claim = store.Claim(principal, key, "POST", "/tenants", fingerprint, now);
//   if (claim.outcome == IdempotencyStore::Outcome::kReserved) { ...run...; store.Complete(...); }
#pragma once

#include <optional>
#include <string>

#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::storage {

class IdempotencyStore {
 public:
  static constexpr std::int64_t kRetentionSeconds = std::int64_t{24} * 3600;
  static constexpr std::int64_t kStaleInProgressSeconds = 60;

  enum class Outcome {
    kReserved,    // this request runs, and its answer is recorded afterwards
    kNoRecord,    // released between two statements: run without a record
    kInProgress,  // another request with this key is running
    kReused,      // the key was used with another request
    kAnswered,    // answered before: replay `status` and `stored`
  };
  struct Claim {
    Outcome outcome;
    int status = 0;
    std::string stored;
  };

  explicit IdempotencyStore(Database& db) : db_(db) {}

  // In one transaction: reserves the key, or finds its record (an expired record, or one in
  // progress for over a minute, is taken over).
  Claim Reserve(const std::string& principal, const std::string& key, const std::string& method,
                const std::string& path, const std::string& fingerprint, Timestamp now);
  void Complete(const std::string& principal, const std::string& key, int status,
                const std::string& stored);
  void Release(const std::string& principal, const std::string& key);

 private:
  Database& db_;
};

}  // namespace breakpilot::storage
