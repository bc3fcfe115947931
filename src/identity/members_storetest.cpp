// An organisation's members on both stores (identity::Members): listed per tenant only, roles
// replaced, members removed, an organisation never left without its IT_ADMIN (also when two
// admins demote each other at once), and every change in the tenant's audit trail.
#include "identity/members.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tenants/tenant_service.hpp"
#include "test_env.hpp"

namespace breakpilot::identity {
namespace {

using testing::Store;

class MembersTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    acme_ = tenants_->Create(actor_, {.slug = "acme", .name = "Acme"})->id;
    globex_ = tenants_->Create(actor_, {.slug = "globex", .name = "Globex"})->id;
    dir_ = std::make_unique<Directory>(*db_, clock_, kCheapCost);
    members_ = std::make_unique<Members>(*db_, clock_, *dir_);
    ada_ = User("ada", {{acme_, {"IT_ADMIN"}}});
    bob_ = User("bob", {});
    gus_ = User("gus", {{globex_, {"IT_ADMIN"}}});
    ASSERT_TRUE(dir_->CreateUser(actor_, {.username = "sam", .realm_roles = {"BREAKPILOT_ADMIN"}}));
  }

  std::string User(const std::string& name, std::vector<NewMembership> ms) {
    auto u = dir_->CreateUser(actor_, {.username = name, .memberships = std::move(ms)});
    EXPECT_TRUE(u) << name;
    return u ? u->id : "";
  }

  std::vector<std::string> Names(const std::string& tenant) {
    std::vector<std::string> out;
    const auto list = members_->List(tenant);
    for (const auto& m : *list) out.push_back(m.username);
    return out;
  }

  std::int64_t Audited(const std::string& action) {
    const storage::Query q{"test_member_audit",
                           "SELECT count(*) FROM audit_log WHERE action = $1 AND tenant_id = $2"};
    std::int64_t n = -1;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(q, {action, acme_})->Int(0); });
    return n;
  }

  static constexpr PasswordCost kCheapCost{.memory_kib = 64, .passes = 1, .lanes = 1};
  testing::ManualClock clock_;
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<Directory> dir_;
  std::unique_ptr<Members> members_;
  std::string acme_, globex_, ada_, bob_, gus_;
  audit::Actor actor_{"test", "req-1", "127.0.0.1"};
};

TEST_P(MembersTest, AddChangeAndRemoveAMemberOfOneOrganisationOnly) {
  EXPECT_EQ(Names(acme_), std::vector<std::string>{"ada"});
  auto added = members_->Add(actor_, acme_, "BOB", {"USER", "LEGAL", "USER"});
  ASSERT_TRUE(added) << added.error().detail;
  EXPECT_EQ(added->username, "bob");
  EXPECT_EQ(added->org_roles, (std::vector<Role>{Role::kUser, Role::kLegal}));
  EXPECT_EQ(Names(acme_), (std::vector<std::string>{"ada", "bob"}));
  EXPECT_EQ(Names(globex_), std::vector<std::string>{"gus"});  // the other tenant is untouched

  auto again = members_->Add(actor_, acme_, "bob", {"USER"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().type, "duplicate-membership");

  auto changed = members_->SetRoles(actor_, acme_, bob_, {"CXO"});
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->org_roles, std::vector<Role>{Role::kCxo});
  // bob's account now carries the new roles, and only on acme.
  auto bob = dir_->GetUser(bob_);
  ASSERT_EQ(bob->memberships.size(), 1U);
  EXPECT_EQ(bob->memberships[0].org_roles, std::vector<Role>{Role::kCxo});

  ASSERT_TRUE(members_->Remove(actor_, acme_, bob_));
  EXPECT_EQ(Names(acme_), std::vector<std::string>{"ada"});
  EXPECT_TRUE(dir_->GetUser(bob_)) << "the account stays";
  EXPECT_EQ(Audited("user.membership_add"), 1);
  EXPECT_EQ(Audited("user.membership_change"), 1);
  EXPECT_EQ(Audited("user.membership_remove"), 1);
}

