// A client of Frappe's REST API (https://docs.frappe.io/framework/user/en/api/rest), which
// ERPNext and Frappe Helpdesk both speak: documents at /api/resource/{doctype}[/{name}], token
// auth ("Authorization: token <api key>:<api secret>"), answers in {"data": ...}, errors with
// Frappe's exc_type. Every call has a timeout; no error carries the credentials.
//
//   FrappeClient erp({.url = "https://erp.example", .api_key = k, .api_secret = s}, fetch);
//   auto made = erp.Ensure("Customer", "BP-<tenant id>", fields);  // created once, by name
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "outbound/fetch.hpp"

namespace breakpilot::backoffice {

struct FrappeSettings {
  std::string url;  // empty: off
  std::string api_key;
  std::string api_secret;
  bool on() const { return !url.empty(); }
};

class FrappeClient {
 public:
  FrappeClient(FrappeSettings settings, outbound::Fetcher fetch)
      : settings_(std::move(settings)), fetch_(std::move(fetch)) {}
  const FrappeSettings& settings() const { return settings_; }

  // The document, or nullopt when Frappe has none by that name (404).
  Result<std::optional<boost::json::object>> Get(const std::string& doctype,
                                                 const std::string& name) const;
  // The document named `name`: read when it exists, else inserted with `fields` and that name
  // (a duplicate while inserting, from a retry whose answer was lost, reads it instead). The
  // name derived from our ids is the idempotency key: nothing is created twice.
  Result<boost::json::object> Ensure(const std::string& doctype, const std::string& name,
                                     boost::json::object fields) const;
  // A new document named by Frappe (an autoincrement or naming series); 409 is kConflict.
  Result<boost::json::object> Insert(const std::string& doctype, boost::json::object fields) const;
  Result<boost::json::object> Update(const std::string& doctype, const std::string& name,
                                     const boost::json::object& fields) const;
  // GET /api/resource/{doctype}?fields=...&filters=...&limit=...: the documents' `fields`.
  Result<std::vector<boost::json::object>> List(const std::string& doctype,
                                                const boost::json::array& filters,
                                                const std::vector<std::string>& fields,
                                                int limit) const;
  // POST to a whitelisted method (/api/method/{method}); its "message".
  Result<boost::json::value> Call(const std::string& method, const boost::json::object& args) const;

 private:
  Result<outbound::Response> Send(const std::string& method, const std::string& path,
                                  const std::string& body) const;
  FrappeSettings settings_;
  outbound::Fetcher fetch_;
};

// "Sales Invoice" -> "Sales%20Invoice": a path segment or a query value, RFC 3986.
std::string UrlEncode(std::string_view text);

}  // namespace breakpilot::backoffice
