// The audit trail end to end, on both stores: the official Retraced client publishing against
// us, bad events refused field by field, who sees what, CSV and PDF exports, verification from
// the API and the CLI, retention and erase, and a walk over every state-changing operation of
// the OpenAPI document that fails when one writes no audit event.
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "core/crypto.hpp"
#include "csv.hpp"
#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

class AuditTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    // Webhooks may target loopback: the walk's endpoint is 127.0.0.1:9 (nothing answers there).
    return {"--password-memory-kib", "2048", "--seed-demo", "--max-exports", "2",
            "--allow-private-webhook-targets",
            // Custom domains need the portal's domain (the walk adds one).
            "--portal-domain", "localhost"};
  }
  // An API key of `tenant` with the audit:write scope.
  std::string AuditKey(const std::string& tenant) {
    auto r = client().Post("/api-keys", R"({"tenant_id":")" + tenant +
                                            R"(","name":"audit","scopes":["audit:write"]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(Json(r), "secret") : "";
  }

  HttpResponse PublishAs(const std::string& key, const std::string& target,
                         const std::string& body) {
    return client().Request("POST", target, body, {{"Authorization", "token=" + key}});
  }

  json::array Search(const std::string& query, HttpClient* as = nullptr) {
    auto r = (as ? *as : client()).Get(query.empty() ? "/audit" : "/audit?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return Json(r).at("items").as_array();
  }

  // The field pointers a 422 names.
  static std::set<std::string> Fields(const HttpResponse& r) {
    std::set<std::string> out;
    if (r.status != 422) return out;
    const auto doc = boost::json::parse(r.body);
    for (const auto& e : doc.at("errors").as_array()) {
      out.insert(std::string(e.at("field").as_string()));
    }
    return out;
  }
};

TEST_P(AuditTest, TheRetracedClientPublishesAndItsHashChecksPass) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto key = AuditKey(acme);
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  const auto [code, out] = RunCommand("cd " BREAKPILOT_SOURCE_DIR " && " BREAKPILOT_NODE
                                      " tests/conformance/retraced_publish.mjs " +
                                      base + " certifai " + key + " " + acme + " 2>&1");
  ASSERT_EQ(code, 0) << out;
  const auto ids = json::parse(out).as_object();
  ASSERT_EQ(ids.at("bulk").as_array().size(), 3U);

  auto items = Search("tenant_id=" + acme + "&product=certifai");
  ASSERT_EQ(items.size(), 4U);
  const auto& share = items.back().as_object();  // the oldest: created 2026-11-01
  EXPECT_EQ(Str(share, "id"), std::string(ids.at("single").as_string()));
  EXPECT_EQ(Str(share, "action"), "document.share");
  EXPECT_EQ(Str(share, "created"), "2026-11-01T10:00:00.123000Z");
  EXPECT_EQ(Str(share.at("actor").as_object(), "name"), "Ada Lovelace");
  EXPECT_EQ(Str(share.at("actor").as_object(), "href"), "https://example.com/users/ada");
  EXPECT_EQ(Str(share.at("target").as_object(), "type"), "document");
  EXPECT_EQ(Str(share.at("group").as_object(), "name"), "Acme: the tenant");
  EXPECT_EQ(Str(share.at("fields").as_object(), "recipients"), "bob;carol=dave");
  EXPECT_EQ(Str(share, "component"), "conformance");
  EXPECT_EQ(Str(share, "external_id"), "ext:1");
  EXPECT_EQ(Str(share.at("metadata").as_object(), "trace"), "a=b;c");

  // Our own client, both publisher paths, recorded for the OpenAPI check.
  auto one = PublishAs(key, "/publisher/v1/project/certifai/event",
                       R"({"action":"a.b","crud":"r","actor":{"id":"x"}})");
  ASSERT_EQ(one.status, 201) << one.body;
  auto many = PublishAs(key, "/publisher/v1/project/certifai/event/bulk",
                        R"({"events":[{"action":"a.c","crud":"r"},{"action":"a.d","crud":"d"}]})");
  ASSERT_EQ(many.status, 201) << many.body;
  EXPECT_EQ(json::parse(many.body).as_array().size(), 2U);
  EXPECT_EQ(
      PublishAs(key, "/publisher/v1/project/no-such/event", R"({"action":"a","crud":"r"})").status,
      404);
  EXPECT_EQ(PublishAs("bpk_notakey", "/publisher/v1/project/certifai/event",
                      R"({"action":"a","crud":"r"})")
                .status,
            401);
  // The key publishes for its own tenant only.
  const auto other = Str(CreateTenant("other"), "id");
  auto foreign = PublishAs(key, "/publisher/v1/project/certifai/event",
                           R"({"action":"a","crud":"r","group":{"id":")" + other + "\"}}");
  EXPECT_EQ(foreign.status, 422);
  EXPECT_TRUE(Fields(foreign).count("/group/id")) << foreign.body;
  // A key cannot read the trail.
  EXPECT_EQ(client().Request("GET", "/audit", "", {{"Authorization", "token=" + key}}).status, 403);
}

