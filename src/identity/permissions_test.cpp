#include "identity/permissions.hpp"

#include <gtest/gtest.h>

namespace breakpilot::identity {
namespace {

Principal Staff(Role r) {
  return Principal{.subject = "user:s", .realm_roles = {r}};
}
Principal Member(Role r, std::string org) {
  return Principal{.subject = "user:m", .org_roles = {r}, .org_id = std::move(org)};
}

TEST(Permissions, EveryRoleAndActionHasANameThatRoundTrips) {
  for (Role r : kAllRoles) {
    ASSERT_NE(Name(r), "") << static_cast<int>(r);
    EXPECT_EQ(ParseRole(Name(r)), r);
  }
  for (Action a : kAllActions) {
    ASSERT_NE(Name(a), "unknown") << static_cast<int>(a);
    EXPECT_EQ(ParseAction(Name(a)), a);
  }
  EXPECT_FALSE(ParseRole("ROOT"));
  EXPECT_FALSE(ParseAction("tenant.delete"));
}

TEST(Permissions, RealmAndOrgRolesAreTheOnesTheSeedNames) {
  for (auto n : {"BREAKPILOT_ADMIN", "SUPPORT_ENGINEER", "SALES_REP"})
    EXPECT_TRUE(IsRealmRole(*ParseRole(n))) << n;
  for (auto n : {"IT_ADMIN", "CXO", "FINANCE", "LEGAL", "USER"})
    EXPECT_FALSE(IsRealmRole(*ParseRole(n))) << n;
}

TEST(Permissions, NoRoleButAdminCreatesTenantsOrManagesUsers) {
  for (Role r : kAllRoles) {
    EXPECT_EQ(RoleAllows(r, Action::kTenantCreate), r == Role::kBreakpilotAdmin) << Name(r);
    EXPECT_EQ(RoleAllows(r, Action::kUserWrite), r == Role::kBreakpilotAdmin) << Name(r);
  }
}

// Finding 7 of issue 21: a trial tenant's IT_ADMIN could raise its plan and activate itself.
// Plan and paid status change only by staff (and, later, billing); a customer may still leave.
TEST(Permissions, CustomersMayCancelButNeverActivateOrChangeTheirPlan) {
  for (Role r : kAllRoles) {
    if (IsRealmRole(r)) continue;
    EXPECT_FALSE(RoleAllows(r, Action::kTenantActivate)) << Name(r);
    EXPECT_FALSE(RoleAllows(r, Action::kTenantPlan)) << Name(r);
  }
  EXPECT_TRUE(RoleAllows(Role::kItAdmin, Action::kTenantCancel));
  EXPECT_TRUE(RoleAllows(Role::kCxo, Action::kTenantCancel));
  EXPECT_TRUE(RoleAllows(Role::kBreakpilotAdmin, Action::kTenantActivate));
  EXPECT_TRUE(RoleAllows(Role::kBreakpilotAdmin, Action::kTenantPlan));
  EXPECT_FALSE(RoleAllows(Role::kSupportEngineer, Action::kTenantActivate));
}

TEST(Permissions, OnlyServicesVerifyKeysAndReadClaims) {
  for (Role r : kAllRoles) {
    EXPECT_EQ(RoleAllows(r, Action::kApiKeyVerify), r == Role::kService) << Name(r);
    EXPECT_EQ(RoleAllows(r, Action::kClaimsRead), r == Role::kService) << Name(r);
  }
}

TEST(Permissions, SalesRepReachesTheDemoTenantOnly) {
  const auto rep = Staff(Role::kSalesRep);
  EXPECT_TRUE(Authorize(rep, Action::kTenantRead, TenantRef{"demo-id", true}));
  auto e = Authorize(rep, Action::kTenantRead, TenantRef{"acme-id", false});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(e.error().type, "tenant-not-found");
  // ...and an action outside the role is 403 even on the demo tenant.
  e = Authorize(rep, Action::kTenantActivate, TenantRef{"demo-id", true});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::kForbidden);
}

TEST(Permissions, OrgRolesReachTheirOwnOrganizationOnly) {
  const auto admin = Member(Role::kItAdmin, "t1");
  EXPECT_TRUE(Authorize(admin, Action::kProjectWrite, TenantRef{"t1"}));
  EXPECT_EQ(Authorize(admin, Action::kProjectWrite, TenantRef{"t2"}).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(Authorize(admin, Action::kProjectWrite, TenantRef{"demo", true}).error().kind,
            ErrorKind::kNotFound);
  const auto user = Member(Role::kUser, "t1");
  EXPECT_EQ(Authorize(user, Action::kProjectWrite, TenantRef{"t1"}).error().kind,
            ErrorKind::kForbidden);
  // An org role without an organization reaches nothing.
  const auto orphan = Principal{.org_roles = {Role::kItAdmin}};
  EXPECT_FALSE(Authorize(orphan, Action::kTenantRead, TenantRef{"t1"}));
}

TEST(Permissions, StaffReachEveryTenantAndServicesNone) {
  EXPECT_TRUE(Authorize(Staff(Role::kBreakpilotAdmin), Action::kTenantActivate, TenantRef{"x"}));
  EXPECT_TRUE(Authorize(Staff(Role::kSupportEngineer), Action::kTenantRead, TenantRef{"x"}));
  EXPECT_FALSE(Authorize(Staff(Role::kSupportEngineer), Action::kTenantUpdate, TenantRef{"x"}));
  EXPECT_FALSE(Authorize(Staff(Role::kService), Action::kCatalogRead, TenantRef{"x"}));
  EXPECT_TRUE(Authorize(Staff(Role::kService), Action::kCatalogRead, std::nullopt));
}

TEST(Permissions, AWiderRoleIsNotNarrowedByANarrowerOne) {
  Principal p = Staff(Role::kSalesRep);
  p.realm_roles.push_back(Role::kBreakpilotAdmin);
  EXPECT_FALSE(DemoOnly(p));
  EXPECT_TRUE(Authorize(p, Action::kTenantRead, TenantRef{"acme", false}));
}

}  // namespace
}  // namespace breakpilot::identity
