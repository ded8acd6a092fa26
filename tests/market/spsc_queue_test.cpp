// The venue's single-producer single-consumer queue: order, capacity, ownership, and a
// two-thread stress run (which ThreadSanitizer-style races would corrupt: every value must
// arrive exactly once, in order).
#include "market/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

namespace gw::market {
namespace {

TEST(SpscQueue, KeepsOrderAndRefusesWhenFull) {
  SpscQueue<int> queue(3);  // rounded up to 4
  EXPECT_EQ(queue.capacity(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(queue.try_push(i));
  EXPECT_FALSE(queue.try_push(99));
  EXPECT_EQ(queue.size_approx(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(queue.try_pop(), i);
  EXPECT_EQ(queue.try_pop(), std::nullopt);
  EXPECT_TRUE(queue.try_push(5));  // wraps around
  ASSERT_NE(queue.peek(), nullptr);
  EXPECT_EQ(*queue.peek(), 5);
  queue.pop();
  EXPECT_EQ(queue.peek(), nullptr);
}

TEST(SpscQueue, MovesOwnershipAndDestroysWhatIsLeft) {
  auto counter = std::make_shared<int>(0);
  {
    SpscQueue<std::shared_ptr<int>> queue(8);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue.try_push(counter));
    EXPECT_EQ(counter.use_count(), 6);
    auto first = queue.try_pop();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(counter.use_count(), 6);  // moved out, not copied
  }
  EXPECT_EQ(counter.use_count(), 1);  // the queue's destructor released the rest
}

TEST(SpscQueue, TwoThreadsPassEveryValueOnceInOrder) {
  constexpr std::uint64_t kCount = 2'000'000;
  SpscQueue<std::uint64_t> queue(1024);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      if (queue.try_push(i)) ++i;
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t sum = 0;
  while (expected < kCount) {
    if (auto value = queue.try_pop()) {
      ASSERT_EQ(*value, expected);
      sum += *value;
      ++expected;
    }
  }
  producer.join();
  EXPECT_EQ(sum, kCount * (kCount - 1) / 2);
}

TEST(SpscQueue, CarriesNonTrivialValues) {
  SpscQueue<std::string> queue(2);
  std::thread producer([&] {
    for (int i = 0; i < 10000;) {
      if (queue.try_push(std::string(static_cast<std::size_t>(i % 100), 'x') + std::to_string(i)))
        ++i;
    }
  });
  for (int i = 0; i < 10000;) {
    if (auto value = queue.try_pop()) {
      ASSERT_EQ(*value, std::string(static_cast<std::size_t>(i % 100), 'x') + std::to_string(i));
      ++i;
    }
  }
  producer.join();
}

}  // namespace
}  // namespace gw::market
