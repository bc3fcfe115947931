#include "fake_keycloak.hpp"

#include <boost/url.hpp>

namespace breakpilot::testing {
namespace {

outbound::Response Json(int status, const boost::json::value& v) {
  outbound::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = boost::json::serialize(v);
  return r;
}

outbound::Response Empty(int status) {
  outbound::Response r;
  r.status = status;
  return r;
}

std::map<std::string, std::string> FormOf(const std::string& body) {
  std::map<std::string, std::string> out;
  auto parsed = boost::urls::parse_query(body);
  if (!parsed) return out;
  for (auto p : *parsed) out[std::string(p.key.decode())] = std::string(p.value.decode());
  return out;
}

}  // namespace

outbound::Fetcher FakeKeycloak::Fetcher() {
  return [this](const outbound::Request& req) { return Handle(req); };
}

void FakeKeycloak::FailNext(const std::string& call, int times, int status) {
  std::lock_guard lock(mu_);
  failures_[call] = {times, status};
}

std::vector<FakeKeycloak::Org> FakeKeycloak::Orgs() const {
  std::lock_guard lock(mu_);
  std::vector<Org> out;
  for (const auto& [id, o] : orgs_) out.push_back(o);
  return out;
}

int FakeKeycloak::Calls(const std::string& call) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call);
  return it == calls_.end() ? 0 : it->second;
}

std::optional<outbound::Response> FakeKeycloak::Injected(const std::string& call) {
  ++calls_[call];
  auto it = failures_.find(call);
  if (it == failures_.end() || it->second.first == 0) return std::nullopt;
  --it->second.first;
  return Json(it->second.second, boost::json::object{{"error", "injected failure"}});
}

