// Bad input never gets a 5xx, a crash or a half-written row: each case gets its documented 4xx as
// application/problem+json (RFC 9457), on both stores. The cases are a table; add to it.
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

struct Case {
  const char* name;
  std::string method;
  std::string path;  // "{id}" is replaced by a real tenant id, "{frozen}" by a frozen one
  std::string body;
  std::map<std::string, std::string> headers;
  int status;
  const char* type;  // the problem type slug
};

std::string Nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::vector<Case> Cases() {
  const std::string big(10 * 1024 * 1024, 'x');
  const std::map<std::string, std::string> none;
  const std::map<std::string, std::string> no_auth{{"Authorization", ""}};
  return {
      {"malformed_json", "POST", "/tenants", R"({"slug":)", none, 400, "malformed-json"},
      {"trailing_garbage", "POST", "/tenants", R"({"slug":"a","name":"b"} x)", none, 400,
       "malformed-json"},
      {"json_array", "POST", "/tenants", R"(["acme"])", none, 400, "malformed-json"},
      {"json_string", "POST", "/tenants", R"("acme")", none, 400, "malformed-json"},
      {"empty_body", "POST", "/tenants", "", none, 400, "malformed-json"},
      {"ten_megabytes", "POST", "/tenants", R"({"name":")" + big + "\"}", none, 413,
       "payload-too-large"},
      {"deep_nesting_10000", "POST", "/tenants", Nested(10000), none, 400, "malformed-json"},
      {"deep_nesting_object", "POST", "/tenants", R"({"slug":"a","name":)" + Nested(64) + "}", none,
       400, "malformed-json"},
      {"invalid_utf8", "POST", "/tenants", "{\"slug\":\"acme\",\"name\":\"\xC3\x28\"}", none, 400,
       "malformed-json"},
      {"number_beyond_a_double", "POST", "/tenants",
       R"({"slug":"a","name":"b","trial_days":1e999})", none, 400, "malformed-json"},
      {"nan_number_nested", "PATCH", "/tenants/{id}", R"({"name":"x","metadata":[{"n":0e400}]})",
       none, 400, "malformed-json"},
      {"duplicate_member", "POST", "/tenants", R"({"slug":"dup-a","name":"b","slug":"dup-c"})",
       none, 400, "malformed-json"},
      {"duplicate_member_nested", "PATCH", "/tenants/{id}", R"({"name":"x","name":"y"})", none, 400,
       "malformed-json"},
      {"comments_in_json", "POST", "/tenants", "{/*x*/\"slug\":\"a\",\"name\":\"b\"}", none, 400,
       "malformed-json"},
      {"wrong_content_type",
       "POST",
       "/tenants",
       R"({"slug":"a","name":"b"})",
       {{"Content-Type", "text/plain"}},
       415,
       "unsupported-media-type"},
      {"form_content_type",
       "POST",
       "/tenants",
       "slug=a&name=b",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       415,
       "unsupported-media-type"},
      {"merge_patch_on_create",
       "POST",
       "/tenants",
       R"({"slug":"a","name":"b"})",
       {{"Content-Type", "application/merge-patch+json"}},
       415,
       "unsupported-media-type"},
      {"json_to_a_form_route",
       "POST",
       "/mail/unsubscribe",
       R"({"token":"x"})",
       {{"Content-Type", "application/json"}},
       415,
       "unsupported-media-type"},
      {"unknown_route", "GET", "/nope", "", none, 404, "not-found"},
      {"unknown_nested_route", "GET", "/tenants/{id}/nope", "", none, 404, "not-found"},
      {"wrong_method_collection", "DELETE", "/tenants", "", none, 405, "method-not-allowed"},
      {"wrong_method_item", "PUT", "/tenants/{id}", R"({"name":"x"})", none, 405,
       "method-not-allowed"},
      {"bad_uuid", "GET", "/tenants/not-a-uuid", "", none, 400, "invalid-id"},
      {"bad_uuid_project", "GET", "/tenants/{id}/projects/123", "", none, 400, "invalid-id"},
      {"unknown_tenant", "GET", "/tenants/01a213c9-30da-7400-b0e8-0f1759efbf2e", "", none, 404,
       "tenant-not-found"},
      {"illegal_transition", "POST", "/tenants/{frozen}/activate", "", none, 409,
       "illegal-transition"},
      {"duplicate_slug", "POST", "/tenants", R"({"slug":"taken","name":"Again"})", none, 409,
       "duplicate-slug"},
      {"reserved_slug", "POST", "/tenants", R"({"slug":"api","name":"API"})", none, 422,
       "validation"},
      {"reserved_slug_demo", "POST", "/tenants", R"({"slug":"demo","name":"Demo"})", none, 422,
       "validation"},
      {"uppercase_slug", "POST", "/tenants", R"({"slug":"Acme","name":"Acme"})", none, 422,
       "validation"},
      {"slug_too_long", "POST", "/tenants",
       R"({"slug":")" + std::string(64, 'a') + R"(","name":"x"})", none, 422, "validation"},
      {"slug_leading_dash", "POST", "/tenants", R"({"slug":"-acme","name":"x"})", none, 422,
       "validation"},
      {"missing_name", "POST", "/tenants", R"({"slug":"acme"})", none, 422, "validation"},
      {"name_not_string", "POST", "/tenants", R"({"slug":"acme","name":42})", none, 422,
       "validation"},
      {"name_control_chars", "POST", "/tenants", R"({"slug":"acme","name":"a\u0000b"})", none, 422,
       "validation"},
      {"unknown_member", "POST", "/tenants", R"({"slug":"acme","name":"x","colour":"red"})", none,
       422, "validation"},
      {"bad_kind", "POST", "/tenants", R"({"slug":"acme","name":"x","kind":"vip"})", none, 422,
       "validation"},
      {"demo_kind", "POST", "/tenants", R"({"slug":"acme","name":"x","kind":"demo"})", none, 422,
       "validation"},
      {"bad_plan", "POST", "/tenants", R"({"slug":"acme","name":"x","plan":"gold"})", none, 422,
       "validation"},
      {"bad_initial_status", "POST", "/tenants",
       R"({"slug":"acme","name":"x","initial_status":"frozen"})", none, 422, "validation"},
      {"no_token", "GET", "/tenants", "", no_auth, 401, "unauthenticated"},
      {"wrong_token",
       "GET",
       "/tenants",
       "",
       {{"Authorization", "Bearer not-the-token"}},
       401,
       "unauthenticated"},
      {"basic_auth",
       "GET",
       "/tenants",
       "",
       {{"Authorization", "Basic dXNlcjpwYXNz"}},
       401,
       "unauthenticated"},
      {"empty_bearer",
       "GET",
       "/tenants",
       "",
       {{"Authorization", "Bearer "}},
       401,
       "unauthenticated"},
      {"huge_token",
       "GET",
       "/tenants",
       "",
       {{"Authorization", "Bearer " + std::string(8000, 'a')}},
       401,
       "unauthenticated"},
      {"huge_header",
       "GET",
       "/tenants",
       "",
       {{"X-Filler", std::string(200000, 'a')}},
       431,
       "headers-too-large"},
      {"limit_not_number", "GET", "/tenants?limit=abc", "", none, 400, "invalid-parameter"},
      {"limit_zero", "GET", "/tenants?limit=0", "", none, 400, "invalid-parameter"},
      {"limit_too_big", "GET", "/tenants?limit=1000", "", none, 400, "invalid-parameter"},
      {"bad_cursor", "GET", "/tenants?cursor=!!!", "", none, 400, "invalid-cursor"},
      {"forged_cursor", "GET", "/tenants?cursor=bm90LWEtdXVpZA", "", none, 400, "invalid-cursor"},
      {"unknown_query", "GET", "/tenants?colour=red", "", none, 400, "invalid-parameter"},
      {"repeated_query", "GET", "/tenants?status=trial&status=active", "", none, 400,
       "invalid-parameter"},
      {"bad_status_filter", "GET", "/tenants?status=sleeping", "", none, 400, "invalid-parameter"},
      {"stale_if_match",
       "PATCH",
       "/tenants/{id}",
       R"({"name":"x"})",
       {{"If-Match", "\"99\""}},
       412,
       "stale-etag"},
      {"garbage_if_match",
       "PATCH",
       "/tenants/{id}",
       R"({"name":"x"})",
       {{"If-Match", "yesterday"}},
       412,
       "stale-etag"},
      {"patch_unknown_member", "PATCH", "/tenants/{id}", R"({"slug":"new"})", none, 422,
       "validation"},
      {"cancel_without_reason", "POST", "/tenants/{id}/cancel", R"({})", none, 422, "validation"},
      {"cancel_without_body", "POST", "/tenants/{id}/cancel", "", none, 400, "malformed-json"},
      {"activate_unknown_member", "POST", "/tenants/{id}/activate", R"({"force":true})", none, 422,
       "validation"},
      {"idempotency_key_too_long",
       "POST",
       "/tenants",
       R"({"slug":"k","name":"k"})",
       {{"Idempotency-Key", std::string(300, 'k')}},
       400,
       "invalid-idempotency-key"},
      {"unknown_product", "POST", "/tenants/{id}/products", R"({"product_id":"nope"})", none, 422,
       "unknown-product"},
      {"unknown_plan", "POST", "/tenants/{id}/products",
       R"({"product_id":"certifai","plan":"free"})", none, 422, "unknown-plan"},
      {"project_unknown_tenant", "POST", "/tenants/01a213c9-30da-7400-b0e8-0f1759efbf2e/projects",
       R"({"name":"x"})", none, 404, "tenant-not-found"},
      {"project_missing_name", "POST", "/tenants/{id}/projects", R"({"description":"x"})", none,
       422, "validation"},
      {"project_description_too_long", "POST", "/tenants/{id}/projects",
       R"({"name":"x","description":")" + std::string(3000, 'd') + "\"}", none, 422, "validation"},
      {"unsubscribe_unknown", "DELETE", "/tenants/{id}/products/certifai", "", none, 404,
       "subscription-not-found"},
  };
}

