#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"

namespace breakpilot::http {
namespace {

Router MakeRouter() {
  Router r;
  auto add = [&](const char* method, const char* pattern, const char* name) {
    r.Add({.method = method, .pattern = pattern, .name = name, .handler = [](Request&) {
             return Response::Empty(204);
           }});
  };
  add("GET", "/tenants", "list");
  add("POST", "/tenants", "create");
  add("GET", "/tenants/{id}", "get");
  add("PATCH", "/tenants/{id}", "update");
  add("GET", "/tenants/{id}/projects/{project_id}", "project");
  add("GET", "/tenants/special", "special");
  return r;
}

TEST(RouterTest, MatchesTemplatesAndCollectsParams) {
  const Router r = MakeRouter();
  auto m = r.Find("GET", "/tenants/abc/projects/def");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "project");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "abc"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"project_id", "def"}));
  EXPECT_EQ(r.Find("GET", "/tenants/special").route->name, "special") << "literal beats {param}";
  EXPECT_EQ(r.Find("HEAD", "/tenants").route->name, "list") << "HEAD is GET without a body";
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodListsAllow) {
  const Router r = MakeRouter();
  auto none = r.Find("GET", "/nope");
  EXPECT_EQ(none.route, nullptr);
  EXPECT_TRUE(none.allow.empty());
  EXPECT_EQ(r.Find("GET", "/tenants/").route, nullptr) << "an empty segment is no id";
  EXPECT_EQ(r.Find("GET", "/tenants/a/b").route, nullptr);
  auto wrong = r.Find("DELETE", "/tenants/x");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allow, (std::vector<std::string>{"GET", "HEAD", "PATCH"}));
}

TEST(ProblemTest, MapsKindsToStatusAndBuildsRfc9457Bodies) {
  Error e = InvalidInput("validation", "Request body failed validation", "slug is reserved",
                         {{"/slug", "is reserved"}});
  e.extensions["hint"] = "pick another";
  Response r = Problem(e, "/tenants");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.headers.Get("content-type"), "application/problem+json");
  auto o = boost::json::parse(r.body).as_object();
  EXPECT_EQ(o.at("type").as_string(), "https://breakpilot.com/problems/validation");
  EXPECT_EQ(o.at("status").as_int64(), 422);
  EXPECT_EQ(o.at("instance").as_string(), "/tenants");
  EXPECT_EQ(o.at("errors").as_array()[0].at("field").as_string(), "/slug");
  EXPECT_EQ(o.at("hint").as_string(), "pick another");
  EXPECT_EQ(Problem(405, "method-not-allowed", "Method not allowed", "no", "/x").status, 405);
  EXPECT_EQ(boost::json::parse(Problem(413, "t", "T", "d", "/").body).at("status").as_int64(), 413);
  EXPECT_EQ(StatusFor(ErrorKind::kMalformed), 400);
  EXPECT_EQ(StatusFor(ErrorKind::kConflict), 409);
  EXPECT_EQ(StatusFor(ErrorKind::kPreconditionFailed), 412);
  EXPECT_EQ(StatusFor(ErrorKind::kGone), 410);
}

TEST(HeadersTest, LookupIsCaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  EXPECT_EQ(h.Get("content-type"), "application/json");
  EXPECT_EQ(h.Count("X-a"), 2u);
  h.Set("CONTENT-TYPE", "text/plain");
  EXPECT_EQ(h.Get("Content-Type"), "text/plain");
  EXPECT_FALSE(h.Get("missing").has_value());
}

TEST(MetricsTest, RendersCountersAndCumulativeBuckets) {
  Metrics m;
  m.Observe("tenant_get", "GET", 200, 0.0004);
  m.Observe("tenant_get", "GET", 200, 0.003);
  m.Observe("tenant_get", "GET", 404, 0.02);
  const std::string text = m.Render();
  EXPECT_NE(
      text.find(
          "breakpilot_http_requests_total{route=\"tenant_get\",method=\"GET\",status=\"200\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("status=\"200\",le=\"0.0005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("status=\"200\",le=\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(text.find("status=\"200\",le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(text.find("# TYPE breakpilot_http_request_duration_seconds histogram"),
            std::string::npos);
}

}  // namespace
}  // namespace breakpilot::http
