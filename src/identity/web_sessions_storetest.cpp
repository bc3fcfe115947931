// The portal's sessions on both stores: lifetimes (idle and absolute), the site a session
// belongs to, the single-use handoff, sign-out, the session list and "sign out everywhere", and
// the OpenID provider's grant of a single sign-on (sealed, moved at the handoff, refreshed once).
#include "identity/web_sessions.hpp"

#include <gtest/gtest.h>

#include "test_env.hpp"

namespace breakpilot::identity {
namespace {

using testing::Store;

class WebSessionsTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    sessions_ =
        std::make_unique<WebSessions>(*db_, clock_,
                                      WebSessionSettings{.idle = std::chrono::seconds(600),
                                                         .absolute = std::chrono::seconds(3600),
                                                         .handoff = std::chrono::seconds(60)});
  }
  testing::ManualClock clock_;
  std::unique_ptr<WebSessions> sessions_;
  audit::Actor actor_{"user:u1", "req-1", "127.0.0.1"};
  const std::string site_a_ = TenantSite("01900000-0000-7000-8000-00000000000a");
  const std::string site_b_ = TenantSite("01900000-0000-7000-8000-00000000000b");
};

TEST_P(WebSessionsTest, AFoundSessionBelongsToItsSiteOnly) {
  auto s = sessions_->Create(actor_, "u1", site_a_, "Mozilla/5.0\n\x01");
  ASSERT_FALSE(s.token.empty());
  auto found = sessions_->Find(s.token, site_a_);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, "u1");
  EXPECT_EQ(found->csrf_token, s.csrf_token);
  EXPECT_EQ(found->user_agent, "Mozilla/5.0??");
  EXPECT_TRUE(found->token.empty());  // the token is never read back
  EXPECT_FALSE(sessions_->Find(s.token, site_b_));
  EXPECT_FALSE(sessions_->Find(s.token, std::string(kBackstageSite)));
  EXPECT_FALSE(sessions_->Find(s.token + "x", site_a_));
  EXPECT_FALSE(sessions_->Find("", site_a_));
}

TEST_P(WebSessionsTest, IdleSessionsEndAndUseKeepsThemAliveUntilTheAbsoluteEnd) {
  auto s = sessions_->Create(actor_, "u1", site_a_, "ua");
  clock_.Advance(500);
  ASSERT_TRUE(sessions_->Find(s.token, site_a_));  // touched: idle end moves to 1100
  clock_.Advance(500);                             // 1000: idle since 500 s
  ASSERT_TRUE(sessions_->Find(s.token, site_a_));
  for (int t = 1000; t < 3500; t += 500) {
    clock_.Advance(500);
    ASSERT_TRUE(sessions_->Find(s.token, site_a_)) << t;
  }
  clock_.Advance(200);  // 3700: past the absolute end, however busy
  EXPECT_FALSE(sessions_->Find(s.token, site_a_));

  auto idle = sessions_->Create(actor_, "u1", site_a_, "ua");
  clock_.Advance(601);
  EXPECT_FALSE(sessions_->Find(idle.token, site_a_));
  EXPECT_EQ(sessions_->Prune(), 2);
}

TEST_P(WebSessionsTest, AHandoffCodeWorksOnceOnItsOwnSiteWithinAMinute) {
  const auto code = sessions_->CreateForHandoff(actor_, "u1", site_a_, "ua");
  EXPECT_TRUE(sessions_->ListForUser("u1").empty());  // not usable before the handoff
  auto taken = sessions_->TakeHandoff(code, site_a_);
  ASSERT_TRUE(taken);
  EXPECT_TRUE(sessions_->Find(taken->token, site_a_));
  EXPECT_FALSE(sessions_->TakeHandoff(code, site_a_));  // spent

  const auto other = sessions_->CreateForHandoff(actor_, "u1", site_a_, "ua");
  EXPECT_FALSE(sessions_->TakeHandoff(other, site_b_));  // another site: refused and spent
  EXPECT_FALSE(sessions_->TakeHandoff(other, site_a_));

  const auto late = sessions_->CreateForHandoff(actor_, "u1", site_a_, "ua");
  clock_.Advance(61);
  EXPECT_FALSE(sessions_->TakeHandoff(late, site_a_));
  EXPECT_FALSE(sessions_->TakeHandoff("", site_a_));
}

