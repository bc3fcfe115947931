#include "catalog/manifest.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.hpp"
#include "catalog/yaml_schema.hpp"

namespace breakpilot::catalog {
namespace {

constexpr const char* kValid = R"(
id: echo-bot
name: Echo Bot
version: 0.1.0
description: Says what you said.
base_url: http://localhost:9000
plans: [free, enterprise]
scopes: ["echo-bot:read"]
supports_projects: true
catalog:
  category: Demo
  tagline: Hello
  demo:
    seed_data_url: https://cdn.example.com/x.tgz
lifecycle:
  export: /v1/tenants/{id}/export
)";

TEST(ManifestTest, ParsesAValidManifest) {
  auto m = ParseManifest(kValid, "test");
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(m->id, "echo-bot");
  EXPECT_EQ(m->plans, (std::vector<std::string>{"free", "enterprise"}));
  EXPECT_TRUE(m->supports_projects);
  EXPECT_EQ(m->category, "Demo");
  EXPECT_EQ(m->delete_data_path, "/v1/tenants/{id}/data") << "defaults to the product contract";
}

TEST(ManifestTest, NamesEveryProblem) {
  auto m = ParseManifest(R"(
id: Echo_Bot
name: ""
version: one
base_url: ftp://x
plans: [gold]
scopes: ["other:read"]
supports_projects: maybe
colour: red
catalog:
  category: [x]
  price: 3
lifecycle:
  export: relative
)",
                         "bad.yaml");
  ASSERT_FALSE(m.ok());
  std::set<std::string> fields;
  for (const auto& e : m.error().errors) fields.insert(e.field);
  for (const char* f :
       {"id", "name", "version", "description", "base_url", "plans[0]", "scopes[0]",
        "supports_projects", "colour", "catalog.category", "catalog.price", "lifecycle.export"}) {
    EXPECT_TRUE(fields.contains(f)) << f << " not reported";
  }
  EXPECT_NE(m.error().detail.find("bad.yaml"), std::string::npos);
}

// How the portal opens a product (/products/{id}): a web component, or a headless product's API.
TEST(ManifestTest, ReadsThePortalSectionAndNamesItsProblems) {
  auto m = ParseManifest(std::string(kValid) + R"(portal:
  web_component:
    script: https://cdn.echo.example:8443/portal/echo.js
    tag: echo-bot-app
  api_url: https://api.echo.example
  docs_url: https://docs.echo.example/start
)",
                         "test");
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(m->web_component_tag, "echo-bot-app");
  EXPECT_EQ(OriginOf(m->web_component_script), "https://cdn.echo.example:8443");
  EXPECT_EQ(m->docs_url, "https://docs.echo.example/start");

  for (const auto& [portal, field] : std::vector<std::pair<std::string, std::string>>{
           {"  web_component:\n    script: http://cdn.echo.example/x.js\n    tag: echo-app\n",
            "portal.web_component.script"},
           {"  web_component:\n    script: https://cdn.echo.example/x.js\n    tag: EchoApp\n",
            "portal.web_component.tag"},
           {"  web_component:\n    script: https://cdn.echo.example/x.js\n    tag: font-face\n",
            "portal.web_component.tag"},
           {"  web_component:\n    tag: echo-app\n", "portal.web_component.script"},
           {"  web_component:\n    script: https://cdn.echo.example/x.js\n",
            "portal.web_component.tag"},
           {"  api_url: javascript:alert(1)\n", "portal.api_url"},
           {"  docs: https://docs.echo.example\n", "portal.docs"}}) {
    auto bad = ParseManifest(std::string(kValid) + "portal:\n" + portal, "test");
    ASSERT_FALSE(bad.ok()) << portal;
    ASSERT_FALSE(bad.error().errors.empty());
    EXPECT_EQ(bad.error().errors[0].field, field) << portal;
  }
}

