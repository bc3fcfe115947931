// JSON-lines logging: one object per line on stderr, with a level, a component and fields.
// Never log a secret: tokens and keys are logged, if at all, as a short hash prefix.
//
//   Logger log("storage");
//   log.Info("migrated", {{"from", 0}, {"to", 3}});
#pragma once

#include <boost/json/object.hpp>

#include <exception>
#include <string>
#include <string_view>

namespace breakpilot {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
bool ParseLogLevel(std::string_view text, LogLevel& out);

// An exception's message for a log line or a stored error, in words only: Boost's system_error
// appends where it was thrown (" [asio.netdb:1 at /usr/include/boost/asio/...:84 in function
// ...]"), and no log line or answer may carry source paths or library internals.
std::string ErrorText(const std::exception& e);

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  void Debug(std::string_view msg, const boost::json::object& fields = {}) const {
    Write(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, const boost::json::object& fields = {}) const {
    Write(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, const boost::json::object& fields = {}) const {
    Write(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, const boost::json::object& fields = {}) const {
    Write(LogLevel::kError, msg, fields);
  }
  void Write(LogLevel level, std::string_view msg, const boost::json::object& fields) const;
  static bool Enabled(LogLevel level);

 private:
  std::string component_;
};

}  // namespace breakpilot
