// Tenant use cases on both stores: creation rules, concurrency on the slug, versions, lifecycle
// and the audit event each change writes in its own transaction.
#include "tenants/tenant_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "storage/migrations.hpp"
#include "tenants/project_service.hpp"
#include "test_env.hpp"

namespace breakpilot::tenants {
namespace {

using testing::Store;
using testing::TestDatabase;

constexpr storage::Query kAuditCount{"test_audit_count",
                                     "SELECT count(*) FROM audit_log WHERE tenant_id = $1"};
constexpr storage::Query kAuditActions{
    "test_audit_actions", "SELECT action FROM audit_log WHERE tenant_id = $1 ORDER BY id"};

class TenantServiceTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    svc_ = std::make_unique<TenantService>(*db_, SystemClock());
  }
  std::vector<std::string> AuditActions(const std::string& tenant_id) {
    std::vector<std::string> out;
    db_->Read([&](storage::Session& s) {
      for (const auto& r : s.Fetch(kAuditActions, {tenant_id})) out.push_back(r.Text(0));
    });
    return out;
  }
  std::unique_ptr<TenantService> svc_;
  audit::Actor actor_{"test", "req-1", "127.0.0.1"};
};

TEST_P(TenantServiceTest, CreateSetsTrialAndAudits) {
  auto t = svc_->Create(actor_, {.slug = "acme", .name = "Acme"});
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_EQ(t->status, Status::kTrial);
  ASSERT_TRUE(t->trial_ends_at.has_value());
  EXPECT_EQ(t->trial_ends_at->micros - t->created_at.micros,
            kTrialDays * 86400LL * kMicrosPerSecond);
  EXPECT_EQ(AuditActions(t->id), (std::vector<std::string>{"tenant.create"}));
  auto back = svc_->Get(t->id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->slug, "acme");
  EXPECT_EQ(back->trial_ends_at, t->trial_ends_at) << "timestamps survive the store unchanged";
  EXPECT_EQ(back->created_at, t->created_at);
}

// The backstage's search (GET /tenants?q=): part of the slug or the name, any case, LIKE's own
// characters taken as text; with the status filter and paging.
TEST_P(TenantServiceTest, SearchFindsAPartOfTheSlugOrTheNameAsText) {
  for (const auto& [slug, name] : {std::pair{"acme", "Acme GmbH"},
                                   {"globex", "Globex 100% Corp"},
                                   {"initech", "Initech_Solutions"},
                                   {"acme-labs", "Labs"}}) {
    ASSERT_TRUE(svc_->Create(actor_, {.slug = slug, .name = name}));
  }
  const auto slugs = [&](ListTenantsInput in) {
    std::vector<std::string> out;
    auto page = svc_->List(in);
    EXPECT_TRUE(page) << (page ? "" : page.error().detail);
    if (page) {
      for (const auto& t : page->items) out.push_back(t.slug);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(slugs({.q = std::string("ACM")}), (std::vector<std::string>{"acme", "acme-labs"}));
  EXPECT_EQ(slugs({.q = std::string("gmbh")}), std::vector<std::string>{"acme"});
  EXPECT_EQ(slugs({.q = std::string("100%")}), std::vector<std::string>{"globex"});
  EXPECT_EQ(slugs({.q = std::string("%")}), std::vector<std::string>{"globex"}) << "% is text";
  EXPECT_EQ(slugs({.q = std::string("h_s")}), std::vector<std::string>{"initech"}) << "_ is text";
  EXPECT_TRUE(slugs({.q = std::string("x_y")}).empty());
  EXPECT_TRUE(slugs({.q = std::string("\\")}).empty());
  EXPECT_TRUE(slugs({.q = std::string("'; DROP TABLE tenants; --")}).empty());
  EXPECT_EQ(slugs({.status = std::string("trial"), .q = std::string("labs")}),
            std::vector<std::string>{"acme-labs"});
  EXPECT_TRUE(slugs({.status = std::string("frozen"), .q = std::string("acme")}).empty());
  auto first = svc_->List({.q = std::string("a"), .limit = 1});
  ASSERT_TRUE(first && first->next_cursor);
  auto second = svc_->List({.q = std::string("a"), .cursor = first->next_cursor, .limit = 1});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->items.size(), 1U);
  EXPECT_NE(second->items[0].slug, first->items[0].slug);
  auto too_long = svc_->List({.q = std::string(101, 'a')});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().kind, ErrorKind::kMalformed);
}

TEST_P(TenantServiceTest, ConcurrentCreatesOfOneSlugHaveOneWinner) {
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto t = svc_->Create(actor_, {.slug = "race", .name = "Race"});
      if (t.ok())
        created.fetch_add(1);
      else if (t.error().type == "duplicate-slug")
        conflicts.fetch_add(1);
      else
        other.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
  EXPECT_EQ(other.load(), 0);
  auto page = svc_->List({.slug = std::string("race")});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(AuditActions(page->items[0].id).size(), 1u) << "the losers wrote no audit event";
}

TEST_P(TenantServiceTest, UpdateChecksVersions) {
  auto t = svc_->Create(actor_, {.slug = "acme", .name = "Acme"});
  ASSERT_TRUE(t.ok());
  auto u = svc_->Update(actor_, t->id, {.name = std::string("Acme 2")}, std::int64_t{1});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->version, 2);
  auto stale = svc_->Update(actor_, t->id, {.name = std::string("Acme 3")}, std::int64_t{1});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::kPreconditionFailed);
  EXPECT_EQ(svc_->Get(t->id)->name, "Acme 2");
}

