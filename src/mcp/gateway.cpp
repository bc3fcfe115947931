#include "mcp/gateway.hpp"

#include <boost/json.hpp>

#include "core/ascii.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::mcp {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxAnswer = std::size_t{4} << 20;

// The tools a request calls: (JSON-RPC id, tool name) of each tools/call message in it.
std::vector<std::pair<json::value, std::string>> ToolCalls(const std::string& body) {
  std::vector<std::pair<json::value, std::string>> out;
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec) return out;
  const auto one = [&](const json::value& m) {
    const auto* o = m.if_object();
    if (o == nullptr) return;
    const auto* method = o->if_contains("method");
    const auto* params = o->if_contains("params");
    if (method == nullptr || *method != "tools/call" || params == nullptr || !params->is_object()) {
      return;
    }
    const auto* name = params->as_object().if_contains("name");
    out.emplace_back(
        o->contains("id") ? o->at("id") : json::value(nullptr),
        name != nullptr && name->is_string() ? std::string(name->as_string()) : std::string("?"));
  };
  if (!v.is_array()) {
    one(v);
    return out;
  }
  for (const auto& m : v.as_array()) one(m);
  return out;
}

// Whether the answer to the call with `id` is a tool error (isError) or a JSON-RPC error.
bool Failed(const std::string& answer, const json::value& id) {
  boost::system::error_code ec;
  const json::value v = json::parse(answer, ec);
  if (ec) return true;
  const auto check = [&](const json::value& m) -> std::optional<bool> {
    const auto* o = m.if_object();
    if (o == nullptr || !o->contains("id") || o->at("id") != id) return std::nullopt;
    if (o->contains("error")) return true;
    const auto* r = o->if_contains("result");
    const auto* e =
        r != nullptr && r->is_object() ? r->as_object().if_contains("isError") : nullptr;
    return e != nullptr && e->is_bool() && e->as_bool();
  };
  if (v.is_array()) {
    for (const auto& m : v.as_array()) {
      if (auto f = check(m)) return *f;
    }
    return true;
  }
  return check(v).value_or(true);
}

}  // namespace

Result<Answer> Gateway::Forward(const audit::Actor& actor, const std::string& tenant_id,
                                const std::string& subject, const std::string& product_id,
                                const Call& call) {
  const catalog::Manifest* product = catalog_.Find(product_id);
  if (product == nullptr || product->mcp_path.empty()) {
    return NotFound("mcp-not-found", "no product with an MCP endpoint named '" + product_id + "'");
  }
  std::optional<tenants::Tenant> tenant;
  std::vector<tenants::Subscription> subs;
  db_.Read([&](storage::Session& s) {
    tenant = tenants::store::SelectTenant(s, tenant_id);
    if (tenant) subs = tenants::store::SelectSubscriptions(s, tenant->id);
  });
  if (!tenant) return NotFound("tenant-not-found", "no tenant " + tenant_id);
  if (tenant->status == tenants::Status::kArchived) {
    return Error{ErrorKind::kGone, "tenant-archived", "Tenant archived",
                 "the tenant has been offboarded"};
  }
  if (tenant->plan != catalog::Plan::kEnterprise) {
    return Error{ErrorKind::kForbidden, "plan-not-enterprise", "Forbidden",
                 "the MCP gateway is part of the enterprise plan; this tenant is on " +
                     std::string(tenants::ToString(tenant->plan))};
  }
  if (std::none_of(subs.begin(), subs.end(),
                   [&](const auto& s) { return s.product_id == product_id; })) {
    return Error{ErrorKind::kForbidden, "not-subscribed", "Forbidden",
                 "the tenant has not booked " + product_id};
  }
  if (!reachable_(*product)) {
    return Error{ErrorKind::kUnavailable, "product-not-called", "Product not called",
                 product_id + " is not on this machine (product_hosts: loopback)"};
  }
  auto token = issuer_.TenantToken(*tenant, subs, subject, product_id);
  if (!token) return std::move(token).error();
  outbound::Request out{.method = call.method,
                        .url = product->base_url + product->mcp_path,
                        .headers = {{"Authorization", "Bearer " + token->access_token}},
                        .body = call.body,
                        .timeout = std::chrono::seconds(30),
                        .max_body = kMaxAnswer};
  for (const auto& h : call.headers) out.headers.push_back(h);
  const auto tools = call.method == "POST" ? ToolCalls(call.body)
                                           : std::vector<std::pair<json::value, std::string>>{};
  auto r = fetch_(out);
  if (!r) {
    return Error{ErrorKind::kUnavailable, "product-unavailable", "Product unavailable",
                 product_id + "'s MCP endpoint did not answer"};
  }
  Answer answer{.status = r->status,
                .content_type = std::string(r->headers.Get("content-type").value_or("")),
                .body = std::move(r->body)};
  if (auto session = r->headers.Get("mcp-session-id")) {
    answer.headers.emplace_back("Mcp-Session-Id", std::string(*session));
  }
  if (!tools.empty()) {
    db_.Write([&](storage::Session& s) {
      for (const auto& [id, tool] : tools) {
        const bool failed = answer.status != 200 || Failed(answer.body, id);
        std::string target = product_id;
        target.append("/").append(tool);
        std::string description = "tool ";
        description.append(tool)
            .append(" of ")
            .append(product_id)
            .append(" called through the MCP gateway");
        audit::Record(s, clock_, actor,
                      {tenant->id, "mcp.tool_call", 'c', "mcp_tool", target, description,
                       json::serialize(json::object{{"product", product_id},
                                                    {"tool", tool},
                                                    {"status", answer.status},
                                                    {"failed", failed}}),
                       failed});
      }
    });
  }
  return answer;
}

}  // namespace breakpilot::mcp
