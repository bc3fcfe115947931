// The SDK's HTTP values: what a product's handler receives and answers, independent of the
// server that carries them (the SDK's own breakpilot::sdk::Server, or any other).
//
//   sdk::Response r = sdk::Problem(402, "tenant-frozen", "Tenant frozen", "writes are paused");
//   std::string_view auth = request.Header("authorization");   // case-insensitive
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace breakpilot::sdk {

struct Request {
  std::string method;  // "GET"
  std::string target;  // path and query, "/v1/echo?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  // The first header of that name, compared case-insensitively; empty when absent.
  std::string_view Header(std::string_view name) const;
  std::string_view Path() const;   // the target without its query
  std::string_view Query() const;  // after '?', or empty
  // The query parameter `name`, percent-decoded; empty when absent.
  std::string QueryParam(std::string_view name) const;
  bool IsWrite() const;  // anything but GET, HEAD and OPTIONS
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;

// RFC 9457 problem details: `type` is a short slug ("quota-exceeded"), made absolute under
// https://breakpilot.com/problems/.
Response Problem(int status, std::string_view type, std::string_view title,
                 std::string_view detail);
Response Json(int status, std::string body);

// A failure of an SDK call, shaped to become a problem response.
struct Failure {
  int status = 500;
  std::string type;
  std::string title;
  std::string detail;

  Response ToResponse() const { return Problem(status, type, title, detail); }
};

// A value or the Failure that prevented it.
template <class T>
class Outcome {
 public:
  Outcome(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT(google-explicit-constructor)
  Outcome(Failure failure)                                   // NOLINT(google-explicit-constructor)
      : failure_(std::move(failure)) {}

  explicit operator bool() const { return ok_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  const Failure& failure() const { return failure_; }

 private:
  T value_{};
  Failure failure_;
  bool ok_ = false;
};

}  // namespace breakpilot::sdk
