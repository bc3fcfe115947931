// A contract fake of Frappe's REST API as ERPNext and Frappe Helpdesk serve it
// (https://docs.frappe.io/framework/user/en/api/rest), for backoffice's *_contract_test and the
// end-to-end tests: ERPNext cannot run here. On a loopback port it answers what
// backoffice::FrappeClient calls, with Frappe's shapes and errors, and the official client
// (frappe-js-sdk, tests/conformance/frappe_sdk.mjs) makes the same calls against it:
//
//   POST /api/resource/{doctype}         {"data": doc}; a name given is kept (409
//                                        DuplicateEntryError when taken), else one is made;
//                                        417 LinkValidationError for a customer that does not
//                                        exist, 417 MandatoryError for a missing field; an
//                                        HD Ticket is named by autoincrement (a JSON number),
//                                        its status Open and opening_date today
//   GET  /api/resource/{doctype}/{name}  {"data": doc}; 404 DoesNotExistError
//   PUT  /api/resource/{doctype}/{name}  the fields merged, {"data": doc}
//   GET  /api/resource/{doctype}?fields=[...]&filters=[[f,"=",v],...]&limit=N&limit_start=M
//                                        {"data": [{fields}]}, `limit_page_length` too
//   without "Authorization: token <kApiKey>:<kApiSecret>": 401 AuthenticationError
//
// SetDown(true) makes every call a 503, as an ERPNext behind a proxy that lost it.
#pragma once

#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace breakpilot::testing {

class LoopbackServer;

class FakeFrappe {
 public:
  static constexpr const char* kApiKey = "bp-integration";
  static constexpr const char* kApiSecret = "frappe-contract-secret";

  FakeFrappe();
  ~FakeFrappe();
  FakeFrappe(const FakeFrappe&) = delete;
  FakeFrappe& operator=(const FakeFrappe&) = delete;

  std::string BaseUrl() const;
  // The server's flags for this fake as `service` ("erpnext", "helpdesk"): --<service>-url,
  // --<service>-api-key, --<service>-api-secret.
  std::vector<std::string> Flags(const std::string& service) const;
  void SetDown(bool down) { down_ = down; }
  std::vector<boost::json::object> Docs(const std::string& doctype) const;
  // Calls that reached the documents (not refused as down or unauthorised), by method.
  int Calls(const std::string& method) const;
  int Refused() const { return refused_.load(); }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::atomic<bool> down_{false};
  std::atomic<int> refused_{0};
  std::unique_ptr<LoopbackServer> server_;
};

}  // namespace breakpilot::testing
