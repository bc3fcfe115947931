#include "identity/password.hpp"

#include <argon2.h>

#include <stdexcept>
#include <vector>

#include "core/crypto.hpp"

namespace breakpilot::identity {

std::string HashPassword(std::string_view password, const PasswordCost& cost) {
  unsigned char salt[16];
  RandomBytes(salt, sizeof salt);
  const std::size_t len =
      argon2_encodedlen(cost.passes, cost.memory_kib, cost.lanes, sizeof salt, 32, Argon2_id);
  std::vector<char> out(len);
  const int rc = argon2id_hash_encoded(cost.passes, cost.memory_kib, cost.lanes, password.data(),
                                       password.size(), salt, sizeof salt, 32, out.data(), len);
  if (rc != ARGON2_OK) throw std::runtime_error(argon2_error_message(rc));
  return std::string(out.data());
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  if (hash.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void BurnPasswordTime(const PasswordCost& cost) {
  static const std::string kDummy = HashPassword("not a password of anyone", cost);
  (void)VerifyPassword(kDummy, "still not a password");
}

}  // namespace breakpilot::identity
