// Tenant slugs: the tenant's subdomain (acme.breakpilot.com), so an RFC 1123 label in lower
// case, and never a name we use ourselves (api, auth, mail, ... and every top-level path).
//
//   AddFieldError(errors, "/slug", ValidateSlug(slug));   // "must not be empty", ...
#pragma once

#include "core/result.hpp"

#include <span>
#include <string>
#include <string_view>

namespace breakpilot::tenants {

// Ok when valid, else an Invalid error whose detail says what is wrong.
Result<Ok> ValidateSlug(std::string_view slug);
bool IsReservedSlug(std::string_view slug);
std::span<const std::string_view> ReservedSlugs();

}  // namespace breakpilot::tenants
