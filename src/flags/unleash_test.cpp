#include "flags/unleash.hpp"

#include <gtest/gtest.h>

namespace breakpilot::flags {
namespace {

UnleashState Parse(std::string_view text) {
  auto s = ParseUnleashFeatures(text);
  EXPECT_TRUE(s.ok()) << (s ? "" : s.error().detail);
  return s ? *s : UnleashState{};
}

Evaluation Eval(const UnleashState& s, std::string_view feature, const TenantFacts& t) {
  const auto* f = s.Find(feature);
  EXPECT_NE(f, nullptr) << feature;
  return f ? EvaluateUnleash(*f, s, t) : Evaluation{};
}

constexpr TenantFacts kAcme{.id = "0192f000-0000-7000-8000-00000000000a",
                            .plan = "enterprise",
                            .status = "active",
                            .kind = "customer"};
constexpr TenantFacts kBeta{.id = "0192f000-0000-7000-8000-00000000000b",
                            .plan = "starter",
                            .status = "trial",
                            .kind = "customer"};

TEST(Unleash, DisabledOffNoStrategiesOnAndTheRevisionIsTheVersion) {
  const auto s = Parse(R"({"version":2,"features":[
      {"name":"b","enabled":true,"strategies":[]},
      {"name":"a","enabled":false,"strategies":[{"name":"default"}]}],
      "meta":{"revisionId":42}})");
  EXPECT_EQ(s.version, 42);
  auto e = Eval(s, "a", kAcme);
  EXPECT_EQ(e.reason, Reason::kDisabled);
  EXPECT_EQ(e.variant, "off");
  e = Eval(s, "b", kAcme);
  EXPECT_EQ(e.reason, Reason::kStatic);
  EXPECT_EQ(e.variant, "on");
  EXPECT_EQ(e.version, 42);
}

TEST(Unleash, ConstraintsOnTenantFieldsWithEveryOperatorWeRead) {
  const auto s = Parse(R"({"features":[
      {"name":"in","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"plan","operator":"IN","values":["enterprise","professional"]}]}]},
      {"name":"not-in","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"status","operator":"NOT_IN","values":["trial"]}]}]},
      {"name":"starts","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"tenantId","operator":"STR_STARTS_WITH","values":["0192F000"],
         "caseInsensitive":true}]}]},
      {"name":"ends-inverted","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"userId","operator":"STR_ENDS_WITH","values":["0a"],"inverted":true}]}]},
      {"name":"num","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"plan","operator":"NUM_GT","value":"3"}]}]},
      {"name":"unknown-op","enabled":true,"strategies":[{"name":"default","constraints":[
        {"contextName":"plan","operator":"SEMVER_EQ","value":"1.0.0"}]}]},
      {"name":"segment","enabled":true,"strategies":[{"name":"default","segments":[7]}]}],
      "segments":[{"id":7,"constraints":[{"contextName":"kind","operator":"IN",
        "values":["customer"]},{"contextName":"plan","operator":"IN","values":["starter"]}]}]})");
  EXPECT_EQ(Eval(s, "in", kAcme).variant, "on");
  EXPECT_EQ(Eval(s, "in", kAcme).reason, Reason::kTargetingMatch);
  EXPECT_EQ(Eval(s, "in", kBeta).variant, "off");
  EXPECT_EQ(Eval(s, "in", kBeta).reason, Reason::kDefault);
  EXPECT_EQ(Eval(s, "not-in", kAcme).variant, "on");
  EXPECT_EQ(Eval(s, "not-in", kBeta).variant, "off");
  EXPECT_EQ(Eval(s, "starts", kAcme).variant, "on");
  EXPECT_EQ(Eval(s, "ends-inverted", kAcme).variant, "off");
  EXPECT_EQ(Eval(s, "ends-inverted", kBeta).variant, "on");
  EXPECT_EQ(Eval(s, "num", kAcme).variant, "off");  // "enterprise" is no number
  EXPECT_EQ(Eval(s, "unknown-op", kAcme).variant, "off");
  EXPECT_EQ(Eval(s, "segment", kAcme).variant, "off");
  EXPECT_EQ(Eval(s, "segment", kBeta).variant, "on");
}

TEST(Unleash, UserWithIdAndRolloutsByTheTenant) {
  const auto s = Parse(R"({"features":[
      {"name":"ids","enabled":true,"strategies":[{"name":"userWithId",
        "parameters":{"userIds":"x, 0192f000-0000-7000-8000-00000000000b ,y"}}]},
      {"name":"none","enabled":true,"strategies":[{"name":"flexibleRollout",
        "parameters":{"rollout":"0","stickiness":"default","groupId":"g"}}]},
      {"name":"all","enabled":true,"strategies":[{"name":"flexibleRollout",
        "parameters":{"rollout":"100","stickiness":"tenantId","groupId":"g"}}]},
      {"name":"custom","enabled":true,"strategies":[{"name":"myStrategy"}]}]})");
  EXPECT_EQ(Eval(s, "ids", kAcme).variant, "off");
  EXPECT_EQ(Eval(s, "ids", kBeta).variant, "on");
  EXPECT_EQ(Eval(s, "none", kAcme).variant, "off");
  EXPECT_EQ(Eval(s, "all", kAcme).variant, "on");
  EXPECT_EQ(Eval(s, "all", kAcme).reason, Reason::kStatic);  // 100 %, untargeted
  EXPECT_EQ(Eval(s, "custom", kAcme).variant, "off");        // a strategy we do not know says no
}

TEST(Unleash, FeatureVariantsSplitByWeight) {
  const auto s = Parse(R"({"features":[{"name":"colour","enabled":true,"strategies":[],
      "variants":[{"name":"red","weight":500},{"name":"blue","weight":500},
                  {"name":"never","weight":0}]}]})");
  int red = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string id = "tenant-" + std::to_string(i);
    const auto v = Eval(s, "colour", {.id = id}).variant;
    ASSERT_TRUE(v == "red" || v == "blue") << v;
    red += v == "red" ? 1 : 0;
  }
  EXPECT_GT(red, 150);
  EXPECT_LT(red, 250);
}

TEST(Unleash, RefusesWhatIsNotItsFeaturesDocument) {
  for (const char* bad :
       {"", "[]", "{", R"({"features":{}})", R"({"features":[1]})",
        R"({"features":[{"enabled":true}]})", R"({"features":[{"name":"a","strategies":[3]}]})",
        R"({"features":[{"name":"a","strategies":[{"constraints":[1]}]}]})",
        R"({"features":[],"segments":[{"constraints":[]}]})"}) {
    EXPECT_FALSE(ParseUnleashFeatures(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace breakpilot::flags
