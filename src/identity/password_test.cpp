#include "identity/password.hpp"

#include <gtest/gtest.h>

namespace breakpilot::identity {
namespace {

constexpr PasswordCost kCheap{.memory_kib = 1024, .passes = 1, .lanes = 1};

TEST(Password, HashesAreArgon2idAndVerifyOnlyTheRightPassword) {
  const auto h = HashPassword("correct horse battery", kCheap);
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << h;
  EXPECT_TRUE(VerifyPassword(h, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(h, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(h, ""));
}

TEST(Password, EachHashHasItsOwnSalt) {
  EXPECT_NE(HashPassword("same password here", kCheap), HashPassword("same password here", kCheap));
}

TEST(Password, AnythingButAnArgon2idHashNeverVerifies) {
  for (const std::string h : {"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                              "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$garbage"}) {
    EXPECT_FALSE(VerifyPassword(h, "plain")) << h;
  }
}

TEST(Password, TheDefaultCostIsOwaspsMinimum) {
  const PasswordCost d;
  EXPECT_GE(d.memory_kib, 19u * 1024);
  EXPECT_GE(d.passes, 2u);
  EXPECT_EQ(HashPassword("x", d).rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u);
}

}  // namespace
}  // namespace breakpilot::identity
