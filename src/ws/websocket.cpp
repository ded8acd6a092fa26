#include "ws/websocket.hpp"

#include <algorithm>

namespace gw::ws {

namespace {

std::uint64_t to_ms(double seconds) {
  return static_cast<std::uint64_t>(seconds * 1000.0 + 0.5);
}

}  // namespace

WebSocket::WebSocket(net::EventLoop& loop, int fd, std::unique_ptr<net::TlsSession> tls, Role role,
                     const SocketOptions& options, WebSocketHandler& handler)
    : net::TcpConnection(loop, fd, std::move(tls)),
      options_(options),
      handler_(handler),
      protocol_(role, options.protocol, *this),
      timer_([this] { on_timer(); }),
      last_received_ms_(loop.now_ms()) {
  arm_timer(options_.handshake_timeout_s);
}

WebSocket::~WebSocket() = default;

bool WebSocket::send(MessageType type, std::span<const std::uint8_t> payload) {
  if (phase_ != Phase::open || !protocol_.send(type, payload)) return false;
  if (!in_feed_) flush_output();
  return true;
}

bool WebSocket::send_text(std::string_view text) {
  return send(MessageType::text, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

bool WebSocket::send_prepared(const PreparedMessage& message) {
  if (phase_ != Phase::open || protocol_.role() != Role::server || !protocol_.can_send_message())
    return false;
  const DeflateConfig* deflate = protocol_.compressor_config();
  if (deflate != nullptr && !deflate->compress_reset)
    return send(message.type(), message.payload());
  net::SharedBytes compressed;
  if (deflate != nullptr) compressed = message.compressed_frame(deflate->compress_window_bits);
  flush_output();  // frames the protocol queued before this one go first
  if (compressed) return write_shared(std::move(compressed));
  // Corked (a fan-out pass), the frame is borrowed: the caller keeps the message alive.
  return corked() ? write_borrowed(message.frame()) : write_shared(message.frame());
}

bool WebSocket::ping(std::span<const std::uint8_t> payload) {
  if (phase_ != Phase::open || !protocol_.ping(payload)) return false;
  if (!in_feed_) flush_output();
  return true;
}

void WebSocket::close(std::uint16_t code, std::string_view reason) {
  if (phase_ == Phase::handshake) {
    phase_ = Phase::closed;
    net::TcpConnection::close();
    return;
  }
  if (phase_ != Phase::open || protocol_.state() != Protocol::State::open) return;
  protocol_.close(code, reason);
  if (in_feed_) return;  // on_data flushes and arms the close timer
  flush_output();
  timer_armed_for_close_ = true;  // later reads must not push the deadline back
  arm_timer(options_.close_timeout_s);
}

void WebSocket::open(std::string subprotocol, std::string extensions,
                     std::span<std::uint8_t> leftover) {
  phase_ = Phase::open;
  subprotocol_ = std::move(subprotocol);
  extensions_ = std::move(extensions);
  if (options_.deflate.enabled && !extensions_.empty()) {
    // The handshake already validated the agreed parameters (the server built them, the
    // client's verify hook checked them).
    if (auto params = parse_deflate_response(extensions_, options_.deflate)) {
      protocol_.enable_deflate(
          deflate_config(protocol_.role() == Role::server, *params, options_.deflate));
    }
  }
  last_received_ms_ = loop().now_ms();
  timer_.cancel();
  arm_idle_timer();
  handler_.on_open(*this);
  if (is_closed() || phase_ != Phase::open) return;
  if (!leftover.empty()) on_data(leftover);
}

void WebSocket::on_tls_failed() {
  phase_ = Phase::closed;
  net::TcpConnection::close();
}

void WebSocket::abort(std::uint16_t code, std::string_view reason) {
  if (phase_ == Phase::open) report_close(code, reason);
  phase_ = Phase::closed;
  net::TcpConnection::close();
}

void WebSocket::finish_without_open() {
  phase_ = Phase::closed;
  transport_closing_ = true;
  shutdown_after_flush();
  arm_timer(options_.close_timeout_s);
}

void WebSocket::arm_timer(double seconds) {
  loop().timers().arm(timer_, loop().now_ms() + std::max<std::uint64_t>(to_ms(seconds), 1));
}

// The idle and ping deadlines both count from the last byte received. Instead of re-arming the
// timer for every message, the timer fires at the earliest deadline computed from an older
// receive time and on_timer() simply re-arms it if data arrived since.
void WebSocket::arm_idle_timer() {
  std::uint64_t deadline = UINT64_MAX;
  if (options_.idle_timeout_s > 0) deadline = last_received_ms_ + to_ms(options_.idle_timeout_s);
  if (options_.ping_interval_s > 0 && !ping_outstanding_)
    deadline = std::min(deadline, last_received_ms_ + to_ms(options_.ping_interval_s));
  if (deadline == UINT64_MAX) return;
  loop().timers().arm(timer_, std::max(deadline, loop().now_ms() + 1));
}

void WebSocket::on_data(std::span<std::uint8_t> data) {
  last_received_ms_ = loop().now_ms();
  ping_outstanding_ = false;
  switch (phase_) {
    case Phase::handshake:
      on_handshake_data(data);
      return;
    case Phase::closed:
      return;  // draining what the peer still sends after the close handshake
    case Phase::open:
      break;
  }
  in_feed_ = true;
  protocol_.feed(data);
  in_feed_ = false;
  flush_output();
  if (is_closed()) return;
  switch (protocol_.state()) {
    case Protocol::State::closed:
      after_protocol_closed();
      break;
    case Protocol::State::closing:
      if (!timer_armed_for_close_) {
        timer_armed_for_close_ = true;
        arm_timer(options_.close_timeout_s);
      }
      break;
    case Protocol::State::open:
      if (buffered() > options_.pause_reading_above) pause_reading();
      break;
  }
}

void WebSocket::flush_output() {
  auto& out = protocol_.output();
  if (out.empty()) return;
  write(out.data(), out.size());
  protocol_.consume_output(out.size());
}

// Close frames have been exchanged (or we failed the connection). RFC 6455 §7.1.1: the server
// closes the TCP connection first; the client waits for that, then closes its side.
void WebSocket::after_protocol_closed() {
  phase_ = Phase::closed;
  transport_closing_ = true;
  if (protocol_.role() == Role::server || protocol_.failed()) shutdown_after_flush();
  arm_timer(options_.close_timeout_s);
}

void WebSocket::on_eof(int error) {
  if (phase_ == Phase::handshake) {
    on_handshake_eof(error);
    return;
  }
  if (!transport_closing_) {
    report_close(close_code::abnormal, "connection closed without a close frame");
  }
  phase_ = Phase::closed;
  net::TcpConnection::close();
}

void WebSocket::on_handshake_eof(int /*error*/) {
  phase_ = Phase::closed;
  net::TcpConnection::close();
}

void WebSocket::on_drain() {
  if (reading_paused() && buffered() <= options_.pause_reading_above / 2) resume_reading();
  if (!is_closed() && phase_ == Phase::open) handler_.on_drain(*this);
}

void WebSocket::on_message(MessageType type, std::span<std::uint8_t> payload) {
  handler_.on_message(*this, type, payload);
}

void WebSocket::on_ping(std::span<const std::uint8_t> /*payload*/) {}
void WebSocket::on_pong(std::span<const std::uint8_t> /*payload*/) {}

void WebSocket::on_close(std::uint16_t code, std::string_view reason, bool /*by_peer*/) {
  report_close(code, reason);
}

void WebSocket::report_close(std::uint16_t code, std::string_view reason) {
  if (close_reported_) return;
  close_reported_ = true;
  handler_.on_close(*this, code, reason);
}

void WebSocket::on_handshake_timeout() {
  phase_ = Phase::closed;
  net::TcpConnection::close();
}

void WebSocket::on_timer() {
  if (phase_ == Phase::handshake) {
    on_handshake_timeout();
    return;
  }
  if (transport_closing_) {
    net::TcpConnection::close();  // the peer did not end TCP in time
    return;
  }
  if (protocol_.state() == Protocol::State::closing) {
    // We sent a close frame and the peer never answered.
    report_close(close_code::abnormal, "close timeout");
    phase_ = Phase::closed;
    net::TcpConnection::close();
    return;
  }
  const std::uint64_t now = loop().now_ms();
  const std::uint64_t quiet = now - last_received_ms_;
  if (options_.idle_timeout_s > 0 && quiet >= to_ms(options_.idle_timeout_s)) {
    close(close_code::going_away, "idle timeout");
    return;
  }
  if (options_.ping_interval_s > 0 && !ping_outstanding_ &&
      quiet >= to_ms(options_.ping_interval_s)) {
    ping_outstanding_ = true;
    ping();
  }
  arm_idle_timer();
}

}  // namespace gw::ws
