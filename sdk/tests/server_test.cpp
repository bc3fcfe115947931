// The SDK's server stops gracefully: a request in hand is answered (its connection then
// closed), an idle keep-alive connection is closed at once, and nothing new is accepted.
// Plain sockets, so the test sees exactly what a client would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <breakpilot/sdk.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace breakpilot::sdk {
namespace {

int Connect(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void Send(int fd, const std::string& path) {
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
}

// Everything the server sends until it has sent a whole answer with `body`, or closes.
std::string ReadAnswer(int fd, const std::string& body) {
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n" + body) == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// 0 when the server closed the connection (EOF), -1 on a timeout or error, else bytes read.
ssize_t ReadMore(int fd) {
  char buf[256];
  return ::recv(fd, buf, sizeof buf, 0);
}

TEST(ServerStop, TheRequestInHandIsAnsweredTheIdleAreClosedAndNothingNewIsTaken) {
  std::atomic<bool> slow_started{false};
  std::atomic<bool> slow_finished{false};
  Server server({.threads = 2, .drain = std::chrono::seconds(20)}, [&](const Request& r) {
    if (r.target == "/slow") {
      slow_started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      slow_finished = true;
      return Json(200, R"({"slow":true})");
    }
    return Json(200, R"({"fast":true})");
  });
  server.Listen();
  const unsigned short port = server.port();
  std::thread runner([&] { server.Run(); });

  // An idle keep-alive connection: one answer, then it waits for the next request.
  const int idle = Connect(port);
  ASSERT_GE(idle, 0);
  Send(idle, "/fast");
  EXPECT_NE(ReadAnswer(idle, R"({"fast":true})").find("200 OK"), std::string::npos);

  // A request in hand when Stop is called.
  const int busy = Connect(port);
  ASSERT_GE(busy, 0);
  Send(busy, "/slow");
  while (!slow_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server.Stop();
  // Stop returned only once the slow answer was made...
  EXPECT_TRUE(slow_finished.load());
  runner.join();
  // ... and sent whole, as the connection's last.
  const std::string answer = ReadAnswer(busy, R"({"slow":true})");
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"({"slow":true})"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(ReadMore(busy), 0) << "then closed";
  EXPECT_EQ(ReadMore(idle), 0) << "the idle connection was closed";
  EXPECT_LT(Connect(port), 0) << "nothing new is accepted";
  server.Stop();  // a second call returns at once
  ::close(idle);
  ::close(busy);
}

TEST(ServerStop, AStopWithNothingInHandReturnsAtOnceAndTheDestructorAfterItToo) {
  auto server = std::make_unique<Server>(ServerOptions{.threads = 1},
                                         [](const Request&) { return Json(200, "{}"); });
  server->Listen();
  std::thread runner([&] { server->Run(); });
  const int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  Send(fd, "/");
  EXPECT_NE(ReadAnswer(fd, "{}").find("200 OK"), std::string::npos);
  server->Stop();
  runner.join();
  EXPECT_EQ(ReadMore(fd), 0) << std::strerror(errno);
  server.reset();
  ::close(fd);
}

}  // namespace
}  // namespace breakpilot::sdk
