// Leads (M11.1, M13.2): a tenant's member asks for a product it does not have, on the catalog
// page or `POST /tenants/{id}/leads`; the lead goes to the tenant's sales owner (a staff user
// name set on the tenant) and shows in the backstage. One open lead per tenant and product:
// asking again returns the open one. OnCreated lets another area act in the lead's own
// transaction (the ERPNext mirror queues its CRM Lead there: backoffice/erpnext.hpp).
//
//   LeadService leads(db, clock, catalog, tenants, subscriptions);
//   auto lead = leads.Request(actor, tenant_id, {.product_id = "certifai", .note = "..."});
//   auto trial = leads.RequestTrial(actor, "sally", {.company = "Initech", ...});  // the demo's
//   auto mine = leads.List(principal, {});   // a sales rep: only the leads they own
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "identity/permissions.hpp"
#include "storage/database.hpp"
#include "tenants/project_service.hpp"
#include "tenants/tenant_service.hpp"

namespace breakpilot::sales {

struct Lead {
  std::string id;
  std::string tenant_id;
  std::string tenant_slug;
  std::string tenant_name;
  std::string product_id;
  std::string status;  // open, won, lost
  std::optional<std::string> sales_owner;
  std::string requested_by;       // the actor's id ("user:<id>")
  std::string requested_by_name;  // the actor's display name then
  std::string note;
  Timestamp created_at;
  // A prospect's lead (the demo's "Request trial"): who asked, on the demo tenant.
  std::optional<std::string> prospect_company, prospect_name, prospect_email;
};

struct LeadRequest {
  std::string product_id;
  std::string note;  // optional, at most kMaxLeadNote characters
};

// The demo's "Request trial" (M13.2): a prospect a sales rep walked through the demo.
struct TrialLeadRequest {
  std::string company;  // 1..200 characters
  std::string name;     // the contact, 1..200
  std::string email;
  std::string product_id;
  std::string note;  // optional, at most kMaxLeadNote
};

struct LeadFilter {
  std::optional<std::string> tenant_id;
  int limit = 100;
};

inline constexpr std::size_t kMaxLeadNote = 2000;

class LeadService {
 public:
  LeadService(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog,
              tenants::TenantService& tenants, tenants::SubscriptionService& subscriptions)
      : db_(db),
        clock_(clock),
        catalog_(catalog),
        tenants_(tenants),
        subscriptions_(subscriptions) {}

  // The lead and whether it was created now (false: an open one existed). 422 for an unknown
  // product or an over-long note, 409 when the tenant has the product already, 404/410 for
  // an unknown or archived tenant.
  Result<std::pair<Lead, bool>> Request(const audit::Actor& actor, const std::string& tenant_id,
                                        const LeadRequest& in);
  // A lead on the demo tenant for a prospect, owned by `sales_owner` (the rep who asks), one
  // per request. 422 for a bad field, 404 while there is no demo tenant.
  Result<Lead> RequestTrial(const audit::Actor& actor, const std::string& sales_owner,
                            const TrialLeadRequest& in);
  // Newest first. BREAKPILOT_ADMIN sees every lead; anyone else (a sales rep) the leads whose
  // sales owner is their own user name.
  std::vector<Lead> List(const identity::Principal& viewer, const LeadFilter& filter);
  // The products the tenant has an open lead for (the catalog page marks them).
  std::vector<std::string> OpenProducts(const std::string& tenant_id);
  // Called inside the transaction that creates a lead.
  void OnCreated(std::function<void(storage::Session&, const Lead&)> hook) {
    on_created_ = std::move(hook);
  }

 private:
  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  tenants::TenantService& tenants_;
  tenants::SubscriptionService& subscriptions_;
  std::function<void(storage::Session&, const Lead&)> on_created_;
};

}  // namespace breakpilot::sales