TEST_P(WebSessionsTest, SignOutOneOrEverywhere) {
  auto a = sessions_->Create(actor_, "u1", site_a_, "first");
  clock_.Advance(1);
  auto b = sessions_->Create(actor_, "u1", site_b_, "second");
  auto other = sessions_->Create(actor_, "u2", site_a_, "other user");
  auto list = sessions_->ListForUser("u1");
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].user_agent, "second");  // newest first

  EXPECT_FALSE(sessions_->EndById(actor_, "u1", other.id));  // not u1's
  EXPECT_TRUE(sessions_->Find(other.token, site_a_));
  EXPECT_TRUE(sessions_->EndById(actor_, "u1", b.id));
  EXPECT_FALSE(sessions_->Find(b.token, site_b_));

  EXPECT_TRUE(sessions_->End(actor_, a.token));
  EXPECT_FALSE(sessions_->End(actor_, a.token));
  EXPECT_FALSE(sessions_->Find(a.token, site_a_));

  auto c = sessions_->Create(actor_, "u1", site_a_, "c");
  auto d = sessions_->Create(actor_, "u1", site_b_, "d");
  EXPECT_EQ(sessions_->EndAllForUser(actor_, "u1"), 2);
  EXPECT_FALSE(sessions_->Find(c.token, site_a_));
  EXPECT_FALSE(sessions_->Find(d.token, site_b_));
  EXPECT_TRUE(sessions_->Find(other.token, site_a_));
}

TEST_P(WebSessionsTest, AProvidersGrantIsSealedMovedAtTheHandoffAndRefreshedByOneRequest) {
  const IdpGrant grant{.id_token = "header.claims.sig", .refresh_token = "refresh-token-1"};
  const auto code = sessions_->CreateForHandoff(actor_, "u1", site_a_, "ua", &grant);
  auto s = sessions_->TakeHandoff(code, site_a_);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->idp_id_token, "header.claims.sig");
  ASSERT_TRUE(s->idp_refresh_at);
  EXPECT_EQ(s->idp_refresh_sealed.find("refresh-token"), std::string::npos);
  EXPECT_FALSE(sessions_->ClaimRefresh(*s, s->token)) << "not due yet";
  clock_.Advance(301);
  auto found = sessions_->Find(s->token, site_a_);
  ASSERT_TRUE(found);
  EXPECT_FALSE(sessions_->ClaimRefresh(*found, code)) << "sealed under the token now, not the code";
  // Two requests saw it due; one claims the refresh, the other goes on without.
  auto again = sessions_->Find(s->token, site_a_);
  EXPECT_EQ(sessions_->ClaimRefresh(*found, s->token), "refresh-token-1");
  EXPECT_FALSE(sessions_->ClaimRefresh(*again, s->token));
  // Stored, the next refresh is a full interval away and opens the new token.
  sessions_->StoreGrant(*found, s->token, {.id_token = "", .refresh_token = "refresh-token-2"});
  clock_.Advance(200);
  EXPECT_FALSE(sessions_->ClaimRefresh(*sessions_->Find(s->token, site_a_), s->token));
  clock_.Advance(101);
  found = sessions_->Find(s->token, site_a_);
  EXPECT_EQ(found->idp_id_token, "header.claims.sig") << "kept when the refresh sent none";
  EXPECT_EQ(sessions_->ClaimRefresh(*found, s->token), "refresh-token-2");
  // A claimed refresh that was never stored (the provider was down) is due again after a minute.
  clock_.Advance(61);
  EXPECT_EQ(sessions_->ClaimRefresh(*sessions_->Find(s->token, site_a_), s->token),
            "refresh-token-2");
  // A password session has no grant and nothing to refresh.
  auto plain = sessions_->Create(actor_, "u1", site_a_, "ua");
  EXPECT_FALSE(plain.idp_refresh_at);
  EXPECT_TRUE(plain.idp_id_token.empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, WebSessionsTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::identity