TEST(ManifestTest, RejectsNonMappingsAndBrokenYaml) {
  EXPECT_FALSE(ParseManifest("- a\n- b\n", "x").ok());
  EXPECT_FALSE(ParseManifest("id: [unclosed", "x").ok());
  EXPECT_FALSE(ParseManifest("", "x").ok());
}

TEST(CatalogTest, ShippedSampleManifestsAreValid) {
  auto c = LoadCatalog(BREAKPILOT_SOURCE_DIR "/data/catalog");
  ASSERT_TRUE(c.ok()) << c.error().detail;
  ASSERT_EQ(c->products().size(), 2u);
  EXPECT_NE(c->Find("certifai"), nullptr);
  EXPECT_NE(c->Find("breakpilot-compliance"), nullptr);
  EXPECT_TRUE(c->Find("breakpilot-compliance")->supports_projects);
  EXPECT_FALSE(LoadCatalog("/nonexistent").ok());
}

// The broken manifests of tests/conformance/manifests/broken, each with its expected first
// problem and line in its first line ("# expect: <field> <message> @<line>"); Ajv checks the same
// files against the same schema (tests/conformance/manifest_schema.mjs).
TEST(ManifestTest, EachBrokenManifestNamesItsFirstProblemAndLine) {
  namespace fs = std::filesystem;
  std::size_t checked = 0;
  for (const auto& f :
       fs::directory_iterator(BREAKPILOT_SOURCE_DIR "/tests/conformance/manifests/broken")) {
    std::ifstream in(f.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    const std::string head = body.substr(0, body.find('\n'));
    const auto at = head.rfind(" @");
    ASSERT_EQ(head.rfind("# expect: ", 0), 0U) << f.path();
    const std::string expected = head.substr(10, at - 10);
    const std::string line = head.substr(at + 2);
    auto m = ParseManifest(body, f.path().filename().string());
    ASSERT_FALSE(m.ok()) << f.path();
    const std::string& detail = m.error().detail;
    EXPECT_EQ(detail.rfind(f.path().filename().string() + ":" + line + ": " + expected, 0), 0U)
        << f.path().filename() << ": " << detail;
    ++checked;
  }
  EXPECT_GE(checked, 12U);
}

TEST(ManifestTest, EchoBotsManifestAndTheSamplesPassTheSchema) {
  for (const char* path :
       {"examples/echo-bot/product.manifest.yaml", "data/catalog/certifai/product.manifest.yaml",
        "data/catalog/breakpilot-compliance/product.manifest.yaml"}) {
    std::ifstream in(std::string(BREAKPILOT_SOURCE_DIR "/") + path);
    std::stringstream text;
    text << in.rdbuf();
    auto m = ParseManifest(text.str(), path);
    EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().detail);
  }
}

TEST(YamlSchemaTest, RefusesKeywordsItWouldNotHonour) {
  EXPECT_FALSE(YamlSchema::Parse(R"({"type":"object","oneOf":[]})").ok());
  EXPECT_FALSE(YamlSchema::Parse(R"({"$ref":"#/$defs/missing"})").ok());
  EXPECT_FALSE(YamlSchema::Parse(R"({"properties":{"a":{"pattern":"("}}})").ok());
  EXPECT_TRUE(YamlSchema::Parse(ManifestSchema()).ok());
}

TEST(YamlSchemaTest, ScalarsTakeYamlCoreTypes) {
  auto schema = YamlSchema::Parse(
      R"({"type":"object","properties":{"s":{"type":"string"},"b":{"type":"boolean"},)"
      R"("i":{"type":"integer"},"n":{"type":"number"}}})");
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(schema->Validate(YAML::Load("s: '12'\nb: true\ni: 7\nn: 1.5")).empty());
  const auto errors = schema->Validate(YAML::Load("s: 12\nb: yes\ni: 1.5\nn: x"));
  ASSERT_EQ(errors.size(), 4U);
  EXPECT_EQ(errors[0].field, "s");
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_EQ(errors[3].field, "n");
  EXPECT_EQ(errors[3].line, 4);
}

}  // namespace
}  // namespace breakpilot::catalog
