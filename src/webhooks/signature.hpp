// Standard Webhooks signatures (https://www.standardwebhooks.com, the scheme Svix uses): a
// secret "whsec_" + base64(24-64 random bytes); the signature of a message is
// "v1," + base64(HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")), and the
// webhook-signature header lists one per valid secret, space-separated (a rotation's grace).
//
//   std::string secret = NewSecret();                       // "whsec_..."
//   auto v1 = Sign(secret, "msg_1", 1614265330, body);       // "v1,g0hM9S..."
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace breakpilot::webhooks {

std::string NewSecret();
// nullopt when `secret` is not "whsec_" + base64 of at least 24 bytes.
std::optional<std::string> Sign(std::string_view secret, std::string_view id,
                                std::int64_t timestamp, std::string_view body);

}  // namespace breakpilot::webhooks
