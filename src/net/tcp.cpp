#include "net/tcp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <system_error>

namespace gw::net {

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Endpoint> {
    if (error != nullptr) *error = std::string(why) + ": '" + std::string(text) + "'";
    return std::nullopt;
  };
  Endpoint endpoint;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected [ipv6]:port");
    endpoint.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port");
    endpoint.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (endpoint.host.empty()) return fail("empty host");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return fail("bad port");
  endpoint.port = static_cast<std::uint16_t>(port);
  return endpoint;
}

namespace {

// Resolves to the first address of the endpoint (numeric hosts resolve without DNS).
addrinfo* resolve(const Endpoint& endpoint, bool passive, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(endpoint.port);
  const int rc = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    if (error != nullptr) *error = "cannot resolve " + endpoint.host + ": " + gai_strerror(rc);
    return nullptr;
  }
  return result;
}

}  // namespace

int listen_tcp(const Endpoint& endpoint, bool reuse_port, int backlog) {
  std::string error;
  addrinfo* info = resolve(endpoint, true, &error);
  if (info == nullptr) throw std::runtime_error(error);
  const int fd = ::socket(info->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(info);
    throw std::system_error(errno, std::generic_category(), "socket");
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, info->ai_addr, info->ai_addrlen) != 0 || ::listen(fd, backlog) != 0) {
    const int err = errno;
    freeaddrinfo(info);
    ::close(fd);
    throw std::system_error(err, std::generic_category(),
                            "listen on " + endpoint.host + ":" + std::to_string(endpoint.port));
  }
  freeaddrinfo(info);
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

int connect_tcp(const Endpoint& endpoint, std::string* error) {
  addrinfo* info = resolve(endpoint, false, error);
  if (info == nullptr) return -1;
  const int fd = ::socket(info->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error != nullptr) *error = std::string("socket: ") + std::strerror(errno);
    freeaddrinfo(info);
    return -1;
  }
  if (::connect(fd, info->ai_addr, info->ai_addrlen) != 0 && errno != EINPROGRESS) {
    if (error != nullptr) *error = std::string("connect: ") + std::strerror(errno);
    freeaddrinfo(info);
    ::close(fd);
    return -1;
  }
  freeaddrinfo(info);
  set_no_delay(fd);
  return fd;
}

void set_no_delay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ---- WriteQueue ----

void WriteQueue::append(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  // Extend the last owned segment when it ends where owned_ ends: the common case of several
  // frames queued behind a slow socket stays one iovec.
  if (first_ < segments_.size() && segments_.back().owned() &&
      segments_.back().offset + segments_.back().size == owned_.size()) {
    segments_.back().size += size;
  } else {
    segments_.push_back({nullptr, nullptr, owned_.size(), size});
  }
  owned_.insert(owned_.end(), data, data + size);
  queued_ += size;
}

void WriteQueue::append(SharedBytes bytes) {
  if (!bytes || bytes->empty()) return;
  queued_ += bytes->size();
  const std::size_t size = bytes->size();
  segments_.push_back({std::move(bytes), nullptr, 0, size});
}

void WriteQueue::append_borrowed(const SharedBytes& bytes) {
  if (!bytes || bytes->empty()) return;
  queued_ += bytes->size();
  ++borrowed_;
  segments_.push_back({nullptr, &bytes, 0, bytes->size()});
}

void WriteQueue::adopt_borrowed() {
  for (std::size_t i = first_; borrowed_ > 0 && i < segments_.size(); ++i) {
    Segment& s = segments_[i];
    if (s.borrowed == nullptr) continue;
    s.shared = *s.borrowed;
    s.borrowed = nullptr;
    --borrowed_;
  }
}

const std::uint8_t* WriteQueue::Segment::data(const std::vector<std::uint8_t>& owned_bytes) const {
  if (shared) return reinterpret_cast<const std::uint8_t*>(shared->data()) + offset;
  if (borrowed != nullptr)
    return reinterpret_cast<const std::uint8_t*>((*borrowed)->data()) + offset;
  return owned_bytes.data() + offset;
}

bool WriteQueue::flush(int fd) {
  constexpr std::size_t kMaxIov = 64;
  iovec iov[kMaxIov];
  while (queued_ > 0) {
    std::size_t count = 0;
    for (std::size_t i = first_; i < segments_.size() && count < kMaxIov; ++i, ++count) {
      const Segment& s = segments_[i];
      iov[count].iov_base = const_cast<std::uint8_t*>(s.data(owned_));
      iov[count].iov_len = s.size;
    }
    const ssize_t n = ::writev(fd, iov, static_cast<int>(count));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    consume(static_cast<std::size_t>(n));
  }
  return true;
}

