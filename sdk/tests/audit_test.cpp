// The SDK's audit emitter against a loopback stand-in of the platform's bulk publisher route:
// batches, retries while the platform fails, never blocks the caller, bounds its queue.
#include <gtest/gtest.h>

#include <breakpilot/sdk.hpp>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <thread>

namespace breakpilot::sdk {
namespace {

class Publisher {
 public:
  Publisher()
      : server_({.threads = 1}, [this](const Request& r) {
          if (r.Path() != "/publisher/v1/project/echo-bot/event/bulk" || r.method != "POST" ||
              r.Header("authorization") != "Bearer t0k") {
            return Problem(404, "nf", "Not found", std::string(r.Path()));
          }
          if (fail_.load() > 0) {
            --fail_;
            return Problem(503, "down", "Down", "");
          }
          const auto body = boost::json::parse(r.body).as_object();
          std::lock_guard lock(mu_);
          batches_.push_back(body.at("events").as_array().size());
          for (const auto& e : body.at("events").as_array()) {
            actions_.emplace_back(e.at("action").as_string());
            EXPECT_EQ(e.at("group").at("id").as_string(), "tenant-a");
            EXPECT_EQ(e.at("crud").as_string(), "c");
          }
          return Json(201, "[]");
        }) {
    server_.Listen();
    thread_ = std::thread([this] { server_.Run(); });
  }
  ~Publisher() {
    server_.Stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::vector<std::string> actions() {
    std::lock_guard lock(mu_);
    return actions_;
  }
  std::vector<std::size_t> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::atomic<int> fail_{0};

 private:
  std::mutex mu_;
  std::vector<std::string> actions_;
  std::vector<std::size_t> batches_;
  Server server_;
  std::thread thread_;
};

AuditOptions Options(const Publisher& p) {
  return {.platform_url = p.url(),
          .product_id = "echo-bot",
          .token = []() -> Outcome<std::string> { return std::string("t0k"); },
          .batch = 10,
          .flush_interval = std::chrono::milliseconds(20),
          .max_backoff = std::chrono::milliseconds(50)};
}

TEST(AuditEmitterTest, EventsArriveInBatchesInOrderAcrossFailures) {
  Publisher platform;
  platform.fail_ = 3;  // the platform is down for the first three attempts
  AuditEmitter audit(Options(platform));
  for (int i = 0; i < 25; ++i) {
    audit.Emit({.action = "echo." + std::to_string(i), .crud = 'c', .tenant_id = "tenant-a"});
  }
  ASSERT_TRUE(audit.Flush(std::chrono::seconds(10)));
  const auto actions = platform.actions();
  ASSERT_EQ(actions.size(), 25U);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(actions[i], "echo." + std::to_string(i));
  for (auto n : platform.batches()) EXPECT_LE(n, 10U);
  EXPECT_EQ(audit.sent(), 25U);
  EXPECT_EQ(audit.dropped(), 0U);
  EXPECT_GE(audit.failed_attempts(), 3U);
}

TEST(AuditEmitterTest, AFullQueueDropsTheOldestAndEmitNeverWaits) {
  Publisher platform;
  platform.fail_ = 1'000'000;  // down for good
  auto options = Options(platform);
  options.max_queue = 100;
  AuditEmitter audit(options);
  // With the platform down for good, an Emit that waited for it would never return.
  for (int i = 0; i < 1000; ++i) audit.Emit({.action = "x", .tenant_id = "tenant-a"});
  EXPECT_FALSE(audit.Flush(std::chrono::milliseconds(200)));
  EXPECT_GE(audit.dropped(), 900U);
  EXPECT_EQ(audit.sent(), 0U);
}

}  // namespace
}  // namespace breakpilot::sdk
