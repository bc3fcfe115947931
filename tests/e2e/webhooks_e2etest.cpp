// Outgoing webhooks end to end (issue 24, M15.2), on both stores: the real binary delivers to a
// sink on loopback (--allow-private-webhook-targets); the deliveries verify with the
// `standardwebhooks` and `svix` packages' own verifiers, across a secret rotation; a sink that
// fails twice gets one successful delivery on the schedule (test clock); a dead endpoint's
// deliveries land in the dead letter and replay from it; internal addresses are refused at
// creation, redirects are not followed, and the connect-time guard sends nothing to a refused
// address. No test sends traffic to a non-loopback address.
#include <gtest/gtest.h>

#include <breakpilot/sdk.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "e2e_fixture.hpp"
#include "http/client.hpp"
#include "identity_support.hpp"
#include "webhook_sink.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

class WebhooksTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override {
    return {"--allow-private-webhook-targets", "--enable-test-clock", "--password-memory-kib",
            "2048"};
  }
  std::string Endpoint(const std::string& tenant, const std::string& url,
                       const std::string& types = "", std::string* secret = nullptr) {
    auto r =
        client().Post("/tenants/" + tenant + "/webhooks", R"({"url":")" + url + "\"" + types + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    if (secret) *secret = Str(Json(r), "secret");
    return Str(Json(r), "id");
  }
  std::string NewKey(const std::string& tenant) {
    auto r = client().Post(
        "/api-keys", R"({"tenant_id":")" + tenant + R"(","name":"ci","scopes":["audit:write"]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(Json(r), "id");
  }
  json::object Delivery(const std::string& tenant, const std::string& endpoint) {
    auto items =
        Json(client().Get("/webhooks/deliveries?tenant_id=" + tenant + "&endpoint_id=" + endpoint))
            .at("items")
            .as_array();
    return items.empty() ? json::object{} : items.front().as_object();
  }
  // Runs the Standard Webhooks and Svix verifiers over the deliveries with each secret.
  void VerifyWithReferenceLibraries(const std::vector<Received>& deliveries,
                                    const std::vector<std::string>& secrets) {
    json::array ds;
    for (const auto& d : deliveries) {
      json::object h;
      for (const auto& [k, v] : d.headers) h[k] = v;
      ds.push_back({{"headers", h}, {"body", d.body}});
    }
    json::array ss;
    for (const auto& s : secrets) ss.emplace_back(s);
    const std::string file = MakeTempDir("webhooks") + "/deliveries.json";
    std::ofstream(file) << json::serialize(json::object{{"secrets", ss}, {"deliveries", ds}});
    const auto [code, out] = RunNode("conformance/webhook_verify.mjs", file);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("PASS"), std::string::npos) << out;
  }

  Sink sink_;
};

