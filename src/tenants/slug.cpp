#include "tenants/slug.hpp"

#include <algorithm>

namespace breakpilot::tenants {
namespace {

// Hostnames of our own (seed §M0.3) and every top-level path the binary serves or will serve.
constexpr std::string_view kReserved[] = {
    "account",  "admin",      "api",     "api-keys", "app",        "assets",   "audit",
    "auth",     "backstage",  "billing", "blog",     "breakpilot", "catalog",  "cdn",
    "console",  "dashboard",  "demo",    "dev",      "docs",       "download", "erp",
    "files",    "flags",      "ftp",     "git",      "gitea",      "healthz",  "help",
    "id",       "identity",   "imap",    "inbound",  "infisical",  "internal", "keycloak",
    "login",    "logout",     "mail",    "mcp",      "metrics",    "minio",    "ns1",
    "ns2",      "oauth",      "ofrep",   "oidc",     "openapi",    "polar",    "pop",
    "portal",   "postmaster", "prod",    "public",   "publisher",  "readyz",   "root",
    "s3",       "signoz",     "signup",  "smtp",     "sso",        "stage",    "start",
    "static",   "status",     "support", "system",   "tenants",    "test",     "usage",
    "webhooks", "well-known", "www"};

}  // namespace

std::span<const std::string_view> ReservedSlugs() {
  return kReserved;
}

bool IsReservedSlug(std::string_view slug) {
  return std::find(std::begin(kReserved), std::end(kReserved), slug) != std::end(kReserved);
}

Result<Ok> ValidateSlug(std::string_view slug) {
  if (slug.empty()) return Invalid("must not be empty");
  if (slug.size() > 63) return Invalid("must be at most 63 characters (an RFC 1123 label)");
  for (char c : slug) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
      return Invalid("may contain only lowercase letters a-z, digits and '-' (an RFC 1123 label)");
  }
  if (slug.front() == '-' || slug.back() == '-') return Invalid("must not start or end with '-'");
  if (IsReservedSlug(slug)) return Invalid("'" + std::string(slug) + "' is reserved");
  return Ok{};
}

}  // namespace breakpilot::tenants
