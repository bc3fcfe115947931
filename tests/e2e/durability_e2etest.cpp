// Crashes and stops: a SIGKILL in the middle of a burst of creates loses no acknowledged tenant;
// SIGTERM drains in-flight requests and exits 0; a schema newer than the binary is refused; a
// client that sends too slowly (slowloris) or idles is cut off after the read timeout.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "e2e_fixture.hpp"
#include "storage/migrations.hpp"

namespace breakpilot::testing {
namespace {

class DurabilityTest : public E2eTest {};

// 32 writers at once, so that on SQLite their creates are committed in groups (several per
// transaction): none is acknowledged before its group's commit, so none is lost.
TEST_P(DurabilityTest, SigkillDuringCreatesLosesNoAcknowledgedTenant) {
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::vector<std::thread> writers;
  const int port = server_->port();
  for (int w = 0; w < 32; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c("127.0.0.1", port, ServerProcess::kToken);
      for (int i = 0; !stop.load(); ++i) {
        attempts.fetch_add(1);
        HttpResponse r;
        try {
          r = c.Post("/tenants", R"({"slug":"w)" + std::to_string(w) + "-" + std::to_string(i) +
                                     R"(","name":"burst"})");
        } catch (const std::exception&) {
          return;  // the server is gone
        }
        if (r.status == 201) {
          std::lock_guard lock(mutex);
          acknowledged.push_back(Str(Json(r), "id"));
        } else if (r.status == 0) {
          return;
        }
      }
    });
  }
  // Kill once a fair number of creates has been acknowledged (or after two minutes, which
  // the assertion below then reports).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= 300) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->Kill();
  stop.store(true);
  for (auto& t : writers) t.join();
  ASSERT_GE(acknowledged.size(), 300u);

  server_ = std::make_unique<ServerProcess>(db_->url());
  HttpClient after("127.0.0.1", server_->port(), ServerProcess::kToken);
  for (const auto& id : acknowledged) {
    EXPECT_EQ(after.Get("/tenants/" + id).status, 200) << "acknowledged tenant " << id << " lost";
  }
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
}

TEST_P(DurabilityTest, SigtermDrainsAndExitsCleanly) {
  // Hold an idle keep-alive connection open: the drain must not wait for it to time out.
  const int port = server_->port();
  const int idle = ConnectTo("127.0.0.1", port);
  const std::string keep_alive = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(idle, keep_alive.data(), keep_alive.size(), 0),
            static_cast<ssize_t>(keep_alive.size()));
  ASSERT_EQ(ReadResponse(idle).status, 200);
  std::atomic<int> ok{0};
  std::atomic<int> failed_5xx{0};
  std::vector<std::thread> load;
  std::atomic<bool> stop{false};
  for (int w = 0; w < 2; ++w) {
    load.emplace_back([&] {
      HttpClient c("127.0.0.1", port, ServerProcess::kToken);
      while (!stop.load()) {
        try {
          auto r = c.Get("/tenants");
          if (r.status == 200) ok.fetch_add(1);
          if (r.status >= 500) failed_5xx.fetch_add(1);
          if (r.status == 0) return;
        } catch (const std::exception&) {
          return;
        }
      }
    });
  }
  while (ok.load() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const int code = server_->Terminate();
  stop.store(true);
  for (auto& t : load) t.join();
  EXPECT_EQ(code, 0) << "exit status after SIGTERM";
  EXPECT_EQ(failed_5xx.load(), 0);
  const std::string log = server_->Log();
  EXPECT_EQ(log.find("drain timed out"), std::string::npos) << "the drain waited for its bound";
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
  char byte;
  EXPECT_EQ(::recv(idle, &byte, 1, 0), 0) << "the idle keep-alive connection was closed";
  ::close(idle);
}

