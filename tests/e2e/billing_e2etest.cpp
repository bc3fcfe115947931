// Billing through Polar (issue 25, M8.3), black-box on both stores: the binary with a contract
// fake of Polar's API (tests/support/fake_polar.cpp) and Polar's webhook messages signed by the
// Standard Webhooks reference library and checked by Polar's own SDK before they are sent
// (tests/conformance/polar_send.mjs): never by our code.
#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "../support/fake_frappe.hpp"
#include "../support/fake_polar.hpp"
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

constexpr const char* kSecret = "polar_whs_e2e_Secret-as-the-dashboard-shows-it";

struct Sent {
  std::string id;
  int status = 0;
  std::string body;
};

struct ToSend {
  PolarMessage message;
  std::int64_t age = 0;  // seconds before now
  std::string tamper;    // "", "body", "signature"
};

class BillingTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--enable-test-clock",
            "--polar-api-url",
            polar_.BaseUrl(),
            "--polar-access-token",
            FakePolar::kToken,
            "--polar-webhook-secret",
            kSecret,
            "--polar-product-starter",
            FakePolar::kProductStarter,
            "--polar-product-professional",
            FakePolar::kProductProfessional,
            "--polar-product-per-seat",
            FakePolar::kProductPerSeat,
            "--erpnext-url",
            frappe_.BaseUrl(),
            "--erpnext-api-key",
            FakeFrappe::kApiKey,
            "--erpnext-api-secret",
            FakeFrappe::kApiSecret};
  }

  // Signs and posts the messages in order; their answers.
  std::vector<Sent> Send(const std::vector<ToSend>& messages) {
    json::array items;
    for (const auto& m : messages) {
      items.push_back(json::object{
          {"id", m.message.id}, {"body", m.message.body}, {"age", m.age}, {"tamper", m.tamper}});
    }
    const auto file = MakeTempDir("bp-polar") + "/messages.json";
    std::ofstream(file) << json::serialize(json::object{
        {"url", "http://127.0.0.1:" + std::to_string(server_->port()) + "/polar/webhook"},
        {"secret", kSecret},
        {"clock_offset", clock_offset_},
        {"messages", std::move(items)}});
    const auto [code, out] = RunNode("conformance/polar_send.mjs", file);
    EXPECT_EQ(code, 0) << out;
    std::vector<Sent> sent;
    if (code != 0) return sent;
    const auto at = out.rfind("\n[");
    const auto answers = json::parse(out.substr(at == std::string::npos ? 0 : at + 1));
    for (const auto& v : answers.as_array()) {
      const auto& o = v.as_object();
      sent.push_back({std::string(o.at("id").as_string()),
                      static_cast<int>(o.at("status").as_int64()),
                      std::string(o.at("body").as_string())});
    }
    return sent;
  }
  std::vector<Sent> Send(const std::vector<PolarMessage>& messages) {
    std::vector<ToSend> all;
    all.reserve(messages.size());
    for (const auto& m : messages) all.push_back({.message = m});
    return Send(all);
  }

  // A checkout for `plan` through the API, paid at the fake: Polar's messages about it.
  std::vector<PolarMessage> Buy(const std::string& tenant_id, const std::string& plan) {
    auto r = client().Post(
        "/tenants/" + tenant_id + "/billing/checkout",
        R"({"plan":")" + plan + R"(","success_url":"https://acme.localhost/billing?paid=1"})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    return polar_.Pay(Str(Json(r), "id"));
  }

  std::string Status(const std::string& tenant_id) {
    return Str(Json(client().Get("/tenants/" + tenant_id)), "status");
  }
  // Waits (at most 30 s) until the tenant's status is `want`; the status it has then.
  std::string WaitForStatus(const std::string& tenant_id, const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string s = Status(tenant_id);
    while (s != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      s = Status(tenant_id);
    }
    return s;
  }
  std::int64_t Count(const std::string& sql, const std::vector<storage::Param>& params = {}) {
    const storage::Query q{"test_billing_count", sql.c_str()};
    std::int64_t n = -1;
    db_->Open()->Read([&](storage::Session& s) { n = s.FetchOne(q, params)->Int(0); });
    return n;
  }
  void Advance(std::int64_t seconds) {
    AdvanceClock(client(), seconds);
    clock_offset_ += seconds;
  }

  FakePolar polar_;
  FakeFrappe frappe_;
  std::int64_t clock_offset_ = 0;
};

