// The ERPNext mirror (backoffice::ErpNext over FrappeClient) against the contract fake of
// Frappe's REST API (tests/support/fake_frappe.cpp), on both stores, with the durable jobs
// run as the runner runs them; and the fake proven by Frappe's own client, frappe-js-sdk
// (tests/conformance/frappe_sdk.mjs), which reads what our client made and makes its own calls.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "backoffice/erpnext.hpp"
#include "fake_frappe.hpp"
#include "http/client.hpp"
#include "jobs/queue.hpp"
#include "run_jobs.hpp"
#include "test_env.hpp"

namespace breakpilot::backoffice {
namespace {

namespace json = boost::json;
using testing::FakeFrappe;
using testing::ManualClock;
using testing::RunNode;
using testing::Store;

// Polar's order as billing hands it over (the fields the mirror reads).
json::object PolarOrder(const std::string& id) {
  return {{"id", id},
          {"currency", "eur"},
          {"created_at", "2027-01-15T10:00:00Z"},
          {"net_amount", 4900},
          {"tax_amount", 931},
          {"total_amount", 5831},
          {"items", json::array{json::object{
                        {"label", "Professional"}, {"amount", 4900}, {"tax_amount", 931}}}}};
}

class ErpNextContractTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    queue_ = std::make_unique<jobs::Queue>(*db_, clock_);
    erp_ =
        std::make_unique<ErpNext>(*db_, clock_, *tenants_,
                                  ErpNextSettings{.frappe = {.url = frappe_.BaseUrl(),
                                                             .api_key = FakeFrappe::kApiKey,
                                                             .api_secret = FakeFrappe::kApiSecret},
                                                  .webhook_secret = "erp-hook-secret"},
                                  http::Fetch);
    // Wired as app::Platform wires them.
    tenants_->OnInserted(
        [this](storage::Session& s, const tenants::Tenant& t) { erp_->QueueCustomer(s, t); });
    tenants_->OnStatusChanged([this](storage::Session& s, const tenants::Tenant& t) {
      if (t.status == tenants::Status::kFrozen && t.cancel_reason) erp_->QueueOpportunityLost(s, t);
    });
  }
  // Runs the due jobs once each, as the runner would: a failed attempt is retried later.
  int RunDue() {
    return testing::RunDueJobs(*queue_, [this](jobs::JobContext& ctx) { erp_->Sync(ctx); });
  }
  tenants::Tenant Create(const std::string& slug) {
    auto t = tenants_->Create(
        actor_,
        {.slug = slug, .name = "Tenant " + slug, .contact_email = "cfo@" + slug + ".example"});
    EXPECT_TRUE(t) << (t ? "" : t.error().detail);
    return t ? *t : tenants::Tenant{};
  }

  ManualClock clock_;
  FakeFrappe frappe_;
  std::unique_ptr<tenants::TenantService> tenants_;
  std::unique_ptr<jobs::Queue> queue_;
  std::unique_ptr<ErpNext> erp_;
  audit::Actor actor_{"user:staff", "", ""};
};

