// A WebSocket connection on the event loop: the protocol state machine bound to a TCP socket,
// with the handshake, idle, ping and close timeouts. ServerSocket and ClientSocket add the
// opening handshake of each role; everything after it is shared.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/tcp.hpp"
#include "net/timer_wheel.hpp"
#include "ws/prepared.hpp"
#include "ws/protocol.hpp"

namespace gw::ws {

class WebSocket;

// Application callbacks. They run on the connection's loop thread; with several loop threads
// one handler serves them all concurrently, so it must be thread-safe or stateless.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_open(WebSocket& /*socket*/) {}
  // `payload` is valid only during the call.
  virtual void on_message(WebSocket& socket, MessageType type, std::span<std::uint8_t> payload) = 0;
  // The connection is over: `code` is the peer's close code, the one we failed with, 1006 if
  // TCP closed without a close handshake, or 1001/1006 on timeouts. Called exactly once for a
  // connection that was opened; the socket is destroyed after the current batch of events.
  virtual void on_close(WebSocket& /*socket*/, std::uint16_t /*code*/,
                        std::string_view /*reason*/) {}
  // A client connection failed before opening (connect or handshake); the socket goes away.
  virtual void on_connect_error(WebSocket& /*socket*/, std::string_view /*error*/) {}
  // Buffered outgoing bytes drained to the kernel (backpressure relieved).
  virtual void on_drain(WebSocket& /*socket*/) {}
};

struct SocketOptions {
  ProtocolOptions protocol;
  DeflateOptions deflate;             // permessage-deflate (RFC 7692), off by default
  double handshake_timeout_s = 10.0;  // opening handshake (and, for clients, the TCP connect)
  double idle_timeout_s = 120.0;      // nothing received for this long: close 1001; 0 = never
  double ping_interval_s = 0.0;       // send a ping after this long without receiving; 0 = never
  double close_timeout_s = 5.0;       // wait for the peer's close frame / TCP close this long
  // Stop reading from a peer whose replies we cannot send: above this many buffered outgoing
  // bytes, reading pauses until the queue drains (TCP flow control then slows the peer).
  std::size_t pause_reading_above = 4 * 1024 * 1024;
};

class WebSocket : public net::TcpConnection, private ProtocolHandler {
 public:
  ~WebSocket() override;

  // Queue a message. False if the connection is not open (closing or closed).
  bool send(MessageType type, std::span<const std::uint8_t> payload);
  bool send_text(std::string_view text);
  bool send_binary(std::span<const std::uint8_t> payload) {
    return send(MessageType::binary, payload);
  }
  // Fan-out (server role): queues the prepared frame itself, shared with every other receiver,
  // or its compressed variant when our compressor resets after each message. A receiver whose
  // compressor keeps its context gets the message compressed for it alone. False if the
  // connection is not open, or on a client socket (client frames must be masked one by one).
  // While the connection is corked the frame is borrowed (net::TcpConnection::write_borrowed):
  // `message` must outlive uncork().
  bool send_prepared(const PreparedMessage& message);
  bool ping(std::span<const std::uint8_t> payload = {});
  // Starts the close handshake (open connections), or drops the connection (during the
  // opening handshake).
  void close(std::uint16_t code = close_code::normal, std::string_view reason = {});

  // Bytes on their way to the peer: the TCP write queue (buffered()) plus frames the protocol
  // has not handed to it yet (answers written while a read is being processed).
  std::size_t queued() const { return buffered() + protocol_.output().size(); }
  bool is_open() const {
    return phase_ == Phase::open && protocol_.state() == Protocol::State::open;
  }
  const std::string& subprotocol() const { return subprotocol_; }
  const std::string& extensions() const { return extensions_; }
  Role role() const { return protocol_.role(); }

  void* user_data = nullptr;  // for the application

 protected:
  enum class Phase { handshake, open, closed };

  WebSocket(net::EventLoop& loop, int fd, std::unique_ptr<net::TlsSession> tls, Role role,
            const SocketOptions& options, WebSocketHandler& handler);

  // Role-specific opening handshake: bytes received while phase is `handshake`.
  virtual void on_handshake_data(std::span<std::uint8_t> data) = 0;
  // Called when the handshake timer expires.
  virtual void on_handshake_timeout();
  // Switches to the open phase and feeds bytes that arrived right behind the handshake.
  void open(std::string subprotocol, std::string extensions, std::span<std::uint8_t> leftover);
  // Ends the connection now (no close handshake), reporting `code` if it had opened.
  void abort(std::uint16_t code, std::string_view reason);
  // The handshake was refused and the answer queued: send FIN after it, then close on EOF or
  // after the close timeout (closing at once could reset the connection and lose the answer).
  void finish_without_open();
  // The peer ended TCP during the handshake; `error` is the errno that broke it (0: a clean
  // EOF), e.g. ECONNREFUSED for a client whose connect was refused.
  virtual void on_handshake_eof(int error);
  // net::TcpConnection: the TLS handshake failed (the default drops the connection).
  void on_tls_failed() override;
  void arm_timer(double seconds);
  WebSocketHandler& handler() { return handler_; }
  const SocketOptions& options() const { return options_; }
  Phase phase() const { return phase_; }

 private:
  // net::TcpConnection
  void on_data(std::span<std::uint8_t> data) final;
  void on_eof(int error) final;
  void on_drain() final;
  // ProtocolHandler
  void on_message(MessageType type, std::span<std::uint8_t> payload) final;
  void on_ping(std::span<const std::uint8_t> payload) final;
  void on_pong(std::span<const std::uint8_t> payload) final;
  void on_close(std::uint16_t code, std::string_view reason, bool by_peer) final;

  void flush_output();
  void arm_idle_timer();
  void after_protocol_closed();
  void on_timer();
  void report_close(std::uint16_t code, std::string_view reason);

  const SocketOptions& options_;
  WebSocketHandler& handler_;
  Protocol protocol_;
  net::Timer timer_;
  Phase phase_ = Phase::handshake;
  bool close_reported_ = false;
  bool transport_closing_ = false;  // close handshake over, waiting for TCP to end
  bool ping_outstanding_ = false;
  bool in_feed_ = false;  // inside protocol_.feed(): output is flushed once, after it
  bool timer_armed_for_close_ = false;
  std::uint64_t last_received_ms_ = 0;
  std::string subprotocol_;
  std::string extensions_;
};

}  // namespace gw::ws
