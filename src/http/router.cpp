#include "http/router.hpp"

#include <algorithm>

namespace breakpilot::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  if (!path.empty() && path.front() == '/') i = 1;
  while (i <= path.size()) {
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string_view::npos ? path.size() : j;
    out.push_back(path.substr(i, end - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

bool MatchSegments(const Route& r, const std::vector<std::string_view>& parts,
                   std::vector<std::pair<std::string, std::string>>* params) {
  if (r.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (parts[i].empty()) return false;
      if (params) params->emplace_back(seg.substr(1, seg.size() - 2), std::string(parts[i]));
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return true;
}

bool MethodServes(const Route& r, std::string_view method) {
  return r.method == method || (method == "HEAD" && r.method == "GET");
}

}  // namespace

void Router::Add(Route route) {
  for (auto s : Split(route.pattern)) route.segments.emplace_back(s);
  // For a pattern that starts with '/', equal paths are equal segment lists.
  if (!route.pattern.empty() && route.pattern.front() == '/' &&
      route.pattern.find('{') == std::string::npos) {
    literal_[route.pattern].push_back(routes_.size());
  }
  routes_.push_back(std::move(route));
}

Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  // A literal route has no parameter, so the first one serving the method is what the walk
  // below would choose.
  if (const auto it = literal_.find(path); it != literal_.end()) {
    for (const std::size_t i : it->second) {
      if (MethodServes(routes_[i], method)) {
        m.route = &routes_[i];
        return m;
      }
    }
  }
  const auto parts = Split(path);
  // Literal segments win over parameters: try routes with fewer parameters first.
  const Route* best = nullptr;
  std::size_t best_params = SIZE_MAX;
  for (const auto& r : routes_) {
    if (!MatchSegments(r, parts, nullptr)) continue;
    if (!MethodServes(r, method)) {
      if (std::find(m.allow.begin(), m.allow.end(), r.method) == m.allow.end()) {
        m.allow.push_back(r.method);
      }
      continue;
    }
    const auto n = static_cast<std::size_t>(
        std::count_if(r.segments.begin(), r.segments.end(),
                      [](const std::string& s) { return !s.empty() && s.front() == '{'; }));
    if (n < best_params) {
      best = &r;
      best_params = n;
    }
  }
  if (best) {
    m.route = best;
    m.allow.clear();
    MatchSegments(*best, parts, &m.params);
  } else if (!m.allow.empty()) {
    if (std::find(m.allow.begin(), m.allow.end(), "GET") != m.allow.end())
      m.allow.push_back("HEAD");
    std::sort(m.allow.begin(), m.allow.end());
  }
  return m;
}

}  // namespace breakpilot::http
