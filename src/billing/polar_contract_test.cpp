// Our Polar client (billing::PolarClient, through Billing) against the contract fake of Polar's
// API (tests/support/fake_polar.cpp), on both stores; and the fake proven by Polar's own client:
// @polar-sh/sdk makes the same calls against it (tests/conformance/polar_sdk.mjs) and reads the
// same answers and errors. The checkout carries the tenant's id in its metadata and as the
// customer's external id (what the webhooks find the tenant by); the customer portal exists once
// Polar knows the customer; Polar down or a plan without a product is a clear error.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "billing/billing.hpp"
#include "fake_polar.hpp"
#include "http/client.hpp"
#include "test_env.hpp"

namespace breakpilot::billing {
namespace {

namespace json = boost::json;
using testing::FakePolar;
using testing::ManualClock;
using testing::RunNode;
using testing::Store;

json::object LastJsonLine(const std::string& out) {
  const auto start = out.rfind("\n{");
  return json::parse(out.substr(start == std::string::npos ? 0 : start + 1)).as_object();
}

class PolarContractTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    billing_ = std::make_unique<Billing>(*db_, clock_, *tenants_,
                                         PolarClient(Settings(polar_.BaseUrl()), http::Fetch));
  }
  static PolarSettings Settings(const std::string& base) {
    return {.api_url = base,
            .access_token = FakePolar::kToken,
            .webhook_secret = "polar_whs_contract",
            .products = {{"starter", FakePolar::kProductStarter},
                         {"professional", FakePolar::kProductProfessional}}};
  }
  tenants::Tenant Create(const std::string& slug) {
    auto t = tenants_->Create(actor_, {.slug = slug, .name = "Tenant " + slug});
    EXPECT_TRUE(t) << (t ? "" : t.error().detail);
    return t ? *t : tenants::Tenant{};
  }
  std::string Node(const std::string& args) {
    auto [code, out] = RunNode("conformance/polar_sdk.mjs",
                               polar_.BaseUrl() + " " + FakePolar::kToken + " " + args);
    EXPECT_EQ(code, 0) << out;
    return out;
  }

  ManualClock clock_;
  FakePolar polar_;
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<Billing> billing_;
  audit::Actor actor_{"user:it-admin", "", ""};
};

TEST_P(PolarContractTest, OurCheckoutCarriesTheTenantAndPolarsSdkMakesTheSameCall) {
  const auto t = Create("acme");
  auto made = billing_->StartCheckout(actor_, t.id, "professional", "cfo@acme.example",
                                      std::nullopt, "https://acme.example/billing?paid=1",
                                      "https://acme.example/billing");
  ASSERT_TRUE(made) << made.error().detail;
  EXPECT_EQ(made->url.rfind(polar_.BaseUrl() + "/checkout/polar_c_", 0), 0u) << made->url;
  const auto checkouts = polar_.Checkouts();
  ASSERT_EQ(checkouts.size(), 1u);
  const auto& c = checkouts[0];
  EXPECT_EQ(c.at("id").as_string(), made->id);
  EXPECT_EQ(c.at("metadata").at("tenant_id").as_string(), t.id);
  EXPECT_EQ(c.at("metadata").at("plan").as_string(), "professional");
  EXPECT_EQ(c.at("external_customer_id").as_string(), t.id);
  EXPECT_EQ(c.at("product_id").as_string(), FakePolar::kProductProfessional);
  EXPECT_EQ(c.at("customer_email").as_string(), "cfo@acme.example");
  EXPECT_EQ(c.at("success_url").as_string(), "https://acme.example/billing?paid=1");

  // Polar's SDK: the same call succeeds and reads back; an unknown product is its
  // HTTPValidationError; a wrong token its 401.
  const auto sdk =
      LastJsonLine(Node(std::string("checkout ") + FakePolar::kProductProfessional + " " + t.id));
  EXPECT_EQ(sdk.at("external_customer_id").as_string(), t.id);
  EXPECT_EQ(sdk.at("metadata").at("tenant_id").as_string(), t.id);
  const auto wrong = LastJsonLine(Node("unauthorized"));
  EXPECT_EQ(wrong.at("error").as_string(), "PolarClientError");
  EXPECT_EQ(wrong.at("status").as_int64(), 401);
  EXPECT_GE(polar_.Calls("unauthorized"), 1);

  // The checkout is in the tenant's audit trail.
  std::int64_t audited = 0;
  db_->Read([&](storage::Session& s) {
    audited = s.FetchOne({"test_checkout_audit",
                          "SELECT count(*) FROM audit_log WHERE tenant_id = $1"
                          " AND action = 'billing.checkout.create'"},
                         {t.id})
                  ->Int(0);
  });
  EXPECT_EQ(audited, 1);
}

TEST_P(PolarContractTest, TheCustomerPortalOpensOncePolarKnowsTheCustomer) {
  const auto t = Create("globex");
  // Nothing paid: Polar knows no customer. Ours says so; the SDK sees Polar's 422.
  auto before = billing_->CustomerPortal(t.id, "https://globex.example/billing");
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(before.error().type, "billing-customer-not-found");
  EXPECT_EQ(LastJsonLine(Node("session " + t.id)).at("error").as_string(), "HTTPValidationError");

  auto made = billing_->StartCheckout(actor_, t.id, "starter", std::nullopt, std::nullopt,
                                      "https://globex.example/billing?paid=1",
                                      "https://globex.example/billing");
  ASSERT_TRUE(made) << made.error().detail;
  const auto messages = polar_.Pay(made->id);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[1].type, "order.paid");

  auto url = billing_->CustomerPortal(t.id, "https://globex.example/billing");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->rfind(polar_.BaseUrl() + "/portal?customer_session_token=", 0), 0u) << *url;
  const auto sdk = LastJsonLine(Node("session " + t.id));
  ASSERT_TRUE(sdk.contains("url")) << json::serialize(sdk);
  EXPECT_EQ(std::string(sdk.at("url").as_string()).rfind(polar_.BaseUrl() + "/portal?", 0), 0u);
}

TEST_P(PolarContractTest, APlanWithoutAProductAndPolarDownAreClearErrors) {
  const auto t = Create("initech");
  auto per_seat =
      billing_->StartCheckout(actor_, t.id, "per_seat", std::nullopt, 3,
                              "https://initech.example/billing", "https://initech.example/billing");
  ASSERT_FALSE(per_seat);
  EXPECT_EQ(per_seat.error().type, "plan-not-sold");

  // Polar unreachable: a port nothing listens on.
  Billing down(*db_, clock_, *tenants_,
               PolarClient(Settings("http://127.0.0.1:" + std::to_string(testing::FreePort())),
                           http::Fetch));
  auto made =
      down.StartCheckout(actor_, t.id, "starter", std::nullopt, std::nullopt,
                         "https://initech.example/billing", "https://initech.example/billing");
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(made.error().detail.find(FakePolar::kToken), std::string::npos);
  EXPECT_EQ(down.stats().failures, 1);
  EXPECT_TRUE(polar_.Checkouts().empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, PolarContractTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::billing
