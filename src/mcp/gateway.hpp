// The MCP gateway (M17.1): `/mcp/{product}` speaks MCP's Streamable HTTP transport to clients
// and forwards each request to the product's MCP endpoint (its manifest's `mcp.path`), for the
// caller's tenant, with a token the product admits (audience the product, the tenant's claims,
// `sub` the caller). Only tenants on the enterprise plan that booked the product get through;
// every `tools/call` is recorded in the tenant's audit trail with the tool's name and outcome.
//
//   mcp::Gateway gateway(db, clock, catalog, issuer, fetch, reachable);
//   auto answer = gateway.Forward(actor, tenant_id, "api-key:<id>", "echo-bot",
//                                 {.method = "POST", .body = json, .headers = {...}});
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "audit/trail.hpp"
#include "catalog/catalog.hpp"
#include "core/result.hpp"
#include "identity/token_issuer.hpp"
#include "outbound/fetch.hpp"
#include "storage/database.hpp"

namespace breakpilot::mcp {

struct Call {
  std::string method;  // POST, GET or DELETE
  std::string body;
  // What the transport carries and the product needs: Accept, Content-Type, Mcp-Session-Id,
  // MCP-Protocol-Version, Last-Event-ID.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Answer {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Mcp-Session-Id when given
};

// Whether the platform may call this product's host (product_hosts: loopback in development).
using Reachable = std::function<bool(const catalog::Manifest&)>;

class Gateway {
 public:
  Gateway(storage::Database& db, const Clock& clock, const catalog::Catalog& catalog,
          identity::TokenIssuer& issuer, outbound::Fetcher fetch, Reachable reachable)
      : db_(db),
        clock_(clock),
        catalog_(catalog),
        issuer_(issuer),
        fetch_(std::move(fetch)),
        reachable_(std::move(reachable)) {}

  // 404 no such product or no MCP endpoint; 403 "plan-not-enterprise" or "not-subscribed";
  // 410 an archived tenant; 503 when the product does not answer.
  Result<Answer> Forward(const audit::Actor& actor, const std::string& tenant_id,
                         const std::string& subject, const std::string& product, const Call& call);

 private:
  storage::Database& db_;
  const Clock& clock_;
  const catalog::Catalog& catalog_;
  identity::TokenIssuer& issuer_;
  outbound::Fetcher fetch_;
  Reachable reachable_;
};

}  // namespace breakpilot::mcp
