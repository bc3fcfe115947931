// The Keycloak adapter (M4.3) against a contract fake of Keycloak's admin REST API
// (tests/support/fake_keycloak.cpp), on both stores: a tenant created in Keycloak mode gets its
// organization and its first IT_ADMIN's invitation; a failed step is retried with backoff,
// audited, never duplicated and never silently dropped; archiving disables the organization.
#include <gtest/gtest.h>

#include <atomic>

#include "fake_keycloak.hpp"
#include "identity/provisioning.hpp"
#include "storage/migrations.hpp"
#include "test_env.hpp"

namespace breakpilot::identity {
namespace {

using testing::FakeKeycloak;
using testing::ManualClock;
using testing::Store;
using testing::TestDatabase;

class KeycloakContractTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    admin_ = std::make_unique<KeycloakAdmin>(
        KeycloakSettings{FakeKeycloak::kBase, FakeKeycloak::kRealm, FakeKeycloak::kClientId,
                         FakeKeycloak::kClientSecret},
        kc_.Fetcher(), clock_);
    provisioner_ = std::make_unique<Provisioner>(*db_, clock_, *admin_);
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_, provisioner_->CreateHook());
  }
  tenants::Tenant Create(const std::string& slug, std::optional<std::string> email) {
    auto t = tenants_->Create(
        actor_, {.slug = slug, .name = "Tenant " + slug, .admin_email = std::move(email)});
    EXPECT_TRUE(t) << (t ? "" : t.error().detail);
    return t ? *t : tenants::Tenant{};
  }
  std::vector<std::string> AuditActions(const std::string& tenant_id) {
    static constexpr storage::Query kActions{
        "test_idp_audit",
        "SELECT action FROM audit_log WHERE tenant_id = $1 AND action LIKE 'tenant.idp.%'"
        " ORDER BY id"};
    std::vector<std::string> out;
    db_->Read([&](storage::Session& s) {
      for (const auto& r : s.Fetch(kActions, {tenant_id})) out.push_back(r.Text(0));
    });
    return out;
  }

  ManualClock clock_;
  FakeKeycloak kc_;
  std::unique_ptr<KeycloakAdmin> admin_;
  std::unique_ptr<Provisioner> provisioner_;
  std::unique_ptr<tenants::TenantService> tenants_;
  audit::Actor actor_{"staff:test", "", ""};
};

TEST_P(KeycloakContractTest, ATenantGetsItsOrganizationAndItsFirstItAdminIsInvited) {
  const auto t = Create("acme", "it@acme.example");
  auto st = provisioner_->Status(t.id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, "pending") << "queued in the tenant's own transaction";
  EXPECT_EQ(provisioner_->RunDue(), 2);  // create, then invite
  st = provisioner_->Status(t.id);
  EXPECT_EQ(st->state, "ready");
  const auto orgs = kc_.Orgs();
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(st->org_id, orgs[0].id);
  EXPECT_EQ(orgs[0].rep.at("alias").as_string(), "acme");
  EXPECT_EQ(orgs[0].rep.at("name").as_string(), "Tenant acme");
  EXPECT_TRUE(orgs[0].rep.at("enabled").as_bool());
  EXPECT_EQ(boost::json::serialize(orgs[0].rep.at("attributes")),
            R"({"breakpilot_tenant_id":[")" + t.id + R"("]})");
  EXPECT_EQ(orgs[0].invited, std::vector<std::string>{"it@acme.example"});
  EXPECT_EQ(AuditActions(t.id),
            (std::vector<std::string>{"tenant.idp.queued", "tenant.idp.org_created",
                                      "tenant.idp.admin_invited"}));
  EXPECT_EQ(provisioner_->RunDue(), 0) << "nothing left to do";
  EXPECT_EQ(kc_.Calls("token"), 1) << "the admin token is reused";
}

TEST_P(KeycloakContractTest, AFailedStepIsRetriedWithBackoffAndAudited) {
  kc_.FailNext("create", 2, 503);
  const auto t = Create("acme", "it@acme.example");
  EXPECT_EQ(provisioner_->RunDue(), 1);
  auto st = provisioner_->Status(t.id);
  EXPECT_EQ(st->state, "pending");
  EXPECT_EQ(st->attempts, 1);
  ASSERT_TRUE(st->last_error);
  EXPECT_NE(st->last_error->find("503"), std::string::npos) << *st->last_error;
  ASSERT_TRUE(st->next_attempt_at);
  EXPECT_EQ(st->next_attempt_at->micros - clock_.Now().micros, 5 * kMicrosPerSecond);
  EXPECT_EQ(provisioner_->RunDue(), 0) << "not due before the backoff ends";
  clock_.Advance(5);
  EXPECT_EQ(provisioner_->RunDue(), 1);
  st = provisioner_->Status(t.id);
  EXPECT_EQ(st->attempts, 2);
  EXPECT_EQ(st->next_attempt_at->micros - clock_.Now().micros, 10 * kMicrosPerSecond) << "doubles";
  clock_.Advance(10);
  EXPECT_EQ(provisioner_->RunDue(), 2);
  st = provisioner_->Status(t.id);
  EXPECT_EQ(st->state, "ready");
  EXPECT_EQ(st->attempts, 0);
  EXPECT_FALSE(st->last_error);
  EXPECT_EQ(AuditActions(t.id),
            (std::vector<std::string>{"tenant.idp.queued", "tenant.idp.step_failed",
                                      "tenant.idp.step_failed", "tenant.idp.org_created",
                                      "tenant.idp.admin_invited"}));
}