bool WriteQueue::flush(TlsSession& tls, TlsStatus& status) {
  status = TlsStatus::ok;
  while (queued_ > 0) {
    const Segment& s = segments_[first_];
    std::size_t n = 0;
    // A retry after want_write starts at the same byte with at least as many bytes, as OpenSSL
    // requires: the segment is consumed only by what a write reported.
    status = tls.write(s.data(owned_), s.size, n);
    if (status != TlsStatus::ok) return status != TlsStatus::failed;
    consume(n);
  }
  return true;
}

void WriteQueue::consume(std::size_t n) {
  queued_ -= n;
  while (n > 0) {
    Segment& s = segments_[first_];
    const std::size_t take = n < s.size ? n : s.size;
    s.offset += take;
    s.size -= take;
    n -= take;
    if (s.size == 0) {
      s.shared.reset();
      if (s.borrowed != nullptr) {
        s.borrowed = nullptr;
        --borrowed_;
      }
      ++first_;
    }
  }
  if (queued_ == 0) {
    clear();
  } else if (first_ > 64 && first_ * 2 > segments_.size()) {
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

void WriteQueue::clear() {
  segments_.clear();
  first_ = 0;
  queued_ = 0;
  borrowed_ = 0;
  owned_.clear();
  // A burst to a slow reader may have grown the buffer a lot; do not keep that per connection.
  if (owned_.capacity() > 1024 * 1024) owned_.shrink_to_fit();
}

// ---- TcpConnection ----

TcpConnection::TcpConnection(EventLoop& loop, int fd, std::unique_ptr<TlsSession> tls)
    : loop_(loop), fd_(fd), tls_(std::move(tls)) {
  loop_next_ = loop_.connections_;
  if (loop_next_ != nullptr) loop_next_->loop_prev_ = this;
  loop_.connections_ = this;
  ++loop_.connection_count_;
  loop_.add(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
  if (tls_) loop_.watch_tls_buffers();
}

TcpConnection::~TcpConnection() {
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
  }
  if (loop_prev_ != nullptr) {
    loop_prev_->loop_next_ = loop_next_;
  } else {
    loop_.connections_ = loop_next_;
  }
  if (loop_next_ != nullptr) loop_next_->loop_prev_ = loop_prev_;
  if (--loop_.connection_count_ == 0 && loop_.stop_when_no_connections_) loop_.running_ = false;
}

std::string TcpConnection::peer_address() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (fd_ < 0 || getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      address.ss_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&address)->sin_addr);
  if (inet_ntop(address.ss_family, raw, text, sizeof text) == nullptr) return {};
  return text;
}

bool TcpConnection::write(const std::uint8_t* data, std::size_t size) {
  if (fd_ < 0) return false;
  if (size == 0) return true;
  if (tls_) return write_tls(data, size);
  std::size_t written = 0;
  if (queue_.empty() && corked_) {
    flush_on_uncork_ = true;
  } else if (queue_.empty()) {
    while (written < size) {
      const ssize_t n = ::send(fd_, data + written, size - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        // The peer is gone; reading will report it (EPOLLERR/EPOLLHUP), drop what we had.
        write_errno_ = errno;
        return false;
      }
    }
  }
  if (written < size) queue_.append(data + written, size - written);
  return true;
}

bool TcpConnection::write_tls(const std::uint8_t* data, std::size_t size) {
  std::size_t written = 0;
  if (tls_->established() && queue_.empty() && corked_) {
    flush_on_uncork_ = true;
  } else if (tls_->established() && queue_.empty()) {
    while (written < size) {
      std::size_t n = 0;
      const TlsStatus status = tls_->write(data + written, size - written, n);
      written += n;
      if (status == TlsStatus::ok) continue;
      if (status != TlsStatus::want_read && status != TlsStatus::want_write) return false;
      tls_write_wants_read_ = status == TlsStatus::want_read;
      break;
    }
  }
  // Before the handshake completes (a client's upgrade request), bytes wait in the queue.
  if (written < size) queue_.append(data + written, size - written);
  return true;
}

bool TcpConnection::write_shared(SharedBytes bytes) {
  if (fd_ < 0) return false;
  const bool was_empty = queue_.empty();
  queue_.append(std::move(bytes));
  if (was_empty && corked_) {
    flush_on_uncork_ = true;
  } else if (was_empty && !flush_queue()) {
    return false;
  }
  return true;
}

bool TcpConnection::write_borrowed(const SharedBytes& bytes) {
  if (fd_ < 0 || !corked_) return false;
  if (queue_.empty()) flush_on_uncork_ = true;
  queue_.append_borrowed(bytes);
  return true;
}

// A queue that was not empty before the cork is waiting for EPOLLOUT, which flushes it (and
// reports the drain); only a queue that corked writes started is flushed here. What stays
// queued then takes references to the bytes it borrowed.
void TcpConnection::uncork() {
  corked_ = false;
  if (flush_on_uncork_) {
    flush_on_uncork_ = false;
    if (fd_ >= 0 && !flush_queue()) {
      queue_.clear();  // hard error: the read side observes and reports it
      return;
    }
    if (queue_.empty() && shutdown_pending_ && !write_shut_) shut_write_side();
  }
  queue_.adopt_borrowed();
}

