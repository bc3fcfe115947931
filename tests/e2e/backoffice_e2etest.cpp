// ERPNext (issue 25, M8.2, M11.1, M13.2, M14.1), black-box on both stores: the binary with a
// contract fake of Frappe's REST API (tests/support/fake_frappe.cpp, proven with frappe-js-sdk
// in erpnext_contract_test) and ERPNext's Sales Order webhook signed as Frappe signs it
// (tests/conformance/erpnext_send.mjs, Node's crypto: never our code).
#include <fstream>
#include <thread>

#include "../support/fake_frappe.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

constexpr const char* kHookSecret = "erpnext-webhook-secret-e2e";

struct Sent {
  int status = 0;
  std::string body;
};

class BackofficeTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--enable-test-clock",
            "--seed-demo",
            "--job-lease-seconds",
            "2",
            "--erpnext-url",
            frappe_.BaseUrl(),
            "--erpnext-api-key",
            FakeFrappe::kApiKey,
            "--erpnext-api-secret",
            FakeFrappe::kApiSecret,
            "--erpnext-webhook-secret",
            kHookSecret};
  }

  std::vector<Sent> Send(const std::vector<std::pair<json::object, std::string>>& docs) {
    json::array messages;
    for (const auto& [doc, tamper] : docs) {
      messages.push_back(json::object{{"doc", doc}, {"tamper", tamper}});
    }
    const auto file = MakeTempDir("bp-erpnext") + "/messages.json";
    std::ofstream(file) << json::serialize(json::object{
        {"url", "http://127.0.0.1:" + std::to_string(server_->port()) + "/erpnext/webhook"},
        {"secret", kHookSecret},
        {"messages", std::move(messages)}});
    const auto [code, out] = RunNode("conformance/erpnext_send.mjs", file);
    EXPECT_EQ(code, 0) << out;
    std::vector<Sent> sent;
    if (code != 0) return sent;
    const auto at = out.rfind("\n[");
    const auto answers = json::parse(out.substr(at == std::string::npos ? 0 : at + 1));
    for (const auto& v : answers.as_array()) {
      sent.push_back(
          {static_cast<int>(v.at("status").as_int64()), std::string(v.at("body").as_string())});
    }
    return sent;
  }
  static json::object SalesOrder(const std::string& name, const std::string& customer,
                                 int docstatus) {
    return {{"doctype", "Sales Order"}, {"name", name},
            {"customer", customer},     {"docstatus", docstatus},
            {"grand_total", 1188.0},    {"modified", "2027-01-15 10:00:00.000000"}};
  }
  std::string Status(const std::string& tenant_id) {
    return Str(Json(client().Get("/tenants/" + tenant_id)), "status");
  }
  std::vector<json::object> WaitForDocs(const std::string& doctype, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto docs = frappe_.Docs(doctype);
    while (docs.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      docs = frappe_.Docs(doctype);
    }
    return docs;
  }

  FakeFrappe frappe_;
};