TEST_P(AuditTest, BadEventsAreRefusedNamingEachField) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto service = ServiceToken(client(), "certifai");
  HttpClient product("127.0.0.1", server_->port(), service);
  const std::string group = R"(,"group":{"id":")" + acme + "\"}";
  const std::string big(1'000'000, 'x');
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"product":"certifai","crud":"r"})", "/action"},
      {R"({"product":"certifai","action":"","crud":"r"})", "/action"},
      {R"({"product":"certifai","action":"a","crud":"x"})", "/crud"},
      {R"({"product":"certifai","action":"a"})", "/crud"},
      {R"({"product":"certifai","action":"a","crud":"r","fields":{"blob":")" + big + "\"}}",
       "/fields"},
      {R"({"product":"certifai","action":"a","crud":"r","fields":{"n":1}})", "/fields/n"},
      {R"({"product":"certifai","action":"a","crud":"r","source_ip":"300.1.2.3"})", "/source_ip"},
      {R"({"product":"certifai","action":"a","crud":"r","source_ip":"::1::2"})", "/source_ip"},
      {R"({"product":"certifai","action":"a","crud":"r","created":"yesterday"})", "/created"},
      {R"({"product":"certifai","action":"a","crud":"r","created":"2026-13-45T00:00:00Z"})",
       "/created"},
      {R"({"product":"certifai","action":"a","crud":"r","created":"2999-01-01T00:00:00Z"})",
       "/created"},
      {R"({"product":"certifai","action":"a","crud":"r","actor":{"name":"no id"}})", "/actor/id"},
      {R"({"product":"certifai","action":"a","crud":"r","group":{"id":"not-a-uuid"}})",
       "/group/id"},
      {R"({"product":"certifai","action":"a","crud":"r","group":{"id":"0195a000-0000-7000-8000-00000000dead"}})",
       "/group/id"},
      {R"({"product":"certifai","action":"a","crud":"r","colour":"red"})", "/colour"},
      {R"({"product":"nope","action":"a","crud":"r"})", "/product"},
      {R"({"action":"a","crud":"r"})", "/product"},
  };
  for (const auto& c : cases) {
    auto r = product.Post("/audit", c.body);
    EXPECT_EQ(r.status, 422) << c.field << ": " << r.body.substr(0, 300);
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << c.field;
    EXPECT_TRUE(Fields(r).count(c.field)) << c.field << ": " << r.body.substr(0, 300);
  }
  // Several problems of one event are reported together.
  auto many = product.Post("/audit", R"({"product":"certifai","crud":"q","source_ip":"x"})");
  EXPECT_EQ(Fields(many), (std::set<std::string>{"/action", "/crud", "/source_ip"}));

  // A batch with one bad event is refused whole: nothing of it is stored.
  const auto before = Search("tenant_id=" + acme).size();
  auto batch =
      product.Post("/audit/bulk", R"({"product":"certifai","events":[)"
                                  R"({"action":"ok.one","crud":"r")" +
                                      group + R"(},{"action":"bad","crud":"z")" + group +
                                      R"(},{"action":"ok.two","crud":"r")" + group + "}]}");
  EXPECT_EQ(batch.status, 422);
  EXPECT_EQ(Fields(batch), (std::set<std::string>{"/events/1/crud"}));
  EXPECT_EQ(Search("tenant_id=" + acme).size(), before);
  auto good =
      product.Post("/audit/bulk", R"({"product":"certifai","events":[)"
                                  R"({"action":"ok.one","crud":"r")" +
                                      group + R"(},{"action":"ok.two","crud":"r")" + group + "}]}");
  ASSERT_EQ(good.status, 201) << good.body;
  EXPECT_EQ(Search("tenant_id=" + acme).size(), before + 2);
  auto single = product.Post(
      "/audit", R"({"product":"certifai","action":"ok.three","crud":"c")" + group + "}");
  ASSERT_EQ(single.status, 201) << single.body;
  // Staff may read but not publish; nobody publishes without credentials.
  EXPECT_EQ(client().Post("/audit", R"({"product":"certifai","action":"a","crud":"r"})").status,
            403);
  EXPECT_EQ(client().Request("POST", "/audit", R"({"action":"a"})", {{"Authorization", ""}}).status,
            401);
}

