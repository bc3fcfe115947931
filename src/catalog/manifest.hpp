// Product manifests (`product.manifest.yaml`): how a product plugs into the platform (M4.2
// GET /catalog, M6.3, M7.2). Parsed strictly: unknown keys and wrong types are errors that name
// the key, so a typo in a manifest fails loudly at start-up.
//
//   Result<Manifest> m = ParseManifest(yaml_text, "data/catalog/certifai/product.manifest.yaml");
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace breakpilot::catalog {

struct Manifest {
  std::string id;  // "certifai": lowercase, digits, '-'
  std::string name;
  std::string version;  // semantic version
  std::string description;
  std::string vendor;
  std::string base_url;            // https://..., or http:// on localhost for development
  std::vector<std::string> plans;  // subset of free|starter|professional|enterprise
  bool supports_projects = false;
  std::vector<std::string> scopes;  // "<id>:<action>", e.g. "certifai:read"
  std::string category;
  std::string tagline;
  std::string export_path = "/v1/tenants/{id}/export";
  std::string delete_data_path = "/v1/tenants/{id}/data";
  std::string demo_reset_path = "/v1/tenants/demo/reset";
  std::string isolation_path = "/v1/tenants/{id}/isolation";  // PUT and GET (M18.2)
  std::string demo_seed_data_url;
  // How the portal opens the product (`portal:` in the manifest; all optional). A product with a
  // web component is hosted in a shadow root on /products/{id}: `script` is the URL of its ES
  // module (https://, or http:// on localhost), `tag` the custom element it defines. A headless
  // product shows `api_url` (its public API) and `docs_url` instead.
  std::string web_component_script;
  std::string web_component_tag;
  std::string api_url;
  std::string docs_url;
  // The product's MCP endpoint under base_url (`mcp: {path}`); empty: no MCP.
  std::string mcp_path;
  // `flags:` key -> default value: what the SDK's evaluate() answers until a flag store does.
  std::map<std::string, std::string> flags;
};

// "https://cdn.example:8443" for "https://cdn.example:8443/x/y.js": what a CSP names.
std::string OriginOf(const std::string& url);

// The manifest's JSON Schema (api/product-manifest.schema.json, embedded), which ParseManifest
// checks first; GET /product-manifest.schema.json publishes it.
std::string_view ManifestSchema();

// `origin` names the source in error messages. Error kind kInvalidInput with one FieldError per
// problem (field = the key path, e.g. "plans[1]"); the detail names the line of the first, as
// "origin:7: plans[1] must be one of free, ...". The schema's findings come first, then what it
// cannot say (a scope's prefix must be the id, reserved element names).
Result<Manifest> ParseManifest(std::string_view yaml, const std::string& origin);

}  // namespace breakpilot::catalog
