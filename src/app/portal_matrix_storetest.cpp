// The role x page matrix of the portal, generated from its page table (issue 23): for every
// role, every page it could open (GET, on a tenant's site or the backstage) answers as the
// permission table says (200 or a redirect when allowed, 403 when not); the navigation shows
// exactly the pages the role may open; a session of tenant A opens nothing at tenant B.
// In-process, on the Platform `serve` builds, on both stores: the browser tests
// (tests/browser/) cover what only a browser shows.
#include <gtest/gtest.h>

#include "app/platform.hpp"
#include "portal/portal.hpp"
#include "test_env.hpp"

namespace breakpilot::portal {
namespace {

class PortalMatrix : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    platform_ = std::make_unique<app::Platform>(
        app::PlatformOptions{.admin_token = "unit-test-token-0123456789"}, *db_, SystemClock(),
        catalog_);
    portal_ = std::make_unique<Portal>(platform_->services(), PortalOptions{.domain = "localhost"});
    acme_ = *services().tenants.Create(actor_, {.slug = "acme", .name = "Acme"});
    globex_ = *services().tenants.Create(actor_, {.slug = "globex", .name = "Globex"});
    ASSERT_TRUE(services().tenants.EnsureDemoTenant(actor_).ok());
  }

  api::Services services() { return platform_->services(); }

  // A user with `role` (in acme for an org role), signed in on `site`: the session's token.
  std::string SignedIn(identity::Role role, const std::string& site) {
    identity::NewUser u{.username = "user" + std::to_string(++users_),
                        .password = std::nullopt,
                        .display_name = "user"};
    if (identity::IsRealmRole(role)) {
      u.realm_roles = {std::string(identity::Name(role))};
    } else {
      u.memberships = {{acme_.id, {std::string(identity::Name(role))}}};
    }
    auto user = services().directory.CreateUser(actor_, u);
    if (!user) {
      ADD_FAILURE() << user.error().detail;
      return "";
    }
    return services().web_sessions.Create(actor_, user->id, site, "test").token;
  }

  http::Response Get(const std::string& host, const std::string& path, const std::string& token) {
    http::Request req;
    req.method = "GET";
    req.target = req.path = path;
    req.headers.Set("host", host + ":8080");
    req.headers.Set("cookie", "bp_portal=" + token);
    req.remote_ip = "127.0.0.1";
    auto res = portal_->Handle(req);
    EXPECT_TRUE(res.has_value()) << host << path;
    return res ? *res : http::Response{.status = 0};
  }

  static identity::Principal PrincipalOf(identity::Role role, const std::string& tenant_id) {
    identity::Principal p;
    if (identity::IsRealmRole(role)) {
      p.realm_roles = {role};
    } else {
      p.org_roles = {role};
      p.org_id = tenant_id;
    }
    return p;
  }

  catalog::Catalog catalog_;
  std::unique_ptr<app::Platform> platform_;
  std::unique_ptr<Portal> portal_;
  audit::Actor actor_{"test"};
  tenants::Tenant acme_, globex_;
  int users_ = 0;
};

// Whether the page would open for `p`: the page's action against the permission table.
bool Allowed(const Page& page, const identity::Principal& p,
             const std::optional<identity::TenantRef>& ref) {
  if (page.action == identity::Action::kPublic || page.action == identity::Action::kSession) {
    return true;
  }
  return identity::Authorize(p, page.action, ref).ok();
}

