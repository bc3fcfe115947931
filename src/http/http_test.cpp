#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <tuple>

#include "http/client.hpp"
#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"
#include "http/wire.hpp"

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
  EXPECT_EQ(r.Find("POST", "/tenants").route->name, "create");
  // A literal path whose own routes serve other methods still matches a {param} route.
  auto patch = r.Find("PATCH", "/tenants/special");
  ASSERT_NE(patch.route, nullptr);
  EXPECT_EQ(patch.route->name, "update");
  EXPECT_EQ(patch.params, (std::vector<std::pair<std::string, std::string>>{{"id", "special"}}));
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
  EXPECT_EQ(r.Find("DELETE", "/tenants").allow, (std::vector<std::string>{"GET", "HEAD", "POST"}));
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
          "breakpilot_http_requests_total{route=\"tenant_get\",method=\"GET\",status=\"2xx\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("status=\"2xx\",le=\"0.0005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("status=\"2xx\",le=\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(text.find("status=\"2xx\",le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(text.find("# TYPE breakpilot_http_request_duration_seconds histogram"),
            std::string::npos);
}

// Finding 3 of issue 21: any method string used to become a series of its own.
TEST(MetricsTest, LabelsComeFromClosedSetsSoJunkAddsNoSeries) {
  Metrics m;
  m.Observe("unmatched", "GET", 404, 0.001);
  const auto series = [&m] {
    const std::string text = m.Render();
    std::size_t n = 0;
    for (std::size_t at = 0;
         (at = text.find("breakpilot_http_requests_total{", at)) != std::string::npos; ++at) {
      ++n;
    }
    return n;
  };
  m.Observe("unmatched", "BREW", 400, 0.001);
  const std::size_t before = series();
  for (int i = 0; i < 500; ++i) {
    m.Observe("unmatched", "X" + std::to_string(i) + std::string(200, 'Q'), 400 + i % 100, 0.001);
  }
  EXPECT_EQ(series(), before);
  const std::string text = m.Render();
  EXPECT_NE(text.find("method=\"OTHER\",status=\"4xx\"} 501"), std::string::npos) << text;
  EXPECT_EQ(MethodLabel("PATCH"), "PATCH");
  EXPECT_EQ(MethodLabel("get"), "OTHER") << "methods are case-sensitive (RFC 9110 §9.1)";
  EXPECT_EQ(StatusLabel(503), "5xx");
  EXPECT_EQ(StatusLabel(99), "other");
  EXPECT_EQ(StatusLabel(600), "other");
}

TEST(MetricsTest, BucketBoundsAreInclusiveAndTheCountIsTheInfBucket) {
  Metrics m;
  m.Observe("r", "POST", 200, 0.005);  // on a bound: counted in it
  m.Observe("r", "POST", 200, 0.0051);
  m.Observe("r", "POST", 200, 60);  // past the largest bound: +Inf only
  const std::string text = m.Render();
  const std::string series = "route=\"r\",method=\"POST\",status=\"2xx\"";
  EXPECT_NE(text.find(series + ",le=\"0.0025\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find(series + ",le=\"0.005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find(series + ",le=\"0.01\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find(series + ",le=\"10\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find(series + ",le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("breakpilot_http_request_duration_seconds_count{" + series + "} 3"),
            std::string::npos);
  EXPECT_NE(text.find("breakpilot_http_request_duration_seconds_sum{" + series + "} 60.010100"),
            std::string::npos)
      << text;
}

// Feeds `text` to a fresh parser in pieces of `step` bytes, as a socket would deliver it.
struct Parsed {
  Request req;
  boost::beast::error_code ec;
  bool done = false;
  unsigned version = 0;
  bool keep_alive = false;
};
Parsed ParseInSteps(std::string_view text, std::size_t step, std::uint32_t header_limit = 8192) {
  Parsed p;
  RequestParser parser(p.req);
  parser.header_limit(header_limit);
  parser.body_limit(1024);
  std::string pending;
  for (std::size_t i = 0; i < text.size() && !parser.is_done(); i += step) {
    pending.append(text.substr(i, step));
    while (!pending.empty() && !parser.is_done()) {  // header and body take separate calls
      const auto used = parser.put(boost::asio::buffer(pending), p.ec);
      if (p.ec == boost::beast::http::error::need_more) {
        p.ec = {};
        break;
      }
      if (p.ec) return p;
      pending.erase(0, used);
    }
  }
  p.done = parser.is_done();
  p.version = parser.version();
  p.keep_alive = parser.keep_alive();
  return p;
}

TEST(RequestParserTest, FillsTheRequestFromAnyPieceSize) {
  const std::string text =
      "POST /tenants?limit=5 HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(70000, 'v') +
      "\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, text.size()}) {
    auto p = ParseInSteps(text, step, 1 << 20);
    ASSERT_FALSE(p.ec) << p.ec.message() << " step " << step;
    ASSERT_TRUE(p.done) << step;
    EXPECT_EQ(p.req.method, "POST");
    EXPECT_EQ(p.req.target, "/tenants?limit=5");
    EXPECT_EQ(p.req.headers.Get("content-type"), "application/json");
    EXPECT_EQ(p.req.headers.Get("x-long")->size(), 70000u) << "longer than 16-bit lengths";
    EXPECT_EQ(p.req.body, "{\"a\":1}");
    EXPECT_EQ(p.version, 11u);
    EXPECT_TRUE(p.keep_alive);
  }
}

