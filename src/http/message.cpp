#include "http/message.hpp"

#include <algorithm>

#include "core/ascii.hpp"

namespace breakpilot::http {

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  return AsciiIEquals(a, b);
}

void Headers::Add(std::string_view name, std::string_view value) {
  if (items_.empty()) items_.reserve(8);  // a typical request's or response's fields at once
  items_.emplace_back(std::string(name), std::string(value));
}

void Headers::Set(std::string_view name, std::string_view value) {
  for (auto& [k, v] : items_) {
    if (HeaderNameEquals(k, name)) {
      v = std::string(value);
      return;
    }
  }
  Add(name, value);
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (HeaderNameEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t Headers::Count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(items_.begin(), items_.end(), [&](const auto& kv) {
    return HeaderNameEquals(kv.first, name);
  }));
}

std::optional<std::string_view> Request::Param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::QueryValue(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t Request::QueryCount(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; }));
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::Empty(int status) {
  Response r;
  r.status = status;
  return r;
}

void Response::Finally(std::function<void(Response&)> finish) {
  finish(*this);
  if (!deferred) return;
  deferred = [work = std::move(deferred), finish = std::move(finish)] {
    Response r = work();
    r.Finally(finish);
    return r;
  };
}

Response Response::Defer(WorkPool& pool, std::function<Response()> work, Response busy) {
  busy.status = 503;
  busy.headers.Set("Retry-After", "1");
  busy.deferred_on = &pool;
  busy.deferred = std::move(work);
  return busy;
}

}  // namespace breakpilot::http