TEST_P(DurabilityTest, RefusesASchemaNewerThanTheBinary) {
  server_->Terminate();
  auto db = db_->Open();
  static constexpr storage::Query kFuture{
      "test_future_schema",
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')"};
  db->Write([](storage::Session& s) { s.Execute(kFuture, {}); });
  EXPECT_THROW(ServerProcess again(db_->url()), std::runtime_error);
  auto r = storage::Migrate(*db);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "schema-too-new");
}

// An answer larger than what the socket takes at once is written in part directly and the rest
// asynchronously as the client reads: a client with a small receive buffer that starts reading
// late gets every byte, and the connection goes on serving.
TEST_P(DurabilityTest, ALargeAnswerReachesALateReaderWhole) {
  const auto expected = client().Get("/openapi.yaml");
  ASSERT_EQ(expected.status, 200);
  ASSERT_GT(expected.body.size(), std::size_t{64} << 10);
  const int fd = ConnectTo("127.0.0.1", server_->port(), 4096);
  const std::string request = "GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server's buffer fills
    const auto r = ReadResponse(fd);
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_TRUE(r.body == expected.body)
        << i << ": " << r.body.size() << " bytes, expected " << expected.body.size();
  }
  ::close(fd);
}

// Not a store test, but cheap on both: the read timeout closes a connection that sends half a
// request and then nothing, and an idle keep-alive connection; the server keeps serving.
class ReadTimeoutTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--read-timeout-ms", "300"}; }
};

TEST_P(ReadTimeoutTest, SlowAndIdleClientsAreCutOff) {
  const int port = server_->port();
  const int slow = ConnectTo("127.0.0.1", port);
  const std::string half = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  ASSERT_EQ(::send(slow, half.data(), half.size(), 0), static_cast<ssize_t>(half.size()));
  const int idle = ConnectTo("127.0.0.1", port);
  const std::string full = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(idle, full.data(), full.size(), 0), static_cast<ssize_t>(full.size()));
  ASSERT_EQ(ReadResponse(idle).status, 200);
  // Both are closed by the server within a few timeouts (recv returns 0 at end of stream).
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  for (int fd : {slow, idle}) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char byte = 0;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "the server closed the connection";
    ::close(fd);
  }
  EXPECT_EQ(client().Get("/healthz").status, 200) << "and goes on serving";
}

// A drain that runs out of time with a response still being written: the client pipelines
// requests and reads nothing, so the server's write stalls with the request in flight. SIGTERM
// must still end the process cleanly once drain_timeout_ms has passed (the I/O contexts are
// stopped and destroyed with that connection's coroutine still on them).
class DrainTimeoutTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--drain-timeout-ms", "300"}; }
};

TEST_P(DrainTimeoutTest, AStalledWriteDoesNotKeepTheProcessAlive) {
  const int fd = ConnectTo("127.0.0.1", server_->port(), 4096);
  // The OpenAPI document is about 100 KiB: a few dozen answers fill the server's send buffer
  // (at most 4 MiB here), and its write then waits for good.
  std::string burst;
  for (int i = 0; i < 100; ++i) burst += "GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n";
  // Send until the server stops reading: its reads wait on writes that we never drain.
  std::size_t sent = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - last_progress < std::chrono::milliseconds(1500)) {
    const ssize_t n = ::send(fd, burst.data(), burst.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      last_progress = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_LT(sent, std::size_t{512} << 20) << "the server never stopped reading";
  }
  const int code = server_->Terminate();
  EXPECT_EQ(code, 0) << "exit status after SIGTERM";
  const std::string log = server_->Log();
  EXPECT_NE(log.find("drain timed out"), std::string::npos)
      << "the write was still in flight; sent " << sent << " bytes";
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
  ::close(fd);
}

BREAKPILOT_ON_BOTH_STORES(DurabilityTest);
BREAKPILOT_ON_BOTH_STORES(ReadTimeoutTest);
BREAKPILOT_ON_BOTH_STORES(DrainTimeoutTest);

}  // namespace
}  // namespace breakpilot::testing
