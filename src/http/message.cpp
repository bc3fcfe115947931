#include "http/message.hpp"

#include <algorithm>

namespace breakpilot::http {

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
