// Polar's webhook signatures (https://docs.polar.sh/integrate/webhooks/delivery): Standard
// Webhooks headers (webhook-id, webhook-timestamp, webhook-signature), each signature
// "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), several separated by spaces
// during a rotation. The key is the secret as Polar's dashboard shows it, its own UTF-8 bytes
// (Polar's SDK keys it so); a "whsec_" secret whose remainder is base64 is also tried decoded,
// the Standard Webhooks way, as the SDK does. A timestamp more than five minutes from now is
// refused either way.
//
//   auto ok = VerifyPolarSignature(secret, {id, timestamp, signature}, body, clock.Now());
//   if (!ok) return ok.error();  // 401 webhook-signature-invalid, saying which check failed
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace breakpilot::billing {

struct SignatureHeaders {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};

inline constexpr std::int64_t kSignatureToleranceSeconds = 300;

Result<Ok> VerifyPolarSignature(std::string_view secret, const SignatureHeaders& headers,
                                std::string_view body, Timestamp now);

}  // namespace breakpilot::billing
