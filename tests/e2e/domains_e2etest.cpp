// Custom domains (M18.1) through the API, against a real DNS server (dnsmasq on a loopback
// port, every name 127.0.0.1): a domain is pending until its CNAME (or, at an apex, its TXT
// token) is served, then verified, by a click or by the periodic check; Caddy's question
// (/internal/tls/ask) is yes only then; a request on the domain is the tenant's portal, until
// the domain is removed. Bad names are 422, another tenant's domain is 409 and out of reach.
#include <chrono>
#include <thread>

#include "domain_support.hpp"
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

class DomainsTest : public E2eTest {
 protected:
  void SetUp() override {
    dns_port_ = FreePort();
    dns_ = std::make_unique<DnsServer>(std::vector<std::string>{}, dns_port_);
    E2eTest::SetUp();
  }
  std::vector<std::string> ExtraArgs() override {
    return {"--portal-domain", "localhost", "--dns-resolver", dns_->address(),
            "--enable-test-clock"};
  }
  // dnsmasq again on the same port, serving `records` (a zone change, as a customer makes it).
  void Serve(const std::vector<std::string>& records) {
    dns_.reset();
    dns_ = std::make_unique<DnsServer>(records, dns_port_);
  }
  // A request on another host name: the portal's pages are not in the API's document, so this
  // client does not record its exchanges for the OpenAPI check.
  HttpResponse OnHost(const std::string& host, const std::string& path) {
    HttpClient pages("127.0.0.1", server_->port(), "", false);
    return pages.Request("GET", path, "", {{"Host", host}, {"Authorization", ""}});
  }
  int Ask(const std::string& domain) {
    return client()
        .Request("GET", "/internal/tls/ask?domain=" + domain, "", {{"Authorization", ""}})
        .status;
  }
  std::string Status(const std::string& tenant, const std::string& domain) {
    const auto list = Json(client().Get("/tenants/" + tenant + "/domains"));
    for (const auto& d : list.at("items").as_array()) {
      if (d.at("domain").as_string() == domain) return std::string(d.at("status").as_string());
    }
    return "";
  }

  int dns_port_ = 0;
  std::unique_ptr<DnsServer> dns_;
};

TEST_P(DomainsTest, ADomainIsVerifiedByItsDnsRecordAndThenIsTheTenantsPortal) {
  const std::string acme = Str(CreateTenant("acme"), "id");
  const std::string globex = Str(CreateTenant("globex"), "id");

  auto r = client().Post("/tenants/" + acme + "/domains", R"({"domain":"Portal.Acme.Test."})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = Json(r);
  EXPECT_EQ(d.at("domain").as_string(), "portal.acme.test");
  EXPECT_EQ(d.at("status").as_string(), "pending");
  const auto records = d.at("records").as_array();
  EXPECT_EQ(records[0].at("type").as_string(), "CNAME");
  EXPECT_EQ(records[0].at("value").as_string(), "acme.localhost");
  EXPECT_EQ(records[1].at("name").as_string(), "_breakpilot.portal.acme.test");

  // A zone apex cannot have a CNAME: a TXT record with the token proves it.
  r = client().Post("/tenants/" + acme + "/domains", R"({"domain":"acme-apex.test"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string txt(Json(r).at("records").as_array()[1].at("value").as_string());
  ASSERT_EQ(txt.rfind("breakpilot-verify=", 0), 0u) << txt;

  // Bad names, a taken one, and another tenant's reach.
  for (const char* bad :
       {"localhost", "1.2.3.4", "x.localhost", "bad_name.test", "-a.test", "a..test", ""}) {
    r = client().Post("/tenants/" + acme + "/domains", std::string(R"({"domain":")") + bad + "\"}");
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
  }
  EXPECT_EQ(client().Post("/tenants/" + acme + "/domains", "{}").status, 422);
  r = client().Post("/tenants/" + globex + "/domains", R"({"domain":"portal.acme.test"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(client().Post("/tenants/" + globex + "/domains/portal.acme.test/check", "").status,
            404);
  EXPECT_EQ(client().Request("DELETE", "/tenants/" + globex + "/domains/portal.acme.test").status,
            404);
  EXPECT_TRUE(Json(client().Get("/tenants/" + globex + "/domains")).at("items").as_array().empty());

  // No record yet: still pending, with what the check found; Caddy gets no.
  r = client().Post("/tenants/" + acme + "/domains/portal.acme.test/check", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("status").as_string(), "pending");
  EXPECT_NE(Json(r).at("last_error").as_string().find("no CNAME to acme.localhost"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Ask("portal.acme.test"), 404);
  EXPECT_EQ(OnHost("portal.acme.test", "/login").status, 404);  // the API's: no portal there

  // The customer creates the records.
  Serve({"--host-record=acme.localhost,127.0.0.1", "--cname=portal.acme.test,acme.localhost",
         "--txt-record=_breakpilot.acme-apex.test," + txt});
  r = client().Post("/tenants/" + acme + "/domains/portal.acme.test/check", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("status").as_string(), "verified") << r.body;
  EXPECT_EQ(Ask("portal.acme.test"), 200);
  EXPECT_EQ(Ask("PORTAL.acme.test"), 200);
  EXPECT_EQ(Ask("acme-apex.test"), 404);  // not checked yet
  EXPECT_EQ(Ask("unknown.test"), 404);
  EXPECT_EQ(client().Request("GET", "/internal/tls/ask", "", {{"Authorization", ""}}).status, 400);
  // The apex, by the periodic check: an hour later the platform looks again by itself.
  AdvanceClock(client(), 3600);
  std::string apex;
  for (int i = 0; i < 300 && apex != "verified"; ++i) {
    apex = Status(acme, "acme-apex.test");
    if (apex != "verified") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(apex, "verified") << "the periodic check did not verify the TXT record";

  // The verified domain is the tenant's portal; one Caddy would not ask for is the API's.
  r = OnHost("portal.acme.test", "/login");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("Tenant acme"), std::string::npos);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(OnHost("other.test", "/login").status, 404);

  // Removed: no certificate, no portal.
  EXPECT_EQ(client().Request("DELETE", "/tenants/" + acme + "/domains/portal.acme.test").status,
            204);
  EXPECT_EQ(Ask("portal.acme.test"), 404);
  EXPECT_EQ(OnHost("portal.acme.test", "/login").status, 404);
  for (const char* action : {"domain.add", "domain.verify", "domain.remove"}) {
    r = client().Get("/audit?tenant_id=" + acme + "&action=" + action);
    EXPECT_GE(Json(r).at("items").as_array().size(), 1u) << action;
  }
}

BREAKPILOT_ON_BOTH_STORES(DomainsTest);

}  // namespace
}  // namespace breakpilot::testing
