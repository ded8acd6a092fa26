// A bounded lock-free multi-producer queue with one consumer: how other threads (the gateway's
// I/O loops) hand commands to the venue thread.
//
// Dmitry Vyukov's bounded MPMC array queue, used with a single consumer: each cell carries a
// sequence number that says whose turn it is, so a producer claims a cell with one CAS on the
// enqueue index and publishes it with a release store of the cell's sequence; no producer ever
// waits for another (a claimed cell is filled immediately). A full queue refuses the push
// (the caller answers "queue full", Deribit's 10047 matching_engine_queue_full), and the value
// is left untouched.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace gw::sim {

template <class T>
class CommandQueue {
 public:
  explicit CommandQueue(std::size_t capacity)
      : mask_(round_up(capacity) - 1), cells_(new Cell[mask_ + 1]) {
    for (std::size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;
  ~CommandQueue() {
    while (try_pop()) {
    }
  }

  std::size_t capacity() const { return mask_ + 1; }

  // Any thread. False when full; `value` is then not moved from.
  bool try_push(T& value) {
    std::size_t pos = enqueue_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // the cell still holds a value from one lap ago: full
      } else {
        pos = enqueue_.load(std::memory_order_relaxed);
      }
    }
    ::new (cell->storage) T(std::move(value));
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // The consumer thread only.
  std::optional<T> try_pop() {
    Cell& cell = cells_[dequeue_ & mask_];
    if (cell.seq.load(std::memory_order_acquire) != dequeue_ + 1) return std::nullopt;
    T* item = std::launder(reinterpret_cast<T*>(cell.storage));
    std::optional<T> value(std::move(*item));
    item->~T();
    cell.seq.store(dequeue_ + mask_ + 1, std::memory_order_release);
    ++dequeue_;
    return value;
  }

  // The consumer thread: whether a value is ready.
  bool ready() const {
    return cells_[dequeue_ & mask_].seq.load(std::memory_order_acquire) == dequeue_ + 1;
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static std::size_t round_up(std::size_t n) {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
  }

  const std::size_t mask_;
  const std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> enqueue_{0};
  alignas(64) std::size_t dequeue_ = 0;  // the consumer's
};

}  // namespace gw::sim
