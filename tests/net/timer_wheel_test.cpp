#include "net/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gw::net {
namespace {

TEST(TimerWheel, FiresAtOrAfterDeadlineNeverBefore) {
  TimerWheel wheel(1000, 10, 16);
  int fired = 0;
  Timer timer([&] { ++fired; });
  wheel.arm(timer, 1055);
  wheel.advance(1050);
  EXPECT_EQ(fired, 0);
  wheel.advance(1054);
  EXPECT_EQ(fired, 0);
  wheel.advance(1055);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, DeadlinesBeyondOneRevolutionWaitTheirTurn) {
  TimerWheel wheel(0, 10, 8);  // one revolution = 80 ms
  int fired = 0;
  Timer timer([&] { ++fired; });
  wheel.arm(timer, 250);
  for (std::uint64_t t = 0; t < 250; t += 5) {
    wheel.advance(t);
    ASSERT_EQ(fired, 0) << "fired early at " << t;
  }
  wheel.advance(260);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CancelAndRearm) {
  TimerWheel wheel(0, 10, 8);
  int fired = 0;
  Timer timer([&] { ++fired; });
  wheel.arm(timer, 30);
  timer.cancel();
  wheel.advance(100);
  EXPECT_EQ(fired, 0);
  wheel.arm(timer, 150);
  wheel.arm(timer, 200);  // re-arming replaces the deadline
  wheel.advance(160);
  EXPECT_EQ(fired, 0);
  wheel.advance(200);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  TimerWheel wheel(1000, 10, 8);
  wheel.advance(2000);
  int fired = 0;
  Timer timer([&] { ++fired; });
  wheel.arm(timer, 500);
  wheel.advance(2000);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CallbackMayCancelAnotherTimerInTheSameSlot) {
  TimerWheel wheel(0, 10, 8);
  std::vector<int> order;
  Timer second([&] { order.push_back(2); });
  Timer first([&] {
    order.push_back(1);
    second.cancel();
  });
  wheel.arm(second, 20);
  wheel.arm(first, 20);  // list head: fires first
  wheel.advance(30);
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackMayRearmItselfForLater) {
  TimerWheel wheel(0, 10, 8);
  int fired = 0;
  Timer timer;
  timer.set_callback([&] {
    if (++fired < 3) wheel.arm(timer, 100 * static_cast<std::uint64_t>(fired + 1));
  });
  wheel.arm(timer, 100);
  for (std::uint64_t t = 0; t <= 400; t += 10) wheel.advance(t);
  EXPECT_EQ(fired, 3);
}

TEST(TimerWheel, DestroyingAnArmedTimerUnlinksIt) {
  TimerWheel wheel(0, 10, 8);
  {
    Timer timer([] { FAIL() << "destroyed timer fired"; });
    wheel.arm(timer, 20);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  wheel.advance(100);
}

TEST(TimerWheel, NextTimeout) {
  TimerWheel wheel(0, 50, 8);
  EXPECT_EQ(wheel.next_timeout_ms(0), -1);
  Timer timer([] {});
  wheel.arm(timer, 1000);
  EXPECT_EQ(wheel.next_timeout_ms(20), 30);
}

TEST(TimerWheel, ManyTimersFireInOneAdvance) {
  TimerWheel wheel(0, 10, 64);
  int fired = 0;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 1000; ++i) {
    timers.push_back(std::make_unique<Timer>([&] { ++fired; }));
    wheel.arm(*timers.back(), static_cast<std::uint64_t>(i % 700));
  }
  wheel.advance(699);
  EXPECT_EQ(fired, 1000);
}

}  // namespace
}  // namespace gw::net