TEST_P(KeycloakContractTest, ALostAnswerNeverCreatesASecondOrganization) {
  kc_.FailNext("create_lost", 1);  // Keycloak created it, but we never heard back
  kc_.FailNext("invite", 1, 0);    // and then the connection fails once
  const auto t = Create("acme", "it@acme.example");
  EXPECT_EQ(provisioner_->RunDue(), 1);
  EXPECT_EQ(provisioner_->Status(t.id)->state, "pending");
  clock_.Advance(5);
  EXPECT_EQ(provisioner_->RunDue(), 2);  // finds the organization by its tenant attribute
  EXPECT_EQ(kc_.Orgs().size(), 1u);
  EXPECT_EQ(provisioner_->Status(t.id)->state, "org_created");
  clock_.Advance(5);
  EXPECT_EQ(provisioner_->RunDue(), 1);
  EXPECT_EQ(provisioner_->Status(t.id)->state, "ready");
  EXPECT_EQ(kc_.Orgs()[0].invited.size(), 1u);
}

TEST_P(KeycloakContractTest, AfterEightFailuresTheStateIsFailedAndStaysVisible) {
  kc_.FailNext("token", 100, 0);
  const auto t = Create("acme", std::nullopt);
  for (int i = 0; i < kMaxProvisioningAttempts; ++i) {
    EXPECT_EQ(provisioner_->RunDue(), 1) << i;
    clock_.Advance(600);
  }
  auto st = provisioner_->Status(t.id);
  EXPECT_EQ(st->state, "failed");
  EXPECT_EQ(st->attempts, kMaxProvisioningAttempts);
  EXPECT_FALSE(st->next_attempt_at);
  EXPECT_EQ(provisioner_->RunDue(), 0);
  const auto actions = AuditActions(t.id);
  EXPECT_EQ(actions.back(), "tenant.idp.failed");
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "tenant.idp.step_failed"),
            kMaxProvisioningAttempts - 1);
}

TEST_P(KeycloakContractTest, ArchivingDisablesTheOrganization) {
  const auto t = Create("acme", std::nullopt);
  EXPECT_EQ(provisioner_->RunDue(), 1);  // no admin to invite: ready after the organization
  EXPECT_EQ(provisioner_->Status(t.id)->state, "ready");
  ASSERT_TRUE(tenants_->Apply(actor_, t.id, tenants::lifecycle::Action::kCancel,
                              {.reason = "leaving", .confirm = t.slug}));
  ASSERT_TRUE(tenants_->Apply(actor_, t.id, tenants::lifecycle::Action::kArchive, {}));
  kc_.FailNext("update", 1, 500);
  EXPECT_EQ(provisioner_->RunDue(), 1);
  EXPECT_TRUE(kc_.Orgs()[0].rep.at("enabled").as_bool()) << "the failed update changed nothing";
  clock_.Advance(5);
  EXPECT_EQ(provisioner_->RunDue(), 1);
  EXPECT_FALSE(kc_.Orgs()[0].rep.at("enabled").as_bool());
  EXPECT_EQ(kc_.Orgs()[0].rep.at("alias").as_string(), "acme") << "the rest of it is kept";
  EXPECT_EQ(provisioner_->Status(t.id)->state, "disabled");
  EXPECT_EQ(AuditActions(t.id).back(), "tenant.idp.org_disabled");
}

TEST_P(KeycloakContractTest, AnAliasTakenInKeycloakIsAFailureNotADuplicate) {
  // Someone made an organization "acme" in Keycloak by hand.
  KeycloakAdmin other({FakeKeycloak::kBase, FakeKeycloak::kRealm, FakeKeycloak::kClientId,
                       FakeKeycloak::kClientSecret},
                      kc_.Fetcher(), clock_);
  ASSERT_TRUE(other.EnsureOrganization("not-a-tenant", "Acme by hand", "acme"));
  const auto t = Create("acme", std::nullopt);
  EXPECT_EQ(provisioner_->RunDue(), 1);
  auto st = provisioner_->Status(t.id);
  EXPECT_EQ(st->state, "pending");
  ASSERT_TRUE(st->last_error);
  EXPECT_NE(st->last_error->find("409"), std::string::npos) << *st->last_error;
  EXPECT_EQ(kc_.Orgs().size(), 1u);
}

TEST_P(KeycloakContractTest, WithoutKeycloakAnAdminEmailIsRefused) {
  tenants::TenantService plain(*db_, clock_);
  auto t = plain.Create(actor_, {.slug = "acme", .name = "Acme", .admin_email = "it@acme.example"});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(t.error().errors.at(0).field, "/admin_email");
  auto bad = tenants_->Create(actor_, {.slug = "acme", .name = "Acme", .admin_email = "nope"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errors.at(0).field, "/admin_email");
}

INSTANTIATE_TEST_SUITE_P(Stores, KeycloakContractTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::identity
