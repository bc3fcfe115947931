#include "fake_gitea.hpp"

#include <map>
#include <mutex>

#include "core/time.hpp"
#include "loopback_server.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

http::Response Answer(int status, const json::value& v) {
  return http::Response::Json(status, json::serialize(v));
}

http::Response GiteaError(int status, const std::string& message) {
  return Answer(status,
                json::object{{"message", message}, {"url", "http://127.0.0.1/api/swagger"}});
}

json::object RepositoryOf(const std::string& full_name, const std::string& base) {
  const auto slash = full_name.find('/');
  return {{"id", 7},
          {"name", full_name.substr(slash + 1)},
          {"full_name", full_name},
          {"owner", json::object{{"login", full_name.substr(0, slash)}}},
          {"html_url", base + "/" + full_name}};
}

}  // namespace

struct FakeGitea::State {
  mutable std::mutex mu;
  std::string base;
  // Repositories the fake has: their issues by number.
  std::map<std::string, std::map<std::int64_t, json::object>> repos{{kRepo, {}}};
  std::int64_t next_id = 1000;
};

FakeGitea::FakeGitea() : state_(std::make_unique<State>()) {
  server_ = std::make_unique<LoopbackServer>([this](http::Request& req) -> http::Response {
    if (req.headers.Get("authorization").value_or("") != std::string("token ") + kToken) {
      return GiteaError(401, "token is required");
    }
    // /api/v1/repos/{owner}/{repo}/issues[/{index}]
    constexpr std::string_view kPrefix = "/api/v1/repos/";
    if (req.path.rfind(kPrefix, 0) != 0) return GiteaError(404, "not found");
    const auto rest = req.path.substr(kPrefix.size());
    const auto first = rest.find('/');
    const auto second = first == std::string::npos ? first : rest.find('/', first + 1);
    if (second == std::string::npos) return GiteaError(404, "not found");
    const auto repo = rest.substr(0, second);
    auto tail = rest.substr(second);
    std::lock_guard lock(state_->mu);
    const auto it = state_->repos.find(repo);
    if (it == state_->repos.end()) return GiteaError(404, "The target couldn't be found.");
    auto& issues = it->second;
    const auto now = FormatRfc3339(SystemClock().Now());
    if (tail == "/issues" && req.method == "POST") {
      boost::system::error_code ec;
      auto v = json::parse(req.body, ec);
      if (ec || !v.is_object()) return GiteaError(400, "invalid JSON");
      const auto& in = v.as_object();
      const auto* title = in.if_contains("title");
      if (title == nullptr || !title->is_string() || title->as_string().empty()) {
        return GiteaError(422, "[Title]: Required");
      }
      const std::int64_t number = static_cast<std::int64_t>(issues.size()) + 1;
      json::object issue{
          {"id", state_->next_id++},
          {"url", state_->base + "/api/v1/repos/" + repo + "/issues/" + std::to_string(number)},
          {"html_url", state_->base + "/" + repo + "/issues/" + std::to_string(number)},
          {"number", number},
          {"user", json::object{{"login", "breakpilot-bot"}}},
          {"title", title->as_string()},
          {"body", in.contains("body") ? in.at("body") : json::value("")},
          {"labels", json::array{}},
          {"state", "open"},
          {"comments", 0},
          {"created_at", now},
          {"updated_at", now},
          {"closed_at", nullptr},
          {"repository", json::object{{"id", 7},
                                      {"name", repo.substr(repo.find('/') + 1)},
                                      {"owner", repo.substr(0, repo.find('/'))},
                                      {"full_name", repo}}}};
      issues[number] = issue;
      return Answer(201, issue);
    }
    constexpr std::string_view kIssue = "/issues/";
    if (tail.rfind(kIssue, 0) != 0) return GiteaError(404, "not found");
    std::int64_t number = 0;
    try {
      number = std::stoll(tail.substr(kIssue.size()));
    } catch (const std::exception&) {
      return GiteaError(404, "The target couldn't be found.");
    }
    const auto found = issues.find(number);
    if (found == issues.end()) return GiteaError(404, "The target couldn't be found.");
    if (req.method == "GET") return Answer(200, found->second);
    if (req.method == "PATCH") {
      boost::system::error_code ec;
      auto v = json::parse(req.body, ec);
      if (ec || !v.is_object()) return GiteaError(400, "invalid JSON");
      for (const auto& [k, val] : v.as_object()) {
        if (k == "state" || k == "title" || k == "body") found->second[k] = val;
      }
      found->second["updated_at"] = now;
      return Answer(201, found->second);
    }
    return GiteaError(405, "method not allowed");
  });
  state_->base = BaseUrl();
}

FakeGitea::~FakeGitea() = default;

std::string FakeGitea::BaseUrl() const {
  return server_->BaseUrl();
}

std::vector<std::string> FakeGitea::Flags(const std::string& webhook_secret) const {
  return {"--gitea-url",  BaseUrl(), "--gitea-token",          kToken,
          "--gitea-repo", kRepo,     "--gitea-webhook-secret", webhook_secret};
}

std::vector<json::object> FakeGitea::Issues(const std::string& repo) const {
  std::lock_guard lock(state_->mu);
  std::vector<json::object> out;
  const auto it = state_->repos.find(repo);
  if (it == state_->repos.end()) return out;
  for (const auto& [number, issue] : it->second) out.push_back(issue);
  return out;
}

std::string FakeGitea::Close(const std::string& repo, std::int64_t number) {
  std::lock_guard lock(state_->mu);
  const auto it = state_->repos.find(repo);
  if (it == state_->repos.end() || !it->second.contains(number)) return "";
  auto& issue = it->second.at(number);
  const auto now = FormatRfc3339(SystemClock().Now());
  issue["state"] = "closed";
  issue["closed_at"] = now;
  issue["updated_at"] = now;
  return json::serialize(json::object{{"action", "closed"},
                                      {"number", number},
                                      {"issue", issue},
                                      {"repository", RepositoryOf(repo, state_->base)},
                                      {"sender", json::object{{"login", "dev"}}}});
}

}  // namespace breakpilot::testing