// Self-serve money in: a trial tenant buys Professional; Polar's order.paid and
// subscription.created make it active on the Professional plan, once. The same messages and
// the other two of the checkout, replayed five times in a shuffled order, change nothing more;
// a bad signature, an old timestamp and a body changed by one byte are 401 and store nothing.
TEST_P(BillingTest, APaidCheckoutActivatesTheTenantOnceWhateverTheOrderAndRepeats) {
  const auto tenant = Str(CreateTenant("acme"), "id");
  ASSERT_EQ(Status(tenant), "trial");
  const auto messages = Buy(tenant, "professional");
  ASSERT_EQ(messages.size(), 4u);  // checkout.updated, order.paid, subscription.created, .active
  // Polar's copy of the checkout's metadata names the tenant.
  ASSERT_NE(messages[1].body.find(tenant), std::string::npos);

  auto sent = Send(std::vector<PolarMessage>{messages[1], messages[2]});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].status, 202) << sent[0].body;
  EXPECT_EQ(sent[1].status, 202) << sent[1].body;
  EXPECT_EQ(WaitForStatus(tenant, "active"), "active");
  WaitForIdleJobs(client());
  auto t = Json(client().Get("/tenants/" + tenant));
  EXPECT_EQ(Str(t, "plan"), "professional");
  const auto version = t.at("version").as_int64();

  // Five times all four, shuffled.
  std::vector<PolarMessage> replay;
  for (int i = 0; i < 5; ++i) replay.insert(replay.end(), messages.begin(), messages.end());
  std::shuffle(replay.begin(), replay.end(), std::mt19937(25));
  sent = Send(replay);
  ASSERT_EQ(sent.size(), 20u);
  int fresh = 0;
  for (const auto& s : sent) {
    EXPECT_TRUE(s.status == 200 || s.status == 202) << s.status << " " << s.body;
    fresh += s.status == 202 ? 1 : 0;
  }
  EXPECT_EQ(fresh, 2) << "checkout.updated and subscription.active, the first time each";
  WaitForIdleJobs(client());
  t = Json(client().Get("/tenants/" + tenant));
  EXPECT_EQ(Str(t, "status"), "active");
  EXPECT_EQ(t.at("version").as_int64(), version) << "the replays changed the tenant";
  EXPECT_EQ(Count("SELECT count(*) FROM polar_events"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM polar_orders"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action LIKE 'billing.polar.%'"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'tenant.activate'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'billing.checkout.create'"
                  " AND tenant_id = $1",
                  {tenant}),
            1);
  // Each applied message is audited with Polar's ids.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'billing.polar.order.paid'"
                  " AND fields LIKE $1",
                  {"%" + messages[1].id + "%"}),
            1);
  // ERPNext has the customer and the order's Sales Invoice, once each, with Polar's tax.
  const auto customers = frappe_.Docs("Customer");
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0].at("name").as_string(), "BP-" + tenant);
  const auto invoices = frappe_.Docs("Sales Invoice");
  ASSERT_EQ(invoices.size(), 1u);
  const auto order_id = std::string(json::parse(messages[1].body).at("data").at("id").as_string());
  EXPECT_EQ(invoices[0].at("name").as_string(), "BP-SINV-" + order_id);
  EXPECT_EQ(invoices[0].at("taxes").as_array()[0].at("tax_amount").as_string(), "9.31");
  EXPECT_DOUBLE_EQ(invoices[0].at("grand_total").as_double(), 58.31);
  auto billing = Json(client().Get("/tenants/" + tenant + "/billing"));
  ASSERT_EQ(billing.at("subscriptions").as_array().size(), 1u);
  EXPECT_EQ(Str(billing.at("subscriptions").as_array()[0].as_object(), "status"), "active");
  ASSERT_EQ(billing.at("orders").as_array().size(), 1u);
  EXPECT_EQ(billing.at("orders").as_array()[0].at("tax_amount").as_int64(), 931);

  // Forged: each a new message that would freeze the tenant if it were taken.
  const auto sub = std::string(json::parse(messages[2].body).at("data").at("id").as_string());
  sent = Send({{.message = polar_.Next(sub, "subscription.revoked"), .tamper = "signature"},
               {.message = polar_.Next(sub, "subscription.revoked"), .age = 301},
               {.message = polar_.Next(sub, "subscription.revoked"), .tamper = "body"}});
  ASSERT_EQ(sent.size(), 3u);
  for (const auto& s : sent) {
    EXPECT_EQ(s.status, 401) << s.body;
    EXPECT_NE(s.body.find("webhook-signature-invalid"), std::string::npos) << s.body;
  }
  EXPECT_NE(sent[1].body.find("five minutes"), std::string::npos) << sent[1].body;
  WaitForIdleJobs(client());
  EXPECT_EQ(Status(tenant), "active");
  EXPECT_EQ(Count("SELECT count(*) FROM polar_events"), 4) << "a refused message is not stored";
}

