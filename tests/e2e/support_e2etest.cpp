// Support (issue 25, M9.1, M9.2), black-box on both stores: the binary with contract fakes of
// Frappe Helpdesk (tests/support/fake_frappe.cpp) and Gitea (tests/support/fake_gitea.cpp), and
// Gitea's issue webhook signed as Gitea signs it (tests/conformance/gitea_send.mjs, Node's
// crypto: never our code). The portal's part runs in Chromium (PortalSupportTest).
#include <fstream>
#include <thread>

#include "../support/fake_frappe.hpp"
#include "../support/fake_gitea.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

constexpr const char* kHookSecret = "gitea-webhook-secret-e2e";

class SupportTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    auto args = frappe_.Flags("helpdesk");
    const auto gitea = gitea_.Flags(kHookSecret);
    args.insert(args.end(), gitea.begin(), gitea.end());
    return args;
  }
  // Gitea's webhook messages, each {event, body, tamper}, signed by Node and sent.
  std::vector<std::pair<int, std::string>> Send(const json::array& messages) {
    const auto file = MakeTempDir("bp-gitea") + "/messages.json";
    std::ofstream(file) << json::serialize(json::object{
        {"url", "http://127.0.0.1:" + std::to_string(server_->port()) + "/gitea/webhook"},
        {"secret", kHookSecret},
        {"messages", messages}});
    const auto [code, out] = RunNode("conformance/gitea_send.mjs", file);
    EXPECT_EQ(code, 0) << out;
    std::vector<std::pair<int, std::string>> sent;
    if (code != 0) return sent;
    const auto answers = json::parse(out.substr(out.rfind("\n[") + 1));
    for (const auto& v : answers.as_array()) {
      sent.emplace_back(static_cast<int>(v.at("status").as_int64()),
                        std::string(v.at("body").as_string()));
    }
    return sent;
  }
  std::map<std::string, std::string> As(const std::string& tenant, const char* role) {
    return BearerOf(MintToken(*db_, server_->port(),
                              {{"sub", "0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0f"},
                               {"realm_roles", json::array{}},
                               {"org_id", tenant},
                               {"org_roles", json::array{role}}}));
  }

  FakeFrappe frappe_;
  FakeGitea gitea_;
};

