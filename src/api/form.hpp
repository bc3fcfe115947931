// Reading application/x-www-form-urlencoded bodies (OAuth 2 token requests, RFC 6749), HTTP
// Basic credentials (RFC 7617, client authentication) and cookies (the portal session).
//
//   auto form = ParseForm(req);                 // 415 / 400 as Error
//   auto grant = FormValue(*form, "grant_type");
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"

namespace breakpilot::api {

using Form = std::vector<std::pair<std::string, std::string>>;

Result<Form> ParseForm(const http::Request& req);
// The value of `name`; nullopt when absent. A repeated parameter is an error (RFC 6749 §3.2).
Result<std::optional<std::string>> FormValue(const Form& form, std::string_view name);

struct BasicCredentials {
  std::string user;
  std::string password;
};
// nullopt when there is no Basic Authorization header; an error when it is malformed.
Result<std::optional<BasicCredentials>> ParseBasicAuth(const http::Request& req);

// The value of cookie `name` in the Cookie header (RFC 6265 §5.4 form); "" when absent.
std::string CookieValue(const http::Request& req, std::string_view name);

}  // namespace breakpilot::api
