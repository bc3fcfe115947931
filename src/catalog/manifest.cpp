#include "catalog/manifest.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <regex>
#include <set>

#include "catalog/plan.hpp"
#include "catalog/yaml_schema.hpp"
#include "core/embedded.hpp"

namespace breakpilot::catalog {
namespace {

class Reader {
 public:
  explicit Reader(std::vector<FieldError>& errors) : errors_(errors) {}

  void Fail(const std::string& field, const std::string& message) {
    errors_.push_back({field, message});
  }

  void CheckKeys(const YAML::Node& map, const std::string& prefix,
                 const std::set<std::string>& known) {
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>("");
      if (!known.contains(key)) Fail(prefix + key, "unknown key");
    }
  }

  std::string String(const YAML::Node& map, const std::string& key, const std::string& field,
                     bool required) {
    const YAML::Node n = map[key];
    if (!n) {
      if (required) Fail(field, "is required");
      return {};
    }
    if (!n.IsScalar()) {
      Fail(field, "must be a string");
      return {};
    }
    auto v = n.as<std::string>();
    if (required && v.empty()) Fail(field, "must not be empty");
    return v;
  }

  std::vector<std::string> StringList(const YAML::Node& map, const std::string& key,
                                      const std::string& field, bool required) {
    std::vector<std::string> out;
    const YAML::Node n = map[key];
    if (!n) {
      if (required) Fail(field, "is required");
      return out;
    }
    if (!n.IsSequence()) {
      Fail(field, "must be a list of strings");
      return out;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) {
        Fail(field + "[" + std::to_string(i) + "]", "must be a string");
        continue;
      }
      out.push_back(n[i].as<std::string>());
    }
    if (required && out.empty()) Fail(field, "must not be empty");
    return out;
  }

 private:
  std::vector<FieldError>& errors_;
};

bool IsProductId(const std::string& s) {
  static const std::regex kRe("^[a-z][a-z0-9-]{1,39}$");
  return std::regex_match(s, kRe);
}

bool IsSemver(const std::string& s) {
  static const std::regex kRe(R"(^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$)");
  return std::regex_match(s, kRe);
}

bool IsBaseUrl(const std::string& s) {
  static const std::regex kHttps(R"(^https://[a-z0-9.-]+(:\d+)?(/[^\s]*)?$)");
  static const std::regex kLocal(R"(^http://(localhost|127\.0\.0\.1)(:\d+)?(/[^\s]*)?$)");
  return std::regex_match(s, kHttps) || std::regex_match(s, kLocal);
}

// A valid custom element name (HTML's rule, ASCII only): a lowercase letter first, a hyphen in
// it, none of the names HTML reserves.
bool IsCustomElementName(const std::string& s) {
  static const std::regex kName(R"(^[a-z][a-z0-9._]*-[a-z0-9._-]*$)");
  static const std::array<std::string_view, 8> kReserved = {
      "annotation-xml", "color-profile",    "font-face",      "font-face-src",
      "font-face-uri",  "font-face-format", "font-face-name", "missing-glyph"};
  return s.size() <= 100 && std::regex_match(s, kName) &&
         std::find(kReserved.begin(), kReserved.end(), s) == kReserved.end();
}

bool IsFlagKey(std::string_view key) {
  return !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

const YamlSchema& Schema() {
  static const YamlSchema schema = [] {
    auto parsed = YamlSchema::Parse(ManifestSchema());
    if (!parsed) throw std::logic_error("the embedded manifest schema: " + parsed.error().detail);
    return std::move(*parsed);
  }();
  return schema;
}

}  // namespace

std::string_view ManifestSchema() {
  static const std::string_view text =
      embedded::Find("api/product-manifest.schema.json").value_or("{}");
  return text;
}

std::string OriginOf(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const auto path = url.find('/', scheme + 3);
  return url.substr(0, path);
}