// A tenant's user opens a ticket through the API; another tenant's never sees or opens it;
// staff escalate it once; Gitea's signed close resolves it once; forged, changed, repeated and
// foreign messages change nothing; Helpdesk down is a clear 503 and records nothing.
TEST_P(SupportTest, ATicketGoesFromTheTenantToEngineeringAndBack) {
  const auto acme = Str(CreateTenant("acme", R"(,"contact_email":"it@acme.example")"), "id");
  const auto globex = Str(CreateTenant("globex"), "id");
  const auto user = As(acme, "USER");
  auto r =
      client().Request("POST", "/tenants/" + acme + "/tickets",
                       R"({"subject":"Exports fail","description":"At 90%, every time."})", user);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto ticket = Json(r);
  const auto id = Str(ticket, "id");
  EXPECT_EQ(Str(ticket, "status"), "Open");
  EXPECT_EQ(Str(ticket, "raised_by"), "it@acme.example") << "the tenant's contact";
  ASSERT_EQ(frappe_.Docs("HD Ticket").size(), 1u);
  EXPECT_EQ(frappe_.Docs("HD Ticket")[0].at("customer").as_string(), "BP-" + acme);

  // Tenant isolation: globex's admin neither lists nor opens acme's tickets.
  const auto other = As(globex, "IT_ADMIN");
  EXPECT_EQ(client().Request("GET", "/tenants/" + acme + "/tickets", "", other).status, 404);
  EXPECT_EQ(client()
                .Request("POST", "/tenants/" + acme + "/tickets",
                         R"({"subject":"x","description":"y"})", other)
                .status,
            404);
  r = client().Request("GET", "/tenants/" + globex + "/tickets", "", other);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r).at("items").as_array().empty());
  // Customers do not escalate; staff do.
  EXPECT_EQ(client().Request("POST", "/tickets/" + id + "/escalate", "", user).status, 403);
  r = client().Request("GET", "/tenants/" + acme + "/tickets", "", user);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Json(r).at("items").as_array().size(), 1u);

  r = client().Post("/tickets/" + id + "/escalate", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto number = Json(r).at("number").as_int64();
  r = client().Post("/tickets/" + id + "/escalate", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("number").as_int64(), number);
  EXPECT_EQ(gitea_.Issues(FakeGitea::kRepo).size(), 1u) << "one issue, however many clicks";
  EXPECT_EQ(client().Post("/tickets/4711/escalate", "").status, 404);
  EXPECT_EQ(client().Post("/tickets/abc/escalate", "").status, 404);
  r = client().Get("/tickets");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto all = Json(r).at("items").as_array();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].at("escalation").at("state").as_string(), "open");

  // The developer closes the issue; Gitea says so, signed. Then forged, changed, repeated,
  // another event and an issue nobody escalated.
  const auto body = gitea_.Close(FakeGitea::kRepo, number);
  auto foreign = json::parse(body).as_object();
  foreign["issue"].as_object()["number"] = 99;
  const auto sent =
      Send(json::array{json::object{{"event", "issues"}, {"body", body}},
                       json::object{{"event", "issues"}, {"body", body}, {"tamper", "signature"}},
                       json::object{{"event", "issues"}, {"body", body}, {"tamper", "body"}},
                       json::object{{"event", "issues"}, {"body", body}},
                       json::object{{"event", "push"}, {"body", R"({"ref":"refs/heads/main"})"}},
                       json::object{{"event", "issues"}, {"body", json::serialize(foreign)}}});
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].first, 200) << sent[0].second;
  EXPECT_NE(sent[0].second.find(R"("ticket_id":")" + id), std::string::npos) << sent[0].second;
  EXPECT_EQ(sent[1].first, 401) << sent[1].second;
  EXPECT_EQ(sent[2].first, 401) << sent[2].second;
  EXPECT_NE(sent[3].second.find(R"("repeat":true)"), std::string::npos) << sent[3].second;
  EXPECT_NE(sent[4].second.find(R"("ignored":true)"), std::string::npos) << sent[4].second;
  EXPECT_NE(sent[5].second.find(R"("ignored":true)"), std::string::npos) << sent[5].second;
  WaitForIdleJobs(client());
  EXPECT_EQ(frappe_.Docs("HD Ticket")[0].at("status").as_string(), "Resolved");
  r = client().Get("/audit?tenant_id=" + acme + "&action=support.ticket.resolve");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Json(r).at("items").as_array().size(), 1u) << r.body;
  for (const char* action : {"support.ticket.create", "support.ticket.escalate"}) {
    r = client().Get("/audit?tenant_id=" + acme + "&action=" + action);
    EXPECT_EQ(Json(r).at("items").as_array().size(), 1u) << action << ": " << r.body;
  }

  // Helpdesk down: a clear 503, nothing recorded; the list says it is unavailable.
  frappe_.SetDown(true);
  r = client().Request("POST", "/tenants/" + acme + "/tickets",
                       R"({"subject":"Down","description":"z"})", user);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
  EXPECT_NE(r.body.find("support-unavailable"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(FakeFrappe::kApiSecret), std::string::npos);
  r = client().Request("GET", "/tenants/" + acme + "/tickets", "", user);
  EXPECT_EQ(Json(r).at("unavailable").as_bool(), true);
  const auto ready = Json(client().Get("/readyz"));
  EXPECT_EQ(ready.at("integrations").at("helpdesk").at("state").as_string(), "failing");
  frappe_.SetDown(false);
  r = client().Request("POST", "/tenants/" + acme + "/tickets",
                       R"({"subject":"","description":"z","raised_by":"nobody"})", user);
  EXPECT_EQ(r.status, 422) << r.body;
  r = client().Get("/audit?tenant_id=" + acme + "&action=support.ticket.create");
  EXPECT_EQ(Json(r).at("items").as_array().size(), 1u) << "nothing more recorded";
}

BREAKPILOT_ON_BOTH_STORES(SupportTest);

}  // namespace
}  // namespace breakpilot::testing
