// The role x route matrix (M2.2): every role calls every protected operation of the OpenAPI
// document the server serves (each names its x-permission) on its own tenant, another
// customer's tenant and the demo tenant, and gets exactly what the table below and its reach
// say: 403 without the permission, 404 out of reach (as if the tenant did not exist), else
// through. The table is written here, independently of identity::RoleAllows, from
// docs/ARCHITECTURE.md's: a change to the code's table that the document does not make fails.
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "e2e_fixture.hpp"
#include "identity/permissions.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

using identity::Role;

class PermissionMatrixTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--seed-demo"}; }
};

// Who may do what, as docs/ARCHITECTURE.md's permission table says.
const std::map<std::string, std::set<std::string>>& ExpectedTable() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"tenant.create", {"BREAKPILOT_ADMIN"}},
      {"tenant.list", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP"}},
      {"tenant.read",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN", "CXO", "FINANCE", "LEGAL",
        "USER"}},
      {"tenant.update", {"BREAKPILOT_ADMIN", "SALES_REP", "IT_ADMIN"}},
      {"tenant.cancel", {"BREAKPILOT_ADMIN", "IT_ADMIN", "CXO"}},
      {"tenant.activate", {"BREAKPILOT_ADMIN"}},
      {"tenant.plan", {"BREAKPILOT_ADMIN", "SALES_REP"}},
      {"project.read",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN", "CXO", "LEGAL", "USER"}},
      {"project.write", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN"}},
      {"subscription.read",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN", "CXO", "FINANCE"}},
      {"subscription.write", {"BREAKPILOT_ADMIN", "SALES_REP", "IT_ADMIN", "CXO"}},
      {"catalog.read",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "SERVICE", "IT_ADMIN", "CXO",
        "FINANCE", "LEGAL", "USER"}},
      {"apikey.read", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN"}},
      {"apikey.write", {"BREAKPILOT_ADMIN", "SALES_REP", "IT_ADMIN"}},
      {"apikey.verify", {"SERVICE"}},
      {"claims.read", {"SERVICE"}},
      {"user.read", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER"}},
      {"user.write", {"BREAKPILOT_ADMIN"}},
      {"audit.write", {"SERVICE"}},
      {"audit.read",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP", "IT_ADMIN", "CXO", "LEGAL"}},
      {"audit.admin", {"BREAKPILOT_ADMIN"}},
      {"jobs.admin", {"BREAKPILOT_ADMIN"}},
      {"clock.advance", {"BREAKPILOT_ADMIN"}},
      {"mail.inbound", {"BREAKPILOT_ADMIN", "SERVICE"}},
      {"lead.read", {"BREAKPILOT_ADMIN", "SALES_REP"}},
      {"lead.create", {"BREAKPILOT_ADMIN", "SALES_REP"}},
      {"demo.reset", {"BREAKPILOT_ADMIN", "SALES_REP"}},
      {"member.read", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "IT_ADMIN", "CXO"}},
      {"member.write", {"BREAKPILOT_ADMIN", "IT_ADMIN"}},
      {"usage.write", {"SERVICE"}},
      {"webhook.read", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "IT_ADMIN"}},
      {"webhook.write", {"BREAKPILOT_ADMIN", "IT_ADMIN"}},
      {"mcp.use", {"SERVICE"}},
      {"billing.manage", {"BREAKPILOT_ADMIN", "IT_ADMIN", "CXO", "FINANCE"}},
      {"support.use",
       {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "IT_ADMIN", "CXO", "FINANCE", "LEGAL", "USER"}},
      {"support.escalate", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER"}},
      {"flag.read", {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER"}},
      {"flag.manage", {"BREAKPILOT_ADMIN"}},
      {"flag.evaluate", {"BREAKPILOT_ADMIN", "SERVICE"}},
      {"domain.manage", {"BREAKPILOT_ADMIN", "IT_ADMIN"}},
      {"tenant.isolate", {"BREAKPILOT_ADMIN"}},
  };
  return table;
}

struct Target {
  std::string name;  // "own", "other", "demo"
  std::string tenant_id;
  std::string key_id;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST_P(PermissionMatrixTest, EveryRoleGetsExactlyWhatTheTableAllowsOnEveryRoute) {
  const auto own = Str(CreateTenant("acme"), "id");
  const auto other = Str(CreateTenant("beta"), "id");
  const auto demo_list = Json(client().Get("/tenants?kind=demo"));
  const auto demo = Str(demo_list.at("items").as_array().at(0).as_object(), "id");
  std::vector<Target> targets;
  for (const auto& [name, id] : {std::pair{"own", own}, {"other", other}, {"demo", demo}}) {
    auto k = client().Post(
        "/api-keys", R"({"tenant_id":")" + id + R"(","name":"matrix","scopes":["certifai:read"]})");
    ASSERT_EQ(k.status, 201) << k.body;
    targets.push_back({name, id, Str(Json(k), "id")});
  }

  const auto doc = YAML::Load(client().Get("/openapi.yaml").body);
  int checked = 0, allowed_calls = 0, denied_calls = 0;
  for (Role role : identity::kAllRoles) {
    boost::json::object claims{{"sub", "0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0f"}};
    const bool realm = identity::IsRealmRole(role);
    claims["realm_roles"] = realm ? boost::json::array{identity::Name(role)} : boost::json::array{};
    if (!realm) {
      claims["org_id"] = own;
      claims["org_roles"] = boost::json::array{identity::Name(role)};
    }
    const auto token = MintToken(*db_, server_->port(), claims);
    const std::string role_name(identity::Name(role));

    for (const auto& path : doc["paths"]) {
      const auto pattern = path.first.as<std::string>();
      for (const auto& op : path.second) {
        const auto method = op.first.as<std::string>();
        if (method == "parameters") continue;
        const auto perm_name = op.second["x-permission"].as<std::string>("");
        ASSERT_FALSE(perm_name.empty()) << method << " " << pattern << " has no x-permission";
        const auto action = identity::ParseAction(perm_name);
        ASSERT_TRUE(action) << perm_name;
        // Open routes, and the portal's cookie routes (tests/e2e/oidc_e2etest.cpp).
        if (*action == identity::Action::kPublic || *action == identity::Action::kSession) continue;

        const bool by_tenant = pattern.find("{id}") != std::string::npos;
        const bool by_key = pattern.find("{key_id}") != std::string::npos;
        const bool by_query = pattern == "/api-keys" && method == "get";
        const bool scoped = by_tenant || by_key || by_query;
        std::vector<const Target*> on;
        if (scoped) {
          for (const auto& t : targets) on.push_back(&t);
        } else {
          on.push_back(nullptr);
        }
        for (const Target* t : on) {
          std::string target = pattern;
          if (t) {
            target = Replace(target, "{id}", t->tenant_id);
            target = Replace(target, "{key_id}", t->key_id);
            if (by_query) target += "?tenant_id=" + t->tenant_id;
          }
          target = Replace(target, "{project_id}", "0192f2c4-0000-7000-8000-000000000001");
          target = Replace(target, "{product_id}", "certifai");
          target = Replace(target, "{user_id}", "0192f2c4-0000-7000-8000-000000000002");
          target = Replace(target, "{webhook_id}", "0192f2c4-0000-7000-8000-000000000007");
          target = Replace(target, "{delivery_id}", "0192f2c4-0000-7000-8000-000000000008");
          target = Replace(target, "{product}", "certifai");
          target = Replace(target, "{ticket_id}", "1");
          target = Replace(target, "{key}", "matrix-flag");
          target = Replace(target, "{domain}", "matrix.test");
          std::string upper = method;
          for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          const bool with_body = upper == "POST" || upper == "PATCH";
          auto r = client().Request(upper, target, with_body ? "{}" : "", BearerOf(token));
          const std::string what = role_name + " " + upper + " " + target +
                                   (t ? " (" + t->name + " tenant)" : "") + " -> " +
                                   std::to_string(r.status) + " " + r.body;
          ++checked;

          const auto row = ExpectedTable().find(perm_name);
          ASSERT_NE(row, ExpectedTable().end()) << perm_name << " is not in the expected table";
          const bool permitted = row->second.count(role_name) > 0;
          EXPECT_EQ(permitted, identity::RoleAllows(role, *action))
              << role_name << " " << perm_name << ": the code's table and the document's differ";
          bool reaches = true;
          if (t) {
            if (role == Role::kSalesRep)
              reaches = t->name == "demo";
            else if (role == Role::kService)
              reaches = false;
            else if (!realm)
              reaches = t->name == "own";
          }
          std::string type;
          if (r.Header("Content-Type") == "application/problem+json") {
            type = std::string(boost::json::parse(r.body).as_object().at("type").as_string());
          }
          const bool reach_denied = r.status == 404 && (type.ends_with("/tenant-not-found") ||
                                                        type.ends_with("/api-key-not-found"));
          EXPECT_NE(r.status, 401) << what;
          EXPECT_LT(r.status, 500) << what;
          if (!permitted) {
            EXPECT_EQ(r.status, 403) << what;
            ++denied_calls;
          } else if (!reaches) {
            EXPECT_TRUE(reach_denied) << "out of reach: " << what;
            ++denied_calls;
          } else {
            EXPECT_NE(r.status, 403) << what;
            EXPECT_FALSE(reach_denied) << "should reach: " << what;
            ++allowed_calls;
          }
        }
      }
    }
  }
  // The matrix is not vacuous: both outcomes happen, over a few hundred calls.
  EXPECT_GT(checked, 200);
  EXPECT_GT(allowed_calls, 50);
  EXPECT_GT(denied_calls, 50);
}

TEST_P(PermissionMatrixTest, PublicRoutesNeedNoCredentialsAndProtectedOnesDo) {
  const auto doc = YAML::Load(client().Get("/openapi.yaml").body);
  int open = 0, closed = 0;
  for (const auto& path : doc["paths"]) {
    const auto pattern = path.first.as<std::string>();
    for (const auto& op : path.second) {
      const auto method = op.first.as<std::string>();
      if (method == "parameters") continue;
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string target = Replace(pattern, "{id}", "0192f2c4-0000-7000-8000-000000000003");
      target = Replace(target, "{file}", "reference.js");
      target = Replace(target, "{key_id}", "0192f2c4-0000-7000-8000-000000000004");
      target = Replace(target, "{user_id}", "0192f2c4-0000-7000-8000-000000000005");
      target = Replace(target, "{project_id}", "0192f2c4-0000-7000-8000-000000000006");
      target = Replace(target, "{product_id}", "certifai");
      target = Replace(target, "{webhook_id}", "0192f2c4-0000-7000-8000-000000000007");
      target = Replace(target, "{delivery_id}", "0192f2c4-0000-7000-8000-000000000008");
      target = Replace(target, "{product}", "certifai");
      target = Replace(target, "{ticket_id}", "1");
      target = Replace(target, "{key}", "matrix-flag");
      target = Replace(target, "{domain}", "matrix.test");
      auto r = client().Request(upper, target, "", {{"Authorization", ""}});
      const auto perm = op.second["x-permission"].as<std::string>();
      if (perm == "public") {
        EXPECT_NE(r.status, 401) << upper << " " << target;
        ++open;
      } else {
        EXPECT_EQ(r.status, 401) << upper << " " << target << " " << r.body;
        ++closed;  // a bearer token or (x-permission: session) the portal cookie is missing
      }
    }
  }
  EXPECT_GT(open, 5);
  EXPECT_GT(closed, 20);
}

BREAKPILOT_ON_BOTH_STORES(PermissionMatrixTest);

}  // namespace
}  // namespace breakpilot::testing
