// Routes by method and path template ("/tenants/{id}/projects/{project_id}"). Unknown paths
// are 404; a known path with another method is 405 with the methods that exist in `Allow`.
//
//   Router r;
//   r.Add("GET", "/tenants/{id}", {.name = "tenant_get", ...}, handler);
//   auto m = r.Match("GET", "/tenants/0192...");   // m.route, m.params, or m.allow
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/message.hpp"

namespace breakpilot::http {

using Handler = std::function<Response(Request&)>;

struct Route {
  std::string method{};
  std::string pattern{};  // "/tenants/{id}"
  std::string name{};     // metric label and log field: "tenant_get"
  Handler handler{};
  // The handler may be tried on an I/O thread first, in a MemoryOnly scope (core/memory_only.hpp).
  bool memory_first = false;
  std::vector<std::string> segments{};  // split pattern
};

struct Match {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> allow;  // set when the path exists under other methods (405)
};

class Router {
 public:
  void Add(Route route);
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  // Routes without parameters by their exact path, in the order added: a path that names one
  // with the request's method is answered without walking every route.
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<std::size_t>, PathHash, std::equal_to<>> literal_;
};

}  // namespace breakpilot::http
