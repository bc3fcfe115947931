// The route table against the OpenAPI document: every route is documented with the permission
// it enforces (x-permission) and the body types it accepts (requestBody), and every documented
// operation is a route. Together with the
// role x route matrix (tests/e2e/permissions_e2etest.cpp) this keeps "no route without a
// declared permission" true.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "api/api.hpp"
#include "app/platform.hpp"
#include "core/embedded.hpp"
#include "storage/migrations.hpp"

namespace breakpilot::api {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(Routes, EveryRouteIsDocumentedWithThePermissionItEnforces) {
  auto db = storage::OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(storage::Migrate(*db).ok());
  catalog::Catalog catalog;
  app::Platform platform({.admin_token = "unit-test-token-0123456789"}, *db, SystemClock(),
                         catalog);
  Api api({}, platform.services());

  const auto doc = YAML::Load(std::string(*embedded::Find("api/openapi.yaml")));
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      const auto method = op.first.as<std::string>();
      if (method == "parameters") continue;
      documented.insert({path.first.as<std::string>(), method});
    }
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& e : api.endpoints()) {
    ASSERT_TRUE(e.action.has_value()) << e.name;
    const std::string method = Lower(e.method);
    routed.insert({e.pattern, method});
    const auto op = doc["paths"][e.pattern][method];
    ASSERT_TRUE(op.IsDefined()) << method << " " << e.pattern << " is not in the document";
    ASSERT_TRUE(op["x-permission"].IsDefined()) << method << " " << e.pattern;
    EXPECT_EQ(op["x-permission"].as<std::string>(), identity::Name(*e.action))
        << method << " " << e.pattern;
    // Public operations say so in the document, and only they do.
    const bool open = op["security"].IsDefined() && op["security"].size() == 0;
    EXPECT_EQ(open,
              *e.action == identity::Action::kPublic || *e.action == identity::Action::kSession)
        << method << " " << e.pattern;
    // The body types dispatch accepts are the ones the document lists (415 for any other).
    std::set<std::string> documented_types, accepted_types(e.body.begin(), e.body.end());
    auto body = op["requestBody"];
    if (body.IsDefined() && body["$ref"].IsDefined()) {
      const auto ref = body["$ref"].as<std::string>();
      body.reset(doc["components"]["requestBodies"][ref.substr(ref.rfind('/') + 1)]);  // rebind
    }
    if (body.IsDefined()) {
      for (const auto& c : body["content"]) documented_types.insert(c.first.as<std::string>());
    }
    EXPECT_EQ(accepted_types, documented_types) << method << " " << e.pattern;
    // Tenant-scoped routes are the ones with the tenant in the path.
    EXPECT_EQ(e.tenant == TenantFrom::kPathId, e.pattern.rfind("/tenants/{id}", 0) == 0)
        << e.pattern;
  }
  EXPECT_EQ(documented, routed);
}

TEST(Routes, ARouteWithoutAPermissionIsRefusedAtStartUp) {
  auto db = storage::OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(storage::Migrate(*db).ok());
  catalog::Catalog catalog;
  app::Platform platform({.admin_token = "unit-test-token-0123456789"}, *db, SystemClock(),
                         catalog);
  Api api({}, platform.services());
  EXPECT_THROW(api.AddForTest({.method = "GET", .pattern = "/x", .name = "x"}), std::logic_error);
}

}  // namespace
}  // namespace breakpilot::api
