#include "net/timer_wheel.hpp"

namespace gw::net {

void Timer::cancel() {
  if (wheel_ != nullptr) wheel_->unlink(*this);
}

TimerWheel::TimerWheel(std::uint64_t now_ms, std::uint64_t tick_ms, std::size_t slots)
    : tick_ms_(tick_ms), current_tick_(now_ms / tick_ms), slots_(slots, nullptr) {}

TimerWheel::~TimerWheel() {
  for (Timer*& head : slots_) {
    while (head != nullptr) unlink(*head);
  }
}

void TimerWheel::arm(Timer& timer, std::uint64_t deadline_ms) {
  timer.cancel();
  timer.deadline_ms_ = deadline_ms;
  // A deadline in the past fires on the next advance(): put it in the current slot.
  std::uint64_t tick = deadline_ms / tick_ms_;
  if (tick < current_tick_) tick = current_tick_;
  timer.slot_ = slot_of(tick);
  Timer*& head = slots_[timer.slot_];
  timer.prev_ = nullptr;
  timer.next_ = head;
  if (head != nullptr) head->prev_ = &timer;
  head = &timer;
  timer.wheel_ = this;
  ++armed_count_;
}

void TimerWheel::unlink(Timer& timer) {
  if (timer.prev_ != nullptr) {
    timer.prev_->next_ = timer.next_;
  } else {
    slots_[timer.slot_] = timer.next_;
  }
  if (timer.next_ != nullptr) timer.next_->prev_ = timer.prev_;
  timer.prev_ = timer.next_ = nullptr;
  timer.wheel_ = nullptr;
  --armed_count_;
}

void TimerWheel::advance(std::uint64_t now_ms) {
  const std::uint64_t target = now_ms / tick_ms_;
  while (armed_count_ != 0 && current_tick_ <= target) {
    const std::size_t slot = slot_of(current_tick_);
    Timer* timer = slots_[slot];
    while (timer != nullptr) {
      Timer* next = timer->next_;
      if (timer->deadline_ms_ <= now_ms) {
        unlink(*timer);
        // The callback may arm or cancel any timer, `next` included: walk the slot again
        // from its head (timers left there belong to later revolutions of the wheel).
        if (timer->callback_) timer->callback_();
        next = slots_[slot];
      }
      timer = next;
    }
    if (current_tick_ == target) break;  // this tick may still receive deadlines later on
    ++current_tick_;
  }
  // With nothing armed there is nothing to walk: jump straight to now.
  if (current_tick_ < target) current_tick_ = target;
}

int TimerWheel::next_timeout_ms(std::uint64_t now_ms) const {
  if (armed_count_ == 0) return -1;
  const std::uint64_t next_tick_ms = (now_ms / tick_ms_ + 1) * tick_ms_;
  return static_cast<int>(next_tick_ms - now_ms);
}

}  // namespace gw::net
