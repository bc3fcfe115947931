// What a customer may not give itself (issue 21, finding 7): a trial tenant's own IT_ADMIN could
// PATCH its plan to enterprise, subscribe products on any plan and activate itself, ending the
// trial for free; and the trial quota the platform publishes was not enforced where the
// platform owns the resource (5 projects were created on a trial tenant). Plan, status and paid
// subscriptions now change only by staff (and, later, billing); projects and seats are counted.
#include <atomic>
#include <thread>

#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

class PlanGuardTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--password-memory-kib", "2048"}; }
  HttpResponse As(const std::string& token, const std::string& method, const std::string& target,
                  const std::string& body = {}) {
    return client().Request(method, target, body, BearerOf(token));
  }
  std::string ItAdminOf(const std::string& tenant_id) {
    return MintToken(*db_, server_->port(),
                     {{"sub", "0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0f"},
                      {"realm_roles", boost::json::array{}},
                      {"org_id", tenant_id},
                      {"org_roles", boost::json::array{"IT_ADMIN"}}});
  }
  static std::string Type(const HttpResponse& r) {
    const auto o = boost::json::parse(r.body).as_object();
    const std::string t(o.at("type").as_string());
    return t.substr(t.rfind('/') + 1);
  }
};

TEST_P(PlanGuardTest, ACustomerCannotBuyItselfAPlanOrAnActiveStatus) {
  const auto id = Str(CreateTenant("acme"), "id");
  const auto admin = ItAdminOf(id);
  // Its own name: yes. Its plan: no, whatever else the patch holds.
  EXPECT_EQ(As(admin, "PATCH", "/tenants/" + id, R"({"name":"Acme AG"})").status, 200);
  auto plan = As(admin, "PATCH", "/tenants/" + id, R"({"name":"Acme SE","plan":"enterprise"})");
  EXPECT_EQ(plan.status, 403) << plan.body;
  EXPECT_NE(plan.body.find("tenant.plan"), std::string::npos) << plan.body;
  // Activating (and reactivating) is paid for: not the customer's to do.
  auto activate = As(admin, "POST", "/tenants/" + id + "/activate");
  EXPECT_EQ(activate.status, 403) << activate.body;
  EXPECT_NE(activate.body.find("tenant.activate"), std::string::npos);
  // A subscription on another plan is a purchase too; on its own plan it is fine.
  auto sub = As(admin, "POST", "/tenants/" + id + "/products",
                R"({"product_id":"certifai","plan":"enterprise"})");
  EXPECT_EQ(sub.status, 403) << sub.body;
  EXPECT_EQ(Type(sub), "plan-not-allowed");
  auto own = As(admin, "POST", "/tenants/" + id + "/products", R"({"product_id":"certifai"})");
  EXPECT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(Str(Json(own), "plan"), "starter");
  auto named_own = As(admin, "POST", "/tenants/" + id + "/products",
                      R"({"product_id":"breakpilot-compliance","plan":"starter"})");
  EXPECT_EQ(named_own.status, 201) << named_own.body;
  // Nothing changed that the customer tried.
  const auto t = Json(client().Get("/tenants/" + id));
  EXPECT_EQ(Str(t, "plan"), "starter");
  EXPECT_EQ(Str(t, "status"), "trial");
  EXPECT_EQ(Str(t, "name"), "Acme AG");
  // Staff may do all three.
  EXPECT_EQ(client().Request("PATCH", "/tenants/" + id, R"({"plan":"enterprise"})").status, 200);
  auto staff_sub = client().Post("/tenants/" + id + "/products",
                                 R"({"product_id":"certifai","plan":"starter"})");
  EXPECT_EQ(staff_sub.status, 200) << "already subscribed: the existing subscription";
  EXPECT_EQ(client().Post("/tenants/" + id + "/activate", "").status, 200);
  // The customer may still leave.
  auto cancel = As(admin, "POST", "/tenants/" + id + "/cancel",
                   R"({"reason":"too expensive","confirm":"acme"})");
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(As(admin, "POST", "/tenants/" + id + "/reactivate").status, 403);
}

TEST_P(PlanGuardTest, ATrialHasThreeProjectsAndFiveSeats) {
  const auto id = Str(CreateTenant("acme"), "id");
  const auto admin = ItAdminOf(id);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(As(admin, "POST", "/tenants/" + id + "/projects",
                 R"({"name":"p)" + std::to_string(i) + "\"}")
                  .status,
              201);
  }
  // Staff meet the limit too: it is the trial's, not the caller's.
  for (const std::string& token : {admin, std::string(ServerProcess::kToken)}) {
    auto fourth = As(token, "POST", "/tenants/" + id + "/projects", R"({"name":"p4"})");
    EXPECT_EQ(fourth.status, 403) << fourth.body;
    EXPECT_EQ(Type(fourth), "trial-limit-reached");
    EXPECT_EQ(Str(Json(fourth), "limit"), "projects");
    EXPECT_EQ(Json(fourth).at("maximum").as_int64(), 3);
  }
  for (int i = 1; i <= 5; ++i) {
    CreateUser(client(), "member" + std::to_string(i), {}, id, {"USER"});
  }
  auto sixth = client().Post("/users", R"({"username":"member6","memberships":[{"tenant_id":")" +
                                           id + R"(","org_roles":["USER"]}]})");
  EXPECT_EQ(sixth.status, 403) << sixth.body;
  EXPECT_EQ(Type(sixth), "trial-limit-reached");
  EXPECT_EQ(Str(Json(sixth), "limit"), "seats");
  static constexpr storage::Query kUsers{"test_user_named",
                                         "SELECT count(*) FROM users WHERE username = 'member6'"};
  std::int64_t half_written = -1;
  db_->Open()->Read([&](storage::Session& s) { half_written = s.FetchOne(kUsers, {})->Int(0); });
  EXPECT_EQ(half_written, 0) << "no user without the seat it asked for";
  // Once the tenant pays, the limits are gone.
  ASSERT_EQ(client().Post("/tenants/" + id + "/activate", "").status, 200);
  EXPECT_EQ(As(admin, "POST", "/tenants/" + id + "/projects", R"({"name":"p4"})").status, 201);
  CreateUser(client(), "member6", {}, id, {"USER"});
}

// Parallel creates on a trial tenant cannot slip past the count (the tenant row is locked).
TEST_P(PlanGuardTest, ParallelProjectCreatesStopAtTheLimit) {
  const auto id = Str(CreateTenant("acme"), "id");
  std::atomic<int> created{0}, limited{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c("127.0.0.1", server_->port(), ServerProcess::kToken);
      auto r = c.Post("/tenants/" + id + "/projects", R"({"name":"p)" + std::to_string(i) + "\"}");
      if (r.status == 201) ++created;
      if (r.status == 403) ++limited;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 3);
  EXPECT_EQ(limited.load(), 9);
}

BREAKPILOT_ON_BOTH_STORES(PlanGuardTest);

}  // namespace
}  // namespace breakpilot::testing
