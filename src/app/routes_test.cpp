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
#include "core/ascii.hpp"
#include "core/embedded.hpp"
#include "storage/migrations.hpp"

namespace breakpilot::api {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), AsciiLower);
  return s;
}

// The API as `serve` builds it, on an in-memory SQLite store.
class Routes : public ::testing::Test {
 protected:
  static std::unique_ptr<storage::Database> Migrated() {
    auto db = storage::OpenDatabase("sqlite::memory:");
    EXPECT_TRUE(storage::Migrate(*db).ok());
    return db;
  }

  std::unique_ptr<storage::Database> db_ = Migrated();
  catalog::Catalog catalog_;
  app::Platform platform_{
      {.admin_token = "unit-test-token-0123456789"}, *db_, SystemClock(), catalog_};
  Api api_{{}, platform_.services()};
};

TEST_F(Routes, EveryRouteIsDocumentedWithThePermissionItEnforces) {
  const Api& api = api_;

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

TEST_F(Routes, ARouteWithoutAPermissionIsRefusedAtStartUp) {
  EXPECT_THROW(api_.AddForTest({.method = "GET", .pattern = "/x", .name = "x"}), std::logic_error);
}

}  // namespace
}  // namespace breakpilot::api
