#include "flags/flag.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace breakpilot::flags {
namespace {

namespace json = boost::json;

Flag Parse(std::string_view text) {
  auto f = ParseFlag(json::parse(text));
  EXPECT_TRUE(f.ok()) << (f ? "" : f.error().detail);
  return f ? *f : Flag{};
}

std::vector<std::string> Fields(std::string_view text) {
  auto f = ParseFlag(json::parse(text));
  std::vector<std::string> out;
  if (!f) {
    for (const auto& e : f.error().errors) out.push_back(e.field);
  }
  return out;
}

constexpr std::string_view kA = "0192f000-0000-7000-8000-00000000000a";
constexpr std::string_view kB = "0192f000-0000-7000-8000-00000000000b";

TEST(Murmur3, MatchesTheReferenceVectors) {
  // From the reference implementation (MurmurHash3_x86_32), as Unleash's client uses it.
  EXPECT_EQ(Murmur3(""), 0u);
  EXPECT_EQ(Murmur3("", 1), 0x514e28b7u);
  EXPECT_EQ(Murmur3("hello"), 0x248bfa47u);
  EXPECT_EQ(Murmur3("The quick brown fox jumps over the lazy dog"), 0x2e4ff723u);
}

TEST(Bucket, IsStableAndSpreadsTenantsEvenly) {
  EXPECT_EQ(Bucket("new-editor", kA), Bucket("new-editor", kA));
  int counts[101] = {};
  for (int i = 0; i < 10000; ++i) {
    const int b = Bucket("new-editor", "tenant-" + std::to_string(i));
    ASSERT_GE(b, 1);
    ASSERT_LE(b, 100);
    ++counts[b];
  }
  int below_half = 0;
  for (int b = 1; b <= 50; ++b) below_half += counts[b];
  EXPECT_GT(below_half, 4700);  // about 5000 of 10000
  EXPECT_LT(below_half, 5300);
}

TEST(Evaluate, FirstMatchingRuleWinsElseTheDefault) {
  const Flag f = Parse(R"({"key":"new-editor","type":"boolean","default":false,"rules":[
      {"tenants":[")" + std::string(kA) +
                       R"("],"value":true},
      {"plans":["enterprise"],"statuses":["active"],"value":true},
      {"kinds":["demo"],"value":false}]})");
  auto e = Evaluate(f, {.id = kA, .plan = "starter", .status = "trial", .kind = "customer"});
  EXPECT_EQ(std::get<bool>(e.value), true);
  EXPECT_EQ(e.variant, "on");
  EXPECT_EQ(e.reason, Reason::kTargetingMatch);
  EXPECT_EQ(e.rule, 0);
  e = Evaluate(f, {.id = kB, .plan = "enterprise", .status = "active", .kind = "customer"});
  EXPECT_EQ(e.rule, 1);
  EXPECT_EQ(e.variant, "on");
  // Every criterion of a rule must match: enterprise on trial is not the second rule.
  e = Evaluate(f, {.id = kB, .plan = "enterprise", .status = "trial", .kind = "customer"});
  EXPECT_EQ(e.reason, Reason::kDefault);
  EXPECT_EQ(e.variant, "off");
  EXPECT_EQ(e.rule, -1);
}

TEST(Evaluate, WithoutRulesEveryoneGetsTheStaticDefault) {
  const Flag f = Parse(R"({"key":"banner","type":"variant","default":"blue"})");
  auto e = Evaluate(f, {.id = kA, .plan = "starter", .status = "trial", .kind = "customer"});
  EXPECT_EQ(e.reason, Reason::kStatic);
  EXPECT_EQ(std::get<std::string>(e.value), "blue");
  EXPECT_EQ(e.variant, "blue");
}