// Finding 8 of issue 21: a tenant's own key with audit:write could post events as
// "staff:bootstrap" with a backdated `created`. Every published event now carries the credential
// that wrote it (`publisher`, which no event can set); a tenant's credential may not name a
// platform or staff actor; a `created` far from the receive time is kept, and flagged.
TEST_P(AuditTest, ATenantKeyCannotPassItsEventsOffAsStaffOrHideWhoWroteThem) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto key = AuditKey(acme);
  const std::string key_id = [&] {
    auto keys = Json(client().Get("/api-keys?tenant_id=" + acme)).at("items").as_array();
    return Str(keys.at(0).as_object(), "id");
  }();
  const auto staff_id = CreateUser(client(), "root", {"BREAKPILOT_ADMIN"});
  const auto member_id = CreateUser(client(), "ada", {}, acme, {"IT_ADMIN"});
  const auto event = [](const std::string& actor, const std::string& extra = "") {
    return R"({"product":"certifai","action":"invoice.paid","crud":"u","actor":{"id":")" + actor +
           R"("})" + extra + "}";
  };
  for (const std::string& forged : {std::string("staff:bootstrap"), std::string("system:lifecycle"),
                                    std::string("platform"), "apikey:" + key_id, staff_id}) {
    auto r = PublishAs(key, "/audit", event(forged));
    EXPECT_EQ(r.status, 422) << forged << ": " << r.body;
    EXPECT_EQ(Fields(r), (std::set<std::string>{"/actor/id"})) << forged;
  }
  // Nobody sets the publisher: it is not a member of an event.
  EXPECT_EQ(Fields(PublishAs(key, "/audit", event(member_id, R"(,"publisher":"platform")"))),
            (std::set<std::string>{"/publisher"}));
  // Its own member, backdated: kept, written down as the key's, and flagged.
  auto backdated =
      PublishAs(key, "/audit", event(member_id, R"(,"created":"2020-01-01T00:00:00Z")"));
  ASSERT_EQ(backdated.status, 201) << backdated.body;
  auto on_time = PublishAs(key, "/audit", event("customer-7"));
  ASSERT_EQ(on_time.status, 201) << on_time.body;
  std::map<std::string, json::object> by_actor;
  for (const auto& e : Search("tenant_id=" + acme + "&action=invoice.paid")) {
    by_actor[Str(e.as_object().at("actor").as_object(), "id")] = e.as_object();
  }
  ASSERT_EQ(by_actor.size(), 2u);
  EXPECT_EQ(Str(by_actor[member_id], "publisher"), "apikey:" + key_id);
  EXPECT_TRUE(by_actor[member_id].at("created_skewed").as_bool());
  EXPECT_EQ(Str(by_actor["customer-7"], "publisher"), "apikey:" + key_id);
  EXPECT_FALSE(by_actor["customer-7"].at("created_skewed").as_bool());
  // A product's service credential may name staff (support acting in the product); it is
  // written down as that credential's.
  const auto product_token = ServiceToken(client(), "certifai");
  HttpClient product("127.0.0.1", server_->port(), product_token);
  auto by_product = product.Post(
      "/audit", R"({"product":"certifai","action":"support.login","crud":"c","actor":{"id":")" +
                    staff_id + R"("},"group":{"id":")" + acme + R"("}})");
  ASSERT_EQ(by_product.status, 201) << by_product.body;
  auto support = Search("tenant_id=" + acme + "&action=support.login");
  ASSERT_EQ(support.size(), 1u);
  EXPECT_EQ(Str(support[0].as_object(), "publisher"), "client:certifai");
  // The platform's own events say so.
  auto own = Search("tenant_id=" + acme + "&action=tenant.create");
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(Str(own[0].as_object(), "publisher"), "platform");
  // The chain still verifies: the publisher is part of what it hashes.
  auto verify = client().Get("/audit/verify?tenant_id=" + acme);
  EXPECT_EQ(verify.status, 200);
  EXPECT_NE(verify.body.find("\"ok\":true"), std::string::npos) << verify.body;
}

TEST_P(AuditTest, EachCallerSeesWhatItReaches) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto globex = Str(CreateTenant("globex"), "id");
  CreateUser(client(), "dpo", {}, acme, {"LEGAL"});
  CreateUser(client(), "sam", {"SALES_REP"});
  CreateUser(client(), "eve", {}, acme, {"USER"});
  HttpClient dpo("127.0.0.1", server_->port(), SignIn(client(), "dpo", kPassword));
  HttpClient sam("127.0.0.1", server_->port(), SignIn(client(), "sam", kPassword));
  HttpClient eve("127.0.0.1", server_->port(), SignIn(client(), "eve", kPassword));

  for (const auto& e : Search("", &dpo)) {
    EXPECT_EQ(Str(e.as_object().at("group").as_object(), "id"), acme);
  }
  EXPECT_FALSE(Search("", &dpo).empty());
  EXPECT_EQ(dpo.Get("/audit?tenant_id=" + globex).status, 404) << "another tenant: not found";
  EXPECT_EQ(dpo.Get("/audit/export?tenant_id=" + globex).status, 404);
  EXPECT_EQ(dpo.Get("/audit/verify?tenant_id=" + globex).status, 404);
  EXPECT_EQ(eve.Get("/audit").status, 403) << "USER may not read the trail";

  // The demo tenant's events: tagged, out of staff searches unless asked for, a sales rep's only.
  const auto demo =
      Str(Json(client().Get("/tenants?kind=demo")).at("items").at(0).as_object(), "id");
  const auto has_demo = [&](const json::array& items) {
    for (const auto& e : items) {
      if (e.as_object().at("demo").as_bool()) return true;
    }
    return false;
  };
  EXPECT_FALSE(has_demo(Search("limit=1000")));
  EXPECT_TRUE(has_demo(Search("limit=1000&include_demo=true")));
  auto rep = Search("", &sam);
  ASSERT_FALSE(rep.empty());
  for (const auto& e : rep) EXPECT_EQ(Str(e.as_object().at("group").as_object(), "id"), demo);
  EXPECT_EQ(sam.Get("/audit?tenant_id=" + acme).status, 404);

  // Bad queries are 400s naming the parameter.
  for (const std::string q :
       {"crud=x", "from=yesterday", "is_failure=maybe", "limit=0", "limit=5000", "action=a*b*",
        "tenant_id=nope", "colour=red", "cursor=garbage"}) {
    auto r = client().Get("/audit?" + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
  }
}

