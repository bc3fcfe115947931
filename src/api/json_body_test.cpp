#include "api/json_body.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace breakpilot::api {
namespace {

http::Request WithBody(std::string body, std::string content_type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.Add("Content-Type", content_type);
  return r;
}

TEST(JsonBodyTest, ReadsObjectsAndReportsEveryProblem) {
  auto o = ParseJsonObject(WithBody(R"({"slug":"a","name":7,"extra":true})"));
  ASSERT_TRUE(o.ok());
  BodyReader r(*o);
  EXPECT_EQ(r.String("slug", Required::kYes), "a");
  EXPECT_EQ(r.String("name", Required::kYes), std::nullopt);
  EXPECT_EQ(r.String("plan", Required::kYes), std::nullopt);
  auto e = r.Finish({"slug", "name", "plan"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::kInvalidInput);
  ASSERT_EQ(e.error().errors.size(), 3u);
  EXPECT_EQ(e.error().errors[0].field, "/name");
  EXPECT_EQ(e.error().errors[1].field, "/plan");
  EXPECT_EQ(e.error().errors[2].field, "/extra");
}

TEST(JsonBodyTest, RefusesWhatIsNotAJsonObject) {
  EXPECT_EQ(ParseJsonObject(WithBody("{}", "text/plain")).error().kind,
            ErrorKind::kUnsupportedMediaType);
  EXPECT_EQ(ParseJsonObject(WithBody("{}", "")).error().kind, ErrorKind::kUnsupportedMediaType);
  EXPECT_TRUE(ParseJsonObject(WithBody("{}", "Application/JSON; charset=utf-8")).ok());
  EXPECT_FALSE(ParseJsonObject(WithBody("{}", "application/merge-patch+json")).ok());
  EXPECT_TRUE(ParseJsonObject(WithBody("{}", "application/merge-patch+json"), false, true).ok());
  for (const char* bad : {"[]", "1", "{", "{\"a\":1,}", "{\"a\":\"\xff\"}", "{} {}"}) {
    auto r = ParseJsonObject(WithBody(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed) << bad;
  }
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(ParseJsonObject(WithBody("{\"a\":" + deep + "}")).ok());
  EXPECT_TRUE(ParseJsonObject(WithBody(""), true).ok()) << "an optional body may be absent";
  EXPECT_FALSE(ParseJsonObject(WithBody("")).ok());
}

// Boost.JSON reads 1e999 as Infinity and 0e400 as NaN, which have no JSON spelling.
TEST(JsonBodyTest, RefusesNumbersBeyondADouble) {
  for (const char* bad : {R"({"limit":1e999})", R"({"limit":-1e400})", R"({"limit":0e6666})",
                          R"({"a":[1,{"b":[2,1E+309]}]})"}) {
    auto r = ParseJsonObject(WithBody(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed) << bad;
    EXPECT_NE(r.error().detail.find("too large"), std::string::npos) << r.error().detail;
  }
  for (const char* good : {R"({"a":1e308})", R"({"a":-1.7e308})", R"({"a":1e-999})",
                           R"({"a":18446744073709551615})", R"({"a":[0.5,{"b":-0.0}]})"}) {
    EXPECT_TRUE(ParseJsonObject(WithBody(good)).ok()) << good;
  }
}

// I-JSON (RFC 7493 §2.3): a name twice in one object is refused, at any depth, however it is
// spelled (escapes decode to the same name); the same name in two objects is fine.
TEST(JsonBodyTest, RefusesAMemberNamedTwice) {
  for (const char* bad :
       {R"({"slug":"a","slug":"b"})", R"({"slug":"a","slu\u0067":"b"})",
        R"({"a":{"x":1,"y":2,"x":3}})", R"({"a":[{"k":1},{"k":2,"k":2}]})", R"({"":1,"":2})"}) {
    auto r = ParseJsonObject(WithBody(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed) << bad;
    EXPECT_NE(r.error().detail.find("appears twice"), std::string::npos) << r.error().detail;
  }
  for (const char* good : {R"({"a":{"k":1},"b":{"k":1}})", R"({"a":[{"k":1},{"k":2}]})",
                           R"({"k":{"k":{"k":1}}})", R"({"slug":"a","Slug":"b"})"}) {
    EXPECT_TRUE(ParseJsonObject(WithBody(good)).ok()) << good;
  }
}

}  // namespace
}  // namespace breakpilot::api