TEST(Evaluate, APercentageTakesTheTenantsWhoseBucketIsWithinIt) {
  Flag f = Parse(R"({"key":"rollout","type":"boolean","default":false,
                     "rules":[{"percentage":30,"value":true}]})");
  int on = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "tenant-" + std::to_string(i);
    auto e = Evaluate(f, {.id = id, .plan = "starter", .status = "trial", .kind = "customer"});
    EXPECT_EQ(e.variant == "on", Bucket("rollout", id) <= 30);
    if (e.variant == "on") {
      EXPECT_EQ(e.reason, Reason::kSplit);
      ++on;
    }
  }
  EXPECT_GT(on, 250);
  EXPECT_LT(on, 350);
  // Growing the rollout keeps everyone who had it.
  f.rules[0].percentage = 60;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "tenant-" + std::to_string(i);
    if (Bucket("rollout", id) <= 30) {
      EXPECT_EQ(Evaluate(f, {.id = id}).variant, "on");
    }
  }
  f.rules[0].percentage = 0;
  EXPECT_EQ(Evaluate(f, {.id = kA}).variant, "off");
}

TEST(ParseFlag, RoundTripsThroughItsJson) {
  const Flag f = Parse(R"({"key":"checkout.v2","type":"variant","description":"d","default":"a",
      "rules":[{"plans":["professional"],"percentage":25,"value":"b"}]})");
  auto again = ParseFlag(ToJson(f, false));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(json::serialize(ToJson(*again, false)), json::serialize(ToJson(f, false)));
}

TEST(ParseFlag, NamesEveryBadField) {
  EXPECT_EQ(Fields(R"({"key":"Bad Key","type":"boolean","default":true})"),
            std::vector<std::string>{"/key"});
  EXPECT_EQ(Fields(R"({"key":"k","type":"number","default":1})"),
            std::vector<std::string>{"/type"});
  EXPECT_EQ(Fields(R"({"key":"k","type":"boolean","default":"yes"})"),
            std::vector<std::string>{"/default"});
  EXPECT_EQ(Fields(R"({"key":"k","type":"variant","default":"has space"})"),
            std::vector<std::string>{"/default"});
  EXPECT_EQ(Fields(R"({"key":"k","type":"boolean","default":true,"extra":1})"),
            std::vector<std::string>{"/extra"});
  EXPECT_EQ(Fields(R"({"key":"k","type":"boolean","default":true,"rules":[
                {"tenants":["nope"],"plans":["gold"],"statuses":["asleep"],"kinds":[],
                 "percentage":101,"value":1,"when":"now"}]})"),
            (std::vector<std::string>{"/rules/0/when", "/rules/0/tenants/0", "/rules/0/plans/0",
                                      "/rules/0/statuses/0", "/rules/0/kinds",
                                      "/rules/0/percentage", "/rules/0/value"}));
  EXPECT_EQ(Fields(R"({"key":"k","type":"boolean"})"), std::vector<std::string>{"/default"});
  EXPECT_FALSE(ParseFlag(json::parse("[1]")).ok());
}

TEST(ParseFlag, RefusesMoreRulesThanTheLimit) {
  std::string rules;
  for (std::size_t i = 0; i <= kMaxRules; ++i)
    rules += std::string(i ? "," : "") + R"({"value":true})";
  EXPECT_EQ(Fields(R"({"key":"k","type":"boolean","default":true,"rules":[)" + rules + "]}"),
            std::vector<std::string>{"/rules"});
}

TEST(ValidKey, AcceptsLowerCaseNamesUpTo64) {
  EXPECT_TRUE(ValidKey("a"));
  EXPECT_TRUE(ValidKey("new-editor.v2_beta"));
  EXPECT_TRUE(ValidKey(std::string(64, 'a')));
  EXPECT_FALSE(ValidKey(std::string(65, 'a')));
  EXPECT_FALSE(ValidKey(""));
  EXPECT_FALSE(ValidKey("-a"));
  EXPECT_FALSE(ValidKey("A"));
  EXPECT_FALSE(ValidKey("a/b"));
}

}  // namespace
}  // namespace breakpilot::flags
