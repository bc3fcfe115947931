#include "webhooks/signature.hpp"

#include "core/crypto.hpp"

namespace breakpilot::webhooks {

std::string NewSecret() {
  std::string bytes(32, '\0');
  RandomBytes(bytes.data(), bytes.size());
  return "whsec_" + Base64Encode(bytes);
}

std::optional<std::string> Sign(std::string_view secret, std::string_view id,
                                std::int64_t timestamp, std::string_view body) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string key;
  if (!Base64Decode(secret.substr(kPrefix.size()), key) || key.size() < 24) return std::nullopt;
  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return "v1," + Base64Encode(HmacSha256(key, signed_content));
}

}  // namespace breakpilot::webhooks