TEST_P(TenantServiceTest, TheReadCacheAnswersUntilAnEventNamesTheTenant) {
  auto t = svc_->Create(actor_, {.slug = "acme", .name = "Acme"});
  ASSERT_TRUE(t.ok());
  TenantService cached(*db_, SystemClock());
  cached.EnableReadCache();
  ASSERT_EQ(cached.Get(t->id)->name, "Acme");
  // A change behind the platform's back (no event) is not seen: the answer came from memory.
  constexpr storage::Query kRename{"test_rename", "UPDATE tenants SET name = $2 WHERE id = $1"};
  db_->Write([&](storage::Session& s) { s.Execute(kRename, {t->id, "Renamed quietly"}); });
  EXPECT_EQ(cached.Get(t->id)->name, "Acme");
  EXPECT_EQ(svc_->Get(t->id)->name, "Renamed quietly") << "an uncached service reads through";
  // Any change through the platform publishes the tenant's event: the next read is fresh, on
  // a change made by another service object too (as by another replica).
  auto u = svc_->Update(actor_, t->id, {.name = std::string("Acme 2")}, std::int64_t{1});
  ASSERT_TRUE(u.ok()) << u.error().detail;
  EXPECT_EQ(cached.Get(t->id)->name, "Acme 2");
  ASSERT_TRUE(svc_->SetAuditRetention(actor_, t->id, 30).ok());
  EXPECT_EQ(cached.Get(t->id)->version, 3) << "retention changes the version, and says so";
  auto active = svc_->Apply(actor_, t->id, lifecycle::Action::kActivate, {});
  ASSERT_TRUE(active.ok()) << active.error().detail;
  EXPECT_EQ(cached.Get(t->id)->status, Status::kActive);
  // An unknown tenant is not remembered as missing.
  EXPECT_FALSE(cached.Get("0192f2c4-0000-7000-8000-000000000009").ok());
}

TEST_P(TenantServiceTest, LifecycleWritesOneAuditEventPerRealChange) {
  auto t = svc_->Create(actor_, {.slug = "acme", .name = "Acme"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(svc_->Apply(actor_, t->id, lifecycle::Action::kActivate, {}).ok());
  ASSERT_TRUE(svc_->Apply(actor_, t->id, lifecycle::Action::kActivate, {}).ok());  // no-op
  auto frozen = svc_->Apply(actor_, t->id, lifecycle::Action::kCancel,
                            {.reason = "too expensive", .confirm = "acme"});
  ASSERT_TRUE(frozen.ok());
  EXPECT_EQ(frozen->status, Status::kFrozen);
  EXPECT_EQ(frozen->cancel_reason, "too expensive");
  auto illegal = svc_->Apply(actor_, t->id, lifecycle::Action::kActivate, {});
  ASSERT_FALSE(illegal.ok());
  EXPECT_EQ(illegal.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(illegal.error().extensions.at("current_status").as_string(), "frozen");
  auto archived = svc_->Apply(actor_, t->id, lifecycle::Action::kArchive, {});
  ASSERT_TRUE(archived.ok());
  EXPECT_EQ(svc_->Update(actor_, t->id, {.name = std::string("x")}, {}).error().kind,
            ErrorKind::kGone);
  EXPECT_EQ(AuditActions(t->id), (std::vector<std::string>{"tenant.create", "tenant.activate",
                                                           "tenant.cancel", "tenant.archive"}));
}

TEST_P(TenantServiceTest, DemoTenantIsCreatedOnce) {
  auto a = svc_->EnsureDemoTenant(actor_);
  auto b = svc_->EnsureDemoTenant(actor_);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(a->kind, Kind::kDemo);
  EXPECT_EQ(a->status, Status::kDemo);
}

TEST_P(TenantServiceTest, ProjectsAndSubscriptionsOnArchivedTenantsAreGone) {
  auto t = svc_->Create(actor_,
                        {.slug = "acme", .name = "Acme", .initial_status = std::string("active")});
  ASSERT_TRUE(t.ok());
  ProjectService projects(*db_, SystemClock());
  ASSERT_TRUE(projects.Create(actor_, t->id, {.name = std::string("p1")}).ok());
  ASSERT_TRUE(
      svc_->Apply(actor_, t->id, lifecycle::Action::kCancel, {.reason = "bye", .confirm = "acme"})
          .ok());
  ASSERT_TRUE(svc_->Apply(actor_, t->id, lifecycle::Action::kArchive, {}).ok());
  auto p = projects.Create(actor_, t->id, {.name = std::string("p2")});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(projects.List(t->id, {}, {})->items.size(), 1u);
}

// M14.1: a frozen tenant reactivates within 30 days of freezing, and not a moment later.
TEST_P(TenantServiceTest, ReactivationWindowIsThirtyDays) {
  testing::ManualClock clock;
  TenantService svc(*db_, clock);
  for (const auto& [slug, days, ok] : {std::tuple{"inside", 30, true}, {"outside", 31, false}}) {
    auto t = svc.Create(actor_, {.slug = slug, .name = "T", .initial_status = "active"});
    ASSERT_TRUE(t.ok());
    auto wrong = svc.Apply(actor_, t->id, lifecycle::Action::kCancel,
                           {.reason = "r", .confirm = "not-the-slug"});
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().kind, ErrorKind::kInvalidInput);
    ASSERT_TRUE(
        svc.Apply(actor_, t->id, lifecycle::Action::kCancel, {.reason = "r", .confirm = slug})
            .ok());
    clock.Advance(std::int64_t{days} * 86400 - (ok ? 1 : 0));
    auto back = svc.Apply(actor_, t->id, lifecycle::Action::kReactivate, {});
    EXPECT_EQ(back.ok(), ok) << slug;
    if (ok) {
      EXPECT_EQ(back->status, Status::kActive);
    } else {
      EXPECT_EQ(back.error().type, "reactivation-window-closed");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, TenantServiceTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::tenants