TEST(RequestParserTest, ReadsChunkedBodiesAndKeepsLimits) {
  auto chunked = ParseInSteps(
      "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
      5);
  ASSERT_FALSE(chunked.ec) << chunked.ec.message();
  EXPECT_EQ(chunked.req.body, "abcde");
  auto old = ParseInSteps("GET / HTTP/1.0\r\n\r\n", 100);
  EXPECT_EQ(old.version, 10u);
  EXPECT_FALSE(old.keep_alive);
  EXPECT_EQ(ParseInSteps("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 100).ec,
            boost::beast::http::error::body_limit);
  EXPECT_EQ(ParseInSteps("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 100).ec,
            boost::beast::http::error::header_limit);
  EXPECT_TRUE(ParseInSteps("GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n", 100).ec);
  EXPECT_TRUE(
      ParseInSteps("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100).ec);
}

TEST(ParseTargetTest, PlainPathsAndTheUrlParserAgree) {
  const auto parse = [](std::string target, bool shortcut) {
    Request r;
    r.target = std::move(target);
    const bool ok = shortcut ? ParseTarget(r) : detail::ParseTargetWithUrl(r);
    return std::make_tuple(ok, r.path, r.query);
  };
  for (const std::string t :
       {"/healthz", "/internal/api-keys/verify", "/tenants/a-b_c.d~e", "/a/b?x=1&y=%20z", "/a%2Fb",
        "/caf%C3%A9", "/a/../b", "/a/./b", "//double", "/", "relative", "/a b", "/a#f", "/a?",
        "/x:y@z!$&'()*+,;="}) {
    EXPECT_EQ(parse(t, true), parse(t, false)) << t;
  }
  EXPECT_EQ(std::get<1>(parse("/a/b?x=1&y=%20z", true)), "/a/b");
  EXPECT_EQ(std::get<2>(parse("/a/b?x=1&y=%20z", true)),
            (std::vector<std::pair<std::string, std::string>>{{"x", "1"}, {"y", " z"}}));
  EXPECT_EQ(std::get<1>(parse("/caf%C3%A9", true)), "/caf\xC3\xA9");
  EXPECT_FALSE(std::get<0>(parse("/a/../b", true))) << "no parent segments";
  EXPECT_FALSE(std::get<0>(parse("relative", true)));
}

TEST(RenderHeadTest, WritesFramingItselfAndDropsUnsafeFields) {
  Response r = Response::Json(201, "{}");
  r.headers.Set("Location", "/tenants/1");
  r.headers.Set("Content-Length", "999");
  r.headers.Set("Connection", "upgrade");
  r.headers.Set("X-Split", "a\r\nSet-Cookie: evil=1");
  r.headers.Set("Bad Name", "x");
  EXPECT_EQ(RenderHead(r, 11, true, 2),
            "HTTP/1.1 201 Created\r\nServer: breakpilot\r\nContent-Type: application/json\r\n"
            "Location: /tenants/1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(RenderHead(Response::Empty(204), 11, false, 0),
            "HTTP/1.1 204 No Content\r\nServer: breakpilot\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(RenderHead(Response::Empty(200), 10, true, 0),
            "HTTP/1.0 200 OK\r\nServer: breakpilot\r\nContent-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
  EXPECT_EQ(RenderHead(Response::Empty(200), 11, true, 0, true),
            "HTTP/1.1 200 OK\r\nServer: breakpilot\r\nTransfer-Encoding: chunked\r\n\r\n");
}

// A peer that accepts the connection and never answers: the call ends with kUnavailable once
// its timeout has passed, instead of blocking its caller for good (blocking Beast calls have no
// timeout of their own; http/client.cpp's watchdog gives them one).
TEST(FetchTest, APeerThatNeverAnswersTimesOut) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 4), 0);  // the kernel completes the handshake; nobody reads
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";
  auto r = Fetch(
      {.method = "POST", .url = url, .body = "{}", .timeout = std::chrono::milliseconds(300)});
  ::close(listener);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(r.error().detail.find("no answer within 300 ms"), std::string::npos)
      << r.error().detail;
}

}  // namespace
}  // namespace breakpilot::http
