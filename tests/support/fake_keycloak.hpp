// A contract fake of the Keycloak 26 admin REST API, for the adapter's *_contract_test: it
// answers, in process, the calls identity::KeycloakAdmin makes with the shapes Keycloak uses
// (OrganizationRepresentation, 201 + Location on create, 409 on a taken alias or name, 204 on
// invite and update, 401 without a valid bearer), and can fail on demand. Named a fake: the
// real Keycloak cannot run here.
#pragma once

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "outbound/fetch.hpp"

namespace breakpilot::testing {

class FakeKeycloak {
 public:
  static constexpr const char* kBase = "https://kc.test";
  static constexpr const char* kRealm = "breakpilot";
  static constexpr const char* kClientId = "breakpilot-admin";
  static constexpr const char* kClientSecret = "kc-client-secret";

  struct Org {
    std::string id;
    boost::json::object rep;  // as Keycloak returns it
    std::vector<std::string> invited;
  };

  outbound::Fetcher Fetcher();

  // The next `times` calls of `call` ("token", "search", "create", "get", "update", "invite")
  // answer `status` (0: the connection fails). "create_lost": the organization is created but
  // the answer is lost (503), as when a network drops the reply.
  void FailNext(const std::string& call, int times, int status = 503);

  std::vector<Org> Orgs() const;
  int Calls(const std::string& call) const;

 private:
  Result<outbound::Response> Handle(const outbound::Request& req);
  std::optional<outbound::Response> Injected(const std::string& call);

  mutable std::mutex mu_;
  std::map<std::string, Org> orgs_;
  std::map<std::string, std::pair<int, int>> failures_;  // call -> (times, status)
  std::map<std::string, int> calls_;
  std::vector<std::string> tokens_;
  int next_id_ = 1;
};

}  // namespace breakpilot::testing
