#include "storage/database.hpp"

#include "core/ascii.hpp"

#include <charconv>

#include "storage/postgres_database.hpp"
#include "storage/sqlite_database.hpp"

namespace breakpilot::storage {

const std::string& Row::Text(std::size_t i) const {
  const auto& c = cols_.at(i);
  if (!c) throw DatabaseError("column " + std::to_string(i) + " is NULL");
  return *c;
}

Timestamp StoredTime(std::string_view text, std::size_t column) {
  auto t = ParseTimestamp(text);
  if (!t) throw DatabaseError("column " + std::to_string(column) + " is not a timestamp");
  return *t;
}

Timestamp Row::Time(std::size_t i) const {
  return StoredTime(Text(i), i);
}

std::optional<Timestamp> Row::OptionalTime(std::size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Time(i);
}

std::int64_t Row::Int(std::size_t i) const {
  const std::string& t = Text(i);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    throw DatabaseError("column " + std::to_string(i) + " is not an integer: " + t);
  }
  return v;
}

std::uint64_t Database::AddListener(Listener fn) {
  std::lock_guard lock(listeners_mu_);
  listeners_.emplace_back(next_listener_, std::move(fn));
  return next_listener_++;
}

void Database::Unsubscribe(std::uint64_t handle) {
  std::lock_guard lock(listeners_mu_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == handle; });
}

void Database::Deliver(std::string_view payload) {
  // Under the lock, so that once Unsubscribe returns its callback never runs again.
  std::lock_guard lock(listeners_mu_);
  for (const auto& [handle, fn] : listeners_) fn(payload);
}

std::unique_ptr<Database> OpenDatabase(const std::string& url, const DatabaseOptions& options) {
  if (url.rfind("sqlite:", 0) == 0) {
    return std::make_unique<SqliteDatabase>(url.substr(7), options);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return std::make_unique<PostgresDatabase>(url, options);
  }
  throw DatabaseError("unsupported database URL (want sqlite:PATH or postgresql://...): " +
                      RedactUrl(url));
}

std::string RedactUrl(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto at = url.find('@', scheme + 3);
  const auto slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) {
    return std::string(url);
  }
  return std::string(url.substr(0, scheme + 3)) + "***@" + std::string(url.substr(at + 1));
}

std::string LikeContains(std::string_view text, bool lower) {
  std::string out = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += lower ? AsciiLower(c) : c;
  }
  return out + "%";
}

}  // namespace breakpilot::storage
