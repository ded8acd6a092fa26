#include "gateway/rate_limit.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace gw::gateway {

CreditBucket::CreditBucket(std::int64_t capacity, std::int64_t refill_per_second,
                           std::int64_t now_ms)
    : capacity_milli_(capacity * 1000),
      refill_per_second_(refill_per_second),
      balance_milli_(capacity * 1000),
      last_ms_(now_ms) {}

std::int64_t CreditBucket::balance_at(std::int64_t now_ms) const {
  // A clock that steps back refills nothing (and never drains).
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - last_ms_);
  if (refill_per_second_ <= 0) return balance_milli_;
  // Past this many milliseconds the pool is full anyway; clamping first avoids overflow after
  // a long idle period.
  const std::int64_t to_full = (capacity_milli_ - balance_milli_) / refill_per_second_ + 1;
  const std::int64_t refilled = std::min(elapsed, to_full) * refill_per_second_;
  return std::min(capacity_milli_, balance_milli_ + refilled);
}

bool CreditBucket::try_spend(std::int64_t credits, std::int64_t now_ms) {
  const std::int64_t balance = balance_at(now_ms);
  last_ms_ = std::max(last_ms_, now_ms);
  balance_milli_ = balance;
  if (balance < credits * 1000) return false;
  balance_milli_ -= credits * 1000;
  return true;
}

std::int64_t CreditBucket::available(std::int64_t now_ms) const {
  return balance_at(now_ms) / 1000;
}

RequestClass classify_request(std::string_view method) {
  static constexpr std::array<std::string_view, 14> kMatching = {
      "private/buy",
      "private/sell",
      "private/edit",
      "private/edit_by_label",
      "private/cancel",
      "private/cancel_all",
      "private/cancel_all_by_currency",
      "private/cancel_all_by_currency_pair",
      "private/cancel_all_by_instrument",
      "private/cancel_all_by_kind_or_type",
      "private/cancel_by_label",
      "private/cancel_quotes",
      "private/close_position",
      "private/mass_quote"};
  if (std::find(kMatching.begin(), kMatching.end(), method) != kMatching.end()) {
    return RequestClass::matching;
  }
  if (method == "public/subscribe" || method == "private/subscribe") {
    return RequestClass::subscribe;
  }
  return RequestClass::non_matching;
}

SessionRateLimiter::SessionRateLimiter(const RateLimits& limits, std::int64_t now_ms)
    : limits_(limits),
      non_matching_(limits.non_matching.capacity, limits.non_matching.refill_per_second, now_ms),
      matching_(limits.matching.capacity, limits.matching.refill_per_second, now_ms),
      subscribe_(limits.subscribe.capacity, limits.subscribe.refill_per_second, now_ms) {}

const CreditPool& SessionRateLimiter::pool(RequestClass request) const {
  switch (request) {
    case RequestClass::matching:
      return limits_.matching;
    case RequestClass::subscribe:
      return limits_.subscribe;
    case RequestClass::non_matching:
      break;
  }
  return limits_.non_matching;
}

CreditBucket& SessionRateLimiter::bucket(RequestClass request) {
  return const_cast<CreditBucket&>(std::as_const(*this).bucket(request));
}

const CreditBucket& SessionRateLimiter::bucket(RequestClass request) const {
  switch (request) {
    case RequestClass::matching:
      return matching_;
    case RequestClass::subscribe:
      return subscribe_;
    case RequestClass::non_matching:
      break;
  }
  return non_matching_;
}

bool SessionRateLimiter::admit(RequestClass request, std::int64_t now_ms) {
  return bucket(request).try_spend(pool(request).cost, now_ms);
}

std::int64_t SessionRateLimiter::available(RequestClass request, std::int64_t now_ms) const {
  return bucket(request).available(now_ms);
}

namespace {

// Milliseconds for a pool to refill from empty to full; -1 when it never refills.
std::int64_t refill_time_ms(const CreditPool& pool) {
  if (pool.refill_per_second <= 0) return -1;
  return (pool.capacity * 1000 + pool.refill_per_second - 1) / pool.refill_per_second;
}

}  // namespace

KeyedRateLimiter::KeyedRateLimiter(const RateLimits& limits, std::size_t max_keys)
    : limits_(limits), max_keys_(max_keys), idle_ms_(0) {
  for (const CreditPool* pool : {&limits.non_matching, &limits.matching, &limits.subscribe}) {
    const std::int64_t ms = refill_time_ms(*pool);
    idle_ms_ = ms < 0 || idle_ms_ < 0 ? -1 : std::max(idle_ms_, ms);
  }
}

bool KeyedRateLimiter::admit(std::string_view key, std::string_view method, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) sweep_locked(now_ms);
    if (entries_.size() >= max_keys_) return true;  // untracked: see the class comment
    it = entries_.emplace(std::string(key), Entry{SessionRateLimiter(limits_, now_ms), now_ms})
             .first;
  }
  it->second.last_ms = std::max(it->second.last_ms, now_ms);
  return it->second.pools.admit(method, now_ms);
}

void KeyedRateLimiter::sweep(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  sweep_locked(now_ms);
}

void KeyedRateLimiter::sweep_locked(std::int64_t now_ms) {
  if (idle_ms_ < 0) return;
  std::erase_if(entries_,
                [&](const auto& item) { return now_ms - item.second.last_ms >= idle_ms_; });
}

std::size_t KeyedRateLimiter::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

FailureLimiter::FailureLimiter(const FailureLimits& limits) : limits_(limits) {}

bool FailureLimiter::stale(const Entry& entry, std::int64_t now_ms) const {
  return entry.blocked_until_ms <= now_ms && now_ms - entry.window_start_ms >= limits_.window_ms;
}

bool FailureLimiter::blocked(std::string_view key, std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(std::string(key));
  return it != entries_.end() && it->second.blocked_until_ms > now_ms;
}

bool FailureLimiter::record_failure(std::string_view key, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_tracked) sweep_locked(now_ms);
    if (entries_.size() >= limits_.max_tracked) return false;
    it = entries_.emplace(std::string(key), Entry{now_ms, 0, 0}).first;
  }
  Entry& entry = it->second;
  if (now_ms - entry.window_start_ms >= limits_.window_ms) entry = Entry{now_ms, 0, 0};
  if (++entry.failures >= limits_.max_failures) {
    // A fresh window after the lockout: one more failure must not re-block at once.
    entry = Entry{now_ms, 0, now_ms + limits_.lockout_ms};
  }
  return entry.blocked_until_ms > now_ms;
}

void FailureLimiter::sweep(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  sweep_locked(now_ms);
}

void FailureLimiter::sweep_locked(std::int64_t now_ms) {
  std::erase_if(entries_, [&](const auto& item) { return stale(item.second, now_ms); });
}

std::size_t FailureLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

bool ConnectionLimiter::try_acquire(std::string_view ip) {
  std::lock_guard lock(mutex_);
  std::size_t& open = open_[std::string(ip)];
  if (open >= max_per_ip_) {
    if (open == 0) open_.erase(std::string(ip));
    return false;
  }
  ++open;
  return true;
}

void ConnectionLimiter::release(std::string_view ip) {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(std::string(ip));
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

std::size_t ConnectionLimiter::count(std::string_view ip) const {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(std::string(ip));
  return it == open_.end() ? 0 : it->second;
}

}  // namespace gw::gateway
