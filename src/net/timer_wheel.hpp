// A hashed timing wheel for coarse timeouts (handshake, idle, close, ping).
//
// Connections embed their Timer; arming and cancelling are O(1) list splices with no
// allocation, and nothing is done per message: a connection records its last activity in a
// plain field and re-arms only when its timer fires (the "lazy" idle check uWebSockets uses).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace gw::net {

class TimerWheel;

class Timer {
 public:
  // The callback runs on the loop thread; it may re-arm or destroy the timer's owner.
  explicit Timer(std::function<void()> callback = {}) : callback_(std::move(callback)) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void set_callback(std::function<void()> callback) { callback_ = std::move(callback); }
  bool armed() const { return wheel_ != nullptr; }
  void cancel();
  std::uint64_t deadline_ms() const { return deadline_ms_; }

 private:
  friend class TimerWheel;
  std::function<void()> callback_;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  std::uint64_t deadline_ms_ = 0;
  std::size_t slot_ = 0;
};

class TimerWheel {
 public:
  // `tick_ms` is the resolution; timers fire at most one tick late.
  explicit TimerWheel(std::uint64_t now_ms, std::uint64_t tick_ms = 50, std::size_t slots = 1024);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms (or re-arms) `timer` to fire at `deadline_ms` (monotonic milliseconds).
  void arm(Timer& timer, std::uint64_t deadline_ms);
  // Fires every timer whose deadline is ≤ now_ms. A callback must not re-arm its timer for a
  // deadline ≤ now_ms (it would fire again in the same call).
  void advance(std::uint64_t now_ms);
  // Milliseconds until the next tick that could fire something; -1 if nothing is armed.
  int next_timeout_ms(std::uint64_t now_ms) const;
  std::size_t size() const { return armed_count_; }
  std::uint64_t tick_ms() const { return tick_ms_; }

 private:
  friend class Timer;
  void unlink(Timer& timer);
  std::size_t slot_of(std::uint64_t tick) const {
    return static_cast<std::size_t>(tick % slots_.size());
  }

  std::uint64_t tick_ms_;
  std::uint64_t current_tick_;  // every tick before this one has been processed
  std::vector<Timer*> slots_;   // heads of intrusive doubly linked lists
  std::size_t armed_count_ = 0;
};

}  // namespace gw::net
