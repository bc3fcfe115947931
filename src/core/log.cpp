#include "core/log.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/time.hpp"

namespace breakpilot {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_write_mutex;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

void SetLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

bool ParseLogLevel(std::string_view text, LogLevel& out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LevelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

bool Logger::Enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load();
}

void Logger::Write(LogLevel level, std::string_view msg, const boost::json::object& fields) const {
  if (!Enabled(level)) return;
  boost::json::object line;
  line.reserve(fields.size() + 4);
  line["ts"] = FormatRfc3339(SystemClock().Now());
  line["level"] = LevelName(level);
  line["component"] = component_;
  line["msg"] = msg;
  for (const auto& [k, v] : fields) line[k] = v;
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  std::lock_guard lock(g_write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::string ErrorText(const std::exception& e) {
  std::string s = e.what();
  if (const auto at = s.find(" ["); at != std::string::npos && !s.empty() && s.back() == ']' &&
                                    s.find(" at /", at) != std::string::npos) {
    s.erase(at);
  }
  return s;
}

}  // namespace breakpilot
