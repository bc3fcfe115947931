#include "audit/export_slots.hpp"

#include <gtest/gtest.h>

namespace breakpilot::audit {
namespace {

TEST(ExportSlots, OneScopeHoldsAtMostHalfAndPlacesComeBack) {
  ExportSlots slots(4);
  auto a1 = slots.Take("tenant-a");
  auto a2 = slots.Take("tenant-a");
  ASSERT_TRUE(a1 && a2);
  auto a3 = slots.Take("tenant-a");  // half of 4 is taken by tenant-a
  ASSERT_FALSE(a3);
  EXPECT_EQ(a3.error().kind, ErrorKind::kTooManyRequests);
  EXPECT_NE(a3.error().detail.find("this tenant's exports hold 2"), std::string::npos);
  auto b1 = slots.Take("tenant-b");
  auto all = slots.Take("");
  ASSERT_TRUE(b1 && all);
  EXPECT_EQ(slots.taken(), 4);
  auto c1 = slots.Take("tenant-c");  // every place is taken
  ASSERT_FALSE(c1);
  EXPECT_NE(c1.error().detail.find("building 4 export(s)"), std::string::npos);
  a1->reset();
  EXPECT_EQ(slots.taken(), 3);
  EXPECT_TRUE(slots.Take("tenant-c"));  // taken and let go at once
  EXPECT_TRUE(slots.Take("tenant-a"));
}

TEST(ExportSlots, APlaceOutlivesTheSlots) {
  std::shared_ptr<void> held;
  {
    ExportSlots slots(1);
    auto p = slots.Take("");
    ASSERT_TRUE(p);
    held = *p;
  }
  held.reset();  // gives the place back to state the pointer keeps alive
}

}  // namespace
}  // namespace breakpilot::audit
