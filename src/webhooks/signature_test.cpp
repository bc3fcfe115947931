#include "webhooks/signature.hpp"

#include <gtest/gtest.h>

namespace breakpilot::webhooks {
namespace {

// The Standard Webhooks reference vector (the same the `standardwebhooks` npm package signs).
TEST(SignatureTest, MatchesTheStandardsVector) {
  EXPECT_EQ(Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(SignatureTest, SecretsAreFreshAndWellFormed) {
  const std::string a = NewSecret();
  const std::string b = NewSecret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("whsec_", 0), 0U);
  EXPECT_TRUE(Sign(a, "id", 1, "{}").has_value());
  EXPECT_NE(Sign(a, "id", 1, "{}"), Sign(b, "id", 1, "{}"));
  EXPECT_NE(Sign(a, "id", 1, "{}"), Sign(a, "id", 2, "{}"));
  EXPECT_FALSE(Sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, "{}")) << "no whsec_ prefix";
  EXPECT_FALSE(Sign("whsec_c2hvcnQ=", "id", 1, "{}")) << "too short a key";
  EXPECT_FALSE(Sign("whsec_!!!", "id", 1, "{}"));
}

}  // namespace
}  // namespace breakpilot::webhooks
