// One epoll (edge-triggered) event loop per thread.
//
// Everything registered with a loop is touched only by that loop's thread; the one exception is
// post(), which any thread may call (it wakes the loop through an eventfd). Objects closed while
// a batch of events is being dispatched are destroyed only after the batch, so a later event in
// the same batch never reaches freed memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "net/timer_wheel.hpp"

namespace gw::net {

class TcpConnection;

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
  virtual void on_io(std::uint32_t events) = 0;
};

// Milliseconds on the monotonic clock.
std::uint64_t monotonic_ms();

class EventLoop {
 public:
  // The receive buffer is shared by every socket of the loop: sockets do not own read buffers,
  // they read into this one and keep only what they cannot consume yet.
  static constexpr std::size_t kReceiveBufferSize = 512 * 1024;
  static constexpr std::uint64_t kTlsSweepIntervalMs = 1000;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers `fd` edge-triggered for `events` (EPOLLET is added).
  void add(int fd, std::uint32_t events, IoHandler* handler);
  void modify(int fd, std::uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs until stop(). Returns after finishing the current batch.
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs `task` on the loop thread, soon.
  void post(std::function<void()> task);

  // Destroys `object` after the current batch of events (it must be heap-allocated and no
  // longer registered). Used to close connections from inside their own callbacks.
  void destroy_later(std::unique_ptr<IoHandler> object);

  // Connections (TcpConnection objects) alive on this loop. Whatever is still alive when the
  // loop is destroyed is destroyed with it.
  std::size_t connection_count() const { return connection_count_; }
  // Makes run() return once no connection is left (now, if there is none): a client that
  // closed its sockets still waits for them to finish their close handshakes.
  void stop_when_no_connections();

  // A TLS connection was opened: from now on, every second, the loop lets the TLS connections
  // that stayed idle give their record buffers back (TlsSession::sweep_idle_buffers).
  void watch_tls_buffers();

  TimerWheel& timers() { return timers_; }
  // The time at the start of the current iteration (cheap; refreshed once per wake-up).
  std::uint64_t now_ms() const { return now_ms_; }
  std::span<std::uint8_t> receive_buffer() { return {receive_buffer_.get(), kReceiveBufferSize}; }
  bool running() const { return running_; }

 private:
  class Waker;
  void run_posted();
  void sweep_tls_buffers();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool running_ = false;
  bool stop_requested_ = false;
  std::uint64_t now_ms_ = 0;
  TimerWheel timers_;
  std::unique_ptr<std::uint8_t[]> receive_buffer_;
  std::unique_ptr<Waker> waker_;
  std::vector<std::unique_ptr<IoHandler>> graveyard_;
  friend class TcpConnection;  // links itself into connections_
  TcpConnection* connections_ = nullptr;
  std::size_t connection_count_ = 0;
  bool stop_when_no_connections_ = false;
  Timer tls_sweep_;  // after timers_: destroyed (cancelled) before the wheel

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_posted_;
};

}  // namespace gw::net
