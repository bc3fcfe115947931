// The MCP gateway (M17.1): `/mcp/{product}` forwards MCP's Streamable HTTP transport to the
// product's MCP endpoint for the caller's tenant (mcp/gateway.hpp).
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class McpRoutes : public Module {
 public:
  explicit McpRoutes(const Services& s) : gateway_(s.mcp), tenants_(s.tenants) {}
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> McpForward(http::Request& req, const Caller& caller);

  mcp::Gateway& gateway_;
  tenants::TenantService& tenants_;
};

}  // namespace breakpilot::api