bool TcpConnection::flush_queue() {
  if (!tls_) return queue_.flush(fd_);
  if (!tls_->established()) return true;
  TlsStatus status;
  const bool ok = queue_.flush(*tls_, status);
  tls_write_wants_read_ = status == TlsStatus::want_read;
  return ok;
}

void TcpConnection::shut_write_side() {
  if (tls_) tls_->shutdown();  // close_notify before FIN
  ::shutdown(fd_, SHUT_WR);
  write_shut_ = true;
}

void TcpConnection::shutdown_after_flush() {
  if (fd_ < 0 || write_shut_) return;
  shutdown_pending_ = true;
  if (queue_.empty()) shut_write_side();
}

void TcpConnection::close() {
  if (fd_ < 0) return;
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  queue_.clear();
  on_closed();
  loop_.destroy_later(std::unique_ptr<IoHandler>(this));
}

void TcpConnection::on_io(std::uint32_t events) {
  if (fd_ < 0) return;
  if (tls_) {
    tls_->begin_io();
    if (!tls_->established()) {
      if (!advance_tls_handshake()) return;
      // Application data may have arrived with the last handshake flight.
      events |= EPOLLIN | EPOLLOUT;
    }
    // TLS reads may need the socket writable and writes readable (key updates, alerts).
    if ((events & EPOLLOUT) && tls_read_wants_write_) events |= EPOLLIN;
    if ((events & EPOLLIN) && tls_write_wants_read_) events |= EPOLLOUT;
  }
  if (events & EPOLLOUT) handle_writable();
  if (fd_ >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    handle_readable((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
}

void TcpConnection::start_reading_if_ready() {
  if (tls_) tls_->begin_io();
  handle_readable(true);
}

void TcpConnection::resume_reading() {
  if (!reading_paused_) return;
  reading_paused_ = false;
  if (tls_) tls_->begin_io();
  // Edge-triggered: the edge for what waits in the kernel is long gone, so read it now.
  handle_readable(true);
}

bool TcpConnection::advance_tls_handshake() {
  switch (tls_->handshake()) {
    case TlsStatus::ok:
      return true;
    case TlsStatus::want_read:
    case TlsStatus::want_write:
      return false;
    default:
      queue_.clear();
      on_tls_failed();
      return false;
  }
}

void TcpConnection::handle_readable_tls() {
  // OpenSSL returns one record (at most 16 KiB) per read: gather records until the socket is
  // drained or the buffer is nearly full, so the application sees one batch per wake-up.
  constexpr std::size_t kMaxRecord = 16 * 1024;
  std::span<std::uint8_t> buffer = loop_.receive_buffer();
  tls_read_wants_write_ = false;
  while (fd_ >= 0 && !reading_paused_) {
    std::size_t filled = 0;
    TlsStatus status = TlsStatus::ok;
    while (status == TlsStatus::ok && filled + kMaxRecord <= buffer.size()) {
      std::size_t n = 0;
      status = tls_->read(buffer.data() + filled, buffer.size() - filled, n);
      filled += n;
    }
    if (filled > 0) on_data(buffer.first(filled));
    if (fd_ < 0) return;
    switch (status) {
      case TlsStatus::ok:
        continue;  // the buffer filled up: there is more
      case TlsStatus::want_read:
        return;
      case TlsStatus::want_write:
        tls_read_wants_write_ = true;
        return;
      case TlsStatus::closed:
        on_eof(0);
        return;
      case TlsStatus::failed:
        on_eof(EPROTO);
        return;
    }
  }
}

void TcpConnection::handle_readable(bool until_eagain) {
  if (tls_) {
    handle_readable_tls();
    return;
  }
  std::span<std::uint8_t> buffer = loop_.receive_buffer();
  while (fd_ >= 0 && !reading_paused_) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      on_data(buffer.first(static_cast<std::size_t>(n)));
      // Edge-triggered: a short read means the kernel buffer was empty and new data will raise
      // a new edge, so the EAGAIN round trip can be skipped. Not when the peer has already hung
      // up: that edge is this one, and the 0-byte read must still be seen.
      if (!until_eagain && static_cast<std::size_t>(n) < buffer.size()) return;
    } else if (n == 0) {
      // A failed send consumed the socket's error (a refused connect shows up that way): the
      // EOF that follows reports it.
      on_eof(write_errno_);
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      on_eof(errno);
      return;
    }
  }
}

void TcpConnection::handle_writable() {
  if (queue_.empty()) return;
  if (!flush_queue()) {
    // Hard error: let the read side observe and report it.
    write_errno_ = errno;
    queue_.clear();
    return;
  }
  if (queue_.empty()) {
    if (shutdown_pending_ && !write_shut_) shut_write_side();
    on_drain();
  }
}

}  // namespace gw::net