TEST_P(ErpNextContractTest, EachDocumentIsMadeOnceWithPolarsTaxAsChargedAndTheSdkAgrees) {
  const auto t = Create("acme");
  // Read (and cached) before any invoice: the mirrored invoice drops the cached list.
  EXPECT_TRUE(erp_->Invoices(t.id).invoices.empty());
  db_->Write([&](storage::Session& s) {
    erp_->QueueLead(s, {.lead_id = "0190f2d8-2a0e-7cc1-8000-00000000a001",
                        .tenant_id = t.id,
                        .tenant_name = t.name,
                        .product_id = "certifai",
                        .sales_owner = "sally",
                        .requested_by_name = "Ada",
                        .note = "for the audit team"});
    erp_->QueueInvoice(s, t.id, PolarOrder("polar-order-1"));
  });
  auto cancelled = tenants_->Apply(actor_, t.id, tenants::lifecycle::Action::kCancel,
                                   {.reason = "too expensive for now", .confirm = "acme"});
  ASSERT_TRUE(cancelled) << cancelled.error().detail;
  EXPECT_EQ(RunDue(), 4);

  const auto customers = frappe_.Docs("Customer");
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0].at("name").as_string(), "BP-" + t.id);
  EXPECT_EQ(customers[0].at("breakpilot_tenant_id").as_string(), t.id);
  const auto leads = frappe_.Docs("Lead");
  ASSERT_EQ(leads.size(), 1u);
  EXPECT_EQ(leads[0].at("lead_owner").as_string(), "sally");
  EXPECT_EQ(leads[0].at("breakpilot_product").as_string(), "certifai");
  const auto invoices = frappe_.Docs("Sales Invoice");
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0].at("name").as_string(), "BP-SINV-polar-order-1");
  EXPECT_EQ(invoices[0].at("currency").as_string(), "EUR");
  EXPECT_EQ(invoices[0].at("taxes").as_array()[0].at("tax_amount").as_string(), "9.31");
  EXPECT_DOUBLE_EQ(invoices[0].at("grand_total").as_double(), 58.31);
  const auto opportunities = frappe_.Docs("Opportunity");
  ASSERT_EQ(opportunities.size(), 1u);
  EXPECT_EQ(opportunities[0].at("status").as_string(), "Lost");
  EXPECT_EQ(opportunities[0].at("order_lost_reason").as_string(), "too expensive for now");

  // The same changes again: the dedupe keys queue nothing; and a call made twice (a replica
  // died after ERPNext took it, before its job completed) finds its document by name.
  db_->Write(
      [&](storage::Session& s) { erp_->QueueInvoice(s, t.id, PolarOrder("polar-order-1")); });
  EXPECT_EQ(RunDue(), 0);
  FrappeClient client(erp_->settings().frappe, http::Fetch);
  const auto posts = frappe_.Calls("POST");
  auto twice = client.Ensure("Customer", "BP-" + t.id, {{"customer_name", "again"}});
  ASSERT_TRUE(twice) << twice.error().detail;
  EXPECT_EQ(twice->at("customer_name").as_string(), t.name) << "the first one, unchanged";
  EXPECT_EQ(frappe_.Calls("POST"), posts);
  EXPECT_EQ(frappe_.Docs("Customer").size(), 1u);
  EXPECT_EQ(frappe_.Docs("Sales Invoice").size(), 1u);

  // The tenant's invoices as /billing reads them.
  const auto list = erp_->Invoices(t.id);
  EXPECT_FALSE(list.unavailable);
  ASSERT_EQ(list.invoices.size(), 1u);
  EXPECT_EQ(list.invoices[0].grand_total, "58.31");

  // Frappe's own client reads what ours made and makes its own calls.
  const auto [code, out] =
      RunNode("conformance/frappe_sdk.mjs", frappe_.BaseUrl() + " " + FakeFrappe::kApiKey + " " +
                                                FakeFrappe::kApiSecret + " " + t.id);
  EXPECT_EQ(code, 0) << out;
}

TEST_P(ErpNextContractTest, WhileErpNextIsDownEveryCallWaitsAndIsMadeOnceWhenItReturns) {
  frappe_.SetDown(true);
  const auto a = Create("globex");
  const auto b = Create("initech");
  EXPECT_EQ(RunDue(), 0);
  EXPECT_GE(frappe_.Refused(), 2);
  auto st = erp_->Status();
  EXPECT_GE(st.failures, 2);
  EXPECT_EQ(st.queued, 2);
  EXPECT_GT(st.last_failure_us, st.last_success_us);
  EXPECT_NE(st.last_error.find("503"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.last_error.find(FakeFrappe::kApiSecret), std::string::npos);
  // The portal's invoice list says ERPNext is away rather than fail.
  EXPECT_TRUE(erp_->Invoices(a.id).unavailable);

  // Ten minutes down: each retry on its backoff fails, nothing is lost or dead.
  for (int minute = 0; minute < 10; ++minute) {
    clock_.Advance(60);
    RunDue();
  }
  EXPECT_TRUE(frappe_.Docs("Customer").empty());
  EXPECT_EQ(erp_->Status().queued, 2);

  frappe_.SetDown(false);
  clock_.Advance(3600);
  EXPECT_EQ(RunDue(), 2);
  EXPECT_EQ(frappe_.Docs("Customer").size(), 2u);
  EXPECT_EQ(erp_->Status().queued, 0);
  clock_.Advance(7200);
  EXPECT_EQ(RunDue(), 0);
  EXPECT_EQ(frappe_.Docs("Customer").size(), 2u) << "each made once";
  (void)b;
}

INSTANTIATE_TEST_SUITE_P(Stores, ErpNextContractTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::backoffice
