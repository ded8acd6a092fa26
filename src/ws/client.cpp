#include "ws/client.hpp"

namespace gw::ws {

ClientSocket* ClientSocket::connect(net::EventLoop& loop, const Url& url,
                                    const ClientOptions& options, WebSocketHandler& handler,
                                    std::string* error) {
  if (url.secure) {
    if (error != nullptr) *error = "wss:// is not supported yet (TLS is not implemented)";
    return nullptr;
  }
  const int fd = net::connect_tcp({url.host, url.port}, error);
  if (fd < 0) return nullptr;
  return new ClientSocket(loop, fd, url, options, handler);
}

ClientSocket::ClientSocket(net::EventLoop& loop, int fd, const Url& url,
                           const ClientOptions& options, WebSocketHandler& handler)
    : WebSocket(loop, fd, Role::client, options.socket, handler),
      client_options_(options),
      handshake_(options.handshake),
      key_(make_client_key()) {
  if (options.socket.deflate.enabled) {
    handshake_.extensions = deflate_offer(options.socket.deflate);
    handshake_.verify_extensions = [&deflate = options.socket.deflate](std::string_view answer) {
      std::string error;
      return parse_deflate_response(answer, deflate, &error) ? std::string() : error;
    };
  }
  // The connect is still in progress: the request waits in the write queue and goes out when
  // the socket becomes writable. A refused connect shows up as an error on the read side.
  const std::string request = build_client_request(url, key_, handshake_);
  write(reinterpret_cast<const std::uint8_t*>(request.data()), request.size());
}

void ClientSocket::on_handshake_data(std::span<std::uint8_t> data) {
  head_.append(reinterpret_cast<const char*>(data.data()), data.size());
  http::Response response;
  const http::ParseResult parsed =
      http::parse_response(head_, response, client_options_.http_limits);
  switch (parsed.status) {
    case http::ParseStatus::incomplete:
      return;
    case http::ParseStatus::bad_request:
      fail_connect("malformed HTTP response from the server");
      return;
    case http::ParseStatus::head_too_large:
      fail_connect("HTTP response head too large");
      return;
    case http::ParseStatus::complete:
      break;
  }
  ClientHandshake result = verify_server_response(response, key_, handshake_);
  if (!result.ok) {
    fail_connect("handshake refused: " + result.error);
    return;
  }
  // Frames the server sent right behind its answer are in head_ after the head.
  std::string leftover = head_.substr(parsed.head_length);
  head_.clear();
  head_.shrink_to_fit();
  open(std::move(result.subprotocol), std::move(result.extensions),
       {reinterpret_cast<std::uint8_t*>(leftover.data()), leftover.size()});
}

void ClientSocket::on_handshake_timeout() {
  fail_connect("timed out connecting");
}

void ClientSocket::on_handshake_eof() {
  fail_connect(head_.empty() ? "connection refused or closed before the handshake"
                             : "connection closed during the handshake");
}

void ClientSocket::fail_connect(const std::string& error) {
  handler().on_connect_error(*this, error);
  WebSocket::close();  // during the handshake: drops the connection
}

}  // namespace gw::ws
