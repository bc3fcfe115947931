// Tenant slugs: the tenant's subdomain (acme.breakpilot.com), so an RFC 1123 label in lower
// case, and never a name we use ourselves (api, auth, mail, ... and every top-level path).
//
//   if (auto problem = ValidateSlug(slug)) return InvalidInput(..., {{"/slug", *problem}});
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace breakpilot::tenants {

// nullopt when valid, else what is wrong.
std::optional<std::string> ValidateSlug(std::string_view slug);
bool IsReservedSlug(std::string_view slug);
std::span<const std::string_view> ReservedSlugs();

}  // namespace breakpilot::tenants