TEST_P(PortalMatrix, EveryRoleGetsExactlyTheTenantPagesThePermissionTableGivesIt) {
  int checked = 0;
  for (const auto role : identity::kAllRoles) {
    if (identity::IsRealmRole(role)) continue;  // staff work on the backstage
    const std::string token = SignedIn(role, identity::TenantSite(acme_.id));
    const auto p = PrincipalOf(role, acme_.id);
    const identity::TenantRef ref{acme_.id, false};
    const auto dashboard = Get("acme.localhost", "/dashboard", token);
    ASSERT_EQ(dashboard.status, 200) << identity::Name(role);
    for (const auto& page : portal_->pages()) {
      if (page.method != "GET" || (page.sites & kOnTenant) == 0U) continue;
      // Public pages (sign-in, handoff) answer by what they are given, not by role.
      if (page.action == identity::Action::kPublic) continue;
      if (page.pattern.find('{') != std::string::npos) continue;
      const auto res = Get("acme.localhost", page.pattern, token);
      const bool allowed = Allowed(page, p, ref);
      if (allowed) {
        EXPECT_TRUE(res.status == 200 || res.status == 303)
            << identity::Name(role) << " " << page.pattern << ": " << res.status;
      } else {
        EXPECT_EQ(res.status, 403) << identity::Name(role) << " " << page.pattern;
      }
      // The navigation links the page exactly when the role may open it.
      // (A page shown only to some tenants, nav_when, is never linked when not allowed; acme
      // here has no product, so /projects is not linked at all: the browser test covers both.)
      if (!page.nav.empty()) {
        const bool linked =
            dashboard.body.find("href=\"" + page.pattern + "\"") != std::string::npos;
        if (page.nav_when) {
          EXPECT_FALSE(linked) << identity::Name(role) << " nav " << page.pattern;
        } else {
          EXPECT_EQ(linked, allowed) << identity::Name(role) << " nav " << page.pattern;
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

TEST_P(PortalMatrix, ATenantsSessionOpensNothingAtAnotherTenant) {
  const std::string token = SignedIn(identity::Role::kItAdmin, identity::TenantSite(acme_.id));
  int checked = 0;
  for (const auto& page : portal_->pages()) {
    if (page.method != "GET" || (page.sites & kOnTenant) == 0U) continue;
    if (page.action == identity::Action::kPublic) continue;
    if (page.pattern.find('{') != std::string::npos) continue;
    const auto res = Get("globex.localhost", page.pattern, token);
    EXPECT_EQ(res.status, 303) << page.pattern;
    EXPECT_EQ(res.headers.Get("location").value_or("").rfind("/login", 0), 0U) << page.pattern;
    EXPECT_EQ(res.body.find("Globex"), std::string::npos) << page.pattern;
    ++checked;
  }
  EXPECT_GT(checked, 4);
}

TEST_P(PortalMatrix, OnTheBackstageStaffGetWhatTheTableGivesAndOthers403) {
  int checked = 0;
  for (const auto role : identity::kAllRoles) {
    if (role == identity::Role::kService) continue;  // a machine role: no sign-in
    const std::string token = SignedIn(role, std::string(identity::kBackstageSite));
    // An org role's membership does not count on the backstage: no tenant there.
    identity::Principal p;
    if (identity::IsRealmRole(role)) p.realm_roles = {role};
    for (const auto& page : portal_->pages()) {
      if (page.method != "GET" || (page.sites & kOnBackstage) == 0U) continue;
      if (page.action == identity::Action::kPublic) continue;
      std::string path = page.pattern;
      std::optional<identity::TenantRef> ref;
      if (const auto at = path.find("{slug}"); at != std::string::npos) {
        path.replace(at, 6, "acme");
        ref = identity::TenantRef{acme_.id, false};
      }
      const auto res = Get("backstage.localhost", path, token);
      // A page about one tenant needs its action on that tenant too: a sales rep reaches only
      // the demo tenant, and another tenant is not found for them (404), as on the API.
      const bool page_allowed = Allowed(page, p, std::nullopt);
      const auto on_tenant =
          ref ? identity::Authorize(p, identity::Action::kTenantRead, ref) : Result<Ok>(Ok{});
      if (page_allowed && on_tenant) {
        EXPECT_TRUE(res.status == 200 || res.status == 303)
            << identity::Name(role) << " " << path << ": " << res.status;
      } else if (page_allowed) {
        EXPECT_EQ(res.status, on_tenant.error().kind == ErrorKind::kNotFound ? 404 : 403)
            << identity::Name(role) << " " << path;
      } else {
        EXPECT_EQ(res.status, 403) << identity::Name(role) << " " << path;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

INSTANTIATE_TEST_SUITE_P(Stores, PortalMatrix,
                         ::testing::Values(testing::Store::kSqlite, testing::Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::portal
