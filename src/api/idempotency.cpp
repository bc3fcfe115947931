#include "api/idempotency.hpp"

#include <boost/json.hpp>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "http/problem.hpp"
#include "storage/idempotency_store.hpp"

namespace breakpilot::api {
namespace {

const Logger kLog("api");

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
  storage::IdempotencyStore store(db);
  const auto claim = store.Reserve(principal, key, req.method, req.path, hash, clock.Now());
  using Outcome = storage::IdempotencyStore::Outcome;
  switch (claim.outcome) {
    case Outcome::kNoRecord: return run();
    case Outcome::kInProgress:
      return http::Problem(409, "idempotency-key-in-progress", "Request in progress",
                           "a request with this Idempotency-Key is being processed; retry later",
                           req.path);
    case Outcome::kReused:
      return http::Problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                           "this Idempotency-Key was used with a different request; use a new key",
                           req.path);
    case Outcome::kAnswered: return Replay(claim.status, claim.stored);
    case Outcome::kReserved: break;
  }
  // Releasing must not hide why the request failed: a second failure is logged, not thrown.
  const auto release = [&db, principal, key] {
    try {
      storage::IdempotencyStore(db).Release(principal, key);
    } catch (const std::exception& e) {
      kLog.Error("idempotency key not released", {{"error", ErrorText(e)}});
    }
  };
  const auto complete = [&db, principal, key, secrets](const http::Response& res) {
    storage::IdempotencyStore records(db);
    if (res.status >= 500) {
      records.Release(principal, key);
    } else {
      records.Complete(principal, key, res.status, StoreResponse(res, secrets));
    }
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
