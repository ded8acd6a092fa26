// A bounded lock-free queue for exactly one producer thread and one consumer thread: how the
// venue thread hands its ordered event stream to each consumer (the gateway's publisher, a
// recorder). Each consumer gets its own queue, so a slow recorder never delays the gateway.
//
// The classic design (Lamport's ring with acquire/release indices), plus two details that
// matter at millions of events per second: the indices live on separate cache lines, and each
// side keeps a cached copy of the other side's index, so the shared line is touched only when
// the cached view says the ring looks full (producer) or empty (consumer).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace gw::market {

template <class T>
class SpscQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit SpscQueue(std::size_t capacity)
      : mask_(round_up(capacity) - 1), slots_(new Slot[mask_ + 1]) {}
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  ~SpscQueue() {
    while (try_pop()) {
    }
  }

  std::size_t capacity() const { return mask_ + 1; }

  // Producer thread only. False (and `value` untouched) when the queue is full.
  template <class U>
  bool try_push(U&& value) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_head_ > mask_) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail - cached_head_ > mask_) return false;
    }
    ::new (slots_[tail & mask_].storage) T(std::forward<U>(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only. The oldest value, or nullopt when the queue is empty.
  std::optional<T> try_pop() {
    T* front = peek();
    if (front == nullptr) return std::nullopt;
    std::optional<T> value(std::move(*front));
    pop();
    return value;
  }

  // Consumer thread only: the oldest value in place (valid until pop()), or nullptr.
  T* peek() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == cached_tail_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head == cached_tail_) return nullptr;
    }
    return std::launder(reinterpret_cast<T*>(slots_[head & mask_].storage));
  }

  // Consumer thread only, after a successful peek().
  void pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    std::launder(reinterpret_cast<T*>(slots_[head & mask_].storage))->~T();
    head_.store(head + 1, std::memory_order_release);
  }

  // Either thread; exact only when the other side is idle.
  std::size_t size_approx() const {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

 private:
  static constexpr std::size_t kLine = 64;
  struct Slot {
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static std::size_t round_up(std::size_t n) {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
  }

  const std::size_t mask_;
  const std::unique_ptr<Slot[]> slots_;
  alignas(kLine) std::atomic<std::size_t> tail_{0};  // written by the producer
  std::size_t cached_head_ = 0;                      // the producer's view of head_
  alignas(kLine) std::atomic<std::size_t> head_{0};  // written by the consumer
  std::size_t cached_tail_ = 0;                      // the consumer's view of tail_
  char padding_[kLine - sizeof(std::size_t)]{};
};

}  // namespace gw::market
