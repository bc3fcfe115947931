// Shared fixture for end-to-end tests: a fresh database on the store under test, the real binary
// serving it, and a client holding the staff token. Every test runs once per store.
#pragma once

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <utility>

#include "../support/http_client.hpp"
#include "../support/test_env.hpp"

namespace breakpilot::testing {

class E2eTest : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam());
    BREAKPILOT_REQUIRE_STORE(*db_);
    server_ = std::make_unique<ServerProcess>(db_->url(), ExtraArgs());
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port(), ServerProcess::kToken);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    db_.reset();
  }
  virtual std::vector<std::string> ExtraArgs() { return {}; }

  HttpClient& client() { return *client_; }

  static boost::json::object Json(const HttpResponse& r) {
    return boost::json::parse(r.body).as_object();
  }

  // Creates a tenant and returns its JSON; fails the test on anything but 201.
  boost::json::object CreateTenant(const std::string& slug, const std::string& extra = "") {
    auto r = client().Post(
        "/tenants", R"({"slug":")" + slug + R"(","name":"Tenant )" + slug + "\"" + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r) : boost::json::object{};
  }

  static std::string Str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// Moves the platform's clock (a server started with --enable-test-clock) by `seconds`.
inline void AdvanceClock(HttpClient& c, std::int64_t seconds) {
  auto r = c.Post("/internal/clock", R"({"advance_seconds":)" + std::to_string(seconds) + "}");
  ASSERT_EQ(r.status, 200) << r.body;
}

// Waits until no job is due or running, seen three times in a row, for at most `limit`.
inline void WaitForIdleJobs(HttpClient& c, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int quiet = 0;
  while (quiet < 3 && std::chrono::steady_clock::now() < deadline) {
    auto r = c.Get("/jobs?limit=1");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto counts = boost::json::parse(r.body).at("counts").as_object();
    quiet =
        counts.at("due").as_int64() == 0 && counts.at("running").as_int64() == 0 ? quiet + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(quiet, 3) << "jobs still due after " << limit.count() << " s";
}

#define BREAKPILOT_ON_BOTH_STORES(Suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Stores, Suite, ::testing::Values(Store::kSqlite, Store::kPostgres), \
                           [](const auto& p) { return StoreName(p.param); })

}  // namespace breakpilot::testing
