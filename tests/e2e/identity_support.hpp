// Helpers for the identity end-to-end tests: sign in through /oauth/token, create users and
// service clients as staff, and mint tokens with the server's own signing key read from the
// database (to make expired, future and wrong-audience tokens a real client would never get).
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "../support/http_client.hpp"
#include "../support/test_env.hpp"
#include "core/crypto.hpp"
#include "identity/api_keys.hpp"
#include "identity/jwt.hpp"
#include "storage/database.hpp"

namespace breakpilot::testing {

inline std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) {
    if (!out.empty()) out += '&';
    out += k + '=';
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}

inline HttpResponse PostForm(HttpClient& c, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& kv,
                             std::map<std::string, std::string> headers = {}) {
  headers["Content-Type"] = "application/x-www-form-urlencoded";
  if (!headers.count("Authorization")) headers["Authorization"] = "";
  return c.Request("POST", target, FormEncode(kv), headers);
}

// The access token of a password sign-in; "" (and a test failure) when it fails.
inline std::string SignIn(HttpClient& c, const std::string& user, const std::string& password,
                          const std::string& org = "") {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"grant_type", "password"}, {"username", user}, {"password", password}};
  if (!org.empty()) kv.emplace_back("org_id", org);
  auto r = PostForm(c, "/oauth/token", kv);
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return "";
  return std::string(boost::json::parse(r.body).at("access_token").as_string());
}

inline const char* kPassword = "correct horse battery staple";

// Creates a user as staff (the client holds the staff token); returns the user id.
inline std::string CreateUser(HttpClient& staff, const std::string& username,
                              const std::vector<std::string>& realm_roles,
                              const std::string& tenant_id = "",
                              const std::vector<std::string>& org_roles = {}) {
  boost::json::object body{{"username", username}, {"password", kPassword}};
  boost::json::array realm;
  for (const auto& r : realm_roles) realm.emplace_back(r);
  body["realm_roles"] = realm;
  if (!tenant_id.empty()) {
    boost::json::array roles;
    for (const auto& r : org_roles) roles.emplace_back(r);
    body["memberships"] = boost::json::array{{{"tenant_id", tenant_id}, {"org_roles", roles}}};
  }
  auto r = staff.Post("/users", boost::json::serialize(body));
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  return std::string(boost::json::parse(r.body).at("id").as_string());
}

// A service client's access token (client credentials through HTTP Basic).
inline std::string ServiceToken(HttpClient& staff, const std::string& client_id) {
  auto r = staff.Post("/service-clients", R"({"client_id":")" + client_id + "\"}");
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  const std::string secret(boost::json::parse(r.body).at("client_secret").as_string());
  auto t = PostForm(staff, "/oauth/token", {{"grant_type", "client_credentials"}},
                    {{"Authorization", "Basic " + Base64Encode(client_id + ":" + secret)}});
  EXPECT_EQ(t.status, 200) << t.body;
  if (t.status != 200) return "";
  return std::string(boost::json::parse(t.body).at("access_token").as_string());
}

inline boost::json::object DecodeClaims(const std::string& jwt) {
  const auto a = jwt.find('.'), b = jwt.rfind('.');
  std::string raw;
  if (a == std::string::npos || !Base64UrlDecode(jwt.substr(a + 1, b - a - 1), raw)) return {};
  return boost::json::parse(raw).as_object();
}

// Signs `claims` with the newest signing key in the server's database. Standard claims not in
// `claims` are filled in: iss (the server), aud "breakpilot", iat/nbf now, exp in 10 minutes.
inline std::string MintToken(const TestDatabase& db, int port, boost::json::object claims) {
  static constexpr storage::Query kNewestKey{
      "test_newest_key",
      "SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL"
      " ORDER BY created_at DESC LIMIT 1"};
  auto handle = db.Open();
  std::optional<storage::Row> row;
  handle->Read([&](storage::Session& s) { row = s.FetchOne(kNewestKey, {}); });
  if (!row) {
    ADD_FAILURE() << "no signing key in the database";
    return "";
  }
  auto key = identity::SigningKey::FromPrivateJwk(row->Text(0), row->Text(1));
  if (!key) {
    ADD_FAILURE() << key.error().detail;
    return "";
  }
  const std::int64_t now = std::time(nullptr);
  if (!claims.contains("iss")) claims["iss"] = "http://127.0.0.1:" + std::to_string(port);
  if (!claims.contains("aud")) claims["aud"] = "breakpilot";
  if (!claims.contains("iat")) claims["iat"] = now;
  if (!claims.contains("nbf")) claims["nbf"] = now;
  if (!claims.contains("exp")) claims["exp"] = now + 600;
  return key->Sign(claims);
}

inline std::map<std::string, std::string> BearerOf(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace breakpilot::testing
