// Small wrappers over OpenSSL: randomness, SHA-256, constant-time comparison, base64url.
//
//   std::string token = RandomToken(32);            // 43 base64url characters
//   bool same = ConstantTimeEquals(Sha256(a), Sha256(b));
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace breakpilot {

void RandomBytes(void* out, std::size_t n);
std::string RandomToken(std::size_t bytes);    // base64url, no padding
std::string Sha256(std::string_view data);     // raw 32 bytes
std::string Sha256Hex(std::string_view data);  // 64 lowercase hex characters
bool ConstantTimeEquals(std::string_view a, std::string_view b);
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view text, std::string& out);
// Standard base64 with padding (RFC 4648 §4), as HTTP Basic credentials use it.
std::string Base64Encode(std::string_view data);
bool Base64Decode(std::string_view text, std::string& out);  // padding optional
std::string HexEncode(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes

// A self-contained signed token: base64url(payload) "." base64url(HMAC-SHA256(key, purpose,
// payload)). The purpose keeps a token made for one use (an unsubscribe link) from opening
// another (a download). VerifySignedToken compares in constant time and returns the payload.
std::string SignToken(std::string_view key, std::string_view purpose, std::string_view payload);
bool VerifySignedToken(std::string_view key, std::string_view purpose, std::string_view token,
                       std::string& payload);

// Authenticated encryption (AES-256-GCM) of a secret the server must use again later but should
// not keep readable, under a key of any length (its SHA-256 is the AES key) and a purpose bound
// in as associated data. The result is base64url(nonce | ciphertext | tag). Unseal is false when
// the key, the purpose or a single byte differs.
std::string Seal(std::string_view key, std::string_view purpose, std::string_view plaintext);
bool Unseal(std::string_view key, std::string_view purpose, std::string_view sealed,
            std::string& plaintext);

}  // namespace breakpilot
