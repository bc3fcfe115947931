// Audit events from a product to the platform's trail, in Retraced's shape, without ever
// blocking a request: Emit() queues; a background thread sends batches of up to 100 to
// POST /publisher/v1/project/{product}/event/bulk and retries with backoff while the platform is
// away. The queue is bounded; when it is full the oldest event is dropped and counted.
//
//   sdk::AuditEmitter audit({.platform_url = url, .product_id = "echo-bot", .token = ...});
//   audit.Emit({.action = "echo.sent", .crud = 'c', .tenant_id = t, .actor_id = user});
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "breakpilot/http.hpp"

namespace breakpilot::sdk {

struct AuditEvent {
  std::string action;     // "echo.sent"
  char crud = 'c';        // c, r, u or d
  std::string tenant_id;  // the group
  std::string actor_id;
  std::string actor_name;
  std::string target_id;
  std::string target_type;
  std::string description;
  std::string source_ip;
  bool is_failure = false;
  std::map<std::string, std::string> fields;
};

// Bearer token for the platform (the SDK's service token).
using TokenFn = std::function<Outcome<std::string>()>;

struct AuditOptions {
  std::string platform_url;
  std::string product_id;
  TokenFn token;
  std::size_t max_queue = 10'000;
  std::size_t batch = 100;
  std::chrono::milliseconds flush_interval{200};
  std::chrono::milliseconds max_backoff{30'000};
};

class AuditEmitter {
 public:
  explicit AuditEmitter(AuditOptions options);
  ~AuditEmitter();  // sends what is queued, for at most two seconds
  AuditEmitter(const AuditEmitter&) = delete;
  AuditEmitter& operator=(const AuditEmitter&) = delete;

  void Emit(const AuditEvent& event);
  // Blocks until the queue is empty or `timeout` passed; true when empty.
  bool Flush(std::chrono::milliseconds timeout);

  std::uint64_t sent() const;
  std::uint64_t dropped() const;
  std::uint64_t failed_attempts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breakpilot::sdk
