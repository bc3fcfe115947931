// A client of Gitea's REST API (https://docs.gitea.com/api): issues opened in a repository for
// an escalated support ticket, with an access token ("Authorization: token <token>"). Every
// call has a timeout; no error carries the token.
//
//   GiteaClient gitea({.url = "https://git.example", .token = t}, fetch);
//   auto issue = gitea.CreateIssue("acme/certifai", "Ticket 42: exports fail", body);
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::support {

struct GiteaSettings {
  std::string url;  // empty: escalation is off
  std::string token;
  bool on() const { return !url.empty(); }
};

struct GiteaIssue {
  std::int64_t number = 0;
  std::string html_url;
  std::string state;  // "open", "closed"
};

class GiteaClient {
 public:
  GiteaClient(GiteaSettings settings, outbound::Fetcher fetch)
      : settings_(std::move(settings)), fetch_(std::move(fetch)) {}
  const GiteaSettings& settings() const { return settings_; }

  // POST /api/v1/repos/{owner}/{repo}/issues. `repo` is "owner/name".
  Result<GiteaIssue> CreateIssue(const std::string& repo, const std::string& title,
                                 const std::string& body) const;

 private:
  GiteaSettings settings_;
  outbound::Fetcher fetch_;
};

// "owner/name" with both parts of Gitea's allowed characters.
bool IsRepoName(std::string_view repo);

}  // namespace breakpilot::support
