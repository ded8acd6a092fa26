// TCP sockets on the event loop: listening, connecting, and connections with a write queue.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/event_loop.hpp"
#include "net/tls.hpp"

namespace gw::net {

struct Endpoint {
  std::string host;  // IPv4/IPv6 literal or a name; IPv6 without brackets
  std::uint16_t port = 0;
};

// Parses "host:port", "[v6]:port". nullopt (and `error`) if malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error = nullptr);

// A non-blocking listening socket bound to `endpoint` (SO_REUSEADDR; SO_REUSEPORT if asked so
// that every loop thread can own a listener on the same port). Throws std::system_error.
int listen_tcp(const Endpoint& endpoint, bool reuse_port, int backlog = 1024);
// The port a socket is bound to (after binding port 0).
std::uint16_t local_port(int fd);
// Starts a non-blocking connect (name resolution is synchronous). Returns the fd, or -1 with
// `error` set. Completion is signalled by writability (check SO_ERROR).
int connect_tcp(const Endpoint& endpoint, std::string* error);
// Sets TCP_NODELAY (we batch writes ourselves).
void set_no_delay(int fd);

// Bytes shared by many connections (a fan-out message, framed once).
using SharedBytes = std::shared_ptr<const std::string>;

// Outgoing bytes of one connection: owned copies and shared buffers, flushed with writev.
class WriteQueue {
 public:
  void append(const std::uint8_t* data, std::size_t size);
  void append(SharedBytes bytes);
  // Shared bytes without taking a reference: `bytes` must stay alive and unchanged until
  // adopt_borrowed(), which takes references for what is still queued then.
  void append_borrowed(const SharedBytes& bytes);
  void adopt_borrowed();
  std::size_t size() const { return queued_; }
  bool empty() const { return queued_ == 0; }
  // Writes as much as the socket takes. Returns false on a hard error (errno set).
  bool flush(int fd);
  // The same through TLS, one record per segment. `status` is what stopped it (ok: drained).
  bool flush(TlsSession& tls, TlsStatus& status);
  void clear();

 private:
  struct Segment {
    SharedBytes shared;                     // null: borrowed, or the bytes live in owned_
    const SharedBytes* borrowed = nullptr;  // see append_borrowed()
    std::size_t offset = 0;                 // into owned_, *shared or **borrowed
    std::size_t size = 0;
    bool owned() const { return !shared && borrowed == nullptr; }
    const std::uint8_t* data(const std::vector<std::uint8_t>& owned_bytes) const;
  };
  void consume(std::size_t n);

  std::vector<Segment> segments_;
  std::size_t first_ = 0;  // segments before this one are fully written
  std::vector<std::uint8_t> owned_;
  std::size_t queued_ = 0;
  std::size_t borrowed_ = 0;  // borrowed segments not yet written
};

// A connected socket registered with a loop. Subclasses receive data and lifecycle calls.
// Instances are heap-allocated and own themselves: close() unregisters, closes the fd and
// hands the object to the loop for destruction after the current batch of events.
//
// With a TLS session the same interface carries plaintext: the handshake runs first (bytes
// written meanwhile wait in the queue), then reads decrypt and writes encrypt.
class TcpConnection : public IoHandler {
 public:
  TcpConnection(EventLoop& loop, int fd, std::unique_ptr<TlsSession> tls = nullptr);
  ~TcpConnection() override;

  // Queues bytes, writing at once if nothing is queued. False if the connection is closed or
  // the write failed (the connection is then being closed).
  bool write(const std::uint8_t* data, std::size_t size);
  bool write(std::span<const std::uint8_t> data) { return write(data.data(), data.size()); }
  bool write_shared(SharedBytes bytes);
  // Bytes accepted by write() but not yet taken by the kernel (backpressure).
  std::size_t buffered() const { return queue_.size(); }
  // Corking: while corked, writes only queue (no system call); uncork() sends what they queued
  // with one writev. Fan-out corks each receiver, queues it every message of a pass, then
  // uncorks it: one system call per receiver per pass instead of one per message.
  void cork() { corked_ = true; }
  void uncork();
  bool corked() const { return corked_; }
  // While corked: queues shared bytes without touching their reference count (one atomic
  // increment and decrement per receiver saved); `bytes` must stay alive until uncork(), which
  // takes a reference only for what the socket did not take.
  bool write_borrowed(const SharedBytes& bytes);
  // Sends FIN once everything queued is written (reading continues).
  void shutdown_after_flush();
  // Closes now; anything still queued is dropped.
  void close();
  bool is_closed() const { return fd_ < 0; }
  // Flow control: while paused, received bytes stay in the kernel (and TCP slows the peer).
  void pause_reading() { reading_paused_ = true; }
  void resume_reading();
  bool reading_paused() const { return reading_paused_; }
  int fd() const { return fd_; }
  EventLoop& loop() const { return loop_; }
  // The peer's IP address ("127.0.0.1", "::1"), empty if unknown.
  std::string peer_address() const;
  // The TLS session (peer certificate, ALPN, version), or nullptr on a cleartext connection.
  const TlsSession* tls() const { return tls_.get(); }

  void on_io(std::uint32_t events) final;

 protected:
  // Received bytes, in the loop's shared buffer: valid only during the call.
  virtual void on_data(std::span<std::uint8_t> data) = 0;
  // The peer closed its sending side (or the connection broke, with `error` != 0).
  virtual void on_eof(int error) = 0;
  // The write queue, which was non-empty, has drained.
  virtual void on_drain() {}
  // Last call before destruction is scheduled (fd already closed).
  virtual void on_closed() {}
  // The TLS handshake failed (tls()->error() says why). The default closes the connection.
  virtual void on_tls_failed() { close(); }
  void start_reading_if_ready();  // subclasses may call after setup to consume pending data

 private:
  friend class EventLoop;  // walks its connections (loop_next_) to sweep idle TLS buffers
  void handle_readable(bool until_eagain);
  void handle_readable_tls();
  void handle_writable();
  bool flush_queue();  // false on a hard error
  bool write_tls(const std::uint8_t* data, std::size_t size);
  bool advance_tls_handshake();  // true once established
  void shut_write_side();

  EventLoop& loop_;
  TcpConnection* loop_prev_ = nullptr;  // the loop's list of live connections
  TcpConnection* loop_next_ = nullptr;
  int fd_;
  WriteQueue queue_;
  std::unique_ptr<TlsSession> tls_;
  bool tls_read_wants_write_ = false;  // a TLS read must be retried when writable
  bool tls_write_wants_read_ = false;  // a TLS write must be retried when readable
  bool shutdown_pending_ = false;
  bool write_shut_ = false;
  bool reading_paused_ = false;
  int write_errno_ = 0;  // why the last write failed hard (reported with the EOF)
  bool corked_ = false;
  bool flush_on_uncork_ = false;  // a corked write found the queue empty: uncork() writes
};

}  // namespace gw::net
