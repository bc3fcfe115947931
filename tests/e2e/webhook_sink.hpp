// A webhook receiver on loopback for the end-to-end tests: records every request; a path can be
// told to fail its first N requests, to always fail, or to redirect.
//
//   Sink sink;
//   sink.FailFirst("/flaky", 2);
//   auto got = sink.WaitFor("/flaky", 3);     // the requests to /flaky so far (20 s at most)
#pragma once

#include <breakpilot/sdk.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace breakpilot::testing {

struct Received {
  std::string path;
  std::map<std::string, std::string> headers;  // webhook-*, content-type and traceparent
  std::string body;
  int answered = 0;
};

// A loopback receiver: records every request; a path can be told to fail its first N requests,
// to always fail, or to redirect.
class Sink {
 public:
  explicit Sink(int threads = 2)
      : server_({.threads = threads}, [this](const sdk::Request& r) {
          std::lock_guard lock(mu_);
          Received got{.path = std::string(r.Path()), .body = r.body};
          for (const char* h : {"webhook-id", "webhook-timestamp", "webhook-signature",
                                "content-type", "traceparent"}) {
            got.headers[h] = std::string(r.Header(h));
          }
          int status = 204;
          if (auto it = fail_first_.find(got.path); it != fail_first_.end() && it->second > 0) {
            --it->second;
            status = 503;
          }
          if (always_fail_.contains(got.path)) status = 500;
          sdk::Response res{.status = status, .content_type = "text/plain", .body = ""};
          if (auto it = redirect_.find(got.path); it != redirect_.end()) {
            res.status = 302;
            res.headers.emplace_back("Location", it->second);
          }
          got.answered = res.status;
          received_.push_back(std::move(got));
          return res;
        }) {
    server_.Listen();
    thread_ = std::thread([this] { server_.Run(); });
  }
  ~Sink() {
    server_.Stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void FailFirst(const std::string& path, int n) {
    std::lock_guard lock(mu_);
    fail_first_[path] = n;
  }
  void AlwaysFail(const std::string& path, bool on) {
    std::lock_guard lock(mu_);
    if (on) {
      always_fail_.insert(path);
    } else {
      always_fail_.erase(path);
    }
  }
  void Redirect(const std::string& path, const std::string& to) {
    std::lock_guard lock(mu_);
    redirect_[path] = to;
  }
  std::vector<Received> All() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<Received> At(const std::string& path) {
    std::lock_guard lock(mu_);
    std::vector<Received> out;
    for (const auto& r : received_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }
  // Waits until `path` received at least n requests (or 20 s passed).
  std::vector<Received> WaitFor(const std::string& path, std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (At(path).size() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return At(path);
  }

 private:
  std::mutex mu_;
  std::vector<Received> received_;
  std::map<std::string, int> fail_first_;
  std::set<std::string> always_fail_;
  std::map<std::string, std::string> redirect_;
  sdk::Server server_;
  std::thread thread_;
};

}  // namespace breakpilot::testing
