// RFC 9457 problem details: the one place where an Error becomes an HTTP status and a body.
//
//   return http::Problem(error, req);   // application/problem+json
#pragma once

#include <string>

#include "core/result.hpp"
#include "http/message.hpp"

namespace breakpilot::http {

inline constexpr std::string_view kProblemTypeBase = "https://breakpilot.com/problems/";

int StatusFor(ErrorKind kind);
Response Problem(const Error& error, const std::string& instance);
// For failures the transport sees before a route runs (413, 431, 404, 405, 415, ...).
Response Problem(int status, std::string type, std::string title, std::string detail,
                 const std::string& instance);

}  // namespace breakpilot::http