// Catalog request -> ERPNext Lead for the tenant's sales owner; a submitted Sales Order ->
// the tenant active (once, whatever the repeats); cancelling -> frozen and the Opportunity
// Lost with the reason; a cancelled Sales Order cancels too. Forged and unknown: nothing.
TEST_P(BackofficeTest, TheSalesChainReachesErpNextAndComesBack) {
  const auto acme = Str(CreateTenant("acme"), "id");
  auto r = client().Request("PATCH", "/tenants/" + acme, R"({"sales_owner":"sally"})",
                            {{"Content-Type", "application/merge-patch+json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = client().Post("/tenants/" + acme + "/leads", R"({"product_id":"certifai"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto leads = WaitForDocs("Lead", 1);
  ASSERT_EQ(leads.size(), 1u);
  EXPECT_EQ(leads[0].at("lead_owner").as_string(), "sally");
  EXPECT_EQ(leads[0].at("breakpilot_tenant_id").as_string(), acme);

  // The demo's "Request trial": the rep walking a prospect through it owns their CRM Lead.
  const auto rep = BearerOf(MintToken(*db_, server_->port(),
                                      {{"sub", "0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e11"},
                                       {"preferred_username", "rita"},
                                       {"realm_roles", json::array{"SALES_REP"}}}));
  r = client().Request("POST", "/leads",
                       R"({"company":"Initech","name":"Bill Lumbergh",)"
                       R"("email":"bill@initech.example","product_id":"certifai"})",
                       rep);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Str(Json(r), "sales_owner"), "rita");
  EXPECT_EQ(Json(r).at("prospect").at("company").as_string(), "Initech");
  const auto prospect = WaitForDocs("Lead", 2);
  ASSERT_EQ(prospect.size(), 2u);
  const auto& trial =
      prospect[0].at("company_name").as_string() == "Initech" ? prospect[0] : prospect[1];
  EXPECT_EQ(trial.at("lead_owner").as_string(), "rita");
  EXPECT_EQ(trial.at("lead_name").as_string(), "Bill Lumbergh");
  EXPECT_EQ(trial.at("email_id").as_string(), "bill@initech.example");
  EXPECT_EQ(trial.at("source").as_string(), "Breakpilot demo");
  // The rep sees it among their leads; a bad address is refused and makes nothing.
  r = client().Request("GET", "/leads", "", rep);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("items").as_array().size(), 1u) << r.body;
  r = client().Request("POST", "/leads",
                       R"({"company":"X","name":"Y","email":"nope","product_id":"certifai"})", rep);
  EXPECT_EQ(r.status, 422) << r.body;
  ASSERT_EQ(WaitForDocs("Customer", 1).size(), 1u);
  EXPECT_EQ(frappe_.Docs("Customer")[0].at("name").as_string(), "BP-" + acme);

  // Sales closes: a submitted Sales Order for that customer.
  const auto order = SalesOrder("SAL-ORD-2027-00001", "BP-" + acme, 1);
  auto sent = Send({{order, ""}});
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 200) << sent[0].body;
  EXPECT_NE(sent[0].body.find(R"("lifecycle":"activated")"), std::string::npos) << sent[0].body;
  EXPECT_EQ(Status(acme), "active");
  const auto version = Json(client().Get("/tenants/" + acme)).at("version").as_int64();

  // Replayed, forged, changed by a byte, for a customer we do not know, a draft.
  sent = Send({{order, ""},
               {order, ""},
               {SalesOrder("SAL-ORD-2027-00002", "BP-" + acme, 2), "signature"},
               {SalesOrder("SAL-ORD-2027-00003", "BP-" + acme, 2), "body"},
               {SalesOrder("SAL-ORD-2027-00004", "Someone Else GmbH", 1), ""},
               {SalesOrder("SAL-ORD-2027-00005", "BP-" + acme, 0), ""}});
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].status, 200);
  EXPECT_NE(sent[0].body.find(R"("repeat":true)"), std::string::npos) << sent[0].body;
  EXPECT_EQ(sent[1].status, 200);
  EXPECT_EQ(sent[2].status, 401) << sent[2].body;
  EXPECT_EQ(sent[3].status, 401) << sent[3].body;
  EXPECT_EQ(sent[4].status, 422) << sent[4].body;
  EXPECT_NE(sent[4].body.find("Someone Else GmbH"), std::string::npos) << sent[4].body;
  EXPECT_EQ(sent[5].status, 422) << sent[5].body;
  EXPECT_EQ(Json(client().Get("/tenants/" + acme)).at("version").as_int64(), version);
  EXPECT_EQ(Status(acme), "active");
  // Audited once, by ERPNext: the activation and the Sales Order that caused it.
  for (const char* action : {"tenant.activate", "backoffice.erpnext.sales_order"}) {
    auto audited = client().Get("/audit?tenant_id=" + acme + "&action=" + action);
    ASSERT_EQ(audited.status, 200) << audited.body;
    const auto items = Json(audited).at("items").as_array();
    ASSERT_EQ(items.size(), 1u) << action << ": " << audited.body;
    EXPECT_EQ(items[0].at("actor").at("id").as_string(), "system:erpnext") << action;
  }

  // The customer leaves: frozen, and the Opportunity is Lost with the reason given.
  r = client().Post("/tenants/" + acme + "/cancel",
                    R"({"reason":"budget cut for 2027","confirm":"acme"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto lost = WaitForDocs("Opportunity", 1);
  ASSERT_EQ(lost.size(), 1u);
  WaitForIdleJobs(client());
  const auto opportunity = frappe_.Docs("Opportunity")[0];
  EXPECT_EQ(opportunity.at("status").as_string(), "Lost");
  EXPECT_EQ(opportunity.at("order_lost_reason").as_string(), "budget cut for 2027");
  EXPECT_EQ(opportunity.at("party_name").as_string(), "BP-" + acme);

  // Another customer: active by its Sales Order, frozen when sales cancels that order.
  const auto globex = Str(CreateTenant("globex"), "id");
  sent = Send({{SalesOrder("SAL-ORD-2027-00010", "BP-" + globex, 1), ""},
               {SalesOrder("SAL-ORD-2027-00010", "BP-" + globex, 2), ""}});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[1].body.find(R"("lifecycle":"frozen")"), std::string::npos) << sent[1].body;
  EXPECT_EQ(Status(globex), "frozen");
  auto cancelled = client().Get("/audit?tenant_id=" + globex + "&action=tenant.cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Json(cancelled).at("items").as_array().size(), 1u) << cancelled.body;
  WaitForIdleJobs(client());
  EXPECT_EQ(frappe_.Docs("Customer").size(), 2u);
  EXPECT_EQ(frappe_.Docs("Lead").size(), 2u);
}

// ERPNext refuses for ten minutes (the platform's clock moved on by the test clock), and the
// replica is SIGKILLed in between: every call is queued, and made once when ERPNext is back.
TEST_P(BackofficeTest, ErpNextDownForTenMinutesLosesNothingAcrossASigkill) {
  frappe_.SetDown(true);
  std::vector<std::string> tenants;
  for (const char* slug : {"acme", "globex", "initech"}) {
    tenants.push_back(Str(CreateTenant(slug), "id"));
  }
  ASSERT_EQ(
      client().Post("/tenants/" + tenants[0] + "/leads", R"({"product_id":"certifai"})").status,
      201);
  for (int minute = 0; minute < 5; ++minute) {
    AdvanceClock(client(), 60);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_GT(frappe_.Refused(), 0);
  auto ready = Json(client().Get("/readyz"));
  ASSERT_TRUE(ready.contains("integrations")) << json::serialize(ready);
  EXPECT_EQ(ready.at("integrations").at("erpnext").at("state").as_string(), "failing");
  EXPECT_EQ(ready.at("integrations").at("erpnext").at("queued").as_int64(), 4);

  // The replica dies; another takes over on the same database.
  server_->Kill();
  server_ = std::make_unique<ServerProcess>(db_->url(), ExtraArgs());
  client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port(), ServerProcess::kToken);
  for (int minute = 0; minute < 5; ++minute) {
    AdvanceClock(client(), 60);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_TRUE(frappe_.Docs("Customer").empty());

  frappe_.SetDown(false);
  AdvanceClock(client(), 3600);
  ASSERT_EQ(WaitForDocs("Customer", 3).size(), 3u);
  ASSERT_EQ(WaitForDocs("Lead", 1).size(), 1u);
  WaitForIdleJobs(client());
  AdvanceClock(client(), 7200);
  WaitForIdleJobs(client());
  EXPECT_EQ(frappe_.Docs("Customer").size(), 3u) << "each made once";
  EXPECT_EQ(frappe_.Docs("Lead").size(), 1u);
  ready = Json(client().Get("/readyz"));
  EXPECT_EQ(ready.at("integrations").at("erpnext").at("state").as_string(), "ok");
  EXPECT_EQ(ready.at("integrations").at("erpnext").at("queued").as_int64(), 0);
  const auto metrics = client().Get("/metrics").body;
  EXPECT_NE(metrics.find("breakpilot_integration_queued{integration=\"erpnext\"} 0"),
            std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(BackofficeTest);

}  // namespace
}  // namespace breakpilot::testing
