// What the SDK's parts share and products never see: base64url, outbound HTTP (libcurl) and the
// client-credentials token the SDK presents to the platform.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "breakpilot/http.hpp"

namespace breakpilot::sdk::internal {

std::optional<std::string> Base64UrlDecode(std::string_view in);

struct HttpResult {
  int status = 0;  // 0: no answer (error says why)
  std::string body;
  std::string error;
  std::string etag;  // the answer's ETag header, when it had one
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{5000};
  std::size_t max_body = std::size_t{8} << 20;
};

HttpResult Send(const HttpCall& call);

// A bearer token from the platform's /oauth/token (client credentials), renewed at 80% of its
// life. Thread-safe.
class ServiceToken {
 public:
  ServiceToken(std::string token_url, std::string client_id, std::string client_secret)
      : token_url_(std::move(token_url)),
        client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)) {}

  Outcome<std::string> Get();
  void Invalidate();

 private:
  std::string token_url_;
  std::string client_id_;
  std::string client_secret_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point renew_at_{};
};

std::string FormEncode(std::string_view s);
std::int64_t UnixNow();
// SHA-256 of `s`, 32 raw bytes: a cache key that says nothing of what it hashes.
std::string Sha256(std::string_view s);

}  // namespace breakpilot::sdk::internal
