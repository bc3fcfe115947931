// A product's MCP endpoint (Model Context Protocol, Streamable HTTP transport): JSON-RPC 2.0
// messages POSTed to one path, answered as application/json (no server-initiated stream: GET is
// 405, as the transport allows). The platform's gateway (`/mcp/{product}`) forwards clients here
// with a token of the tenant; the product admits it as any other request.
//
//   sdk::McpServer mcp("echo-bot", "1.0.0");
//   mcp.AddTool({.name = "echo", .description = "Echoes a message",
//                .input_schema = R"({"type":"object","properties":{"message":{"type":"string"}},
//                                  "required":["message"]})",
//                .call = [](const sdk::Principal& who, const std::string& arguments_json) {
//                  return sdk::Outcome<std::string>(...text...); }});
//   if (r.Path() == "/mcp") { auto who = product.Admit(r); ...; return mcp.Handle(r, *who); }
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "breakpilot/http.hpp"
#include "breakpilot/tokens.hpp"

namespace breakpilot::sdk {

struct McpTool {
  std::string name;
  std::string description;
  std::string input_schema;  // a JSON Schema object, as JSON text
  // The tool's text result from its arguments (a JSON object, as text). A Failure is answered
  // as the tool's error result (isError: true), not as a protocol error.
  std::function<Outcome<std::string>(const Principal& who, const std::string& arguments_json)> call;
};

class McpServer {
 public:
  McpServer(std::string name, std::string version);
  ~McpServer();
  McpServer(const McpServer&) = delete;
  McpServer& operator=(const McpServer&) = delete;

  void AddTool(McpTool tool);
  // One HTTP request of the transport: POST a message (or a batch); GET is 405; DELETE ends
  // nothing (sessions are not kept) and answers 405 too. Bad JSON-RPC is a JSON-RPC error.
  Response Handle(const Request& request, const Principal& who);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::sdk
