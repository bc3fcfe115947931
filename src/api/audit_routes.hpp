// The audit trail: publish (ours and Retraced's), search, export, verify, retention, erase.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class AuditRoutes : public Module {
 public:
  explicit AuditRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> AuditPublish(http::Request& req, const Caller& caller);
  Result<http::Response> AuditPublishBulk(http::Request& req, const Caller& caller);
  Result<http::Response> RetracedPublish(http::Request& req, const Caller& caller);
  Result<http::Response> RetracedPublishBulk(http::Request& req, const Caller& caller);
  Result<http::Response> AuditSearch(http::Request& req, const Caller& caller);
  Result<http::Response> AuditExport(http::Request& req, const Caller& caller);
  Result<http::Response> AuditVerify(http::Request& req, const Caller& caller);
  Result<http::Response> AuditRetentionSet(http::Request& req, const Caller& caller);
  Result<http::Response> AuditErase(http::Request& req, const Caller& caller);
  Result<Ok> ScopeAuditFilter(const Caller& caller, audit::Filter& f);
  Result<http::Response> PublishAudit(http::Request& req, const Caller& caller, std::string product,
                                      bool bulk, bool retraced);
  const Services& services_;
  const catalog::Catalog& catalog_;
  const Clock& clock_;
  storage::Database& db_;
  audit::ExportSlots& exports_;
  audit::Ingestor& ingestor_;
  identity::KeyRing& keys_;
  tenants::TenantService& tenants_;
};

}  // namespace breakpilot::api
