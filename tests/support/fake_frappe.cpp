#include "fake_frappe.hpp"

#include <cmath>

#include "core/time.hpp"
#include "loopback_server.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

http::Response Answer(int status, const json::value& v) {
  return http::Response::Json(status, json::serialize(v));
}

http::Response FrappeError(int status, const std::string& exc_type, const std::string& message) {
  return Answer(status,
                json::object{{"exc_type", exc_type},
                             {"exception", "frappe.exceptions." + exc_type + ": " + message},
                             {"_server_messages", json::serialize(json::array{json::serialize(
                                                      json::object{{"message", message}})})}});
}

std::string Decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "12.34" or 12.34 as a number.
double Number(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_number()) return v->to_number<double>();
  if (v->is_string()) return std::stod(std::string(v->as_string()));
  return 0;
}

bool Matches(const json::object& doc, const json::array& filters) {
  for (const auto& f : filters) {
    if (!f.is_array() || f.as_array().size() != 3) return false;
    const auto& a = f.as_array();
    const auto* field = doc.if_contains(a[0].as_string());
    if (a[1].as_string() != "=" || field == nullptr || *field != a[2]) return false;
  }
  return true;
}

}  // namespace

struct FakeFrappe::State {
  mutable std::mutex mu;
  std::map<std::string, std::map<std::string, json::object>> docs;
  std::map<std::string, int> calls;
  int next = 1;
  int next_ticket = 1;

  http::Response Insert(const std::string& doctype, json::object body) {
    const auto now = FormatRfc3339(SystemClock().Now());
    std::string name;
    if (const auto* n = body.if_contains("name"); n && n->is_string()) name = n->as_string();
    // Helpdesk's HD Ticket is named by autoincrement: a number, in JSON too.
    const bool autoincrement = doctype == "HD Ticket";
    if (autoincrement) name = std::to_string(next_ticket++);
    if (name.empty()) name = doctype.substr(0, 4) + "-" + std::to_string(next++);
    auto& table = docs[doctype];
    if (table.contains(name)) {
      return FrappeError(409, "DuplicateEntryError", doctype + " " + name + " already exists");
    }
    const auto need = [&](const char* field) { return !body.contains(field); };
    if (doctype == "Customer" && need("customer_name")) {
      return FrappeError(417, "MandatoryError", "customer_name");
    }
    if (doctype == "Lead" && need("lead_name") && need("company_name")) {
      return FrappeError(417, "MandatoryError", "lead_name");
    }
    if (doctype == "Sales Invoice" || doctype == "Opportunity") {
      const auto* party = body.if_contains(doctype == "Sales Invoice" ? "customer" : "party_name");
      if (party == nullptr || !party->is_string() ||
          !docs["Customer"].contains(std::string(party->as_string()))) {
        return FrappeError(417, "LinkValidationError", "Could not find Customer");
      }
    }
    if (doctype == "HD Customer" && need("customer_name")) {
      return FrappeError(417, "MandatoryError", "customer_name");
    }
    if (doctype == "HD Ticket") {
      if (need("subject")) return FrappeError(417, "MandatoryError", "subject");
      const auto* customer = body.if_contains("customer");
      if (customer != nullptr && customer->is_string() &&
          !docs["HD Customer"].contains(std::string(customer->as_string()))) {
        return FrappeError(417, "LinkValidationError", "Could not find HD Customer");
      }
      if (!body.contains("status")) body["status"] = "Open";
      body["opening_date"] = now.substr(0, 10);
    }
    if (doctype == "Sales Invoice") {
      const auto* items = body.if_contains("items");
      if (items == nullptr || !items->is_array() || items->as_array().empty()) {
        return FrappeError(417, "MandatoryError", "items");
      }
      double total = 0;
      for (const auto& i : items->as_array()) {
        total += Number(i.as_object().if_contains("rate")) *
                 (i.as_object().contains("qty") ? Number(i.as_object().if_contains("qty")) : 1);
      }
      if (const auto* taxes = body.if_contains("taxes"); taxes && taxes->is_array()) {
        for (const auto& t : taxes->as_array())
          total += Number(t.as_object().if_contains("tax_amount"));
      }
      body["grand_total"] = std::round(total * 100) / 100;
      body["status"] = Number(body.if_contains("docstatus")) == 1 ? "Unpaid" : "Draft";
    }
    if (autoincrement) {
      body["name"] = std::stoll(name);
    } else {
      body["name"] = name;
    }
    body["doctype"] = doctype;
    body["owner"] = kApiKey;
    body["creation"] = now;
    body["modified"] = now;
    if (!body.contains("docstatus")) body["docstatus"] = 0;
    table[name] = body;
    return Answer(200, json::object{{"data", body}});
  }

