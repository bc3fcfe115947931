#include "api/mcp_routes.hpp"

#include <algorithm>

#include "core/uuid.hpp"

namespace breakpilot::api {

// The handlers, one per route, in the order the routes are added below.

// The tenant is the caller's own (an API key's); a service client (platform-wide, as for
// audit and usage) names it in the `Breakpilot-Tenant` header.
Result<http::Response> McpRoutes::McpForward(http::Request& req, const Caller& caller) {
  std::string tenant;
  if (caller.principal.org_id) {
    tenant = *caller.principal.org_id;
  } else if (auto named = req.headers.Get("breakpilot-tenant"); named && IsCanonicalUuid(*named)) {
    tenant = NormalizeUuid(*named);
    const auto& roles = caller.principal.realm_roles;
    if (std::find(roles.begin(), roles.end(), identity::Role::kService) == roles.end()) {
      if (auto ok = CheckTenant(tenants_, caller, identity::Action::kMcpUse, tenant); !ok) {
        return ok.error();
      }
    }
  } else {
    return InvalidInput("tenant-required", "Tenant required",
                        "use an API key of the tenant, or name it in the Breakpilot-Tenant header");
  }
  mcp::Call call{.method = req.method, .body = req.body};
  for (const char* h :
       {"accept", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id"}) {
    if (auto v = req.headers.Get(h)) call.headers.emplace_back(h, std::string(*v));
  }
  auto answer = gateway_.Forward(caller.actor, tenant, caller.principal.subject,
                                 std::string(req.Param("product").value_or("")), call);
  if (!answer) return answer.error();
  http::Response res;
  res.status = answer->status;
  res.body = std::move(answer->body);
  if (!answer->content_type.empty()) res.headers.Set("Content-Type", answer->content_type);
  for (const auto& [k, v] : answer->headers) res.headers.Set(k, v);
  return res;
}

std::vector<Endpoint> McpRoutes::Routes() {
  std::vector<Endpoint> routes;
  for (const char* method : {"POST", "GET", "DELETE"}) {
    const std::string_view m = method;
    routes.push_back({.method = method,
                      .pattern = "/mcp/{product}",
                      .name = m == "POST"  ? "mcp_post"
                              : m == "GET" ? "mcp_get"
                                           : "mcp_delete",
                      .action = identity::Action::kMcpUse,
                      .body = m == "POST" ? std::vector<std::string_view>{kJson}
                                          : std::vector<std::string_view>{},
                      .handler = Bind(this, &McpRoutes::McpForward)});
  }
  return routes;
}

}  // namespace breakpilot::api
