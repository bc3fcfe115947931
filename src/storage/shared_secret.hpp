// Secrets every replica must share (HMAC keys for unsubscribe and download links): made at
// random by whichever replica asks first, kept in platform_secrets, the same for all after.
//
//   std::string key = SharedSecret(session, "mail.unsubscribe", clock.Now());
#pragma once

#include <string>
#include <string_view>

#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::storage {

// 32 random bytes (raw), created once per name. Works inside a caller's transaction.
std::string SharedSecret(Session& s, std::string_view name, Timestamp now);

// A shared secret cached per process: fetched once, then served from memory.
class SharedSecretCache {
 public:
  explicit SharedSecretCache(std::string name) : name_(std::move(name)) {}
  const std::string& Get(Session& s, Timestamp now);
  const std::string& Get(Database& db, Timestamp now);

 private:
  std::string name_;
  std::mutex mu_;
  std::string value_;
};

}  // namespace breakpilot::storage