  http::Response List(const std::string& doctype, const http::Request& req) {
    json::array fields{"name"};
    json::array filters;
    std::size_t limit = 20, start = 0;
    for (const auto& [k, v] : req.query) {
      boost::system::error_code ec;
      if (k == "fields") {
        auto p = json::parse(v, ec);
        if (ec || !p.is_array()) return FrappeError(417, "ValidationError", "fields");
        fields = p.as_array();
      } else if (k == "filters") {
        auto p = json::parse(v, ec);
        if (ec || !p.is_array()) return FrappeError(417, "ValidationError", "filters");
        filters = p.as_array();
      } else if (k == "limit" || k == "limit_page_length") {
        limit = std::stoul(v);
      } else if (k == "limit_start") {
        start = std::stoul(v);
      }
    }
    json::array out;
    std::size_t seen = 0;
    for (const auto& [name, doc] : docs[doctype]) {
      if (!Matches(doc, filters)) continue;
      if (seen++ < start) continue;
      if (out.size() >= limit) break;
      json::object row;
      for (const auto& f : fields) {
        const auto key = std::string(f.as_string());
        if (key == "*") {
          row = doc;
          break;
        }
        row[key] = doc.contains(key) ? doc.at(key) : json::value(nullptr);
      }
      out.push_back(std::move(row));
    }
    return Answer(200, json::object{{"data", std::move(out)}});
  }
};

FakeFrappe::FakeFrappe() : state_(std::make_unique<State>()) {
  server_ = std::make_unique<LoopbackServer>([this](http::Request& req) -> http::Response {
    if (down_) {
      ++refused_;
      return http::Response::Json(503, R"({"message":"Service Unavailable"})");
    }
    if (req.headers.Get("authorization").value_or("") !=
        std::string("token ") + kApiKey + ":" + kApiSecret) {
      return FrappeError(401, "AuthenticationError", "Invalid Request");
    }
    constexpr std::string_view kPrefix = "/api/resource/";
    if (req.path.rfind(kPrefix, 0) != 0) return FrappeError(404, "DoesNotExistError", "Not found");
    const auto rest = req.path.substr(kPrefix.size());
    const auto slash = rest.find('/');
    const auto doctype = Decode(rest.substr(0, slash));
    const auto name = slash == std::string::npos ? std::string() : Decode(rest.substr(slash + 1));
    std::lock_guard lock(state_->mu);
    ++state_->calls[req.method];
    json::object body;
    if (req.method == "POST" || req.method == "PUT") {
      boost::system::error_code ec;
      auto v = json::parse(req.body, ec);
      if (ec || !v.is_object()) return FrappeError(417, "ValidationError", "Invalid JSON");
      body = std::move(v.as_object());
    }
    if (req.method == "POST" && name.empty()) return state_->Insert(doctype, std::move(body));
    if (req.method == "GET" && name.empty()) return state_->List(doctype, req);
    auto& table = state_->docs[doctype];
    const auto it = table.find(name);
    if (it == table.end()) {
      return FrappeError(404, "DoesNotExistError", doctype + " " + name + " not found");
    }
    if (req.method == "GET") return Answer(200, json::object{{"data", it->second}});
    if (req.method == "PUT") {
      for (auto& [k, v] : body) it->second[k] = v;
      it->second["modified"] = FormatRfc3339(SystemClock().Now());
      return Answer(200, json::object{{"data", it->second}});
    }
    return FrappeError(405, "ValidationError", "Method not allowed");
  });
}

FakeFrappe::~FakeFrappe() = default;

std::string FakeFrappe::BaseUrl() const {
  return server_->BaseUrl();
}

std::vector<std::string> FakeFrappe::Flags(const std::string& service) const {
  return {"--" + service + "-url",        BaseUrl(), "--" + service + "-api-key", kApiKey,
          "--" + service + "-api-secret", kApiSecret};
}

std::vector<boost::json::object> FakeFrappe::Docs(const std::string& doctype) const {
  std::lock_guard lock(state_->mu);
  std::vector<json::object> out;
  const auto it = state_->docs.find(doctype);
  if (it == state_->docs.end()) return out;
  for (const auto& [name, doc] : it->second) out.push_back(doc);
  return out;
}

int FakeFrappe::Calls(const std::string& method) const {
  std::lock_guard lock(state_->mu);
  const auto it = state_->calls.find(method);
  return it == state_->calls.end() ? 0 : it->second;
}

}  // namespace breakpilot::testing
