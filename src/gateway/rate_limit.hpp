// Rate limits, in Deribit's credit model and for failed authentication and connections.
//
// Credits (per session, i.e. per connection): every request costs credits from a pool that
// refills continuously up to its capacity. The defaults follow Deribit's published numbers:
//
//   pool          cost   capacity   refill/s   sustained   burst
//   non_matching   500     50,000     10,000    20 req/s    100     every other method
//   matching       500     10,000      2,500     5 req/s     20     buy/sell/edit/cancel...
//   subscribe    3,000     30,000     10,000   3.3 req/s     10     public|private/subscribe
//
// (Deribit tiers the matching-engine pool by trading volume; 5/s with a burst of 20 is its
// lowest tier.) A request that finds its pool short is refused with 10028 too_many_requests and,
// as on Deribit, the gateway then closes the session.
//
// Time is always passed in (milliseconds, any monotonic origin): nothing here reads a clock, so
// the arithmetic is testable to the millisecond.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gw::gateway {

struct CreditPool {
  std::int64_t cost = 500;
  std::int64_t capacity = 50'000;
  std::int64_t refill_per_second = 10'000;
};

// Starts full. Keeps thousandths of a credit so that refills of a few milliseconds are exact:
// refill_per_second credits/s is exactly refill_per_second thousandths per millisecond.
// Not thread-safe: a session's bucket belongs to the thread that serves the session.
class CreditBucket {
 public:
  CreditBucket() = default;
  CreditBucket(std::int64_t capacity, std::int64_t refill_per_second, std::int64_t now_ms);

  // Takes `credits` if the pool has them (after refilling up to now); false leaves it unchanged.
  bool try_spend(std::int64_t credits, std::int64_t now_ms);
  std::int64_t available(std::int64_t now_ms) const;  // whole credits
  std::int64_t capacity() const { return capacity_milli_ / 1000; }

 private:
  std::int64_t balance_at(std::int64_t now_ms) const;  // thousandths

  std::int64_t capacity_milli_ = 0;
  std::int64_t refill_per_second_ = 0;
  std::int64_t balance_milli_ = 0;
  std::int64_t last_ms_ = 0;
};

enum class RequestClass : std::uint8_t { non_matching, matching, subscribe };

// Matching-engine methods (orders: buy, sell, edit, cancel, close_position, mass_quote, ...),
// the two subscribe methods, and everything else.
RequestClass classify_request(std::string_view method);

struct RateLimits {
  CreditPool non_matching{500, 50'000, 10'000};
  CreditPool matching{500, 10'000, 2'500};
  CreditPool subscribe{3'000, 30'000, 10'000};
};

// One per session: the three pools.
class SessionRateLimiter {
 public:
  explicit SessionRateLimiter(const RateLimits& limits = {}, std::int64_t now_ms = 0);

  // Charges the method's pool; false: answer 10028 too_many_requests and close the session.
  bool admit(std::string_view method, std::int64_t now_ms) {
    return admit(classify_request(method), now_ms);
  }
  bool admit(RequestClass request, std::int64_t now_ms);
  std::int64_t available(RequestClass request, std::int64_t now_ms) const;

 private:
  const CreditPool& pool(RequestClass request) const;
  CreditBucket& bucket(RequestClass request);
  const CreditBucket& bucket(RequestClass request) const;

  RateLimits limits_;
  CreditBucket non_matching_, matching_, subscribe_;
};

// Credit pools per key, for requests that have no session: the HTTP twins, per account for
// private methods and per client IP for public ones. A key's pools are made on its first
// request and dropped by sweep() once they have been idle long enough to be full again, so
// forgetting them changes nothing: memory is bounded by the keys seen within that time (5 s
// with Deribit's pools), and by `max_keys`: when that many are tracked even after a sweep, a new
// key is admitted untracked rather than evicting (and so refilling) a busy one. Thread-safe.
class KeyedRateLimiter {
 public:
  explicit KeyedRateLimiter(const RateLimits& limits = {}, std::size_t max_keys = 100'000);

  // Charges the method's pool of `key`; false: answer 10028 too_many_requests.
  bool admit(std::string_view key, std::string_view method, std::int64_t now_ms);
  // Drops the keys idle for at least idle_ms() (their pools are full).
  void sweep(std::int64_t now_ms);
  std::size_t size() const;
  // How long an unused key takes to refill every pool from empty (-1: a pool never refills,
  // and keys are then never swept).
  std::int64_t idle_ms() const { return idle_ms_; }

 private:
  struct Entry {
    SessionRateLimiter pools;
    std::int64_t last_ms = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void sweep_locked(std::int64_t now_ms);

  RateLimits limits_;
  std::size_t max_keys_;
  std::int64_t idle_ms_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;
};

// Failed attempts per key (a client IP or a client_id): `max_failures` within `window_ms`
// block the key for `lockout_ms` (answer 10028 too_many_requests, even to correct credentials,
// otherwise the block would not slow down guessing). At most `max_tracked` keys are remembered;
// when full after dropping stale entries, new keys go untracked rather than evicting (and so
// unblocking) known ones. Thread-safe.
struct FailureLimits {
  int max_failures = 10;
  std::int64_t window_ms = 60'000;
  std::int64_t lockout_ms = 60'000;
  std::size_t max_tracked = 100'000;
};

class FailureLimiter {
 public:
  explicit FailureLimiter(const FailureLimits& limits = {});

  bool blocked(std::string_view key, std::int64_t now_ms) const;
  // Counts a failure; true if the key is blocked from now on.
  bool record_failure(std::string_view key, std::int64_t now_ms);
  // Drops keys whose window and lockout are both over.
  void sweep(std::int64_t now_ms);
  std::size_t tracked() const;

 private:
  struct Entry {
    std::int64_t window_start_ms = 0;
    int failures = 0;
    std::int64_t blocked_until_ms = 0;
  };
  bool stale(const Entry& entry, std::int64_t now_ms) const;
  void sweep_locked(std::int64_t now_ms);

  FailureLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

// Open connections per client IP; the gateway answers HTTP 429 when try_acquire() fails.
// Deribit allows 32 per IP (the 33rd gets 429). Thread-safe.
class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(std::size_t max_per_ip = 32) : max_per_ip_(max_per_ip) {}

  bool try_acquire(std::string_view ip);
  void release(std::string_view ip);  // once per successful try_acquire
  std::size_t count(std::string_view ip) const;
  std::size_t max_per_ip() const { return max_per_ip_; }

 private:
  std::size_t max_per_ip_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace gw::gateway
