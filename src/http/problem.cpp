#include "http/problem.hpp"

#include <boost/json.hpp>

namespace breakpilot::http {

int StatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformed: return 400;
    case ErrorKind::kInvalidInput: return 422;
    case ErrorKind::kUnauthenticated: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kPaymentRequired: return 402;
    case ErrorKind::kPreconditionFailed: return 412;
    case ErrorKind::kGone: return 410;
    case ErrorKind::kUnsupportedMediaType: return 415;
    case ErrorKind::kTooManyRequests: return 429;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

Response Problem(const Error& error, const std::string& instance) {
  boost::json::object o;
  const int status = StatusFor(error.kind);
  o["type"] = std::string(kProblemTypeBase) + error.type;
  o["title"] = error.title;
  o["status"] = status;
  o["detail"] = error.detail;
  o["instance"] = instance;
  if (!error.errors.empty()) {
    boost::json::array list;
    for (const auto& fe : error.errors) {
      list.push_back({{"field", fe.field}, {"message", fe.message}});
    }
    o["errors"] = std::move(list);
  }
  for (const auto& [k, v] : error.extensions) o[k] = v;
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/problem+json");
  r.body = boost::json::serialize(o);
  // A wait the error names (429, 503) is also the standard header (RFC 9110 §10.2.3).
  if (const auto* wait = error.extensions.if_contains("retry_after"); wait && wait->is_int64()) {
    r.headers.Set("Retry-After", std::to_string(wait->get_int64()));
  }
  return r;
}

Response Problem(int status, std::string type, std::string title, std::string detail,
                 const std::string& instance) {
  Error e;
  e.type = std::move(type);
  e.title = std::move(title);
  e.detail = std::move(detail);
  switch (status) {
    case 400: e.kind = ErrorKind::kMalformed; break;
    case 401: e.kind = ErrorKind::kUnauthenticated; break;
    case 403: e.kind = ErrorKind::kForbidden; break;
    case 404: e.kind = ErrorKind::kNotFound; break;
    case 409: e.kind = ErrorKind::kConflict; break;
    case 402: e.kind = ErrorKind::kPaymentRequired; break;
    case 412: e.kind = ErrorKind::kPreconditionFailed; break;
    case 410: e.kind = ErrorKind::kGone; break;
    case 415: e.kind = ErrorKind::kUnsupportedMediaType; break;
    case 429: e.kind = ErrorKind::kTooManyRequests; break;
    case 422: e.kind = ErrorKind::kInvalidInput; break;
    case 503: e.kind = ErrorKind::kUnavailable; break;
    default: e.kind = ErrorKind::kInternal; break;
  }
  Response r = Problem(e, instance);
  if (r.status != status) {  // statuses with no ErrorKind of their own (405, 413, 415, 431)
    boost::json::object o = boost::json::parse(r.body).as_object();
    o["status"] = status;
    r.body = boost::json::serialize(o);
    r.status = status;
  }
  return r;
}

}  // namespace breakpilot::http
