// echo-bot's own database in the physical-isolation tests (M18.2), on the store under test: a
// SQLite file, or a database of its own on the test PostgreSQL; read directly by the tests to see
// where a tenant's rows are. And the platform call that isolates a tenant and waits for it.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "../support/http_client.hpp"
#include "../support/test_env.hpp"
#include "storage/database.hpp"

namespace breakpilot::testing {

class BotDatabase {
 public:
  explicit BotDatabase(Store store) {
    if (store == Store::kPostgres) {
      pg_ = std::make_unique<TestDatabase>(Store::kPostgres);
      location_ = pg_->url();
      url_ = location_;
    } else {
      location_ = MakeTempDir("echo-bot-db") + "/echo-bot.db";
      url_ = "sqlite:" + location_;
    }
  }
  // What echo-bot's --database takes.
  const std::string& location() const { return location_; }
  bool postgres() const { return pg_ != nullptr; }

  // Runs statements on echo-bot's database (its shared place): rows seeded for a test.
  void Execute(const std::string& sql) const {
    auto db = storage::OpenDatabase(url_, {.pool_size = 1});
    db->Write([&](storage::Session& s) { s.ExecuteScript(sql); });
  }
  // A count from echo-bot's database (its shared place); `sql` has no parameters.
  std::int64_t Count(std::string_view sql) const { return CountAt(url_, sql); }
  // The same in the tenant's own SQLite file (SQLite only).
  std::int64_t CountInTenantFile(const std::string& tenant, std::string_view sql) const {
    return CountAt("sqlite:" + location_ + ".tenants/" + tenant + ".db", sql);
  }
  // Runs `sql` as the tenant's role (PostgreSQL only); the error's text, or "" when it ran.
  std::string AsTenantRole(const std::string& tenant, const std::string& sql) const {
    auto db = storage::OpenDatabase(url_, {.pool_size = 1});
    std::string error;
    try {
      db->Write([&](storage::Session& s) {
        const std::string name =
            s.FetchOne({"bot_db_name", "SELECT current_database()"}, {})->Text(0);
        s.ExecuteScript("SET LOCAL ROLE \"" + tenant + "@" + name + "\"; " + sql);
      });
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "failed";
    }
    return error;
  }

 private:
  static std::int64_t CountAt(const std::string& url, std::string_view sql) {
    auto db = storage::OpenDatabase(url, {.pool_size = 1});
    std::int64_t n = -1;
    db->Read([&](storage::Session& s) { n = s.FetchOne({"bot_db_count", sql}, {})->Int(0); });
    return n;
  }

  std::unique_ptr<TestDatabase> pg_;
  std::string location_;
  std::string url_;
};

// PUT /tenants/{id}/isolation, then GET it until its state is no longer "moving" (at most
// `limit`); returns the last answer.
inline boost::json::object IsolateTenant(HttpClient& staff, const std::string& tenant_id,
                                         const std::string& isolation = "schema",
                                         std::chrono::seconds limit = std::chrono::seconds(90)) {
  auto put = staff.Request("PUT", "/tenants/" + tenant_id + "/isolation",
                           R"({"isolation":")" + isolation + "\"}");
  EXPECT_TRUE(put.status == 202 || put.status == 200) << put.body;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::json::object last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = staff.Get("/tenants/" + tenant_id + "/isolation");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    last = boost::json::parse(r.body).as_object();
    if (last.at("state").as_string() != "moving") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return last;
}

}  // namespace breakpilot::testing
