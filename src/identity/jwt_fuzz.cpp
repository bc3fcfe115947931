// libFuzzer: token parsing and JWKS reading, the two things an attacker hands us. A token that
// verifies against a key generated in this process would be a forgery: abort.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "identity/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  static const identity::SigningKey kKey = identity::SigningKey::Generate("fuzz");
  static const identity::KeySet kKeys = [] {
    identity::KeySet k;
    k.Add(kKey.Public());
    return k;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const identity::TokenRules rules{.issuer = "https://id.example", .audience = "breakpilot"};
  if (identity::VerifyJwt(text, kKeys, rules, Timestamp{1'800'000'000LL * kMicrosPerSecond})) {
    std::abort();
  }
  (void)identity::PeekJwt(text);
  if (auto keys = identity::KeySet::FromJwks(text)) (void)keys->Find("fuzz");
  return 0;
}
