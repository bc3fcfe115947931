// Operational routes: health, readiness, metrics, the OpenAPI document and the API reference.
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/system_routes.hpp"

#include "catalog/manifest.hpp"
#include "core/embedded.hpp"
#include "http/problem.hpp"

namespace breakpilot::api {
namespace {

constexpr std::string_view kReferencePage = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Breakpilot Platform API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="reference"><noscript>The API reference needs JavaScript. The document itself is at
<a href="/openapi.yaml">/openapi.yaml</a>.</noscript></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/reference.js"></script>
</body>
</html>
)";

constexpr std::string_view kReferenceScript =
    "window.ui = SwaggerUIBundle({url: '/openapi.yaml', dom_id: '#reference', deepLinking: "
    "true});\n";

// Only these files of swagger-ui-dist are served: nothing else under docs_dir is reachable.
struct Asset {
  std::string_view name;
  std::string_view content_type;
};
constexpr Asset kAssets[] = {{"swagger-ui.css", "text/css; charset=utf-8"},
                             {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"}};

}  // namespace

SystemRoutes::SystemRoutes(const Services& s, http::Metrics& metrics, std::string docs_dir)
    : db_(s.db), integrations_(s.integrations), metrics_(metrics), docs_dir_(std::move(docs_dir)) {}

// The handlers, one per route, in the order the routes are added below.

Result<http::Response> SystemRoutes::Healthz(http::Request&, const Caller&) {
  return http::Response::Json(200, R"({"status":"ok"})");
}

Result<http::Response> SystemRoutes::Readyz(http::Request& req, const Caller&) {
  if (db_.Ping()) {
    // Integrations are queued and retried: they inform, they never make us unready. No error
    // text here (this answer is public): the backstage's jobs page has it.
    boost::json::object detail;
    if (integrations_) {
      for (const auto& i : integrations_()) {
        if (!i.configured) continue;
        const auto when = [](std::int64_t us) {
          return us == 0 ? boost::json::value(nullptr)
                         : boost::json::value(FormatRfc3339(Timestamp{us}));
        };
        detail[i.name] = {{"state", i.last_failure_us > i.last_success_us ? "failing" : "ok"},
                          {"last_success", when(i.last_success_us)},
                          {"last_failure", when(i.last_failure_us)},
                          {"failures", i.failures},
                          {"queued", i.queued}};
        if (!i.fallback.empty()) detail[i.name].as_object()["fallback"] = i.fallback;
      }
    }
    boost::json::object body{{"status", "ready"}};
    if (!detail.empty()) body["integrations"] = std::move(detail);
    return http::Response::Json(200, boost::json::serialize(body));
  }
  return http::Problem(503, "not-ready", "Not ready", "the database does not answer", req.path);
}

Result<http::Response> SystemRoutes::Metrics(http::Request&, const Caller&) {
  return Text(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render());
}

Result<http::Response> SystemRoutes::Openapi(http::Request&, const Caller&) {
  auto doc = embedded::Find("api/openapi.yaml");
  return Text(200, "application/yaml", std::string(doc.value_or("")));
}

Result<http::Response> SystemRoutes::ManifestSchema(http::Request&, const Caller&) {
  return Text(200, "application/schema+json", std::string(catalog::ManifestSchema()));
}

Result<http::Response> SystemRoutes::Reference(http::Request&, const Caller&) {
  auto r = Text(200, "text/html; charset=utf-8", std::string(kReferencePage));
  r.headers.Set("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' "
                "'unsafe-inline'");
  return r;
}

Result<http::Response> SystemRoutes::ReferenceAsset(http::Request& req, const Caller&) {
  const auto file = req.Param("file").value_or("");
  if (file == "reference.js") {
    return Text(200, "text/javascript; charset=utf-8", std::string(kReferenceScript));
  }
  for (const auto& a : kAssets) {
    if (a.name != file) continue;
    std::ifstream in(std::filesystem::path(docs_dir_) / a.name, std::ios::binary);
    if (!in) break;
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = Text(200, a.content_type, ss.str());
    r.headers.Set("Cache-Control", "public, max-age=3600");
    return r;
  }
  return http::Problem(404, "not-found", "Not found", "no documentation asset " + std::string(file),
                       req.path);
}

std::vector<Endpoint> SystemRoutes::Routes() {
  std::vector<Endpoint> routes;
  routes.push_back({.method = "GET",
                    .pattern = "/healthz",
                    .name = "healthz",
                    .action = identity::Action::kPublic,
                    .memory_first = true,  // liveness must not queue behind database work
                    .handler = Bind(this, &SystemRoutes::Healthz)});
  routes.push_back({.method = "GET",
                    .pattern = "/readyz",
                    .name = "readyz",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::Readyz)});
  routes.push_back({.method = "GET",
                    .pattern = "/metrics",
                    .name = "metrics",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::Metrics)});
  routes.push_back({.method = "GET",
                    .pattern = "/openapi.yaml",
                    .name = "openapi",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::Openapi)});
  routes.push_back({.method = "GET",
                    .pattern = "/product-manifest.schema.json",
                    .name = "manifest_schema",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::ManifestSchema)});
  routes.push_back({.method = "GET",
                    .pattern = "/",
                    .name = "reference",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::Reference)});
  routes.push_back({.method = "GET",
                    .pattern = "/docs/{file}",
                    .name = "reference_asset",
                    .action = identity::Action::kPublic,
                    .handler = Bind(this, &SystemRoutes::ReferenceAsset)});
  return routes;
}

}  // namespace breakpilot::api
