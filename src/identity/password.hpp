// Password hashes: argon2id (RFC 9106) in the PHC string form, through Debian's libargon2.
//
//   std::string h = HashPassword("correct horse", PasswordCost{});   // "$argon2id$v=19$m=..."
//   bool ok = VerifyPassword(h, "correct horse");
//
// The default cost is OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace breakpilot::identity {

struct PasswordCost {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t passes = 2;
  std::uint32_t lanes = 1;
};

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

std::string HashPassword(std::string_view password, const PasswordCost& cost);
// False for a wrong password and for anything that is not an argon2id hash.
bool VerifyPassword(const std::string& hash, std::string_view password);
// Spends the time a verification takes, for unknown users, so timing does not tell them apart.
void BurnPasswordTime(const PasswordCost& cost);

}  // namespace breakpilot::identity