TEST_P(AuditTest, ExportsCsvAndPdf) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto key = AuditKey(acme);
  json::array events;
  for (int i = 0; i < 1500; ++i) {
    events.push_back({{"action", "document.view"},
                      {"crud", "r"},
                      {"actor", {{"id", "user:" + std::to_string(i % 7)}}},
                      {"description", "viewed \"doc\", part " + std::to_string(i) + "\nline 2"}});
    if (events.size() == 500) {
      auto r = PublishAs(key, "/publisher/v1/project/certifai/event/bulk",
                         json::serialize(json::object{{"events", events}}));
      ASSERT_EQ(r.status, 201) << r.body;
      events.clear();
    }
  }
  auto formula = PublishAs(key, "/publisher/v1/project/certifai/event",
                           R"j({"action":"x.y","crud":"r","description":"=HYPERLINK(\"evil\")"})j");
  ASSERT_EQ(formula.status, 201);

  auto csv = client().Get("/audit/export?format=csv&tenant_id=" + acme);
  ASSERT_EQ(csv.status, 200);
  EXPECT_TRUE(csv.complete) << "the chunked body ends with its last chunk";
  EXPECT_EQ(csv.Header("Transfer-Encoding"), "chunked") << "streamed";
  EXPECT_EQ(csv.Header("Content-Type").substr(0, 8), "text/csv");
  const auto rows = ParseCsv(csv.body);
  ASSERT_GE(rows.size(), 1503U) << "header, 1,500 views, the formula, tenant.create, key";
  const auto& header = rows[0];
  const auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  std::size_t views = 0;
  bool saw_formula = false;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), header.size()) << "row " << i;
    const auto& d = rows[i][col("description")];
    if (rows[i][col("action")] == "document.view") {
      ++views;
      EXPECT_NE(d.find("viewed \"doc\", part "), std::string::npos) << d;
      EXPECT_NE(d.find("\nline 2"), std::string::npos);
    }
    if (rows[i][col("action")] == "x.y") saw_formula = d == "'=HYPERLINK(\"evil\")";
  }
  EXPECT_EQ(views, 1500U);
  EXPECT_TRUE(saw_formula) << "a formula cell is defused with an apostrophe";
  auto filtered =
      ParseCsv(client().Get("/audit/export?tenant_id=" + acme + "&actor_id=user:3").body);
  EXPECT_EQ(filtered.size(), 1U + 1500 / 7 + (1500 % 7 > 3 ? 1 : 0));

  auto pdf = client().Get("/audit/export?format=pdf&actor_id=user:3&tenant_id=" + acme);
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("Content-Type"), "application/pdf");
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  const std::string path = MakeTempDir("bp-audit") + "/export.pdf";
  std::ofstream(path, std::ios::binary) << pdf.body;
  const auto [code, text] = RunCommand("pdftotext -layout " + path + " - 2>&1");
  ASSERT_EQ(code, 0) << text;
  EXPECT_NE(text.find("Audit trail of Tenant acme (acme)"), std::string::npos)
      << text.substr(0, 400);
  EXPECT_NE(text.find("actor user:3"), std::string::npos) << "the filter summary";
  EXPECT_NE(text.find("Page 1 of "), std::string::npos);
  EXPECT_NE(text.find("document.view (r)"), std::string::npos);
  EXPECT_EQ(client().Get("/audit/export?format=xml").status, 400);
}

