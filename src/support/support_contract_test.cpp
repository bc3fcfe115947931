// Support (support::Support over FrappeClient and GiteaClient) against the contract fakes of
// Frappe Helpdesk's REST API (tests/support/fake_frappe.cpp) and Gitea's
// (tests/support/fake_gitea.cpp), on both stores, with the durable jobs run as the runner runs
// them; Gitea's webhook signed by Node's crypto (tests/conformance/gitea_send.mjs), and the
// Helpdesk fake proven by Frappe's own client, frappe-js-sdk (tests/conformance/helpdesk_sdk.mjs).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "fake_frappe.hpp"
#include "fake_gitea.hpp"
#include "http/client.hpp"
#include "jobs/queue.hpp"
#include "run_jobs.hpp"
#include "support/support.hpp"
#include "test_env.hpp"

namespace breakpilot::support {
namespace {

namespace json = boost::json;
using testing::FakeFrappe;
using testing::FakeGitea;
using testing::ManualClock;
using testing::RunNode;
using testing::Store;

constexpr const char* kHookSecret = "gitea-hook-secret";

class SupportContractTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    queue_ = std::make_unique<jobs::Queue>(*db_, clock_);
    support_ = std::make_unique<Support>(
        *db_, clock_, *tenants_,
        SupportSettings{.helpdesk = {.url = frappe_.BaseUrl(),
                                     .api_key = FakeFrappe::kApiKey,
                                     .api_secret = FakeFrappe::kApiSecret},
                        .gitea = {.url = gitea_.BaseUrl(), .token = FakeGitea::kToken},
                        .gitea_repo = FakeGitea::kRepo,
                        .gitea_webhook_secret = kHookSecret},
        http::Fetch);
  }
  int RunDue() {
    return testing::RunDueJobs(*queue_, [this](jobs::JobContext& ctx) { support_->Sync(ctx); });
  }
  tenants::Tenant Create(const std::string& slug) {
    auto t = tenants_->Create(
        actor_,
        {.slug = slug, .name = "Tenant " + slug, .contact_email = "it@" + slug + ".example"});
    EXPECT_TRUE(t) << (t ? "" : t.error().detail);
    return t ? *t : tenants::Tenant{};
  }
  // Gitea's signature of `body`, from Node's crypto.
  std::string Sign(const std::string& body) {
    const auto file = testing::MakeTempDir("bp-gitea") + "/messages.json";
    std::ofstream(file) << json::serialize(
        json::object{{"secret", kHookSecret},
                     {"messages", json::array{json::object{{"event", "issues"}, {"body", body}}}}});
    const auto [code, out] = RunNode("conformance/gitea_send.mjs", file);
    EXPECT_EQ(code, 0) << out;
    if (code != 0) return "";
    const auto at = out.rfind('[');
    return std::string(json::parse(out.substr(at)).as_array()[0].at("signature").as_string());
  }
  // The audit events with `action`.
  std::int64_t Audited(const std::string& action) {
    static constexpr storage::Query kCount{"test_support_audited",
                                           "SELECT count(*) FROM audit_log WHERE action = $1"};
    std::int64_t n = -1;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(kCount, {action})->Int(0); });
    return n;
  }

  ManualClock clock_;
  FakeFrappe frappe_;
  FakeGitea gitea_;
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<jobs::Queue> queue_;
  std::unique_ptr<Support> support_;
  audit::Actor actor_{"user:ada", "", "", "ada@acme.example"};
};

