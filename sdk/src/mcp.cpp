#include "breakpilot/mcp.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace breakpilot::sdk {
namespace {

namespace json = boost::json;

constexpr std::string_view kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

json::object Error(const json::value& id, int code, std::string_view message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json::object Result(const json::value& id, json::object result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

}  // namespace

struct McpServer::Impl {
  std::string name;
  std::string version;
  std::vector<McpTool> tools;

  // The answer to one message; nullopt for a notification (no id).
  std::optional<json::object> Answer(const json::value& message, const Principal& who) {
    const auto* m = message.if_object();
    if (m == nullptr) return Error(nullptr, -32600, "a message is a JSON object");
    const auto* id = m->if_contains("id");
    const auto* method = m->if_contains("method");
    if (method == nullptr || !method->is_string()) {
      // A response or garbage from the client: nothing to answer for a response.
      if (id != nullptr && (m->contains("result") || m->contains("error"))) return std::nullopt;
      return Error(id != nullptr ? *id : json::value(nullptr), -32600, "no method");
    }
    if (id == nullptr) return std::nullopt;  // a notification (notifications/initialized, ...)
    const std::string_view name_ = method->as_string();
    const json::object params = m->contains("params") && m->at("params").is_object()
                                    ? m->at("params").as_object()
                                    : json::object{};
    if (name_ == "initialize") {
      std::string_view asked;
      if (const auto* v = params.if_contains("protocolVersion"); v != nullptr && v->is_string()) {
        asked = v->as_string();
      }
      const bool known =
          std::find(std::begin(kVersions), std::end(kVersions), asked) != std::end(kVersions);
      return Result(*id, {{"protocolVersion", known ? asked : kVersions[1]},
                          {"capabilities", {{"tools", {{"listChanged", false}}}}},
                          {"serverInfo", {{"name", name}, {"version", version}}}});
    }
    if (name_ == "ping") return Result(*id, {});
    if (name_ == "tools/list") {
      json::array list;
      for (const auto& t : tools) {
        boost::system::error_code ec;
        json::value schema = json::parse(t.input_schema, ec);
        if (ec || !schema.is_object()) schema = json::object{{"type", "object"}};
        list.push_back({{"name", t.name}, {"description", t.description}, {"inputSchema", schema}});
      }
      return Result(*id, {{"tools", std::move(list)}});
    }
    if (name_ == "tools/call") {
      const auto* tool_name = params.if_contains("name");
      if (tool_name == nullptr || !tool_name->is_string()) {
        return Error(*id, -32602, "tools/call needs params.name");
      }
      const auto it = std::find_if(tools.begin(), tools.end(), [&](const McpTool& t) {
        return t.name == tool_name->as_string();
      });
      if (it == tools.end())
        return Error(*id, -32602, "no tool " + std::string(tool_name->as_string()));
      const auto* args = params.if_contains("arguments");
      const std::string arguments =
          args != nullptr && args->is_object() ? json::serialize(*args) : std::string("{}");
      auto out = it->call(who, arguments);
      const std::string text = out ? *out : out.failure().detail;
      return Result(
          *id, {{"content", json::array{{{"type", "text"}, {"text", text}}}}, {"isError", !out}});
    }
    return Error(*id, -32601, "no method " + std::string(name_));
  }
};

McpServer::McpServer(std::string name, std::string version) : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->version = std::move(version);
}

McpServer::~McpServer() = default;

void McpServer::AddTool(McpTool tool) {
  impl_->tools.push_back(std::move(tool));
}

Response McpServer::Handle(const Request& request, const Principal& who) {
  if (request.method != "POST") {
    Response r = Problem(405, "method-not-allowed", "Method not allowed",
                         "this MCP endpoint takes POSTed messages only (no server stream)");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  boost::system::error_code ec;
  const json::value body = json::parse(request.body, ec);
  if (ec) return Json(400, json::serialize(Error(nullptr, -32700, "not JSON")));
  if (body.is_array()) {
    json::array answers;
    for (const auto& m : body.as_array()) {
      if (auto a = impl_->Answer(m, who)) answers.emplace_back(std::move(*a));
    }
    if (answers.empty()) return Response{.status = 202, .content_type = "", .body = ""};
    return Json(200, json::serialize(answers));
  }
  auto answer = impl_->Answer(body, who);
  if (!answer) return Response{.status = 202, .content_type = "", .body = ""};
  return Json(200, json::serialize(*answer));
}

}  // namespace breakpilot::sdk
