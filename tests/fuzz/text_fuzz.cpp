// libFuzzer: the small text parsers: timestamps (with a format round trip), base64url, UUIDs,
// slugs, signed link tokens (unsubscribe, download), router matching of arbitrary paths, and the
// portal's reading of a Host header (which site it names).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"
#include "http/router.hpp"
#include "portal/site.hpp"
#include "tenants/slug.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto t = ParseTimestamp(text)) {
    // Whatever parses must print and parse back to the same instant (within the 4-digit years).
    const std::string printed = FormatRfc3339(*t);
    if (printed != "invalid-time" && ParseTimestamp(printed) != t) std::abort();
  }
  std::string decoded;
  if (Base64UrlDecode(text, decoded) && Base64UrlEncode(decoded) != text) std::abort();
  if (IsCanonicalUuid(text) && NormalizeUuid(text).size() != 36) std::abort();
  (void)tenants::ValidateSlug(text);
  // A link token from a mail: only what we signed verifies, whatever arrives.
  std::string payload;
  if (VerifySignedToken("fuzz-key", "mail.unsubscribe", text, payload) &&
      SignToken("fuzz-key", "mail.unsubscribe", payload) != text) {
    std::abort();
  }
  static const http::Router router = [] {
    http::Router r;
    for (const char* p : {"/tenants", "/tenants/{id}", "/tenants/{id}/projects/{project_id}"}) {
      r.Add({.method = "GET", .pattern = p, .name = p});
    }
    return r;
  }();
  (void)router.Find(size % 2 ? "GET" : "PUT", text);
  // A Host header names a tenant only by one plain lower-case label left of the domain.
  const auto site = portal::Classify(text, "localhost");
  if (site.kind == portal::SiteKind::kTenant &&
      (site.slug.empty() || site.slug.find_first_of(".:/ ") != std::string::npos ||
       site.slug.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)) {
    std::abort();
  }
  const std::string host = portal::HostName(text);
  if (host.find_first_of(":/ ") != std::string::npos) std::abort();
  return 0;
}
