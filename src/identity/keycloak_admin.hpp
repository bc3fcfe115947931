// The Keycloak 26 admin REST API, the few calls the platform makes (M4.3): organizations (one
// per tenant, alias = slug, marked with the attribute breakpilot_tenant_id so a retry finds an
// organization an earlier, unanswered call created), invitations, enabling and disabling.
// Authenticates as a service-account client of the realm (client credentials), token cached.
//
//   KeycloakAdmin kc({.base_url = "https://kc.example", .realm = "breakpilot", ...}, http::Fetch,
//                    clock);
//   auto org = kc.EnsureOrganization(tenant_id, "Acme GmbH", "acme");
//   kc.InviteUser(*org, "it@acme.example");
#pragma once

#include <boost/json/object.hpp>

#include <mutex>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::identity {

struct KeycloakSettings {
  std::string base_url;  // https://kc.example (no trailing slash)
  std::string realm;
  std::string client_id;  // a service account with realm-management manage-realm, manage-users
  std::string client_secret;
};

class KeycloakAdmin {
 public:
  KeycloakAdmin(KeycloakSettings settings, outbound::Fetcher fetch, const Clock& clock)
      : settings_(std::move(settings)), fetch_(std::move(fetch)), clock_(clock) {}

  // The id of the organization for this tenant, created unless it exists.
  Result<std::string> EnsureOrganization(const std::string& tenant_id, const std::string& name,
                                         const std::string& alias);
  Result<Ok> InviteUser(const std::string& org_id, const std::string& email);
  Result<Ok> SetOrganizationEnabled(const std::string& org_id, bool enabled);

 private:
  Result<std::string> Token();
  Result<outbound::Response> Call(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& content_type);

  KeycloakSettings settings_;
  outbound::Fetcher fetch_;
  const Clock& clock_;
  std::mutex mu_;
  std::string token_;
  std::int64_t token_expires_us_ = 0;
};

}  // namespace breakpilot::identity