Result<Manifest> ParseManifest(std::string_view yaml, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidInput("invalid-manifest", "Invalid product manifest",
                        origin + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) {
    return InvalidInput("invalid-manifest", "Invalid product manifest",
                        origin + ": the document must be a mapping");
  }
  // The schema first: its findings carry their lines. The reader below then extracts the
  // values and adds what a schema cannot say; a field the schema already faulted is not
  // reported twice.
  const std::vector<SchemaError> schema_errors = Schema().Validate(root);
  std::vector<FieldError> errors;
  Reader r(errors);
  r.CheckKeys(root, "",
              {"id", "name", "version", "description", "vendor", "base_url", "plans",
               "supports_projects", "scopes", "catalog", "lifecycle", "portal", "mcp", "flags"});
  Manifest m;
  m.id = r.String(root, "id", "id", true);
  if (!m.id.empty() && !IsProductId(m.id)) {
    r.Fail("id",
           "must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-'");
  }
  m.name = r.String(root, "name", "name", true);
  m.version = r.String(root, "version", "version", true);
  if (!m.version.empty() && !IsSemver(m.version)) r.Fail("version", "must be a semantic version");
  m.description = r.String(root, "description", "description", true);
  m.vendor = r.String(root, "vendor", "vendor", false);
  m.base_url = r.String(root, "base_url", "base_url", true);
  if (!m.base_url.empty() && !IsBaseUrl(m.base_url)) {
    r.Fail("base_url", "must be an https:// URL (http:// only for localhost)");
  }
  m.plans = r.StringList(root, "plans", "plans", true);
  for (std::size_t i = 0; i < m.plans.size(); ++i) {
    if (!ParsePlan(m.plans[i])) {
      r.Fail("plans[" + std::to_string(i) + "]",
             "must be one of free, starter, professional, enterprise");
    }
  }
  if (const YAML::Node sp = root["supports_projects"]) {
    if (!sp.IsScalar() || (sp.Scalar() != "true" && sp.Scalar() != "false")) {
      r.Fail("supports_projects", "must be true or false");
    } else {
      m.supports_projects = sp.Scalar() == "true";
    }
  }
  m.scopes = r.StringList(root, "scopes", "scopes", false);
  for (std::size_t i = 0; i < m.scopes.size(); ++i) {
    const auto& sc = m.scopes[i];
    if (sc.rfind(m.id + ":", 0) != 0 || sc.size() == m.id.size() + 1) {
      r.Fail("scopes[" + std::to_string(i) + "]", "must look like '" + m.id + ":<action>'");
    }
  }
  if (const YAML::Node c = root["catalog"]) {
    if (!c.IsMap()) {
      r.Fail("catalog", "must be a mapping");
    } else {
      r.CheckKeys(c, "catalog.", {"category", "tagline", "demo"});
      m.category = r.String(c, "category", "catalog.category", false);
      m.tagline = r.String(c, "tagline", "catalog.tagline", false);
      if (const YAML::Node d = c["demo"]) {
        if (!d.IsMap()) {
          r.Fail("catalog.demo", "must be a mapping");
        } else {
          r.CheckKeys(d, "catalog.demo.", {"seed_data_url"});
          m.demo_seed_data_url = r.String(d, "seed_data_url", "catalog.demo.seed_data_url", false);
        }
      }
    }
  }
  if (const YAML::Node l = root["lifecycle"]) {
    if (!l.IsMap()) {
      r.Fail("lifecycle", "must be a mapping");
    } else {
      r.CheckKeys(l, "lifecycle.", {"export", "delete_data", "demo_reset", "isolation"});
      auto path = [&](const char* key, std::string& out) {
        auto v = r.String(l, key, std::string("lifecycle.") + key, false);
        if (v.empty()) return;
        if (v.front() != '/')
          r.Fail(std::string("lifecycle.") + key, "must be a path starting with '/'");
        out = v;
      };
      path("export", m.export_path);
      path("delete_data", m.delete_data_path);
      path("demo_reset", m.demo_reset_path);
      path("isolation", m.isolation_path);
    }
  }
  if (const YAML::Node p = root["portal"]) {
    if (!p.IsMap()) {
      r.Fail("portal", "must be a mapping");
    } else {
      r.CheckKeys(p, "portal.", {"web_component", "api_url", "docs_url"});
      const auto url = [&](const YAML::Node& n, const char* key, const std::string& field) {
        auto v = r.String(n, key, field, false);
        if (!v.empty() && !IsBaseUrl(v)) {
          r.Fail(field, "must be an https:// URL (http:// only for localhost)");
        }
        return v;
      };
      m.api_url = url(p, "api_url", "portal.api_url");
      m.docs_url = url(p, "docs_url", "portal.docs_url");
      if (const YAML::Node w = p["web_component"]) {
        if (!w.IsMap()) {
          r.Fail("portal.web_component", "must be a mapping");
        } else {
          r.CheckKeys(w, "portal.web_component.", {"script", "tag"});
          m.web_component_script = url(w, "script", "portal.web_component.script");
          if (m.web_component_script.empty()) {
            r.Fail("portal.web_component.script", "is required");
          }
          m.web_component_tag = r.String(w, "tag", "portal.web_component.tag", true);
          if (!m.web_component_tag.empty() && !IsCustomElementName(m.web_component_tag)) {
            r.Fail("portal.web_component.tag",
                   "must be a custom element name: a lowercase letter first, then lowercase "
                   "letters, digits, '.', '_' or '-', with at least one '-'");
          }
        }
      }
    }
  }
  if (const YAML::Node mcp = root["mcp"]; mcp && mcp.IsMap()) {
    m.mcp_path = r.String(mcp, "path", "mcp.path", true);
  }
  if (const YAML::Node flags = root["flags"]; flags && flags.IsMap()) {
    for (const auto& kv : flags) {
      const auto key = kv.first.as<std::string>("");
      if (!IsFlagKey(key)) {
        r.Fail("flags." + key, "must be 1 to 64 letters, digits, '.', '_' or '-'");
      } else if (kv.second.IsMap()) {
        m.flags[key] = r.String(kv.second, "default", "flags." + key + ".default", false);
      }
    }
  }
  if (schema_errors.empty() && errors.empty()) return m;
  std::vector<FieldError> all;
  std::set<std::string> faulted;
  for (const auto& e : schema_errors) {
    all.push_back({e.field, e.message});
    faulted.insert(e.field);
  }
  for (auto& e : errors) {
    if (!faulted.contains(e.field)) all.push_back(std::move(e));
  }
  const FieldError& first = all.front();
  std::string detail = origin;
  if (!schema_errors.empty()) detail += ":" + std::to_string(schema_errors.front().line);
  detail += ": " + (first.field.empty() ? std::string("the document") : first.field) + " " +
            first.message;
  if (all.size() > 1) detail += " (and " + std::to_string(all.size() - 1) + " more)";
  return InvalidInput("invalid-manifest", "Invalid product manifest", std::move(detail),
                      std::move(all));
}

}  // namespace breakpilot::catalog
