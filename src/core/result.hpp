// The one error policy (see CONTRIBUTING.md): expected outcomes travel as values.
//
//   Result<Tenant> r = service.Get(id);
//   if (!r) return r.error();          // Error{ErrorKind::kNotFound, "tenant-not-found", ...}
//   Use(*r);
//
// Exceptions are only for what aborts a request (a broken database, a bug); the HTTP layer turns
// both into RFC 9457 problem+json in one place (http/problem.cpp). The domain never names a
// status code: it names an ErrorKind, and the mapping to HTTP lives in the HTTP layer.
#pragma once

#include <boost/json/object.hpp>

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace breakpilot {

enum class ErrorKind {
  kMalformed,             // the request cannot be read: bad JSON, bad id, bad parameter (400)
  kInvalidInput,          // readable but semantically wrong: failed validation (422)
  kUnauthenticated,       // no or bad credentials
  kForbidden,             // known caller, not allowed
  kNotFound,              // no such resource (or not visible to the caller)
  kConflict,              // clashes with current state: duplicate, illegal transition
  kPaymentRequired,       // the tenant is frozen: reads only until it reactivates (402)
  kPreconditionFailed,    // If-Match does not match
  kGone,                  // existed, no longer available
  kUnsupportedMediaType,  // a body in a format we do not read (415)
  kTooManyRequests,       // throttled: retry later (429)
  kUnavailable,           // a dependency is down: retry later
  kInternal,              // a bug or an unexpected failure
};

struct FieldError {
  std::string field;    // JSON pointer into the request body, e.g. "/slug"
  std::string message;  // what is wrong, for a human
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string type;    // stable slug of the problem type, e.g. "duplicate-slug"
  std::string title;   // short, stable summary of the problem type
  std::string detail;  // this occurrence, for a human
  std::vector<FieldError> errors{};
  boost::json::object extensions{};  // extra members of the problem document
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// What a function that can fail but has nothing to hand back returns: `Result<Ok>`. This is
// the one shape of "maybe an error" (CONTRIBUTING.md, "The error policy"):
//
//   Result<Ok> CheckTenant(...);
//   if (auto r = CheckTenant(...); !r) return std::move(r).error();
struct Ok {};

// Shorthands for the common kinds.
Error InvalidInput(std::string type, std::string title, std::string detail,
                   std::vector<FieldError> errors = {});
Error Malformed(std::string type, std::string title, std::string detail,
                std::vector<FieldError> errors = {});
Error NotFound(std::string type, std::string detail);
Error Conflict(std::string type, std::string title, std::string detail);
// A signed webhook refused (401 webhook-signature-invalid), and one whose body is no JSON object
// (400 malformed-webhook, `problem` the parser's words when it gave any).
Error WebhookSignatureInvalid(std::string detail);
Error MalformedWebhook(const std::string& problem);
// 422 "validation" with one entry per bad field; the detail names the first (or the count).
Error ValidationFailed(std::vector<FieldError> errors);
// A failed check of one value, its detail what is wrong ("must not be empty"): what the field
// checks (ValidateSlug, ValidateDisplayName, ...) return; AddFieldError files it under a field.
Error Invalid(std::string detail);
// Adds `check`'s detail to `errors` under `field` (a JSON pointer) when the check failed.
void AddFieldError(std::vector<FieldError>& errors, std::string field, const Result<Ok>& check);

}  // namespace breakpilot
