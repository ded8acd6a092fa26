// The client role: connect, send the opening handshake, verify the answer, then the same
// WebSocket as on the server side (frames masked, the server closes TCP first).
#pragma once

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

class ClientSocket final : public WebSocket {
 public:
  // Starts connecting to `url` (ws:// or wss://). The socket owns itself: it is destroyed after
  // handler.on_close() or handler.on_connect_error(). Returns nullptr with `error` set if the
  // connection cannot even start (unresolvable host, unreadable CA file). `options` and
  // `handler` must outlive the socket.
  static ClientSocket* connect(net::EventLoop& loop, const Url& url, const ClientOptions& options,
                               WebSocketHandler& handler, std::string* error);

 private:
  ClientSocket(net::EventLoop& loop, int fd, std::unique_ptr<net::TlsSession> tls, const Url& url,
               const ClientOptions& options, WebSocketHandler& handler);

  void on_handshake_data(std::span<std::uint8_t> data) override;
  void on_handshake_timeout() override;
  void on_handshake_eof() override;
  void on_tls_failed() override;
  void fail_connect(const std::string& error);

  const ClientOptions& client_options_;
  ClientHandshakeOptions handshake_;  // the options' handshake plus our extension offer
  std::string key_;
  std::string head_;  // the response head while it arrives
  std::string peer_;  // host:port, for error messages
};

}  // namespace gw::ws
