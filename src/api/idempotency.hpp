// Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header): the first request with a
// key runs and its answer is stored; a retry with the same key and the same body gets that
// answer again (with `Idempotent-Replayed: true`); the same key with another body is 422; a
// retry while the first is still running is 409. Keys are scoped per caller and kept 24 hours.
// 5xx answers are not stored, so a failed request can be retried with the same key.
//
// Secrets are never stored readable: the route names its secret JSON members (an API key's
// `secret`, a service client's `client_secret`, a user's `password`). They are left out of the
// request's fingerprint and out of the stored answer, so a replay answers with the resource
// without them and says which in `Idempotent-Withheld: secret`.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "http/message.hpp"
#include "storage/database.hpp"

namespace breakpilot::api {

http::Response WithIdempotency(storage::Database& db, const Clock& clock, const http::Request& req,
                               const std::string& principal,
                               const std::vector<std::string_view>& secrets,
                               const std::function<http::Response()>& run);

}  // namespace breakpilot::api