TEST_P(WebhooksTest, DeliveriesVerifyWithTheReferenceLibrariesAcrossARotation) {
  const std::string a = Str(CreateTenant("hooks-a"), "id");
  const std::string b = Str(CreateTenant("hooks-b"), "id");
  std::string secret;
  const std::string ep = Endpoint(a, sink_.Url("/a"), "", &secret);
  ASSERT_EQ(secret.rfind("whsec_", 0), 0U) << secret;
  // Only api_key.* for B's endpoint.
  Endpoint(b, sink_.Url("/b"), R"(,"event_types":["api_key.revoked"])");

  const std::string key = NewKey(a);
  ASSERT_EQ(client().Request("DELETE", "/api-keys/" + key).status, 204);
  NewKey(b);  // B's endpoint does not want api_key.created
  auto got = sink_.WaitFor("/a", 2);
  ASSERT_EQ(got.size(), 2U);
  std::set<std::string> types;
  for (const auto& d : got) {
    const auto payload = json::parse(d.body).as_object();
    types.insert(std::string(payload.at("type").as_string()));
    EXPECT_EQ(payload.at("data").at("tenant_id").as_string(), a) << "each payload names the tenant";
    EXPECT_EQ(d.headers.at("content-type"), "application/json");
    EXPECT_EQ(d.headers.at("webhook-signature").rfind("v1,", 0), 0U);
  }
  EXPECT_EQ(types, (std::set<std::string>{"api_key.created", "api_key.revoked"}));
  VerifyWithReferenceLibraries(got, {secret});
  EXPECT_TRUE(sink_.At("/b").empty()) << "B's endpoint asked for api_key.revoked only";

  // The secret is shown once: never in a list or a get.
  const std::string listed = client().Get("/tenants/" + a + "/webhooks").body;
  EXPECT_EQ(listed.find(secret), std::string::npos);
  EXPECT_EQ(listed.find("whsec_"), std::string::npos);

  // Rotation with a grace: the next delivery carries both signatures; each secret verifies it.
  auto rotated =
      client().Post("/tenants/" + a + "/webhooks/" + ep + "/rotate", R"({"grace_seconds":3600})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string fresh = Str(Json(rotated), "secret");
  ASSERT_NE(fresh, secret);
  auto test = client().Post("/tenants/" + a + "/webhooks/" + ep + "/test", "");
  ASSERT_EQ(test.status, 202) << test.body;
  got = sink_.WaitFor("/a", 3);
  ASSERT_EQ(got.size(), 3U);
  EXPECT_NE(got[2].headers.at("webhook-signature").find(' '), std::string::npos)
      << "two signatures during the grace: " << got[2].headers.at("webhook-signature");
  VerifyWithReferenceLibraries({got[2]}, {secret, fresh});
  // No grace: only the new secret signs.
  ASSERT_EQ(client()
                .Post("/tenants/" + a + "/webhooks/" + ep + "/rotate", R"({"grace_seconds":0})")
                .status,
            200);
  const std::string newest = Str(Json(client().Post("/tenants/" + a + "/webhooks/" + ep + "/rotate",
                                                    R"({"grace_seconds":0})")),
                                 "secret");
  ASSERT_EQ(client().Post("/tenants/" + a + "/webhooks/" + ep + "/test", "").status, 202);
  got = sink_.WaitFor("/a", 4);
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[3].headers.at("webhook-signature").find(' '), std::string::npos);
  VerifyWithReferenceLibraries({got[3]}, {newest});

  // Isolation: B's people never see or touch A's endpoints or deliveries.
  CreateUser(client(), "hooks-b-admin", {}, b, {"IT_ADMIN"});
  HttpClient bob("127.0.0.1", server_->port(), SignIn(client(), "hooks-b-admin", kPassword));
  EXPECT_EQ(bob.Get("/tenants/" + a + "/webhooks").status, 404);
  EXPECT_EQ(bob.Get("/tenants/" + a + "/webhooks/" + ep).status, 404);
  EXPECT_EQ(
      bob.Request("PATCH", "/tenants/" + a + "/webhooks/" + ep, R"({"status":"disabled"})").status,
      404);
  EXPECT_EQ(bob.Request("DELETE", "/tenants/" + a + "/webhooks/" + ep).status, 404);
  EXPECT_EQ(bob.Post("/tenants/" + a + "/webhooks/" + ep + "/rotate", "{}").status, 404);
  EXPECT_EQ(bob.Get("/webhooks/deliveries?tenant_id=" + a).status, 404);
  EXPECT_EQ(bob.Get("/tenants/" + b + "/webhooks/" + ep).status, 404) << "A's id under B's path";
  const auto own = Json(bob.Get("/webhooks/deliveries"));
  for (const auto& d : own.at("items").as_array()) EXPECT_EQ(d.at("tenant_id").as_string(), b);
}