// A ticket opened for the tenant's HD Customer (made once), listed for that tenant only,
// escalated to one Gitea issue whatever the clicks, resolved once when the issue is closed.
TEST_P(SupportContractTest, ATicketIsOpenedEscalatedOnceAndResolvedByTheIssuesClose) {
  const auto acme = Create("acme");
  const auto globex = Create("globex");
  auto made = support_->Open(actor_, acme.id,
                             {.subject = "Exports fail",
                              .description = "The PDF export of March stops at 90%.",
                              .raised_by = "ada@acme.example"});
  ASSERT_TRUE(made) << made.error().detail;
  EXPECT_EQ(made->status, "Open");
  EXPECT_EQ(made->tenant_id, acme.id);
  auto second = support_->Open(
      actor_, acme.id, {.subject = "Another", .description = "x", .raised_by = "b@a.example"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(support_->Open(
      actor_, globex.id, {.subject = "Globex's", .description = "y", .raised_by = "g@g.example"}));
  EXPECT_EQ(frappe_.Docs("HD Customer").size(), 2u) << "one per tenant, made once";
  EXPECT_EQ(Audited("support.ticket.create"), 3);

  const auto listed = support_->Tickets(acme.id);
  EXPECT_FALSE(listed.unavailable);
  ASSERT_EQ(listed.tickets.size(), 2u) << "acme's, never globex's";
  EXPECT_EQ(listed.tickets[0].id, second->id) << "newest first";
  EXPECT_EQ(support_->Tickets(std::nullopt).tickets.size(), 3u);

  // Escalated: one issue, however often.
  auto issue = support_->Escalate(actor_, made->id);
  ASSERT_TRUE(issue) << issue.error().detail;
  EXPECT_EQ(issue->repo, FakeGitea::kRepo);
  EXPECT_EQ(issue->state, "open");
  auto again = support_->Escalate(actor_, made->id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number, issue->number);
  const auto issues = gitea_.Issues(FakeGitea::kRepo);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].at("title").as_string().find("Exports fail"), std::string::npos);
  EXPECT_NE(issues[0].at("body").as_string().find("90%"), std::string::npos);
  EXPECT_EQ(support_->Tickets(acme.id).tickets[1].escalation->number, issue->number);
  EXPECT_EQ(support_->Escalate(actor_, "999").error().type, "ticket-not-found");
  EXPECT_EQ(support_->Escalate(actor_, "1 OR 1=1").error().type, "ticket-not-found");

  // The developer closes the issue: Gitea's signed webhook resolves the ticket, once.
  const auto body = gitea_.Close(FakeGitea::kRepo, issue->number);
  ASSERT_FALSE(body.empty());
  const auto signature = Sign(body);
  auto closed = support_->ReceiveGitea("issues", signature, body);
  ASSERT_TRUE(closed) << closed.error().detail;
  EXPECT_FALSE(closed->repeat);
  EXPECT_EQ(closed->ticket_id, made->id);
  auto repeat = support_->ReceiveGitea("issues", signature, body);
  ASSERT_TRUE(repeat);
  EXPECT_TRUE(repeat->repeat);
  EXPECT_EQ(support_->ReceiveGitea("issues", signature, body + " ").error().kind,
            ErrorKind::kUnauthenticated);
  EXPECT_EQ(support_->ReceiveGitea("issues", std::string(64, '0'), body).error().kind,
            ErrorKind::kUnauthenticated);
  EXPECT_TRUE(
      support_->ReceiveGitea("push", Sign(R"({"ref":"main"})"), R"({"ref":"main"})")->ignored);
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(RunDue(), 0);
  EXPECT_EQ(Audited("support.ticket.resolve"), 1);
  const auto resolved = support_->Tickets(acme.id).tickets[1];
  EXPECT_EQ(resolved.status, "Resolved");
  EXPECT_EQ(resolved.escalation->state, "closed");

  // Frappe's own client reads what ours made and makes its own calls.
  const auto [code, out] = RunNode("conformance/helpdesk_sdk.mjs",
                                   frappe_.BaseUrl() + " " + FakeFrappe::kApiKey + " " +
                                       FakeFrappe::kApiSecret + " " + acme.id + " " + made->id);
  EXPECT_EQ(code, 0) << out;
}

// Helpdesk down: opening says so and records nothing; the list says unavailable; a close
// that arrives meanwhile waits in its job and resolves the ticket when Helpdesk is back.
TEST_P(SupportContractTest, WhileHelpdeskIsDownNothingIsHalfDoneAndACloseWaits) {
  const auto acme = Create("acme");
  auto made = support_->Open(
      actor_, acme.id, {.subject = "Slow", .description = "z", .raised_by = "a@acme.example"});
  ASSERT_TRUE(made);
  ASSERT_TRUE(support_->Escalate(actor_, made->id));
  frappe_.SetDown(true);
  auto refused = support_->Open(
      actor_, acme.id, {.subject = "Down", .description = "z", .raised_by = "a@b.example"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, "support-unavailable");
  EXPECT_EQ(refused.error().detail.find(FakeFrappe::kApiSecret), std::string::npos);
  EXPECT_EQ(Audited("support.ticket.create"), 1);
  EXPECT_TRUE(support_->Tickets(acme.id).unavailable);

  const auto body = gitea_.Close(FakeGitea::kRepo, 1);
  ASSERT_TRUE(support_->ReceiveGitea("issues", Sign(body), body));
  EXPECT_EQ(RunDue(), 0);
  const auto status = support_->Status();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].name, "helpdesk");
  EXPECT_EQ(status[0].queued, 1);
  EXPECT_GE(status[0].failures, 2);
  frappe_.SetDown(false);
  clock_.Advance(3600);
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(frappe_.Docs("HD Ticket")[0].at("status").as_string(), "Resolved");
  EXPECT_EQ(support_->Status()[0].queued, 0);

  // Bad input never reaches Helpdesk.
  const auto calls = frappe_.Calls("POST");
  auto bad = support_->Open(actor_, acme.id, {.subject = " ", .description = "", .raised_by = "x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errors.size(), 3u);
  EXPECT_EQ(frappe_.Calls("POST"), calls);
}

INSTANTIATE_TEST_SUITE_P(Stores, SupportContractTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::support