// The per-seat plan: the seats go to Polar with the per-seat product, and the paid subscription
// makes the tenant active on Professional (per-seat is Professional priced per member), the
// Polar subscription remembered as per_seat. No seats, or too many: 422 and no checkout.
TEST_P(BillingTest, APerSeatCheckoutCarriesItsSeatsAndActivatesProfessional) {
  const auto tenant = Str(CreateTenant("initech"), "id");
  for (const char* bad :
       {R"({"plan":"per_seat","success_url":"https://x.example/"})",
        R"({"plan":"per_seat","seats":0,"success_url":"https://x.example/"})",
        R"({"plan":"per_seat","seats":10001,"success_url":"https://x.example/"})"}) {
    auto r = client().Post("/tenants/" + tenant + "/billing/checkout", bad);
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
  }
  EXPECT_TRUE(polar_.Checkouts().empty());
  auto r = client().Post(
      "/tenants/" + tenant + "/billing/checkout",
      R"({"plan":"per_seat","seats":12,"success_url":"https://initech.localhost/billing?paid=1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto checkouts = polar_.Checkouts();
  ASSERT_EQ(checkouts.size(), 1u);
  EXPECT_EQ(checkouts[0].at("seats").as_int64(), 12);
  EXPECT_EQ(checkouts[0].at("product_id").as_string(), FakePolar::kProductPerSeat);
  EXPECT_EQ(checkouts[0].at("metadata").at("plan").as_string(), "per_seat");
  const auto messages = polar_.Pay(Str(Json(r), "id"));
  ASSERT_EQ(messages.size(), 4u);
  const auto sent = Send(std::vector<PolarMessage>{messages[1], messages[2]});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(WaitForStatus(tenant, "active"), "active");
  WaitForIdleJobs(client());
  EXPECT_EQ(Str(Json(client().Get("/tenants/" + tenant)), "plan"), "professional");
  const auto billing = Json(client().Get("/tenants/" + tenant + "/billing"));
  ASSERT_EQ(billing.at("subscriptions").as_array().size(), 1u);
  EXPECT_EQ(billing.at("subscriptions").as_array()[0].at("plan").as_string(), "per_seat");
}

// A message for no tenant we know is taken (2xx), recorded, and changes nothing; one that is
// not a Polar event is 400.
TEST_P(BillingTest, AMessageForNoKnownTenantIsRecordedAndChangesNothing) {
  const auto tenant = Str(CreateTenant("globex"), "id");
  auto messages = Buy(tenant, "starter");
  ASSERT_EQ(messages.size(), 4u);
  // The same order, for a tenant that does not exist.
  auto order = json::parse(messages[1].body).as_object();
  const std::string stranger = "0190f2d8-2a0e-7cc1-8000-000000000999";
  order["data"].as_object()["metadata"].as_object()["tenant_id"] = stranger;
  order["data"].as_object()["customer"].as_object()["external_id"] = stranger;
  PolarMessage foreign{.id = "msg_foreign_1", .type = "order.paid", .body = json::serialize(order)};
  PolarMessage junk{.id = "msg_junk_1", .type = "", .body = R"({"no":"type"})"};
  auto sent = Send(std::vector<ToSend>{{.message = foreign}, {.message = junk, .tamper = ""}});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].status, 202) << sent[0].body;
  EXPECT_EQ(sent[1].status, 400) << sent[1].body;
  WaitForIdleJobs(client());
  EXPECT_EQ(Status(tenant), "trial");
  EXPECT_EQ(Count("SELECT count(*) FROM polar_events WHERE outcome = 'no-tenant'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM polar_orders"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM tenants WHERE id = $1", {stranger}), 0);
}

// Cancelled at the period's end: active until the period ends, then frozen (uncanceled before
// then undoes it). Revoked: frozen at once. An older state arriving after a newer one changes
// nothing.
TEST_P(BillingTest, CancelFreezesAtThePeriodsEndRevokeAtOnceAndOldNewsIsIgnored) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto globex = Str(CreateTenant("globex"), "id");
  const auto initech = Str(CreateTenant("initech"), "id");
  const auto a = Buy(acme, "professional");
  const auto g = Buy(globex, "starter");
  const auto i = Buy(initech, "starter");
  ASSERT_EQ(a.size() + g.size() + i.size(), 12u);
  const auto sub = [](const std::vector<PolarMessage>& m) {
    return std::string(json::parse(m[2].body).at("data").at("id").as_string());
  };
  ASSERT_EQ(Send(std::vector<PolarMessage>{a[1], a[2], g[1], g[2]}).size(), 4u);
  EXPECT_EQ(WaitForStatus(acme, "active"), "active");
  EXPECT_EQ(WaitForStatus(globex, "active"), "active");

  // acme cancels, changes its mind, cancels again: active all along.
  Send(std::vector<PolarMessage>{polar_.Next(sub(a), "subscription.canceled"),
                                 polar_.Next(sub(a), "subscription.uncanceled"),
                                 polar_.Next(sub(a), "subscription.canceled")});
  // globex is revoked: frozen now.
  Send(std::vector<PolarMessage>{polar_.Next(sub(g), "subscription.revoked")});
  EXPECT_EQ(WaitForStatus(globex, "frozen"), "frozen");
  WaitForIdleJobs(client());
  EXPECT_EQ(Status(acme), "active");
  // initech: the revocation arrives first, the creation (older) after: it stays frozen. Its
  // order is known only through the subscription, which has ended.
  const auto revoked = polar_.Next(sub(i), "subscription.revoked");
  Send(std::vector<PolarMessage>{revoked, i[2], i[3], i[1]});
  WaitForIdleJobs(client());
  EXPECT_EQ(Status(initech), "frozen");
  // initech's two older messages (acme's three above may be applied in any order by the two
  // job workers, and one may then be older than what was applied: counted apart).
  EXPECT_EQ(Count("SELECT count(*) FROM polar_events WHERE outcome = 'stale' AND tenant_id = $1",
                  {initech}),
            2);

  // acme's period ends (30 days): frozen by the platform, once.
  Advance(31LL * 86400);
  EXPECT_EQ(WaitForStatus(acme, "frozen"), "frozen");
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'billing.polar.period_ended'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'tenant.cancel' AND"
                  " tenant_id = $1",
                  {acme}),
            1);
  // Uncanceled after the freeze (the customer resumes at Polar): active again.
  Send(std::vector<PolarMessage>{polar_.Next(sub(a), "subscription.uncanceled")});
  EXPECT_EQ(WaitForStatus(acme, "active"), "active");
}

BREAKPILOT_ON_BOTH_STORES(BillingTest);

}  // namespace
}  // namespace breakpilot::testing