// Exports hold memory and threads while they stream, so a server builds only max_exports at
// once (two here), a tenant's exports at most half of them; one more is 429 with Retry-After
// until a place is free, and a download given up frees its place.
TEST_P(AuditTest, ExportsBeyondTheLimitWaitTheirTurn) {
  const std::string long_text(4000, 'x');
  // A tenant with about 10 MB of CSV to export: more than the sockets hold (the stalled client's
  // receive buffer is fixed at 64 KiB; the server's send buffer grows to 4 MiB at most).
  const auto tenant_with_a_big_trail = [&](const std::string& slug) {
    const auto id = Str(CreateTenant(slug), "id");
    const auto key = AuditKey(id);
    json::array events;
    for (int i = 0; i < 2400; ++i) {
      events.push_back({{"action", "document.view"}, {"crud", "r"}, {"description", long_text}});
      if (events.size() == 200) {
        auto r = PublishAs(key, "/publisher/v1/project/certifai/event/bulk",
                           json::serialize(json::object{{"events", events}}));
        EXPECT_EQ(r.status, 201) << r.body;
        events.clear();
      }
    }
    return id;
  };
  // A client that asks for a tenant's whole export and does not read it.
  const auto stall_export = [&](const std::string& tenant) {
    const int fd = ConnectTo("127.0.0.1", server_->port(), 64 * 1024);
    const std::string get = "GET /audit/export?tenant_id=" + tenant +
                            " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            std::string(ServerProcess::kToken) + "\r\n\r\n";
    EXPECT_EQ(::send(fd, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
    return fd;
  };
  // Waits until the server counts `n` exports in progress (it takes a place when it reads the
  // request; asking with another export instead could take the place first).
  const auto wait_for_exports = [&](int n) {
    const std::string line = "\nbreakpilot_audit_exports " + std::to_string(n) + "\n";
    for (int i = 0; i < 200; ++i) {
      if (client().Get("/metrics").body.find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  const auto small_export = [&](const std::string& query) {
    return client().Get("/audit/export?actor_id=nobody" + query);
  };
  const auto acme = tenant_with_a_big_trail("acme");
  const auto globex = tenant_with_a_big_trail("globex");

  const int acme_stalled = stall_export(acme);
  ASSERT_TRUE(wait_for_exports(1));
  const auto acme_refused = small_export("&tenant_id=" + acme);
  ASSERT_EQ(acme_refused.status, 429) << "acme's export holds acme's share (one of two places)";
  EXPECT_EQ(acme_refused.Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(acme_refused.Header("Retry-After"), "5");
  EXPECT_NE(acme_refused.body.find("too-many-exports"), std::string::npos) << acme_refused.body;
  EXPECT_NE(acme_refused.body.find("this tenant's exports"), std::string::npos)
      << acme_refused.body;
  EXPECT_EQ(small_export("&tenant_id=" + globex).status, 200)
      << "another tenant still finds a place";

  const int globex_stalled = stall_export(globex);
  ASSERT_TRUE(wait_for_exports(2));
  const auto full = small_export("");
  ASSERT_EQ(full.status, 429) << "both places are held";
  EXPECT_NE(full.body.find("building 2 export(s) already"), std::string::npos) << full.body;
  EXPECT_EQ(client().Get("/audit?tenant_id=" + acme + "&limit=1").status, 200)
      << "searches are not exports";

  ::close(acme_stalled);  // the download is given up: the server's next write fails
  ASSERT_TRUE(wait_for_exports(1)) << "acme's place is free again";
  EXPECT_EQ(small_export("&tenant_id=" + acme).status, 200);
  ::close(globex_stalled);
  ASSERT_TRUE(wait_for_exports(0)) << "and so is globex's";
  EXPECT_EQ(small_export("").status, 200);
}

constexpr storage::Query kTamper{
    "test_tamper", "UPDATE audit_log SET actor_id = 'nobody' WHERE chain = $1 AND seq = 2"};

TEST_P(AuditTest, VerificationFromTheApiAndTheCli) {
  const auto acme = Str(CreateTenant("acme"), "id");
  const auto key = AuditKey(acme);
  ASSERT_EQ(
      PublishAs(key, "/publisher/v1/project/certifai/event", R"({"action":"a","crud":"r"})").status,
      201);
  auto ok = Json(client().Get("/audit/verify?tenant_id=" + acme));
  EXPECT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
  EXPECT_EQ(ok.at("chains").at(0).at("events_checked").as_int64(), 3);
  EXPECT_TRUE(Json(client().Get("/audit/verify")).at("ok").as_bool());
  const std::string cli = std::string(BREAKPILOT_BINARY) + " audit verify --database '" +
                          db_->url() + "' --tenant acme";
  EXPECT_EQ(RunCommand(cli + " > /dev/null 2>&1").first, 0);

  auto handle = db_->Open();
  handle->Write([&](storage::Session& s) { s.Execute(kTamper, {acme}); });
  auto bad = Json(client().Get("/audit/verify?tenant_id=" + acme));
  EXPECT_FALSE(bad.at("ok").as_bool());
  EXPECT_EQ(Str(bad.at("chains").at(0).at("problems").at(0).as_object(), "kind"), "altered");
  const auto [code, out] = RunCommand(cli + " 2>/dev/null");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("altered"), std::string::npos) << out;
}

TEST_P(AuditTest, RetentionAndEraseAtOffboarding) {
  const auto acme = CreateTenant("acme");
  const auto id = Str(acme, "id");
  auto set = client().Request("PUT", "/tenants/" + id + "/audit-retention", R"({"days":90})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(client().Request("PUT", "/tenants/" + id + "/audit-retention", R"({"days":3})").status,
            422);
  EXPECT_EQ(Search("tenant_id=" + id + "&action=tenant.audit_retention_set").size(), 1U);

  auto early = client().Post("/tenants/" + id + "/audit/erase", R"({"confirm":"acme"})");
  EXPECT_EQ(early.status, 409) << "a live tenant's trail is not erased";
  ASSERT_EQ(client()
                .Post("/tenants/" + id + "/cancel", R"({"reason":"moving on","confirm":"acme"})")
                .status,
            200);
  EXPECT_EQ(client().Post("/tenants/" + id + "/audit/erase", R"({"confirm":"wrong"})").status, 422);
  auto erased = client().Post("/tenants/" + id + "/audit/erase", R"({"confirm":"acme"})");
  ASSERT_EQ(erased.status, 200) << erased.body;
  const auto summary = Json(erased);
  EXPECT_EQ(summary.at("events_erased").as_int64(), 3) << "create, retention, cancel";
  // The summary is signed by a key the JWKS publishes.
  const std::string jws(summary.at("signature").as_string());
  std::string header;
  ASSERT_TRUE(Base64UrlDecode(jws.substr(0, jws.find('.')), header));
  const auto kid = Str(json::parse(header).as_object(), "kid");
  EXPECT_NE(client().Get("/.well-known/jwks.json").body.find(kid), std::string::npos);
  auto left = Search("tenant_id=" + id);
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(Str(left[0].as_object(), "action"), "audit.erased");
  EXPECT_TRUE(Json(client().Get("/audit/verify?tenant_id=" + id)).at("ok").as_bool());
}

// Every state-changing operation of the OpenAPI document, called for real: each must leave the
// audit event named here. An operation missing from the table fails the test, so a new route
// cannot slip in unaudited.
TEST_P(AuditTest, EveryStateChangingOperationWritesAnAuditEvent) {
  const auto t = CreateTenant("walk");
  const auto tid = Str(t, "id");
  const auto service = ServiceToken(client(), "certifai");
  HttpClient product("127.0.0.1", server_->port(), service);
  const auto key = AuditKey(tid);
  std::string project_id, api_key_id, member_id, webhook_id;
  const std::string g = R"("group":{"id":")" + tid + "\"}";
  struct Step {
    std::string action;  // the audit event it must write
    std::function<HttpResponse()> call;
  };
  // In the order they run (a project before its update, cancel before erase).
  const std::vector<std::pair<std::string, Step>> table = {
      {"POST /tenants",
       {"tenant.create",
        [&] { return client().Post("/tenants", R"({"slug":"walk2","name":"Walk 2"})"); }}},
      {"PATCH /tenants/{id}",
       {"tenant.update",
        [&] {
          return client().Request("PATCH", "/tenants/" + tid, R"({"name":"Walked"})",
                                  {{"Content-Type", "application/merge-patch+json"}});
        }}},
      {"POST /tenants/{id}/projects",
       {"project.create",
        [&] {
          auto r = client().Post("/tenants/" + tid + "/projects", R"({"name":"p1"})");
          if (r.status == 201) project_id = Str(Json(r), "id");
          return r;
        }}},
      {"PATCH /tenants/{id}/projects/{project_id}",
       {"project.update",
        [&] {
          return client().Request("PATCH", "/tenants/" + tid + "/projects/" + project_id,
                                  R"({"description":"d"})",
                                  {{"Content-Type", "application/merge-patch+json"}});
        }}},
      {"DELETE /tenants/{id}/projects/{project_id}",
       {"project.delete",
        [&] { return client().Request("DELETE", "/tenants/" + tid + "/projects/" + project_id); }}},
      {"POST /tenants/{id}/products",
       {"subscription.create",
        [&] {
          return client().Post("/tenants/" + tid + "/products", R"({"product_id":"certifai"})");
        }}},
      {"DELETE /tenants/{id}/products/{product_id}",
       {"subscription.delete",
        [&] { return client().Request("DELETE", "/tenants/" + tid + "/products/certifai"); }}},
      {"POST /tenants/{id}/webhooks",
       {"webhook.create",
        [&] {
          auto r = client().Post("/tenants/" + tid + "/webhooks",
                                 R"({"url":"http://127.0.0.1:9/hook"})");
          if (r.status == 201) webhook_id = Str(Json(r), "id");
          return r;
        }}},
      {"PATCH /tenants/{id}/webhooks/{webhook_id}",
       {"webhook.update",
        [&] {
          return client().Request("PATCH", "/tenants/" + tid + "/webhooks/" + webhook_id,
                                  R"({"event_types":["api_key.created"]})");
        }}},
      {"POST /tenants/{id}/webhooks/{webhook_id}/rotate",
       {"webhook.rotate",
        [&] {
          return client().Post("/tenants/" + tid + "/webhooks/" + webhook_id + "/rotate", "{}");
        }}},
      {"POST /tenants/{id}/webhooks/{webhook_id}/test",
       {"webhook.test",
        [&] {
          return client().Post("/tenants/" + tid + "/webhooks/" + webhook_id + "/test", "");
        }}},
      {"DELETE /tenants/{id}/webhooks/{webhook_id}",
       {"webhook.delete",
        [&] { return client().Request("DELETE", "/tenants/" + tid + "/webhooks/" + webhook_id); }}},
      {"POST /tenants/{id}/leads",
       {"lead.create",
        [&] {
          return client().Post("/tenants/" + tid + "/leads", R"({"product_id":"certifai"})");
        }}},
      {"POST /leads",
       {"lead.create",
        [&] {
          return client().Post("/leads",
                               R"({"company":"Initech","name":"Bill",)"
                               R"("email":"bill@initech.example","product_id":"certifai"})");
        }}},
      {"POST /flags",
       {"flag.create",
        [&] {
          return client().Post("/flags", R"({"key":"walk","type":"boolean","default":false})");
        }}},
      {"PATCH /flags/{key}",
       {"flag.update",
        [&] {
          return client().Request("PATCH", "/flags/walk", R"({"default":true})",
                                  {{"Content-Type", "application/merge-patch+json"}});
        }}},
      {"POST /ofrep/v1/evaluate/flags/{key}",
       {"flag.result",
        [&] {
          return client().Post("/ofrep/v1/evaluate/flags/walk",
                               R"({"context":{"targetingKey":")" + tid + R"("}})");
        }}},
      {"DELETE /flags/{key}",
       {"flag.delete", [&] { return client().Request("DELETE", "/flags/walk"); }}},
      {"POST /tenants/{id}/domains",
       {"domain.add",
        [&] {
          return client().Post("/tenants/" + tid + "/domains", R"({"domain":"walk.test"})");
        }}},
      {"DELETE /tenants/{id}/domains/{domain}",
       {"domain.remove",
        [&] { return client().Request("DELETE", "/tenants/" + tid + "/domains/walk.test"); }}},
      {"PUT /tenants/{id}/isolation",
       {"tenant.isolation_requested",
        [&] {
          return client().Request("PUT", "/tenants/" + tid + "/isolation",
                                  R"({"isolation":"schema"})");
        }}},
      {"POST /users",
       {"user.create",
        [&] {
          return client().Post(
              "/users",
              R"({"username":"walker","password":"correct horse battery staple","realm_roles":["SUPPORT_ENGINEER"]})");
        }}},
      {"POST /tenants/{id}/members",
       {"user.membership_add",
        [&] {
          auto u = client().Post("/users", R"({"username":"member","realm_roles":[]})");
          if (u.status == 201) member_id = Str(Json(u), "id");
          return client().Post("/tenants/" + tid + "/members",
                               R"({"username":"member","org_roles":["IT_ADMIN"]})");
        }}},
      {"PUT /tenants/{id}/members/{user_id}",
       {"user.membership_change",
        [&] {
          return client().Request("PUT", "/tenants/" + tid + "/members/" + member_id,
                                  R"({"org_roles":["IT_ADMIN","LEGAL"]})");
        }}},
      {"DELETE /tenants/{id}/members/{user_id}",
       {"user.membership_remove",
        [&] {
          // A second IT_ADMIN first: the only one cannot be removed.
          client().Post("/users", R"({"username":"member2","realm_roles":[]})");
          client().Post("/tenants/" + tid + "/members",
                        R"({"username":"member2","org_roles":["IT_ADMIN"]})");
          return client().Request("DELETE", "/tenants/" + tid + "/members/" + member_id);
        }}},
      {"POST /service-clients",
       {"service_client.create",
        [&] { return client().Post("/service-clients", R"({"client_id":"walker"})"); }}},
      {"POST /api-keys",
       {"api_key.create",
        [&] {
          auto r = client().Post("/api-keys", R"({"tenant_id":")" + tid +
                                                  R"(","name":"k","scopes":["certifai:read"]})");
          if (r.status == 201) api_key_id = Str(Json(r), "id");
          return r;
        }}},
      {"POST /api-keys/{key_id}/rotate",
       {"api_key.rotate",
        [&] { return client().Post("/api-keys/" + api_key_id + "/rotate", "{}"); }}},
      {"DELETE /api-keys/{key_id}",
       {"api_key.revoke", [&] { return client().Request("DELETE", "/api-keys/" + api_key_id); }}},
      {"POST /audit",
       {"walk.single",
        [&] {
          return product.Post(
              "/audit", R"({"product":"certifai","action":"walk.single","crud":"c",)" + g + "}");
        }}},
      {"POST /audit/bulk",
       {"walk.bulk",
        [&] {
          return product.Post(
              "/audit/bulk",
              R"({"product":"certifai","events":[{"action":"walk.bulk","crud":"c",)" + g + "}]}");
        }}},
      {"POST /publisher/v1/project/{project_id}/event",
       {"walk.retraced",
        [&] {
          return PublishAs(key, "/publisher/v1/project/certifai/event",
                           R"({"action":"walk.retraced","crud":"c"})");
        }}},
      {"POST /publisher/v1/project/{project_id}/event/bulk",
       {"walk.retraced_bulk",
        [&] {
          return PublishAs(key, "/publisher/v1/project/certifai/event/bulk",
                           R"({"events":[{"action":"walk.retraced_bulk","crud":"c"}]})");
        }}},
      {"PUT /tenants/{id}/audit-retention",
       {"tenant.audit_retention_set",
        [&] {
          return client().Request("PUT", "/tenants/" + tid + "/audit-retention", R"({"days":365})");
        }}},
      {"POST /tenants/{id}/activate",
       {"tenant.activate", [&] { return client().Post("/tenants/" + tid + "/activate", "{}"); }}},
      {"POST /tenants/{id}/cancel",
       {"tenant.cancel",
        [&] {
          return client().Post("/tenants/" + tid + "/cancel",
                               R"({"reason":"walk done","confirm":"walk"})");
        }}},
      {"POST /tenants/{id}/audit/erase",
       {"audit.erased",
        [&] {
          return client().Post("/tenants/" + tid + "/audit/erase", R"({"confirm":"walk"})");
        }}},
      {"POST /tenants/{id}/reactivate",
       {"tenant.reactivate", [&] { return client().Post("/tenants/" + tid + "/reactivate", ""); }}},
      {"POST /catalog/trial-request",
       {"trial.requested",
        [&] {
          return client().Post("/catalog/trial-request",
                               R"({"email":"walk@example.com","company_name":"Walk",)"
                               R"("slug":"walk-trial"})");
        }}},
      {"POST /inbound/postmaster",
       {"mail.suppressed",
        [&] {
          return client().Post("/inbound/postmaster",
                               R"({"type":"bounce","recipient":"gone@example.com"})");
        }}},
      {"POST /demo/reset",
       {"demo.reset_requested", [&] { return client().Post("/demo/reset", ""); }}},
  };
  // Operations that change no state, or whose audit event another test asserts, with why.
  const std::map<std::string, std::string> elsewhere = {
      {"POST /oauth/token",
       "issues a token, changes nothing; throttling writes user.sign_in_throttled (IdentityTest)"},
      {"POST /internal/claims", "a read for the Keycloak mapper"},
      {"POST /internal/api-keys/verify", "a read; last use is batched, not audited"},
      {"POST /portal/logout", "needs the OpenID provider: OidcTest asserts portal.sign_out"},
      {"POST /catalog/trial-request/confirm",
       "needs the mailed token: LifecycleTest asserts the tenant.create it writes"},
      {"POST /mail/unsubscribe",
       "needs a mailed token: LifecycleTest asserts mail.suppressed (one-click unsubscribe)"},
      {"POST /internal/clock", "needs --enable-test-clock: LifecycleTest asserts clock.advance"},
      {"POST /jobs/{id}/retry", "needs a failed job: LifecycleTest asserts job.retry"},
      {"POST /webhooks/deliveries/{delivery_id}/replay",
       "needs a dead delivery: WebhooksTest asserts webhook.replay"},
      {"POST /mcp/{product}",
       "forwards to a product's MCP endpoint: McpTest asserts mcp.tool_call for each tool call"},
      {"DELETE /mcp/{product}", "forwards the end of a session, which products keep none of"},
      {"POST /polar/webhook",
       "needs a message signed by standardwebhooks: BillingTest asserts billing.polar.* with "
       "Polar's ids and tenant.activate"},
      {"POST /tenants/{id}/billing/checkout",
       "needs Polar (the contract fake): BillingTest asserts billing.checkout.create"},
      {"POST /tenants/{id}/billing/portal-session",
       "asks Polar for a customer portal link; changes nothing here"},
      {"POST /erpnext/webhook",
       "needs a Frappe-signed Sales Order: BackofficeTest asserts the tenant.activate and "
       "tenant.cancel it causes"},
      {"POST /tenants/{id}/tickets",
       "needs Frappe Helpdesk (the contract fake): SupportTest asserts support.ticket.create"},
      {"POST /tickets/{ticket_id}/escalate",
       "needs Helpdesk and Gitea (contract fakes): SupportTest asserts support.ticket.escalate"},
      {"POST /gitea/webhook",
       "needs an escalated ticket and Gitea's signature: SupportTest asserts "
       "support.ticket.resolve"},
      {"POST /ofrep/v1/evaluate/flags",
       "an evaluation of every flag; a changed result writes flag.result, as the single "
       "evaluation does (walked here) and FlagsTest asserts"},
      {"POST /tenants/{id}/domains/{domain}/check",
       "needs a DNS server serving the record: DomainsTest asserts domain.verify"},
      {"POST /usage",
       "metering, not a change of configuration: tens of thousands of events a second would "
       "bury the trail; the totals are the record (MeterTest, EchoBotTest)"},
  };
  const YAML::Node doc = YAML::LoadFile(BREAKPILOT_SOURCE_DIR "/api/openapi.yaml");
  std::size_t walked = 0;
  for (const auto& path : doc["paths"]) {
    for (const char* method : {"post", "put", "patch", "delete"}) {
      if (!path.second[method]) continue;
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string op = upper + " " + path.first.as<std::string>();
      if (elsewhere.count(op)) continue;
      const bool listed =
          std::any_of(table.begin(), table.end(), [&](const auto& row) { return row.first == op; });
      EXPECT_TRUE(listed) << op << " changes state but the audit walk does not call it";
      ++walked;
    }
  }
  EXPECT_EQ(walked, table.size());
  for (const auto& row : table) {
    const std::string& op = row.first;
    const Step& step = row.second;
    const auto count = [&] {
      return Search("action=" + step.action + "&include_demo=true&limit=1000").size();
    };
    const auto before = count();
    auto r = step.call();
    EXPECT_GE(r.status, 200) << op << ": " << r.body;
    EXPECT_LT(r.status, 300) << op << ": " << r.body;
    EXPECT_GT(count(), before) << op << " wrote no " << step.action << " event";
  }
}

BREAKPILOT_ON_BOTH_STORES(AuditTest);

}  // namespace
}  // namespace breakpilot::testing
