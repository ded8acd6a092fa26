// The client role: connect, send the opening handshake, verify the answer, then the same
// WebSocket as on the server side (frames masked, the server closes TCP first).
#pragma once

#include <functional>
#include <string>

#include "http/parser.hpp"
#include "ws/handshake.hpp"
#include "ws/websocket.hpp"

namespace gw::ws {

struct ClientOptions {
  SocketOptions socket;  // protocol options and timeouts (handshake_timeout covers connect)
  ClientHandshakeOptions handshake;
  http::Limits http_limits;
  // wss://: trust, verification and client certificate. Connections share `tls_context` when
  // it is set (build it once with net::TlsClientContext::create); otherwise each wss://
  // connection builds one from `tls`.
  net::TlsClientConfig tls;
  std::shared_ptr<const net::TlsClientContext> tls_context;
};

// Why a connection failed before opening (what on_connect_error's message describes).
enum class ConnectFailure {
  none,
  unreachable,  // the TCP connect failed (refused, unreachable, timed out)
  tls,          // the TLS handshake failed (certificate, protocol)
  timeout,      // no complete answer within the handshake timeout
  http_status,  // the server answered with an HTTP status other than 101 (http_status(), body())
  handshake,    // a 101 that breaks RFC 6455 (accept key, subprotocol, extensions), or not HTTP
  closed,       // the server closed the connection before answering
};

class ClientSocket final : public WebSocket {
 public:
  // Starts connecting to `url` (ws:// or wss://). The socket owns itself: it is destroyed after
  // handler.on_close() or handler.on_connect_error(). Returns nullptr with `error` set if the
  // connection cannot even start (unresolvable host, unreadable CA file). `options` and
  // `handler` must outlive the socket.
  static ClientSocket* connect(net::EventLoop& loop, const Url& url, const ClientOptions& options,
                               WebSocketHandler& handler, std::string* error);
  ~ClientSocket() override;

  // Called from the destructor: the socket no longer uses its options or handler, so a handler
  // that lives exactly as long as its socket can delete itself (with the options) here.
  void set_on_destroyed(std::function<void()> callback) { on_destroyed_ = std::move(callback); }

  // After on_connect_error: what failed, and for `http_status` the status, its reason phrase
  // and the start of the response body (at most kMaxRefusalBody bytes).
  ConnectFailure failure() const { return failure_; }
  int http_status() const { return http_status_; }
  const std::string& http_reason() const { return http_reason_; }
  const std::string& body() const { return body_; }
  static constexpr std::size_t kMaxRefusalBody = 4096;

 private:
  ClientSocket(net::EventLoop& loop, int fd, std::unique_ptr<net::TlsSession> tls, const Url& url,
               const ClientOptions& options, WebSocketHandler& handler);

  void on_handshake_data(std::span<std::uint8_t> data) override;
  void on_handshake_timeout() override;
  void on_handshake_eof(int error) override;
  void on_tls_failed() override;
  void fail_connect(ConnectFailure failure, const std::string& error);
  // A status other than 101: keep reading the body (up to its Content-Length, EOF or the
  // handshake timeout) so that the error can show what the server said.
  void start_refusal(const http::Response& response, std::size_t head_length);
  void collect_refusal_body(std::span<const std::uint8_t> data);
  void fail_with_refusal();

  const ClientOptions& client_options_;
  ClientHandshakeOptions handshake_;  // the options' handshake plus our extension offer
  std::string key_;
  std::string head_;  // the response head while it arrives
  std::string peer_;  // host:port, for error messages
  ConnectFailure failure_ = ConnectFailure::none;
  int http_status_ = 0;  // non-zero while the body of a refusal is being read
  std::string http_reason_;
  std::string body_;
  std::size_t body_expected_ = SIZE_MAX;  // Content-Length of the refusal, if it has one
  std::function<void()> on_destroyed_;
};

}  // namespace gw::ws
