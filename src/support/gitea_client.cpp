#include "support/gitea_client.hpp"

#include <boost/json.hpp>

#include <cctype>

#include "core/json.hpp"

namespace breakpilot::support {
namespace {

namespace json = boost::json;

Error Unavailable(std::string detail) {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "gitea-unavailable",
               .title = "Gitea unavailable",
               .detail = std::move(detail)};
}

bool IsNamePart(std::string_view part) {
  if (part.empty() || part.size() > 100 || part == "." || part == "..") return false;
  for (unsigned char c : part) {
    if (std::isalnum(c) == 0 && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsRepoName(std::string_view repo) {
  const auto slash = repo.find('/');
  return slash != std::string_view::npos && IsNamePart(repo.substr(0, slash)) &&
         IsNamePart(repo.substr(slash + 1));
}

Result<GiteaIssue> GiteaClient::CreateIssue(const std::string& repo, const std::string& title,
                                            const std::string& body) const {
  if (!settings_.on()) return Unavailable("Gitea is not configured on this platform");
  if (!IsRepoName(repo)) return Unavailable("the Gitea repository is not owner/name: " + repo);
  auto r = fetch_({.method = "POST",
                   .url = settings_.url + "/api/v1/repos/" + repo + "/issues",
                   .headers = {{"Authorization", "token " + settings_.token},
                               {"Accept", "application/json"},
                               {"Content-Type", "application/json"}},
                   .body = json::serialize(json::object{{"title", title}, {"body", body}}),
                   .timeout = std::chrono::milliseconds(10'000)});
  if (!r) return Unavailable("Gitea cannot be reached: " + r.error().detail);
  std::string problem;
  auto v = ParseStrictJson(r->body, {.max_depth = 32}, problem);
  if (r->status != 201) {
    std::string message;
    if (v && v->is_object()) message = StringMember(v->as_object(), "message").substr(0, 160);
    return Unavailable("Gitea refused the issue in " + repo + ": " + std::to_string(r->status) +
                       (message.empty() ? "" : " " + message));
  }
  if (!v || !v->is_object()) return Unavailable("Gitea answered with a body that is not JSON");
  const auto& o = v->as_object();
  const auto* number = o.if_contains("number");
  if (number == nullptr || !number->is_int64()) return Unavailable("Gitea's issue has no number");
  return GiteaIssue{.number = number->as_int64(),
                    .html_url = StringMember(o, "html_url"),
                    .state = StringMember(o, "state")};
}

}  // namespace breakpilot::support
