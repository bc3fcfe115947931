// The lifecycle table against an expectation written out by hand, for every (status, action)
// pair and every (status, status) pair.
#include "tenants/lifecycle.hpp"

#include <gtest/gtest.h>

#include <map>

namespace breakpilot::tenants::lifecycle {
namespace {

using S = Status;
using A = Action;

// Expected result of each action from each status; absent = illegal.
const std::map<std::pair<S, A>, S> kExpected = {
    {{S::kTrial, A::kActivate}, S::kActive},     {{S::kActive, A::kActivate}, S::kActive},
    {{S::kTrial, A::kCancel}, S::kFrozen},       {{S::kActive, A::kCancel}, S::kFrozen},
    {{S::kFrozen, A::kCancel}, S::kFrozen},      {{S::kTrial, A::kExpireTrial}, S::kFrozen},
    {{S::kFrozen, A::kReactivate}, S::kActive},  {{S::kActive, A::kReactivate}, S::kActive},
    {{S::kFrozen, A::kArchive}, S::kArchived},   {{S::kDemo, A::kArchive}, S::kArchived},
    {{S::kArchived, A::kArchive}, S::kArchived},
};

TEST(LifecycleTest, EveryStatusActionPair) {
  int legal = 0;
  for (S from : kAllStatuses) {
    for (A a : kAllActions) {
      auto it = kExpected.find({from, a});
      auto next = Next(from, a);
      if (it == kExpected.end()) {
        EXPECT_FALSE(next.has_value())
            << ToString(from) << " --" << ToString(a) << "--> should be illegal";
      } else {
        ASSERT_TRUE(next.has_value())
            << ToString(from) << " --" << ToString(a) << "--> should be legal";
        EXPECT_EQ(*next, it->second) << ToString(from) << " --" << ToString(a);
        ++legal;
      }
    }
  }
  EXPECT_EQ(legal, static_cast<int>(kExpected.size()));
  EXPECT_EQ(Table().size(), kExpected.size());
}

TEST(LifecycleTest, EveryStatusPair) {
  // Which status may follow which (the diagonal: only where an idempotent repeat exists).
  const std::map<std::pair<S, S>, bool> reachable = {
      {{S::kTrial, S::kActive}, true},      {{S::kTrial, S::kFrozen}, true},
      {{S::kActive, S::kFrozen}, true},     {{S::kActive, S::kActive}, true},
      {{S::kFrozen, S::kActive}, true},     {{S::kFrozen, S::kArchived}, true},
      {{S::kFrozen, S::kFrozen}, true},     {{S::kDemo, S::kArchived}, true},
      {{S::kArchived, S::kArchived}, true},
  };
  for (S from : kAllStatuses) {
    for (S to : kAllStatuses) {
      const bool expected = reachable.contains({from, to});
      EXPECT_EQ(CanMove(from, to), expected) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST(LifecycleTest, ArchivedIsTerminalAndTrialCannotBeArchivedDirectly) {
  EXPECT_TRUE(AllowedFrom(S::kArchived).empty());
  EXPECT_FALSE(Next(S::kTrial, A::kArchive).has_value());
  EXPECT_FALSE(Next(S::kActive, A::kArchive).has_value()) << "archive only after the frozen period";
  EXPECT_FALSE(Next(S::kDemo, A::kCancel).has_value());
}

TEST(LifecycleTest, AllowedFromListsOnlyRealMoves) {
  auto from_frozen = AllowedFrom(S::kFrozen);
  ASSERT_EQ(from_frozen.size(), 2u);
  for (const auto& t : from_frozen) EXPECT_NE(t.to, S::kFrozen);
}

TEST(LifecycleTest, NamesRoundTrip) {
  for (S s : kAllStatuses) EXPECT_EQ(ParseStatus(tenants::ToString(s)), s);
  for (Kind k : kAllKinds) EXPECT_EQ(ParseKind(tenants::ToString(k)), k);
  for (Plan p : kAllPlans) EXPECT_EQ(ParsePlan(tenants::ToString(p)), p);
  EXPECT_FALSE(ParseStatus("Active").has_value());
}

}  // namespace
}  // namespace breakpilot::tenants::lifecycle