class BadInputTest : public E2eTest {
 protected:
  void ExpectProblem(const HttpResponse& r, int status, const std::string& type,
                     const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body.substr(0, 400);
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << what;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << what << ": body is not JSON: " << r.body.substr(0, 200);
    auto& o = v.as_object();
    EXPECT_EQ(Str(o, "type"), "https://breakpilot.com/problems/" + type) << what;
    EXPECT_FALSE(Str(o, "title").empty()) << what;
    EXPECT_FALSE(Str(o, "detail").empty()) << what;
    ASSERT_TRUE(o.contains("status")) << what;
    EXPECT_EQ(o.at("status").as_int64(), status) << what;
  }
};

TEST_P(BadInputTest, EveryCaseGetsItsProblem) {
  CreateTenant("taken");
  const std::string id = Str(CreateTenant("victim"), "id");
  const std::string frozen = Str(CreateTenant("frozen"), "id");
  ASSERT_EQ(client()
                .Post("/tenants/" + frozen + "/cancel", R"({"reason":"test","confirm":"frozen"})")
                .status,
            200);
  const auto before = client().Get("/tenants?limit=200").body;

  const auto cases = Cases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    std::string path = c.path;
    for (auto [token, value] : {std::pair{"{id}", id}, {"{frozen}", frozen}}) {
      if (auto pos = path.find(token); pos != std::string::npos)
        path.replace(pos, strlen(token), value);
    }
    auto headers = c.headers;
    if (auto it = headers.find("Authorization"); it != headers.end() && it->second.empty()) {
      HttpClient anonymous("127.0.0.1", server_->port());
      auto r = anonymous.Request(c.method, path, c.body);
      ExpectProblem(r, c.status, c.type, c.name);
      EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"breakpilot\"");
      continue;
    }
    auto r = client().Request(c.method, path, c.body, headers);
    ExpectProblem(r, c.status, c.type, c.name);
    if (c.status == 405) {
      EXPECT_FALSE(r.Header("Allow").empty()) << c.name;
    }
  }
  // No half-written rows: the tenants are exactly as before, and the server is still healthy.
  EXPECT_EQ(client().Get("/tenants?limit=200").body, before);
  EXPECT_EQ(client().Get("/healthz").status, 200);
  EXPECT_EQ(server_->Log().find("\"status\":5"), std::string::npos) << "a 5xx was logged";
}

