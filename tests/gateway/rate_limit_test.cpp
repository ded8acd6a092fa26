// Rate limits: the credit buckets' refill arithmetic to the millisecond, Deribit's pools and
// request classes, lockouts after repeated failures, and connections per IP.
#include "gateway/rate_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using namespace gw::gateway;

TEST(CreditBucket, StartsFullAndSpends) {
  CreditBucket bucket(50'000, 10'000, 0);
  EXPECT_EQ(bucket.available(0), 50'000);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(bucket.try_spend(500, 0)) << i;
  EXPECT_FALSE(bucket.try_spend(500, 0));  // the 101st in the same instant
  EXPECT_EQ(bucket.available(0), 0);
}

TEST(CreditBucket, RefillsExactlyPerMillisecond) {
  CreditBucket bucket(50'000, 10'000, 1'000);
  ASSERT_TRUE(bucket.try_spend(50'000, 1'000));
  EXPECT_EQ(bucket.available(1'001), 10);  // 10,000/s = 10 per ms
  EXPECT_EQ(bucket.available(1'049), 490);
  EXPECT_FALSE(bucket.try_spend(500, 1'049));
  EXPECT_TRUE(bucket.try_spend(500, 1'050));
  EXPECT_EQ(bucket.available(1'050), 0);
  EXPECT_EQ(bucket.available(2'050), 10'000);
  EXPECT_EQ(bucket.available(6'050), 50'000);
  EXPECT_EQ(bucket.available(1'000'000), 50'000);  // capped at the capacity
}

TEST(CreditBucket, FractionalRefillIsNotLost) {
  // 3 credits per second: a third of a credit per 111 ms... kept in thousandths.
  CreditBucket bucket(10, 3, 0);
  ASSERT_TRUE(bucket.try_spend(10, 0));
  for (std::int64_t t = 100; t <= 1'000; t += 100) bucket.try_spend(100, t);  // all refused
  EXPECT_EQ(bucket.available(1'000), 3);
  EXPECT_TRUE(bucket.try_spend(3, 1'000));
  EXPECT_EQ(bucket.available(1'333), 0);
  EXPECT_EQ(bucket.available(1'334), 1);
}

TEST(CreditBucket, ClockGoingBackwardsAndHugeGaps) {
  CreditBucket bucket(1'000, 100, 10'000);
  ASSERT_TRUE(bucket.try_spend(1'000, 10'000));
  EXPECT_EQ(bucket.available(5'000), 0);  // earlier than the last spend: no refill
  EXPECT_FALSE(bucket.try_spend(1, 5'000));
  EXPECT_EQ(bucket.available(10'010), 1);
  EXPECT_EQ(bucket.available(INT64_MAX), 1'000);  // no overflow
  EXPECT_TRUE(bucket.try_spend(1'000, INT64_MAX / 2));
}

TEST(RequestClass, Classification) {
  EXPECT_EQ(classify_request("private/buy"), RequestClass::matching);
  EXPECT_EQ(classify_request("private/sell"), RequestClass::matching);
  EXPECT_EQ(classify_request("private/edit"), RequestClass::matching);
  EXPECT_EQ(classify_request("private/cancel"), RequestClass::matching);
  EXPECT_EQ(classify_request("private/cancel_all_by_instrument"), RequestClass::matching);
  EXPECT_EQ(classify_request("public/subscribe"), RequestClass::subscribe);
  EXPECT_EQ(classify_request("private/subscribe"), RequestClass::subscribe);
  EXPECT_EQ(classify_request("public/get_instruments"), RequestClass::non_matching);
  EXPECT_EQ(classify_request("private/get_positions"), RequestClass::non_matching);
  EXPECT_EQ(classify_request("public/auth"), RequestClass::non_matching);
}

TEST(SessionRateLimiter, DeribitDefaults) {
  SessionRateLimiter limiter({}, 0);
  // Non-matching: burst 100, then 20/s.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.admit("public/get_time", 0));
  EXPECT_FALSE(limiter.admit("public/get_time", 0));
  EXPECT_TRUE(limiter.admit("public/get_time", 50));
  EXPECT_FALSE(limiter.admit("public/get_time", 50));
  // Matching engine: its own pool, burst 20 then 5/s.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(limiter.admit("private/buy", 0));
  EXPECT_FALSE(limiter.admit("private/sell", 0));
  EXPECT_FALSE(limiter.admit("private/sell", 199));
  EXPECT_TRUE(limiter.admit("private/sell", 200));
  // Subscribe: burst 10, then one per 300 ms.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.admit("public/subscribe", 0));
  EXPECT_FALSE(limiter.admit("public/subscribe", 0));
  EXPECT_FALSE(limiter.admit("public/subscribe", 299));
  EXPECT_TRUE(limiter.admit("public/subscribe", 300));
  EXPECT_EQ(limiter.available(RequestClass::non_matching, 50), 0);
  EXPECT_EQ(limiter.available(RequestClass::non_matching, 5'050), 50'000);
}

TEST(SessionRateLimiter, CustomPools) {
  RateLimits limits;
  limits.matching = {1'000, 2'000, 1'000};  // cost, capacity, refill/s: burst 2, 1/s
  SessionRateLimiter limiter(limits, 0);
  EXPECT_TRUE(limiter.admit(RequestClass::matching, 0));
  EXPECT_TRUE(limiter.admit(RequestClass::matching, 0));
  EXPECT_FALSE(limiter.admit(RequestClass::matching, 999));
  EXPECT_TRUE(limiter.admit(RequestClass::matching, 1'000));
}

TEST(KeyedRateLimiter, PoolsPerKey) {
  KeyedRateLimiter limiter;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.admit("10.0.0.1", "public/get_time", 0));
  EXPECT_FALSE(limiter.admit("10.0.0.1", "public/get_time", 0));
  EXPECT_TRUE(limiter.admit("10.0.0.2", "public/get_time", 0));  // another key, other pools
  EXPECT_TRUE(limiter.admit("10.0.0.1", "private/buy", 0));      // another pool of the key
  EXPECT_FALSE(limiter.admit("10.0.0.1", "public/get_time", 49));
  EXPECT_TRUE(limiter.admit("10.0.0.1", "public/get_time", 50));  // 500 credits came back
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(KeyedRateLimiter, SweepsKeysOnceTheirPoolsAreFull) {
  KeyedRateLimiter limiter;
  EXPECT_EQ(limiter.idle_ms(), 5'000);  // the slowest pool: 50,000 credits at 10,000/s
  for (int i = 0; i < 100; ++i) limiter.admit("a", "public/test", 0);
  limiter.admit("b", "public/test", 3'000);
  limiter.sweep(4'999);
  EXPECT_EQ(limiter.size(), 2u);
  limiter.sweep(5'000);
  EXPECT_EQ(limiter.size(), 1u);  // "a" went; its pools were full again, so nothing is lost
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.admit("a", "public/test", 5'000));
  EXPECT_FALSE(limiter.admit("a", "public/test", 5'000));
  RateLimits never_refills;
  never_refills.subscribe.refill_per_second = 0;
  KeyedRateLimiter stuck(never_refills);
  EXPECT_EQ(stuck.idle_ms(), -1);
  stuck.admit("a", "public/subscribe", 0);
  stuck.sweep(1'000'000'000);
  EXPECT_EQ(stuck.size(), 1u);
}

TEST(KeyedRateLimiter, BoundedNumberOfKeys) {
  KeyedRateLimiter limiter({}, 2);
  ASSERT_TRUE(limiter.admit("a", "public/test", 0));
  ASSERT_TRUE(limiter.admit("b", "public/test", 0));
  // Full and nothing idle: "c" is admitted untracked, never refused, never evicting a or b.
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(limiter.admit("c", "public/test", 1));
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_TRUE(limiter.admit("c", "public/test", 5'000));  // a and b are swept to make room
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(KeyedRateLimiter, ConcurrentKeys) {
  KeyedRateLimiter limiter;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.admit("shared", "public/test", 0)) admitted.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), 100);  // one pool, whichever thread asks
}

TEST(FailureLimiter, BlocksAfterTheLimitWithinTheWindow) {
  FailureLimiter limiter;  // 10 per 60 s, 60 s lockout
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(limiter.record_failure("1.2.3.4", i * 1'000));
  EXPECT_FALSE(limiter.blocked("1.2.3.4", 9'000));
  EXPECT_TRUE(limiter.record_failure("1.2.3.4", 9'000));
  EXPECT_TRUE(limiter.blocked("1.2.3.4", 9'000));
  EXPECT_TRUE(limiter.blocked("1.2.3.4", 68'999));
  EXPECT_FALSE(limiter.blocked("1.2.3.4", 69'000));
  EXPECT_FALSE(limiter.blocked("5.6.7.8", 9'000));
  // After the lockout one failure does not block again at once.
  EXPECT_FALSE(limiter.record_failure("1.2.3.4", 70'000));
}

TEST(FailureLimiter, WindowResets) {
  FailureLimiter limiter;
  for (int i = 0; i < 9; ++i) limiter.record_failure("k", 0);
  EXPECT_FALSE(limiter.record_failure("k", 60'000));  // a new window: count 1
  EXPECT_FALSE(limiter.blocked("k", 60'000));
}

TEST(FailureLimiter, SweepsAndStaysBounded) {
  FailureLimits limits;
  limits.max_tracked = 3;
  FailureLimiter limiter(limits);
  limiter.record_failure("a", 0);
  limiter.record_failure("b", 0);
  limiter.record_failure("c", 0);
  limiter.record_failure("d", 1);  // full, nothing stale: not tracked
  EXPECT_EQ(limiter.tracked(), 3u);
  limiter.record_failure("e", 60'000);  // a, b and c are stale now and make room
  EXPECT_EQ(limiter.tracked(), 1u);
  limiter.sweep(120'000);
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(ConnectionLimiter, ThirtyThirdConnectionIsRefused) {
  ConnectionLimiter limiter;  // Deribit: 32 per IP
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(limiter.try_acquire("10.0.0.1"));
  EXPECT_FALSE(limiter.try_acquire("10.0.0.1"));
  EXPECT_TRUE(limiter.try_acquire("10.0.0.2"));
  EXPECT_EQ(limiter.count("10.0.0.1"), 32u);
  limiter.release("10.0.0.1");
  EXPECT_TRUE(limiter.try_acquire("10.0.0.1"));
  for (int i = 0; i < 32; ++i) limiter.release("10.0.0.1");
  EXPECT_EQ(limiter.count("10.0.0.1"), 0u);
  limiter.release("10.0.0.1");  // an extra release is harmless
  EXPECT_EQ(limiter.count("10.0.0.1"), 0u);
}

TEST(ConnectionLimiter, ConcurrentAcquireNeverExceedsTheLimit) {
  ConnectionLimiter limiter(16);
  std::atomic<int> acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.try_acquire("ip")) ++acquired;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(acquired.load(), 16);
  EXPECT_EQ(limiter.count("ip"), 16u);
}

}  // namespace