TEST_P(MembersTest, AnotherOrganisationsMemberIsNotFoundHere) {
  // gus belongs to globex: acme's admins can neither change nor remove him.
  auto changed = members_->SetRoles(actor_, acme_, gus_, {"USER"});
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().type, "member-not-found");
  auto removed = members_->Remove(actor_, acme_, gus_);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().type, "member-not-found");
  EXPECT_EQ(members_->SetRoles(actor_, acme_, "not-a-uuid", {"USER"}).error().type,
            "member-not-found");
  EXPECT_EQ(dir_->GetUser(gus_)->memberships.at(0).org_roles, std::vector<Role>{Role::kItAdmin});
}

TEST_P(MembersTest, BadInputIsRefusedWithTheFieldAndChangesNothing) {
  const auto field_of = [](const Error& e) { return e.errors.empty() ? "" : e.errors[0].field; };
  auto r = members_->Add(actor_, acme_, "nobody", {"USER"});
  ASSERT_FALSE(r);
  EXPECT_EQ(field_of(r.error()), "/username");
  r = members_->Add(actor_, acme_, "sam", {"USER"});  // staff reach every tenant already
  ASSERT_FALSE(r);
  EXPECT_EQ(field_of(r.error()), "/username");
  r = members_->Add(actor_, acme_, "bob", {"BREAKPILOT_ADMIN"});  // no realm role through here
  ASSERT_FALSE(r);
  EXPECT_EQ(field_of(r.error()), "/org_roles/0");
  r = members_->Add(actor_, acme_, "bob", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(field_of(r.error()), "/org_roles");
  r = members_->Add(actor_, acme_, "<script>alert(1)</script>", {"USER"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(Names(acme_), std::vector<std::string>{"ada"});
  EXPECT_FALSE(members_->SetRoles(actor_, acme_, ada_, {}));
  EXPECT_EQ(Audited("user.membership_add"), 0);
}

TEST_P(MembersTest, TheOnlyItAdminCannotBeDemotedOrRemoved) {
  auto demoted = members_->SetRoles(actor_, acme_, ada_, {"USER"});
  ASSERT_FALSE(demoted);
  EXPECT_EQ(demoted.error().type, "last-admin");
  auto removed = members_->Remove(actor_, acme_, ada_);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().type, "last-admin");
  // With a second IT_ADMIN, ada may step down.
  ASSERT_TRUE(members_->Add(actor_, acme_, "bob", {"IT_ADMIN"}));
  ASSERT_TRUE(members_->SetRoles(actor_, acme_, ada_, {"USER", "CXO"}));
  EXPECT_EQ(members_->Remove(actor_, acme_, bob_).error().type, "last-admin");
}

// Two admins demote each other at the same moment, many times over: one of them always stays.
TEST_P(MembersTest, TwoAdminsDemotingEachOtherAtOnceLeaveOne) {
  ASSERT_TRUE(members_->Add(actor_, acme_, "bob", {"IT_ADMIN"}));
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> done{0};
    std::thread a([&] { done += members_->SetRoles(actor_, acme_, ada_, {"USER"}) ? 1 : 0; });
    std::thread b([&] { done += members_->Remove(actor_, acme_, bob_) ? 1 : 0; });
    a.join();
    b.join();
    EXPECT_EQ(done.load(), 1) << "round " << round;
    int admins = 0;
    const auto list = members_->List(acme_);
    for (const auto& m : *list) {
      for (Role r : m.org_roles) admins += r == Role::kItAdmin ? 1 : 0;
    }
    ASSERT_EQ(admins, 1) << "round " << round;
    // Back to two admins for the next round.
    if (dir_->GetUser(bob_)->memberships.empty()) {
      ASSERT_TRUE(members_->Add(actor_, acme_, "bob", {"IT_ADMIN"}));
    } else {
      ASSERT_TRUE(members_->SetRoles(actor_, acme_, ada_, {"IT_ADMIN"}));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, MembersTest, ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::identity
