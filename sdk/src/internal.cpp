#include "internal.hpp"

#include <openssl/sha.h>

#include <curl/curl.h>

#include <array>
#include <boost/json.hpp>
#include <cctype>

namespace breakpilot::sdk::internal {
namespace {

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

struct Sink {
  std::string* body;
  std::size_t max;
  bool overflow = false;
};

std::size_t Write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->max) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// One easy handle per thread: connections to the platform are kept alive between calls.
CURL* ThreadHandle() {
  static CurlGlobal global;
  struct Holder {
    CURL* handle = curl_easy_init();
    Holder() = default;
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder() { curl_easy_cleanup(handle); }
  };
  thread_local Holder holder;
  return holder.handle;
}

}  // namespace

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

HttpResult Send(const HttpCall& call) {
  CURL* curl = ThreadHandle();
  HttpResult result;
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  curl_easy_reset(curl);
  Sink sink{&result.body, call.max_body};
  curl_slist* headers = nullptr;
  for (const auto& h : call.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!call.body.empty() || call.method == "POST" || call.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    result.error = sink.overflow ? "answer too large" : curl_easy_strerror(rc);
    result.body.clear();
    return result;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  curl_header* etag = nullptr;
  if (curl_easy_header(curl, "ETag", 0, CURLH_HEADER, -1, &etag) == CURLHE_OK && etag != nullptr) {
    result.etag = etag->value;
  }
  return result;
}

std::string FormEncode(std::string_view s) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex.at(c >> 4U));
      out.push_back(kHex.at(c & 15U));
    }
  }
  return out;
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Outcome<std::string> ServiceToken::Get() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now < renew_at_) return token_;
  HttpCall call{.method = "POST",
                .url = token_url_,
                .headers = {"Content-Type: application/x-www-form-urlencoded"},
                .body = "grant_type=client_credentials&client_id=" + FormEncode(client_id_) +
                        "&client_secret=" + FormEncode(client_secret_)};
  const HttpResult r = Send(call);
  if (r.status != 200) {
    return Failure{503, "platform-unavailable", "Platform unavailable",
                   "the platform's token endpoint answered " +
                       (r.status == 0 ? r.error : "HTTP " + std::to_string(r.status))};
  }
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  const auto* obj = v.if_object();
  const auto* token = obj != nullptr ? obj->if_contains("access_token") : nullptr;
  const auto* expires = obj != nullptr ? obj->if_contains("expires_in") : nullptr;
  if (ec || token == nullptr || !token->is_string()) {
    return Failure{503, "platform-unavailable", "Platform unavailable",
                   "the platform's token endpoint answered no access_token"};
  }
  const std::int64_t life = expires != nullptr && expires->is_int64() ? expires->as_int64() : 60;
  token_ = std::string(token->as_string());
  renew_at_ = now + std::chrono::seconds(life * 4 / 5);
  return token_;
}

void ServiceToken::Invalidate() {
  std::lock_guard lock(mu_);
  token_.clear();
}

std::string Sha256(std::string_view s) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace breakpilot::sdk::internal
