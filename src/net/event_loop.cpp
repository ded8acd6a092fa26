#include "net/event_loop.hpp"

#include "net/tcp.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

namespace gw::net {

std::uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000u;
}

// Drains the eventfd that post() and stop() write to.
class EventLoop::Waker : public IoHandler {
 public:
  explicit Waker(int fd) : fd_(fd) {}
  void on_io(std::uint32_t) override {
    std::uint64_t value = 0;
    while (::read(fd_, &value, sizeof value) > 0) {
    }
  }

 private:
  int fd_;
};

EventLoop::EventLoop()
    : now_ms_(monotonic_ms()),
      timers_(now_ms_),
      receive_buffer_(new std::uint8_t[kReceiveBufferSize]) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  waker_ = std::make_unique<Waker>(wake_fd_);
  add(wake_fd_, EPOLLIN, waker_.get());
}

EventLoop::~EventLoop() {
  graveyard_.clear();
  // Connections own themselves; the ones still open die with their loop (each unlinks itself).
  while (connections_ != nullptr) delete connections_;
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void EventLoop::add(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl ADD");
}

void EventLoop::modify(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.ptr = handler;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(posted_mutex_);
    stop_requested_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::watch_tls_buffers() {
  if (tls_sweep_.armed()) return;
  tls_sweep_.set_callback([this] { sweep_tls_buffers(); });
  timers_.arm(tls_sweep_, now_ms_ + kTlsSweepIntervalMs);
}

void EventLoop::sweep_tls_buffers() {
  bool any_tls = false;
  for (TcpConnection* c = connections_; c != nullptr; c = c->loop_next_) {
    if (c->tls_ && c->fd_ >= 0) {
      c->tls_->sweep_idle_buffers();
      any_tls = true;
    }
  }
  // With no TLS connection left the timer stops; the next one re-arms it.
  if (any_tls) timers_.arm(tls_sweep_, now_ms_ + kTlsSweepIntervalMs);
}

void EventLoop::stop_when_no_connections() {
  stop_when_no_connections_ = true;
  if (connection_count_ == 0) running_ = false;
}

void EventLoop::destroy_later(std::unique_ptr<IoHandler> object) {
  graveyard_.push_back(std::move(object));
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    if (stop_requested_) running_ = false;
    running_posted_.swap(posted_);
  }
  for (auto& task : running_posted_) task();
  running_posted_.clear();
}

void EventLoop::run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  running_ = true;
  if (stop_when_no_connections_ && connection_count_ == 0) return;
  run_posted();
  while (running_) {
    const int timeout = timers_.next_timeout_ms(monotonic_ms());
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    now_ms_ = monotonic_ms();
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    graveyard_.clear();
    timers_.advance(now_ms_);
    graveyard_.clear();
    run_posted();
    graveyard_.clear();
  }
}

}  // namespace gw::net