TEST_P(BadInputTest, AllowHeaderListsTheMethodsThatExist) {
  const std::string id = Str(CreateTenant("acme"), "id");
  EXPECT_EQ(client().Request("DELETE", "/tenants").Header("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(client().Request("PUT", "/tenants/" + id).Header("Allow"), "GET, HEAD, PATCH");
  EXPECT_EQ(client().Request("GET", "/tenants/" + id + "/activate").Header("Allow"), "POST");
}

TEST_P(BadInputTest, BrokenHttpIsRefusedCleanly) {
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", "HELLO\r\n\r\n"},
           {"bad_version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n"},
           {"bad_header", "GET / HTTP/1.1\r\nHost x\r\n\r\n"},
           {"absolute_form", "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n"},
           {"dot_dot", "GET /docs/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"},
           {"bad_chunk",
            "POST /tenants HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
           {"content_length_lie",
            "POST /tenants HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"},
       }) {
    auto r = client().Raw(bytes);
    EXPECT_GE(r.status, 400) << name;
    EXPECT_LT(r.status, 500) << name;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << name;
  }
  EXPECT_EQ(client().Get("/healthz").status, 200);
}

// Finding 3 of issue 21: each junk method or path used to add a /metrics series (3,000 junk
// requests: 219 KB -> 7.7 MB). Labels now come from closed sets, so the count stays put.
TEST_P(BadInputTest, JunkMethodsAndPathsAddNoMetricSeries) {
  const auto series = [this] {
    const std::string text = client().Get("/metrics").body;
    std::size_t n = 0;
    for (std::size_t at = 0;
         (at = text.find("\nbreakpilot_http_requests_total{", at)) != std::string::npos; ++at) {
      ++n;
    }
    return std::pair{n, text.size()};
  };
  // One of each kind first, so every series they can reach exists.
  client().Raw("JUNK0 /x0 HTTP/1.1\r\nHost: x\r\n\r\n");
  client().Raw("GET /junk/0 HTTP/1.1\r\nHost: x\r\n\r\n");
  series();
  const auto [before, bytes_before] = series();
  for (int i = 1; i <= 300; ++i) {
    const std::string n = std::to_string(i);
    client().Raw("JUNK" + n + std::string(i, 'Q') + " /x" + n + " HTTP/1.1\r\nHost: x\r\n\r\n");
    client().Raw("GET /junk/" + n + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  const auto [after, bytes_after] = series();
  EXPECT_EQ(after, before);
  EXPECT_LT(bytes_after, bytes_before + 4096) << "only counters move, no new lines";
  EXPECT_EQ(client().Get("/metrics").body.find("JUNK"), std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(BadInputTest);

}  // namespace
}  // namespace breakpilot::testing
