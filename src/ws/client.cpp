#include "ws/client.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gw::ws {

ClientSocket* ClientSocket::connect(net::EventLoop& loop, const Url& url,
                                    const ClientOptions& options, WebSocketHandler& handler,
                                    std::string* error) {
  std::shared_ptr<const net::TlsClientContext> context = options.tls_context;
  if (url.secure && !context) {
    context = net::TlsClientContext::create(options.tls, error);
    if (!context) return nullptr;
  }
  const int fd = net::connect_tcp({url.host, url.port}, error);
  if (fd < 0) return nullptr;
  std::unique_ptr<net::TlsSession> tls;
  if (url.secure) {
    tls = net::TlsSession::client(std::move(context), fd, url.host, error);
    if (!tls) {
      ::close(fd);
      return nullptr;
    }
  }
  return new ClientSocket(loop, fd, std::move(tls), url, options, handler);
}

ClientSocket::ClientSocket(net::EventLoop& loop, int fd, std::unique_ptr<net::TlsSession> tls,
                           const Url& url, const ClientOptions& options, WebSocketHandler& handler)
    : WebSocket(loop, fd, std::move(tls), Role::client, options.socket, handler),
      client_options_(options),
      handshake_(options.handshake),
      key_(make_client_key()),
      peer_(url.host + ":" + std::to_string(url.port)) {
  if (options.socket.deflate.enabled) {
    handshake_.extensions = deflate_offer(options.socket.deflate);
    handshake_.verify_extensions = [&deflate = options.socket.deflate](std::string_view answer) {
      std::string error;
      return parse_deflate_response(answer, deflate, &error) ? std::string() : error;
    };
  }
  // The connect (and the TLS handshake) is still in progress: the request waits in the write
  // queue and goes out when the socket becomes writable. A refused connect shows up as an error
  // on the read side.
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
  // With TLS 1.3 the server judges our certificate after our side of the handshake is done:
  // its verdict arrives as an alert on the first read.
  if (tls() != nullptr && !tls()->error().empty()) {
    std::string message = "TLS error from " + peer_ + ": " + tls()->error();
    if (tls()->certificate_requested()) {
      message += tls()->has_own_certificate()
                     ? " (the server asked for a client certificate and may have refused ours)"
                     : " (the server asked for a client certificate and none is configured)";
    }
    fail_connect(message);
    return;
  }
  fail_connect(head_.empty() ? "connection refused or closed before the handshake"
                             : "connection closed during the handshake");
}

void ClientSocket::on_tls_failed() {
  // A refused or unreachable connect surfaces as the first handshake write failing.
  const int error = tls()->system_error();
  if (error == ECONNREFUSED || error == ENETUNREACH || error == EHOSTUNREACH ||
      error == ETIMEDOUT) {
    fail_connect("cannot connect to " + peer_ + ": " + std::strerror(error));
    return;
  }
  fail_connect("TLS handshake with " + peer_ + " failed: " + tls()->error());
}

void ClientSocket::fail_connect(const std::string& error) {
  handler().on_connect_error(*this, error);
  WebSocket::close();  // during the handshake: drops the connection
}

}  // namespace gw::ws