TEST_P(WebhooksTest, FailingTwiceThenSucceedingIsOneDeliveryOnTheSchedule) {
  const std::string a = Str(CreateTenant("sched-a"), "id");
  const std::string ep = Endpoint(a, sink_.Url("/flaky"));
  sink_.FailFirst("/flaky", 2);
  NewKey(a);
  auto got = sink_.WaitFor("/flaky", 1);
  ASSERT_EQ(got.size(), 1U);
  // The first attempt failed: the next is due 5 s later (platform time), not before.
  json::object d;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    d = Delivery(a, ep);
    if (!d.empty() && d.at("attempts").as_int64() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(d.at("attempts").as_int64(), 1) << json::serialize(d);
  EXPECT_EQ(d.at("state").as_string(), "pending");
  EXPECT_EQ(d.at("last_status").as_int64(), 503);
  const auto first_at = ParseTimestamp(std::string(d.at("updated_at").as_string()));
  const auto next_at = ParseTimestamp(std::string(d.at("next_attempt_at").as_string()));
  ASSERT_TRUE(first_at && next_at);
  EXPECT_EQ((next_at->micros - first_at->micros) / kMicrosPerSecond, 5);
  AdvanceClock(client(), 5);
  got = sink_.WaitFor("/flaky", 2);
  ASSERT_EQ(got.size(), 2U);
  // Then 5 minutes.
  const auto until2 = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until2 &&
         Delivery(a, ep).at("attempts").as_int64() < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  d = Delivery(a, ep);
  const auto second_at = ParseTimestamp(std::string(d.at("updated_at").as_string()));
  const auto third_due = ParseTimestamp(std::string(d.at("next_attempt_at").as_string()));
  EXPECT_EQ((third_due->micros - second_at->micros) / kMicrosPerSecond, 300);
  AdvanceClock(client(), 300);
  got = sink_.WaitFor("/flaky", 3);
  ASSERT_EQ(got.size(), 3U);
  // One event, three attempts, one success: the same webhook-id each time, timestamps 5 s and
  // 300 s (and a little) apart.
  EXPECT_EQ(got[0].headers.at("webhook-id"), got[1].headers.at("webhook-id"));
  EXPECT_EQ(got[1].headers.at("webhook-id"), got[2].headers.at("webhook-id"));
  EXPECT_EQ(got[0].body, got[2].body);
  const auto ts = [&](int i) { return std::stoll(got[i].headers.at("webhook-timestamp")); };
  EXPECT_GE(ts(1) - ts(0), 5);
  EXPECT_LT(ts(1) - ts(0), 5 + 60);
  EXPECT_GE(ts(2) - ts(1), 300);
  EXPECT_LT(ts(2) - ts(1), 300 + 60);
  int successes = 0;
  for (const auto& r : got) successes += r.answered >= 200 && r.answered < 300 ? 1 : 0;
  EXPECT_EQ(successes, 1);
  const auto until3 = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until3 && Delivery(a, ep).at("state") != "succeeded") {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  d = Delivery(a, ep);
  EXPECT_EQ(d.at("state").as_string(), "succeeded");
  EXPECT_EQ(d.at("attempts").as_int64(), 3);
  // Nothing more arrives.
  AdvanceClock(client(), 86400);
  WaitForIdleJobs(client());
  EXPECT_EQ(sink_.At("/flaky").size(), 3U);
}

TEST_P(WebhooksTest, ADeadEndpointsEventsLandInTheDeadLetterAndReplay) {
  const std::string a = Str(CreateTenant("dead-a"), "id");
  const std::string ep = Endpoint(a, sink_.Url("/dead"));
  sink_.AlwaysFail("/dead", true);
  NewKey(a);
  sink_.WaitFor("/dead", 1);
  // Walk the Svix schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
  std::size_t seen = 1;
  for (std::int64_t step : {5, 300, 1800, 7200, 18000, 36000, 36000}) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until &&
           Delivery(a, ep).at("attempts").as_int64() < static_cast<std::int64_t>(seen)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    AdvanceClock(client(), step);
    ASSERT_EQ(sink_.WaitFor("/dead", ++seen).size(), seen);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until && Delivery(a, ep).at("state") != "dead") {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto dead =
      Json(client().Get("/webhooks/deliveries?state=dead&tenant_id=" + a)).at("items").as_array();
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].at("attempts").as_int64(), 8);
  EXPECT_EQ(dead[0].at("last_status").as_int64(), 500);
  const std::string delivery = std::string(dead[0].at("id").as_string());
  EXPECT_EQ(sink_.At("/dead").size(), 8U) << "nothing after the last attempt";
  sink_.AlwaysFail("/dead", false);  // the receiver is fixed; its owner replays
  EXPECT_EQ(client().Post("/webhooks/deliveries/" + delivery + "/replay", "").status, 202);
  EXPECT_EQ(client().Post("/webhooks/deliveries/" + delivery + "/replay", "").status, 409)
      << "a delivery no longer dead is not replayed again";
  const auto replayed = sink_.WaitFor("/dead", 9);
  ASSERT_EQ(replayed.size(), 9U);
  EXPECT_EQ(replayed.back().answered, 204);
  EXPECT_EQ(replayed.back().headers.at("webhook-id"), replayed.front().headers.at("webhook-id"))
      << "a replay is the same message";
  const auto until2 = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until2 && Delivery(a, ep).at("state") != "succeeded") {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Delivery(a, ep).at("state").as_string(), "succeeded");
  EXPECT_EQ(Json(client().Get("/audit?tenant_id=" + a + "&action=webhook.replay"))
                .at("items")
                .as_array()
                .size(),
            1U);
}

