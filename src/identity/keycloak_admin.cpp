#include "identity/keycloak_admin.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace breakpilot::identity {
namespace {

constexpr std::string_view kTenantAttribute = "breakpilot_tenant_id";

std::string Enc(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

Error Failed(std::string detail) {
  return Error{ErrorKind::kUnavailable, "keycloak-failed", "Keycloak call failed",
               std::move(detail)};
}

std::string Describe(const outbound::Response& r) {
  std::string body = r.body.substr(0, 200);
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

}  // namespace

Result<std::string> KeycloakAdmin::Token() {
  const std::int64_t now = clock_.Now().micros;
  {
    std::lock_guard lock(mu_);
    if (!token_.empty() && now < token_expires_us_) return token_;
  }
  auto r = fetch_({.method = "POST",
                   .url = settings_.base_url + "/realms/" + Enc(settings_.realm) +
                          "/protocol/openid-connect/token",
                   .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                   .body = "grant_type=client_credentials&client_id=" + Enc(settings_.client_id) +
                           "&client_secret=" + Enc(settings_.client_secret)});
  if (!r) return Failed("token: " + r.error().detail);
  if (r->status != 200) return Failed("token: " + Describe(*r));
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  const auto* t = !ec && v.is_object() ? v.as_object().if_contains("access_token") : nullptr;
  if (!t || !t->is_string()) return Failed("token: no access_token in the answer");
  std::int64_t ttl = 60;
  if (const auto* e = v.as_object().if_contains("expires_in"); e && e->is_int64()) {
    ttl = e->as_int64();
  }
  std::lock_guard lock(mu_);
  token_ = std::string(t->as_string());
  token_expires_us_ = now + std::max<std::int64_t>(ttl - 30, 5) * kMicrosPerSecond;
  return token_;
}

Result<outbound::Response> KeycloakAdmin::Call(const std::string& method, const std::string& path,
                                               const std::string& body,
                                               const std::string& content_type) {
  auto token = Token();
  if (!token) return std::move(token).error();
  outbound::Request req{
      .method = method,
      .url = settings_.base_url + "/admin/realms/" + Enc(settings_.realm) + path,
      .headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json"}},
      .body = body};
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  auto r = fetch_(req);
  if (!r) return Failed(method + " " + path + ": " + r.error().detail);
  if (r->status == 401) {  // the token expired early: next call fetches a new one
    std::lock_guard lock(mu_);
    token_.clear();
  }
  return r;
}

Result<std::string> KeycloakAdmin::EnsureOrganization(const std::string& tenant_id,
                                                      const std::string& name,
                                                      const std::string& alias) {
  const std::string query =
      "/organizations?exact=true&q=" + Enc(std::string(kTenantAttribute) + ":" + tenant_id);
  auto found = Call("GET", query, "", "");
  if (!found) return std::move(found).error();
  if (found->status != 200) return Failed("search organizations: " + Describe(*found));
  boost::system::error_code ec;
  auto list = boost::json::parse(found->body, ec);
  if (ec || !list.is_array()) return Failed("search organizations: not a JSON array");
  for (const auto& o : list.as_array()) {
    const auto* id = o.is_object() ? o.as_object().if_contains("id") : nullptr;
    if (id && id->is_string()) return std::string(id->as_string());
  }
  const boost::json::object rep{
      {"name", name},
      {"alias", alias},
      {"enabled", true},
      {"attributes", {{kTenantAttribute, boost::json::array{tenant_id}}}}};
  auto created = Call("POST", "/organizations", boost::json::serialize(rep), "application/json");
  if (!created) return std::move(created).error();
  if (created->status != 201) return Failed("create organization: " + Describe(*created));
  const auto location = created->headers.Get("location").value_or("");
  const auto slash = location.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == location.size()) {
    return Failed("create organization: no Location in the answer");
  }
  return std::string(location.substr(slash + 1));
}

Result<Ok> KeycloakAdmin::InviteUser(const std::string& org_id, const std::string& email) {
  auto r = Call("POST", "/organizations/" + Enc(org_id) + "/members/invite-user",
                "email=" + Enc(email), "application/x-www-form-urlencoded");
  if (!r) return std::move(r).error();
  if (r->status != 204 && r->status != 200) return Failed("invite user: " + Describe(*r));
  return Ok{};
}

Result<Ok> KeycloakAdmin::SetOrganizationEnabled(const std::string& org_id, bool enabled) {
  auto got = Call("GET", "/organizations/" + Enc(org_id), "", "");
  if (!got) return std::move(got).error();
  if (got->status != 200) return Failed("read organization: " + Describe(*got));
  boost::system::error_code ec;
  auto rep = boost::json::parse(got->body, ec);
  if (ec || !rep.is_object()) return Failed("read organization: not a JSON object");
  rep.as_object()["enabled"] = enabled;
  auto put =
      Call("PUT", "/organizations/" + Enc(org_id), boost::json::serialize(rep), "application/json");
  if (!put) return std::move(put).error();
  if (put->status != 204 && put->status != 200) {
    return Failed("update organization: " + Describe(*put));
  }
  return Ok{};
}

}  // namespace breakpilot::identity
