// Customers' own domains for their portal (M18.1). An IT admin adds `portal.customer.example`
// (the portal's /settings/domains, POST /tenants/{id}/domains); the platform says which DNS
// record proves it (a CNAME to `<slug>.D`, or where a CNAME cannot be used, such as at a zone's
// apex, a TXT record `_breakpilot.<domain>` with the domain's token), checks it through a real
// resolver now and periodically, and marks it verified. Caddy's on-demand TLS asks
// `/internal/tls/ask?domain=` before it makes a certificate: yes only for a verified domain of a
// tenant that is not archived. A request on a verified domain is that tenant's portal
// (SlugFor, from memory, kept by the storage event "domains" on every replica).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/trail.hpp"
#include "core/event_guarded.hpp"
#include "core/result.hpp"
#include "domains/resolver.hpp"
#include "storage/database.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::domains {

inline constexpr std::string_view kDomainsEvent = "domains";
inline constexpr std::size_t kMaxDomainsPerTenant = 10;

struct DomainSettings {
  std::string portal_domain;  // D; empty: no portal, so no custom domains
  std::string resolver;       // "host:port" of the DNS server to ask; empty: the system's
};

struct Domain {
  std::string domain;
  std::string tenant_id;
  std::string token;
  std::string status;  // "pending", "verified"
  Timestamp created_at;
  std::optional<Timestamp> verified_at;
  std::optional<Timestamp> last_checked_at;
  std::optional<std::string> last_error;  // why the last check did not verify it
};

// The records that prove a domain, for the page and the API.
struct Proof {
  std::string cname_name, cname_target;  // domain -> <slug>.D
  std::string txt_name, txt_value;       // _breakpilot.<domain> = breakpilot-verify=<token>
};

class DomainService {
 public:
  DomainService(storage::Database& db, const Clock& clock, tenants::TenantService& tenants,
                DomainSettings settings);
  ~DomainService();
  DomainService(const DomainService&) = delete;
  DomainService& operator=(const DomainService&) = delete;

  bool on() const { return !settings_.portal_domain.empty(); }
  // 422 for a name that is no host name, an IP address, or the portal's own domain; 409 when
  // the domain is taken (by any tenant) or the tenant has kMaxDomainsPerTenant.
  Result<Domain> Add(const audit::Actor& actor, const std::string& tenant_id,
                     const std::string& domain);
  std::vector<Domain> List(const std::string& tenant_id);
  // Looks the records up now; verified when one proves the domain (audited when that changes).
  Result<Domain> Check(const audit::Actor& actor, const std::string& tenant_id,
                       const std::string& domain);
  Result<Ok> Remove(const audit::Actor& actor, const std::string& tenant_id,
                    const std::string& domain);
  Proof ProofFor(const Domain& d, const tenants::Tenant& t) const;

  // Caddy's question: may a certificate be made for `host`?
  bool AllowCertificate(const std::string& host);
  // The slug of the tenant whose verified domain `host` (lower case, no port) is; from memory.
  std::optional<std::string> SlugFor(std::string_view host) const;
  // Checks pending domains not checked for a minute and verified ones not checked for a day
  // (at most 50 a call): called by the platform's maintenance.
  void CheckDue(const audit::Actor& actor);

 private:
  Result<Domain> CheckOne(const audit::Actor& actor, Domain d);
  void Reload();

  storage::Database& db_;
  const Clock& clock_;
  tenants::TenantService& tenants_;
  DomainSettings settings_;
  Resolver resolver_;
  // Verified domains -> their tenant's slug.
  EventGuarded<std::unordered_map<std::string, std::string>> verified_;
  std::uint64_t subscription_ = 0;
};

// A domain as typed (case, a trailing dot) in its stored form, or Invalid (what is wrong).
Result<std::string> NormalizeDomain(std::string_view text, std::string_view portal_domain);

}  // namespace breakpilot::domains