// An endpoint whose deliveries fail for 5 days is disabled, its pending deliveries go to the
// dead letter, the change is audited and the tenant's contact is mailed; enabled again, it
// receives the next event.
TEST_P(WebhooksTest, AnEndpointFailingForFiveDaysIsDisabledAndItsOwnerMailed) {
  const std::string a = Str(CreateTenant("five-a", R"(,"contact_email":"ops@five.example")"), "id");
  const std::string ep = Endpoint(a, sink_.Url("/down"));
  sink_.AlwaysFail("/down", true);
  NewKey(a);
  ASSERT_EQ(sink_.WaitFor("/down", 1).size(), 1U);
  AdvanceClock(client(), 5 * 86400);  // the first delivery's next attempts come due too
  WaitForIdleJobs(client());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  json::object e;
  while (std::chrono::steady_clock::now() < until) {
    e = Json(client().Get("/tenants/" + a + "/webhooks/" + ep));
    if (Str(e, "status") == "disabled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Str(e, "status"), "disabled") << json::serialize(e);
  EXPECT_NE(Str(e, "disabled_reason").find("5 days"), std::string::npos);
  EXPECT_EQ(Json(client().Get("/audit?tenant_id=" + a + "&action=webhook.disabled"))
                .at("items")
                .as_array()
                .size(),
            1U);
  const auto mails = [&] {
    std::int64_t n = -1;
    db_->Open()->Read([&](storage::Session& s) {
      n = s.FetchOne({"test_webhook_mail",
                      "SELECT count(*) FROM mail_outbox WHERE template = 'webhook_disabled'"
                      " AND recipient = 'ops@five.example'"},
                     {})
              ->Int(0);
    });
    return n;
  };
  EXPECT_EQ(mails(), 1);
  const std::size_t before = sink_.At("/down").size();
  NewKey(a);  // a disabled endpoint gets nothing
  WaitForIdleJobs(client());
  EXPECT_EQ(sink_.At("/down").size(), before);
  EXPECT_EQ(Json(client().Get("/webhooks/deliveries?state=pending&tenant_id=" + a))
                .at("items")
                .as_array()
                .size(),
            0U);
  sink_.AlwaysFail("/down", false);
  ASSERT_EQ(client()
                .Request("PATCH", "/tenants/" + a + "/webhooks/" + ep, R"({"status":"enabled"})")
                .status,
            200);
  NewKey(a);
  EXPECT_EQ(sink_.WaitFor("/down", before + 1).back().answered, 204);
}

TEST_P(WebhooksTest, RedirectsAreNotFollowedAndBadInputIsRefused) {
  const std::string a = Str(CreateTenant("redir-a"), "id");
  sink_.Redirect("/moved", sink_.Url("/elsewhere"));
  const std::string ep = Endpoint(a, sink_.Url("/moved"));
  ASSERT_EQ(client().Post("/tenants/" + a + "/webhooks/" + ep + "/test", "").status, 202);
  ASSERT_EQ(sink_.WaitFor("/moved", 1).size(), 1U);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until &&
         Delivery(a, ep).at("attempts").as_int64() < 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Delivery(a, ep).at("last_status").as_int64(), 302) << "a redirect is a failure";
  EXPECT_TRUE(sink_.At("/elsewhere").empty()) << "never followed";

  for (const auto& [body, status] : std::vector<std::pair<std::string, int>>{
           {R"({})", 422},
           {R"({"url":"ftp://127.0.0.1/x"})", 422},
           {R"({"url":"http://169.254.169.254/latest"})", 422},
           {R"({"url":"http://0.0.0.0/x"})", 422},
           {R"({"url":"http://user:pw@127.0.0.1/x"})", 422},
           {R"({"url":")" + sink_.Url("/x") + R"(","event_types":["nope"]})", 422},
           {R"({"url":")" + sink_.Url("/x") + R"(","extra":1})", 422},
           {"[", 400}}) {
    auto r = client().Post("/tenants/" + a + "/webhooks", body);
    EXPECT_EQ(r.status, status) << body << " " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  }
  EXPECT_EQ(Json(client().Get("/tenants/" + a + "/webhooks")).at("items").as_array().size(), 1U)
      << "nothing half-made";
  EXPECT_EQ(client().Get("/webhooks/deliveries?state=lost").status, 400);
  EXPECT_EQ(client().Post("/webhooks/deliveries/not-a-uuid/replay", "").status, 404);
}

BREAKPILOT_ON_BOTH_STORES(WebhooksTest);

// Without --allow-private-webhook-targets (the production rule): every loopback spelling is
// refused at creation; and the connect-time guard (http::Fetch with a policy) refuses an
// internal address before connecting, so a name that resolves to one later sends nothing.
class WebhooksGuardTest : public E2eTest {};

TEST_P(WebhooksGuardTest, InternalAddressesAreRefusedAtCreationAndAtConnect) {
  const std::string a = Str(CreateTenant("guard-a"), "id");
  Sink sink;
  for (const std::string& url :
       {sink.Url("/x"), std::string("http://localhost:1/x"), std::string("http://0x7f000001/x"),
        std::string("http://127.1/x"), std::string("http://[::1]/x"),
        std::string("http://[::ffff:127.0.0.1]/x"), std::string("http://10.0.0.1/x"),
        std::string("http://169.254.169.254/x"), std::string("http://100.64.0.1/x")}) {
    auto r = client().Post("/tenants/" + a + "/webhooks", R"({"url":")" + url + "\"}");
    EXPECT_EQ(r.status, 422) << url << " " << r.body;
    EXPECT_NE(r.body.find("unsafe-url"), std::string::npos) << url;
  }
  auto refused = http::Fetch({.method = "POST",
                              .url = sink.Url("/guarded"),
                              .body = "{}",
                              .guard = outbound::TargetPolicy{.https_only = false}});
  EXPECT_FALSE(refused);
  EXPECT_TRUE(sink.At("/guarded").empty()) << "nothing was sent";
  auto allowed =
      http::Fetch({.method = "POST",
                   .url = sink.Url("/guarded"),
                   .body = "{}",
                   .guard = outbound::TargetPolicy{.https_only = false, .allow_private = true}});
  EXPECT_TRUE(allowed);
  EXPECT_EQ(sink.At("/guarded").size(), 1U);
}

BREAKPILOT_ON_BOTH_STORES(WebhooksGuardTest);

}  // namespace
}  // namespace breakpilot::testing
