// A contract fake of Gitea's REST API (https://docs.gitea.com/api, the swagger of /api/v1), for
// support's *_contract_test and the end-to-end tests: Gitea cannot run here. On a loopback port
// it answers what support::GiteaClient calls, with Gitea's shapes and errors:
//
//   POST  /api/v1/repos/{owner}/{repo}/issues          201 Issue (number per repository,
//                                                      html_url, state "open"); 422 without a
//                                                      title; 404 for a repository it lacks
//   GET   /api/v1/repos/{owner}/{repo}/issues/{index}  200 Issue; 404
//   PATCH /api/v1/repos/{owner}/{repo}/issues/{index}  {"state":"closed"}: 201 Issue
//   without "Authorization: token <kToken>": 401 {"message": "..."}
//
// Closing an issue (Close) is what a developer does in Gitea's UI: it answers the body of the
// "issues" webhook Gitea would send (action "closed"), unsigned: the test signs it with Node's
// crypto, as Gitea does (hex HMAC-SHA256 of the body), never with our code.
//
// No npm client of Gitea's is official; the fake follows the swagger's shapes.
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace breakpilot::testing {

class LoopbackServer;

class FakeGitea {
 public:
  static constexpr const char* kToken = "gitea-contract-token";
  static constexpr const char* kRepo = "breakpilot/certifai";

  FakeGitea();
  ~FakeGitea();
  FakeGitea(const FakeGitea&) = delete;
  FakeGitea& operator=(const FakeGitea&) = delete;

  std::string BaseUrl() const;
  // The server's flags for this fake, its webhook signed with `webhook_secret`.
  std::vector<std::string> Flags(const std::string& webhook_secret) const;
  std::vector<boost::json::object> Issues(const std::string& repo) const;
  // The issue closed (by "dev"); the body of Gitea's "issues" webhook about it, or "" when
  // there is no such issue.
  std::string Close(const std::string& repo, std::int64_t number);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<LoopbackServer> server_;
};

}  // namespace breakpilot::testing
