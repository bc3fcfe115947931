// Several replicas on one PostgreSQL (M15.1 "revocation everywhere"): a key revoked through one
// server is refused by another, whose verify answers come from its own cache; the event that
// invalidates it travels by LISTEN/NOTIFY. The test measures the delay and holds it to the
// seed's 60 s (the figure itself goes to the log and to docs/PERFORMANCE.md via make bench).
#include <chrono>
#include <iostream>
#include <thread>

#include "e2e_fixture.hpp"
#include "identity_support.hpp"

namespace breakpilot::testing {
namespace {

// The seed asks for a revocation to reach every replica within 60 s, which is what is asserted;
// the delay itself (a few milliseconds: LISTEN/NOTIFY) is recorded for `make bench`, not
// asserted, since machines here are noisy.
TEST(Replicas, ARevocationOnOneReplicaIsRefusedByTheOtherWithinTheSeedsMinute) {
  TestDatabase db(Store::kPostgres);
  BREAKPILOT_REQUIRE_STORE(db);
  // Replicas share one public URL, so a token from one verifies on the other.
  const std::vector<std::string> args = {"--public-url", "https://breakpilot.test"};
  ServerProcess a(db.url(), args);
  ServerProcess b(db.url(), args);
  HttpClient staff_a("127.0.0.1", a.port(), ServerProcess::kToken);
  HttpClient staff_b("127.0.0.1", b.port(), ServerProcess::kToken);

  auto t = staff_a.Post("/tenants", R"({"slug":"acme","name":"Acme"})");
  ASSERT_EQ(t.status, 201);
  const std::string tenant(boost::json::parse(t.body).at("id").as_string());
  const auto service = ServiceToken(staff_a, "certifai");
  auto k = staff_a.Post(
      "/api-keys", R"({"tenant_id":")" + tenant + R"(","name":"ci","scopes":["certifai:read"]})");
  ASSERT_EQ(k.status, 201);
  const auto key = boost::json::parse(k.body).as_object();
  const std::string secret(key.at("secret").as_string()), id(key.at("id").as_string());
  const auto verify_on_b = [&] {
    auto r = staff_b.Request("POST", "/internal/api-keys/verify", R"({"key":")" + secret + "\"}",
                             BearerOf(service));
    EXPECT_EQ(r.status, 200) << r.body;
    return boost::json::parse(r.body).as_object();
  };
  ASSERT_TRUE(verify_on_b().at("valid").as_bool()) << "the token of replica A works on B";
  ASSERT_TRUE(verify_on_b().at("valid").as_bool());  // now answered from B's cache

  // A tenant status change on A shows on B.
  ASSERT_EQ(staff_a.Post("/tenants/" + tenant + "/activate", "").status, 200);
  std::string status;
  for (int i = 0; i < 600 && status != "active"; ++i) {
    status = std::string(verify_on_b().at("tenant_status").as_string());
    if (status != "active") std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(status, "active");

  // Revoke on A; poll B until it refuses.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(staff_a.Request("DELETE", "/api-keys/" + id).status, 204);
  const auto revoked_at = std::chrono::steady_clock::now();
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    refused = !verify_on_b().at("valid").as_bool();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto delay_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - revoked_at)
          .count();
  std::cout << "revocation reached the other replica after " << delay_ms << " ms\n";
  RecordProperty("revocation_delay_ms", std::to_string(delay_ms));
  EXPECT_TRUE(refused) << "replica B still accepts a key revoked 60 s ago";
  EXPECT_LT(delay_ms, 60'000.0);
  EXPECT_EQ(std::string(verify_on_b().at("reason").as_string()), "revoked");
}

// Tenant reads are answered from each replica's memory (tenants::TenantService read cache):
// a change through one replica reaches the other's cache through the same events.
TEST(Replicas, ATenantChangedOnOneReplicaReadsFreshOnTheOther) {
  TestDatabase db(Store::kPostgres);
  BREAKPILOT_REQUIRE_STORE(db);
  ServerProcess a(db.url());
  ServerProcess b(db.url());
  HttpClient staff_a("127.0.0.1", a.port(), ServerProcess::kToken);
  HttpClient staff_b("127.0.0.1", b.port(), ServerProcess::kToken);
  auto t = staff_a.Post("/tenants", R"({"slug":"acme","name":"Acme"})");
  ASSERT_EQ(t.status, 201);
  const std::string id(boost::json::parse(t.body).at("id").as_string());
  const auto name_on_b = [&] {
    auto r = staff_b.Get("/tenants/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(boost::json::parse(r.body).at("name").as_string());
  };
  ASSERT_EQ(name_on_b(), "Acme");
  ASSERT_EQ(name_on_b(), "Acme");  // now from B's memory
  auto renamed =
      staff_a.Request("PATCH", "/tenants/" + id, R"({"name":"Acme 2"})",
                      {{"Content-Type", "application/merge-patch+json"}, {"If-Match", "\"1\""}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  std::string name;
  const auto start = std::chrono::steady_clock::now();
  while (name != "Acme 2" && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    name = name_on_b();
    if (name != "Acme 2") std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(name, "Acme 2");
  std::cout
      << "a tenant change reached the other replica's reads after "
      << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()
      << " ms\n";
  // And B's write path sees the new version: an update with the old one is refused.
  auto stale =
      staff_b.Request("PATCH", "/tenants/" + id, R"({"name":"Acme 3"})",
                      {{"Content-Type", "application/merge-patch+json"}, {"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
}

}  // namespace
}  // namespace breakpilot::testing
