#include "core/crypto.hpp"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

namespace breakpilot {

void RandomBytes(void* out, std::size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

std::string RandomToken(std::size_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

namespace {

// One digest context per thread, reused: EVP_Digest allocates and frees a context per call.
class DigestContext {
 public:
  DigestContext() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) throw std::bad_alloc();
  }
  ~DigestContext() { EVP_MD_CTX_free(ctx_); }
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;
  EVP_MD_CTX* get() const { return ctx_; }

 private:
  EVP_MD_CTX* ctx_;
};

using Digest = std::array<unsigned char, 32>;

Digest Sha256Digest(std::string_view data) {
  // Fetched once: OpenSSL 3 otherwise looks the algorithm up (with locks) on every call.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const DigestContext context;
  Digest digest{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(context.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &len) != 1 || len != digest.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return digest;
}

std::string_view AsText(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace

std::string Sha256(std::string_view data) {
  return std::string(AsText(Sha256Digest(data)));
}

std::string Sha256Hex(std::string_view data) {
  return HexEncode(AsText(Sha256Digest(data)));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return {reinterpret_cast<const char*>(out.data()), len};
}

namespace {

std::string TokenMac(std::string_view key, std::string_view purpose, std::string_view payload) {
  std::string data;
  data.reserve(purpose.size() + 1 + payload.size());
  data.append(purpose).push_back('\0');
  data.append(payload);
  return HmacSha256(key, data);
}

}  // namespace

std::string SignToken(std::string_view key, std::string_view purpose, std::string_view payload) {
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(TokenMac(key, purpose, payload));
}

bool VerifySignedToken(std::string_view key, std::string_view purpose, std::string_view token,
                       std::string& payload) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 4096) return false;
  std::string mac;
  if (!Base64UrlDecode(token.substr(0, dot), payload) ||
      !Base64UrlDecode(token.substr(dot + 1), mac)) {
    return false;
  }
  return ConstantTimeEquals(mac, TokenMac(key, purpose, payload));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // Every byte is read and folded into one word, with no branch on the data: the time depends on
  // the length alone. Eight bytes at a time: CRYPTO_memcmp goes byte by byte, and took 0.5 us on
  // a 600-byte bearer token, as long as hashing it with SHA-256.
  std::uint64_t diff = 0;
  std::size_t i = 0;
  for (; i + sizeof diff <= a.size(); i += sizeof diff) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, sizeof x);
    std::memcpy(&y, b.data() + i, sizeof y);
    diff |= x ^ y;
  }
  for (; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string HexEncode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(data.size() * 2, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 15];
  }
  return out;
}

std::string Base64UrlEncode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 3 <= data.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (data.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (data.size() - i == 2) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string& out) {
  out.clear();
  unsigned buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v = -1;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '-')
      v = 62;
    else if (ch == '_')
      v = 63;
    else
      return false;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // A dangling 6 bits (length % 4 == 1) is not valid base64; leftover bits must be zero.
  if (bits >= 6) return false;
  return (buffer & ((1u << bits) - 1)) == 0;
}

std::string Base64Encode(std::string_view data) {
  std::string out = Base64UrlEncode(data);
  std::replace(out.begin(), out.end(), '-', '+');
  std::replace(out.begin(), out.end(), '_', '/');
  while (out.size() % 4 != 0) out += '=';
  return out;
}

bool Base64Decode(std::string_view text, std::string& out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string url(text);
  if (url.find_first_of("-_") != std::string::npos) return false;  // not this alphabet
  std::replace(url.begin(), url.end(), '+', '-');
  std::replace(url.begin(), url.end(), '/', '_');
  return Base64UrlDecode(url, out);
}

namespace {

constexpr std::size_t kGcmNonce = 12;
constexpr std::size_t kGcmTag = 16;

struct CipherContext {
  CipherContext() : ctx(EVP_CIPHER_CTX_new()) {
    if (ctx == nullptr) throw std::bad_alloc();
  }
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  EVP_CIPHER_CTX* ctx;
};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Seal(std::string_view key, std::string_view purpose, std::string_view plaintext) {
  const std::string aes_key = Sha256(key);
  std::string out(kGcmNonce + plaintext.size() + kGcmTag, '\0');
  auto* raw = reinterpret_cast<unsigned char*>(out.data());
  RandomBytes(raw, kGcmNonce);
  CipherContext c;
  int len = 0;
  const bool ok = EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, Bytes(aes_key), raw) == 1 &&
                  EVP_EncryptUpdate(c.ctx, nullptr, &len, Bytes(purpose),
                                    static_cast<int>(purpose.size())) == 1 &&
                  EVP_EncryptUpdate(c.ctx, raw + kGcmNonce, &len, Bytes(plaintext),
                                    static_cast<int>(plaintext.size())) == 1 &&
                  EVP_EncryptFinal_ex(c.ctx, raw + kGcmNonce + len, &len) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kGcmTag,
                                      raw + kGcmNonce + plaintext.size()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM sealing failed");
  return Base64UrlEncode(out);
}

bool Unseal(std::string_view key, std::string_view purpose, std::string_view sealed,
            std::string& plaintext) {
  std::string raw;
  if (sealed.size() > 65536 || !Base64UrlDecode(sealed, raw) || raw.size() < kGcmNonce + kGcmTag) {
    return false;
  }
  const std::string aes_key = Sha256(key);
  const std::size_t n = raw.size() - kGcmNonce - kGcmTag;
  std::string out(n, '\0');
  auto* data = reinterpret_cast<unsigned char*>(raw.data());
  CipherContext c;
  int len = 0;
  const bool ok =
      EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, Bytes(aes_key), data) == 1 &&
      EVP_DecryptUpdate(c.ctx, nullptr, &len, Bytes(purpose), static_cast<int>(purpose.size())) ==
          1 &&
      EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(out.data()), &len, data + kGcmNonce,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kGcmTag, data + kGcmNonce + n) == 1 &&
      EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!ok) return false;
  plaintext = std::move(out);
  return true;
}

}  // namespace breakpilot
