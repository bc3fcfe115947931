#include "api/idempotency.hpp"

#include <boost/json.hpp>

#include "api/api.hpp"
#include "core/crypto.hpp"
#include "http/problem.hpp"

namespace breakpilot::api {
namespace {

using storage::Query;

constexpr std::int64_t kRetentionSeconds = std::int64_t{24} * 3600;
constexpr std::int64_t kStaleInProgressSeconds = 60;

constexpr Query kReserve{
    "idempotency_reserve",
    "INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status, created_at)"
    " VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (principal, key) DO NOTHING"};
constexpr Query kSelect{"idempotency_select",
                        "SELECT request_hash, status, response, created_at FROM idempotency_keys"
                        " WHERE principal = $1 AND key = $2"};
constexpr Query kTakeOver{
    "idempotency_take_over",
    "UPDATE idempotency_keys SET method = $3, path = $4, request_hash = $5, status = 0,"
    " response = NULL, created_at = $6 WHERE principal = $1 AND key = $2 AND created_at = $7"};
constexpr Query kComplete{
    "idempotency_complete",
    "UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND key = $2"};
constexpr Query kRelease{"idempotency_release",
                         "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2"};

bool ValidKey(std::string_view k) {
  if (k.empty() || k.size() > 255) return false;
  for (unsigned char c : k) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// `text` without the top-level members named in `secrets` when it is a JSON object holding
// any of them (their names go to `withheld`); otherwise unchanged.
std::string WithoutSecrets(const std::string& text, const std::vector<std::string_view>& secrets,
                           std::string* withheld = nullptr) {
  if (secrets.empty()) return text;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return text;
  bool any = false;
  for (auto name : secrets) {
    if (v.as_object().erase(name) == 0) continue;
    any = true;
    if (withheld) *withheld += (withheld->empty() ? "" : ", ") + std::string(name);
  }
  return any ? boost::json::serialize(v) : text;
}

std::string StoreResponse(const http::Response& r, const std::vector<std::string_view>& secrets) {
  std::string withheld;
  std::string body = WithoutSecrets(r.body, secrets, &withheld);
  boost::json::object headers;
  for (const auto& [k, v] : r.headers.all()) {
    if (!withheld.empty() && http::HeaderNameEquals(k, "Content-Length")) continue;
    headers[k] = v;
  }
  if (!withheld.empty()) headers["Idempotent-Withheld"] = withheld;
  return boost::json::serialize(
      boost::json::object{{"headers", std::move(headers)}, {"body", std::move(body)}});
}

http::Response Replay(int status, const std::string& stored) {
  http::Response r;
  r.status = status;
  auto o = boost::json::parse(stored).as_object();
  for (const auto& [k, v] : o["headers"].as_object()) r.headers.Set(k, v.as_string());
  r.body = std::string(o["body"].as_string());
  r.headers.Set("Idempotent-Replayed", "true");
  return r;
}

}  // namespace

http::Response WithIdempotency(storage::Database& db, const Clock& clock, const http::Request& req,
                               const std::string& principal,
                               const std::vector<std::string_view>& secrets,
                               const std::function<http::Response()>& run) {
  const auto key_header = req.headers.Get("idempotency-key");
  if (!key_header) return run();
  if (req.headers.Count("idempotency-key") > 1 || !ValidKey(*key_header)) {
    return http::Problem(400, "invalid-idempotency-key", "Invalid Idempotency-Key",
                         "Idempotency-Key must be one value of 1-255 visible ASCII characters",
                         req.path);
  }
  const std::string key(*key_header);
  // A fingerprint of the request, without its secrets: a fast hash of a body holding a password
  // could be searched for the password.
  const std::string hash =
      Sha256Hex(req.method + "\n" + req.path + "\n" + WithoutSecrets(req.body, secrets));
  const Timestamp now = clock.Now();
  bool reserved = false;
  std::optional<http::Response> early;
  db.Write([&](storage::Session& s) {
    if (s.Execute(kReserve, {principal, key, req.method, req.path, hash, FormatStorage(now)}) ==
        1) {
      reserved = true;
      return;
    }
    auto row = s.FetchOne(kSelect, {principal, key});
    if (!row) return;  // released between the two statements: run without a record
    const auto created = ParseTimestamp(row->Text(3)).value_or(now);
    const std::int64_t age = (now.micros - created.micros) / kMicrosPerSecond;
    const bool expired = age >= kRetentionSeconds;
    const bool stale = row->Int(1) == 0 && age >= kStaleInProgressSeconds;
    if (expired || stale) {
      reserved = s.Execute(kTakeOver, {principal, key, req.method, req.path, hash,
                                       FormatStorage(now), row->Text(3)}) == 1;
      if (!reserved) {
        early = http::Problem(409, "idempotency-key-in-progress", "Request in progress",
                              "a request with this Idempotency-Key is being processed; retry later",
                              req.path);
      }
      return;
    }
    if (row->Text(0) != hash) {
      early = http::Problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                            "this Idempotency-Key was used with a different request; use a new key",
                            req.path);
      return;
    }
    if (row->Int(1) == 0) {
      early = http::Problem(409, "idempotency-key-in-progress", "Request in progress",
                            "a request with this Idempotency-Key is being processed; retry later",
                            req.path);
      return;
    }
    early = Replay(static_cast<int>(row->Int(1)), row->Text(2));
  });
  if (early) return *std::move(early);
  if (!reserved) return run();
  const auto release = [&db, principal, key] {
    db.Write([&](storage::Session& s) { s.Execute(kRelease, {principal, key}); });
  };
  const auto complete = [&db, principal, key, secrets](const http::Response& res) {
    db.Write([&](storage::Session& s) {
      if (res.status >= 500) {
        s.Execute(kRelease, {principal, key});
      } else {
        s.Execute(kComplete,
                  {principal, key, std::to_string(res.status), StoreResponse(res, secrets)});
      }
    });
  };
  http::Response res;
  try {
    res = run();
  } catch (...) {
    release();
    throw;
  }
  if (res.deferred) {  // the answer comes from a WorkPool later: record it then
    res.deferred = [work = std::move(res.deferred), release, complete] {
      http::Response r;
      try {
        r = work();
      } catch (...) {
        release();
        throw;
      }
      complete(r);
      return r;
    };
    res.on_refused = release;  // the queue was full: the work never ran, a retry may run it
    return res;
  }
  complete(res);
  return res;
}

}  // namespace breakpilot::api