Result<outbound::Response> FakeKeycloak::Handle(const outbound::Request& req) {
  std::lock_guard lock(mu_);
  auto url = boost::urls::parse_uri(req.url);
  if (!url) return InvalidInput("invalid-url", "Invalid URL", req.url);
  const std::string path(url->path());
  const std::string realm_prefix = std::string("/admin/realms/") + kRealm + "/organizations";
  const auto header = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : req.headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return v;
      }
    }
    return "";
  };
  const auto fail_or = [&](const std::string& call) -> std::optional<Result<outbound::Response>> {
    auto injected = Injected(call);
    if (!injected) return std::nullopt;
    if (injected->status == 0) {
      return Result<outbound::Response>(Error{ErrorKind::kUnavailable, "upstream-unavailable",
                                              "Upstream unavailable", "connection refused"});
    }
    return Result<outbound::Response>(*injected);
  };

  // POST /realms/{realm}/protocol/openid-connect/token (client credentials)
  if (path == std::string("/realms/") + kRealm + "/protocol/openid-connect/token") {
    if (auto f = fail_or("token")) return *f;
    auto form = FormOf(req.body);
    if (req.method != "POST" || form["grant_type"] != "client_credentials") {
      return Json(400, boost::json::object{{"error", "unsupported_grant_type"}});
    }
    if (form["client_id"] != kClientId || form["client_secret"] != kClientSecret) {
      return Json(401, boost::json::object{
                           {"error", "unauthorized_client"},
                           {"error_description", "Invalid client or Invalid client credentials"}});
    }
    tokens_.push_back("kc-token-" + std::to_string(tokens_.size() + 1));
    return Json(200, boost::json::object{{"access_token", tokens_.back()},
                                         {"expires_in", 300},
                                         {"refresh_expires_in", 0},
                                         {"token_type", "Bearer"},
                                         {"not-before-policy", 0},
                                         {"scope", "profile email"}});
  }
  if (path.rfind(realm_prefix, 0) != 0)
    return Json(404, boost::json::object{{"error", "Not Found"}});
  const std::string auth = header("authorization");
  if (auth.rfind("Bearer ", 0) != 0 ||
      std::find(tokens_.begin(), tokens_.end(), auth.substr(7)) == tokens_.end()) {
    return Json(401, boost::json::object{{"error", "HTTP 401 Unauthorized"}});
  }
  const std::string rest = path.substr(realm_prefix.size());  // "", "/{id}", "/{id}/members/..."
  if (rest.empty() && req.method == "GET") {
    if (auto f = fail_or("search")) return *f;
    // ?q=key:value (attribute query), exact=true
    std::string q;
    for (auto p : url->params()) {
      if (p.key == "q") q = p.value;
    }
    const auto colon = q.find(':');
    boost::json::array found;
    for (const auto& [id, o] : orgs_) {
      if (colon == std::string::npos) {
        found.push_back(o.rep);
        continue;
      }
      const auto* attrs = o.rep.at("attributes").as_object().if_contains(q.substr(0, colon));
      if (!attrs) continue;
      for (const auto& v : attrs->as_array()) {
        if (v.as_string() == q.substr(colon + 1)) found.push_back(o.rep);
      }
    }
    return Json(200, found);
  }
  if (rest.empty() && req.method == "POST") {
    const bool lose = Injected("create_lost").has_value();
    if (auto f = fail_or("create")) return *f;
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body, ec);
    if (ec || !body.is_object())
      return Json(400, boost::json::object{{"errorMessage", "invalid json"}});
    auto& o = body.as_object();
    const auto* name = o.if_contains("name");
    if (!name || !name->is_string() || name->as_string().empty()) {
      return Json(400, boost::json::object{{"errorMessage", "Name cannot be empty"}});
    }
    const std::string alias(o.contains("alias") ? std::string(o.at("alias").as_string())
                                                : std::string(name->as_string()));
    for (const auto& [id, existing] : orgs_) {
      if (existing.rep.at("alias").as_string() == alias) {
        return Json(409,
                    boost::json::object{
                        {"errorMessage", "A organization with the same alias already exists"}});
      }
      if (existing.rep.at("name") == *name) {
        return Json(409, boost::json::object{
                             {"errorMessage", "A organization with the same name already exists"}});
      }
    }
    const std::string id = "00000000-0000-4000-8000-" +
                           std::string(12 - std::to_string(next_id_).size(), '0') +
                           std::to_string(next_id_);
    ++next_id_;
    Org org{id,
            {{"id", id},
             {"name", *name},
             {"alias", alias},
             {"enabled", o.contains("enabled") ? o.at("enabled") : boost::json::value(true)},
             {"description", ""},
             {"redirectUrl", ""},
             {"attributes", o.contains("attributes") ? o.at("attributes") : boost::json::object{}},
             {"domains", boost::json::array{}}},
            {}};
    orgs_[id] = org;
    if (lose) return Json(503, boost::json::object{{"error", "the answer was lost"}});
    auto r = Empty(201);
    r.headers.Set("Location", std::string(kBase) + realm_prefix + "/" + id);
    return r;
  }
  const auto slash = rest.find('/', 1);
  const std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  auto it = orgs_.find(id);
  if (it == orgs_.end()) return Json(404, boost::json::object{{"error", "Organization not found"}});
  const std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
  if (sub.empty() && req.method == "GET") {
    if (auto f = fail_or("get")) return *f;
    return Json(200, it->second.rep);
  }
  if (sub.empty() && req.method == "PUT") {
    if (auto f = fail_or("update")) return *f;
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body, ec);
    if (ec || !body.is_object())
      return Json(400, boost::json::object{{"errorMessage", "invalid json"}});
    if (body.as_object().if_contains("id") &&
        body.as_object().at("id") != it->second.rep.at("id")) {
      return Json(400, boost::json::object{{"errorMessage", "Id mismatch"}});
    }
    for (const auto& [k, v] : body.as_object()) it->second.rep[k] = v;
    return Empty(204);
  }
  if (sub == "/members/invite-user" && req.method == "POST") {
    if (auto f = fail_or("invite")) return *f;
    if (header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0) {
      return Json(415, boost::json::object{{"error", "HTTP 415 Unsupported Media Type"}});
    }
    auto form = FormOf(req.body);
    if (form["email"].find('@') == std::string::npos) {
      return Json(400, boost::json::object{{"errorMessage", "Invalid email"}});
    }
    it->second.invited.push_back(form["email"]);
    return Empty(204);
  }
  return Json(405, boost::json::object{{"error", "HTTP 405 Method Not Allowed"}});
}

}  // namespace breakpilot::testing
