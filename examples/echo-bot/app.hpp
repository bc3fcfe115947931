// echo-bot's routes, on the SDK's Product: the echo API, projects, and the tenant data the
// contract endpoints export, delete and reset.
//
//   POST   /v1/echo            {"message", "project"?}  -> 200 {"id", "echo", "project"}
//   GET    /v1/echoes?limit=   the tenant's latest echoes
//   GET    /v1/projects        POST /v1/projects {"id", "name"}   DELETE /v1/projects/{id}
//   POST   /mcp                MCP (Streamable HTTP): the tool `echo`, reached through the
//                              platform's gateway (/mcp/echo-bot) with a token of the tenant
//
// Every route needs a platform token or an API key of the tenant and passes the SDK's gate;
// a tenant only ever sees its own rows. The platform can move a tenant's rows to a place of
// their own (PUT /v1/tenants/{id}/isolation, the SDK's TenantStore). The demo tenant's rows are
// kept under "demo", where the platform's demo reset puts its fixture.
#pragma once

#include <breakpilot/sdk.hpp>

#include "store.hpp"

namespace echo_bot {

class App : public breakpilot::sdk::TenantData {
 public:
  explicit App(Store& store) : store_(store) {}
  // Also sets up the MCP tool `echo`.
  void Attach(breakpilot::sdk::Product& product);

  breakpilot::sdk::Response Handle(const breakpilot::sdk::Request& request);

  breakpilot::sdk::Outcome<std::string> Export(const std::string& tenant_id) override;
  breakpilot::sdk::Outcome<bool> DeleteTenant(const std::string& tenant_id) override;
  breakpilot::sdk::Outcome<bool> ResetDemo(const std::string& fixture) override;
  breakpilot::sdk::Outcome<breakpilot::sdk::IsolationStatus> Isolate(
      const std::string& tenant_id, const std::string& isolation) override;
  breakpilot::sdk::Outcome<breakpilot::sdk::IsolationStatus> Isolation(
      const std::string& tenant_id) override;

 private:
  breakpilot::sdk::Response Echo(const breakpilot::sdk::Principal& who,
                                 const breakpilot::sdk::Request& request);
  // Stores an echo of the caller's tenant and audits it (`audit`: its source or description).
  echo_bot::Echo Keep(const breakpilot::sdk::Principal& who, const std::string& project,
                      const std::string& message, breakpilot::sdk::AuditEvent audit);
  breakpilot::sdk::Response AddProject(const breakpilot::sdk::Principal& who,
                                       const breakpilot::sdk::Request& request);

  Store& store_;
  breakpilot::sdk::Product* product_ = nullptr;
  breakpilot::sdk::McpServer mcp_{"echo-bot", "1.0.0"};
};

}  // namespace echo_bot
