#include "app.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

namespace echo_bot {
namespace sdk = breakpilot::sdk;
namespace {

constexpr std::size_t kMaxMessage = 4096;

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rows of a tenant live under its id; the demo tenant's under "demo" (see app.hpp).
std::string TenantKey(const sdk::Principal& who) {
  return who.tenant_status == "demo" ? std::string("demo") : who.tenant_id;
}

bool IsSlug(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The request's JSON object, or the problem to answer.
sdk::Outcome<boost::json::object> Body(const sdk::Request& r) {
  const std::string_view type = r.Header("content-type");
  if (type.substr(0, type.find(';')) != "application/json") {
    return sdk::Failure{415, "unsupported-media-type", "Unsupported media type",
                        "send application/json"};
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    return sdk::Failure{400, "malformed-json", "Malformed JSON", "the body is not a JSON object"};
  }
  return std::move(v.as_object());
}

sdk::Failure Invalid(std::string detail) {
  return sdk::Failure{422, "validation-failed", "Validation failed", std::move(detail)};
}

boost::json::object ToJson(const Echo& e) {
  return {{"id", e.id},
          {"project", e.project},
          {"message", e.message},
          {"actor", e.actor},
          {"created", e.created}};
}

boost::json::array ProjectsJson(const std::vector<Project>& projects) {
  boost::json::array out;
  for (const auto& p : projects) out.push_back({{"id", p.id}, {"name", p.name}});
  return out;
}

}  // namespace

void App::Attach(sdk::Product& product) {
  product_ = &product;
  mcp_.AddTool(
      {.name = "echo",
       .description = "Echoes a message back, and keeps it in the tenant's echoes.",
       .input_schema = R"({"type":"object","properties":{"message":{"type":"string","minLength":1,)"
                       R"("maxLength":4096}},"required":["message"]})",
       .call = [this](const sdk::Principal& who,
                      const std::string& arguments) -> sdk::Outcome<std::string> {
         boost::system::error_code ec;
         const auto args = boost::json::parse(arguments, ec);
         const auto* m =
             !ec && args.is_object() ? args.as_object().if_contains("message") : nullptr;
         if (m == nullptr || !m->is_string() || m->as_string().empty() ||
             m->as_string().size() > kMaxMessage) {
           return Invalid("message is a string of 1 to 4096 characters");
         }
         return Keep(who, "default", std::string(m->as_string()), {.description = "through MCP"})
             .message;
       }});
}

sdk::Response App::Handle(const sdk::Request& request) {
  if (auto contract = product_->HandleContract(request)) return *contract;
  const std::string_view path = request.Path();
  if (path == "/mcp") {
    auto who = product_->Admit(request, {.scope = "echo-bot:write"});
    if (!who) return who.failure().ToResponse();
    return mcp_.Handle(request, *who);
  }
  const bool write = request.IsWrite();
  const bool known = path == "/v1/echo" || path == "/v1/echoes" || path == "/v1/projects" ||
                     path.rfind("/v1/projects/", 0) == 0;
  if (!known) return sdk::Problem(404, "not-found", "Not found", "no such route");
  auto who = product_->Admit(request, {.scope = write ? "echo-bot:write" : "echo-bot:read"});
  if (!who) return who.failure().ToResponse();
  const std::string tenant = TenantKey(*who);

  if (path == "/v1/echo" && request.method == "POST") return Echo(*who, request);
  if (path == "/v1/echoes" && request.method == "GET") {
    std::size_t limit = 50;
    if (const std::string l = request.QueryParam("limit"); !l.empty()) {
      if (l.size() > 3 || !std::all_of(l.begin(), l.end(), ::isdigit) || std::stoul(l) == 0) {
        return sdk::Problem(400, "invalid-parameter", "Invalid parameter",
                            "limit is a number from 1 to 500");
      }
      limit = std::min<std::size_t>(500, std::stoul(l));
    }
    boost::json::array list;
    for (const auto& e : store_.Echoes(tenant, limit)) list.emplace_back(ToJson(e));
    return sdk::Json(200, boost::json::serialize(boost::json::object{{"echoes", list}}));
  }
  if (path == "/v1/projects" && request.method == "GET") {
    return sdk::Json(200, boost::json::serialize(boost::json::object{
                              {"projects", ProjectsJson(store_.Projects(tenant))}}));
  }
  if (path == "/v1/projects" && request.method == "POST") return AddProject(*who, request);
  if (path.rfind("/v1/projects/", 0) == 0 && request.method == "DELETE") {
    const std::string id(path.substr(13));
    if (!store_.RemoveProject(tenant, id)) {
      return sdk::Problem(404, "project-not-found", "Project not found", "no project '" + id + "'");
    }
    product_->Audit(*who, {.action = "project.deleted",
                           .crud = 'd',
                           .target_id = id,
                           .target_type = "project",
                           .source_ip = request.remote_address});
    return sdk::Response{.status = 204, .content_type = "", .body = ""};
  }
  return sdk::Problem(405, "method-not-allowed", "Method not allowed",
                      request.method + " is not allowed on " + std::string(path));
}

sdk::Response App::Echo(const sdk::Principal& who, const sdk::Request& request) {
  auto body = Body(request);
  if (!body) return body.failure().ToResponse();
  const auto* message = body->if_contains("message");
  if (message == nullptr || !message->is_string() || message->as_string().empty() ||
      message->as_string().size() > kMaxMessage) {
    return Invalid("message is a string of 1 to 4096 characters").ToResponse();
  }
  std::string project = "default";
  if (const auto* p = body->if_contains("project")) {
    if (!p->is_string() || !IsSlug(p->as_string())) {
      return Invalid("project is a project id (a-z, 0-9, '-')").ToResponse();
    }
    project = std::string(p->as_string());
    const auto projects = store_.Projects(TenantKey(who));
    if (std::none_of(projects.begin(), projects.end(),
                     [&](const Project& x) { return x.id == project; })) {
      return sdk::Problem(404, "project-not-found", "Project not found",
                          "no project '" + project + "'");
    }
  }
  const echo_bot::Echo e =
      Keep(who, project, std::string(message->as_string()), {.source_ip = request.remote_address});
  boost::json::object out = ToJson(e);
  out["echo"] = e.message;
  return sdk::Json(200, boost::json::serialize(out));
}

echo_bot::Echo App::Keep(const sdk::Principal& who, const std::string& project,
                         const std::string& message, sdk::AuditEvent audit) {
  echo_bot::Echo e{.project = project, .message = message, .actor = who.subject, .created = Now()};
  // The product's one flag (the manifest's `flags:`): echoes in upper case when "on".
  if (product_->Evaluate(who.tenant_id, "echo.uppercase") == "on") {
    for (char& c : e.message) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
  }
  e.id = store_.AddEcho(TenantKey(who), e);
  audit.action = "echo.sent";
  audit.crud = 'c';
  audit.target_id = std::to_string(e.id);
  audit.target_type = "echo";
  product_->Audit(who, std::move(audit));
  return e;
}

sdk::Response App::AddProject(const sdk::Principal& who, const sdk::Request& request) {
  auto body = Body(request);
  if (!body) return body.failure().ToResponse();
  const auto* id = body->if_contains("id");
  const auto* name = body->if_contains("name");
  if (id == nullptr || !id->is_string() || !IsSlug(id->as_string())) {
    return Invalid("id is 1 to 64 of a-z, 0-9 and '-'").ToResponse();
  }
  if (name == nullptr || !name->is_string() || name->as_string().empty() ||
      name->as_string().size() > 200) {
    return Invalid("name is a string of 1 to 200 characters").ToResponse();
  }
  Project p{std::string(id->as_string()), std::string(name->as_string())};
  if (!store_.AddProject(TenantKey(who), p)) {
    return sdk::Problem(409, "project-exists", "Project exists", "a project '" + p.id + "' exists");
  }
  product_->Audit(who, {.action = "project.created",
                        .crud = 'c',
                        .target_id = p.id,
                        .target_type = "project",
                        .source_ip = request.remote_address});
  return sdk::Json(201,
                   boost::json::serialize(boost::json::object{{"id", p.id}, {"name", p.name}}));
}

sdk::Outcome<std::string> App::Export(const std::string& tenant_id) {
  if (store_.Deleted(tenant_id)) {
    return sdk::Failure{410, "tenant-deleted", "Tenant deleted", "this tenant's data was deleted"};
  }
  boost::json::array echoes;
  for (const auto& e : store_.Echoes(tenant_id, 1'000'000)) echoes.emplace_back(ToJson(e));
  return boost::json::serialize(
      boost::json::object{{"product", "echo-bot"},
                          {"tenant_id", tenant_id},
                          {"projects", ProjectsJson(store_.Projects(tenant_id))},
                          {"echoes", echoes}});
}

sdk::Outcome<bool> App::DeleteTenant(const std::string& tenant_id) {
  store_.DeleteTenant(tenant_id);
  return true;
}

sdk::Outcome<bool> App::ResetDemo(const std::string& fixture) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(fixture, ec);
  if (ec || !v.is_object()) {
    return sdk::Failure{400, "malformed-json", "Malformed fixture", "the fixture is not JSON"};
  }
  std::vector<Project> projects;
  std::vector<echo_bot::Echo> echoes;
  auto str = [](const boost::json::object& o, std::string_view k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  if (const auto* p = v.as_object().if_contains("projects"); p != nullptr && p->is_array()) {
    for (const auto& e : p->as_array()) {
      if (e.is_object() && IsSlug(str(e.as_object(), "id"))) {
        projects.push_back({str(e.as_object(), "id"), str(e.as_object(), "name")});
      }
    }
  }
  if (const auto* p = v.as_object().if_contains("echoes"); p != nullptr && p->is_array()) {
    for (const auto& e : p->as_array()) {
      if (!e.is_object()) continue;
      echoes.push_back({.project = str(e.as_object(), "project"),
                        .message = str(e.as_object(), "message").substr(0, kMaxMessage),
                        .actor = "demo-fixture",
                        .created = Now()});
    }
  }
  store_.ReplaceTenant("demo", projects, echoes);
  return true;
}

sdk::Outcome<sdk::IsolationStatus> App::Isolate(const std::string& tenant_id,
                                                const std::string& isolation) {
  return store_.tenants().Isolate(tenant_id, isolation);
}

sdk::Outcome<sdk::IsolationStatus> App::Isolation(const std::string& tenant_id) {
  return store_.tenants().Status(tenant_id);
}

}  // namespace echo_bot
