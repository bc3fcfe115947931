#include "billing/polar_signature.hpp"

#include <charconv>
#include <string>
#include <vector>

#include "core/crypto.hpp"

namespace breakpilot::billing {
namespace {

// The keys Polar's SDK tries: the secret's bytes, then a whsec_ secret's base64 remainder.
std::vector<std::string> Keys(std::string_view secret) {
  std::vector<std::string> keys{std::string(secret)};
  constexpr std::string_view kPrefix = "whsec_";
  const auto rest =
      secret.substr(0, kPrefix.size()) == kPrefix ? secret.substr(kPrefix.size()) : secret;
  std::string decoded;
  if (Base64Decode(rest, decoded) && !decoded.empty() && decoded != secret) {
    keys.push_back(std::move(decoded));
  }
  return keys;
}

}  // namespace

Result<Ok> VerifyPolarSignature(std::string_view secret, const SignatureHeaders& h,
                                std::string_view body, Timestamp now) {
  if (secret.empty()) return WebhookSignatureInvalid("no webhook secret is configured");
  if (h.id.empty() || h.timestamp.empty() || h.signature.empty()) {
    return WebhookSignatureInvalid(
        "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  if (h.id.size() > 256) return WebhookSignatureInvalid("webhook-id is longer than 256 characters");
  std::int64_t ts = 0;
  const auto* end = h.timestamp.data() + h.timestamp.size();
  if (auto [p, ec] = std::from_chars(h.timestamp.data(), end, ts); ec != std::errc() || p != end) {
    return WebhookSignatureInvalid("webhook-timestamp is not a number of seconds");
  }
  const std::int64_t now_s = now.micros / kMicrosPerSecond;
  if (ts < now_s - kSignatureToleranceSeconds) {
    return WebhookSignatureInvalid("webhook-timestamp is more than five minutes old");
  }
  if (ts > now_s + kSignatureToleranceSeconds) {
    return WebhookSignatureInvalid("webhook-timestamp is more than five minutes in the future");
  }
  std::string content;
  content.reserve(h.id.size() + body.size() + 24);
  content.append(h.id).append(".").append(h.timestamp).append(".").append(body);
  std::vector<std::string> macs;
  for (const auto& key : Keys(secret)) macs.push_back(HmacSha256(key, content));
  std::string_view rest = h.signature;
  int seen = 0;
  while (!rest.empty() && seen < 16) {
    const auto space = rest.find(' ');
    const auto item = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (item.empty()) continue;
    ++seen;
    if (item.substr(0, 3) != "v1,") continue;
    std::string mac;
    if (!Base64Decode(item.substr(3), mac)) continue;
    for (const auto& expected : macs) {
      if (ConstantTimeEquals(mac, expected)) return Ok{};
    }
  }
  return WebhookSignatureInvalid("no signature matches the body under the configured secret");
}

}  // namespace breakpilot::billing
