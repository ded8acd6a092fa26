#include "ws/client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
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

ClientSocket::~ClientSocket() {
  if (on_destroyed_) on_destroyed_();
}

void ClientSocket::on_handshake_data(std::span<std::uint8_t> data) {
  if (http_status_ != 0) {
    collect_refusal_body(data);
    return;
  }
  head_.append(reinterpret_cast<const char*>(data.data()), data.size());
  http::Response response;
  const http::ParseResult parsed =
      http::parse_response(head_, response, client_options_.http_limits);
  switch (parsed.status) {
    case http::ParseStatus::incomplete:
      return;
    case http::ParseStatus::bad_request:
      fail_connect(ConnectFailure::handshake, "malformed HTTP response from " + peer_);
      return;
    case http::ParseStatus::head_too_large:
      fail_connect(ConnectFailure::handshake, "HTTP response head too large from " + peer_);
      return;
    case http::ParseStatus::complete:
      break;
  }
  if (response.status != 101) {
    start_refusal(response, parsed.head_length);
    return;
  }
  ClientHandshake result = verify_server_response(response, key_, handshake_);
  if (!result.ok) {
    fail_connect(ConnectFailure::handshake, "handshake refused: " + result.error);
    return;
  }
  // Frames the server sent right behind its answer are in head_ after the head.
  std::string leftover = head_.substr(parsed.head_length);
  head_.clear();
  head_.shrink_to_fit();
  open(std::move(result.subprotocol), std::move(result.extensions),
       {reinterpret_cast<std::uint8_t*>(leftover.data()), leftover.size()});
}

void ClientSocket::start_refusal(const http::Response& response, std::size_t head_length) {
  http_status_ = response.status;
  http_reason_.assign(response.reason);
  if (const auto length = response.headers.get("Content-Length")) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
    if (ec == std::errc() && end == length->data() + length->size()) body_expected_ = n;
  }
  const std::string rest = head_.substr(head_length);
  head_.clear();
  collect_refusal_body({reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()});
}

void ClientSocket::collect_refusal_body(std::span<const std::uint8_t> data) {
  const std::size_t room = kMaxRefusalBody - std::min(kMaxRefusalBody, body_.size());
  body_.append(reinterpret_cast<const char*>(data.data()), std::min(room, data.size()));
  // Enough to show: the whole body, or as much of it as we keep.
  if (body_.size() >= std::min(body_expected_, kMaxRefusalBody)) fail_with_refusal();
}

void ClientSocket::fail_with_refusal() {
  std::string message = "the server answered HTTP " + std::to_string(http_status_);
  if (!http_reason_.empty()) message += " " + http_reason_;
  message += " instead of 101 Switching Protocols";
  if (!body_.empty()) message += ": " + body_;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  fail_connect(ConnectFailure::http_status, message);
}

void ClientSocket::on_handshake_timeout() {
  if (http_status_ != 0) {
    fail_with_refusal();  // the body never completed: show what came
    return;
  }
  fail_connect(ConnectFailure::timeout, "timed out connecting to " + peer_);
}

void ClientSocket::on_handshake_eof(int error) {
  if (http_status_ != 0) {
    fail_with_refusal();
    return;
  }
  // With TLS 1.3 the server judges our certificate after our side of the handshake is done:
  // its verdict arrives as an alert on the first read.
  if (tls() != nullptr && !tls()->error().empty()) {
    std::string message = "TLS error from " + peer_ + ": " + tls()->error();
    if (tls()->certificate_requested()) {
      message += tls()->has_own_certificate()
                     ? " (the server asked for a client certificate and may have refused ours)"
                     : " (the server asked for a client certificate and none is configured)";
    }
    fail_connect(ConnectFailure::tls, message);
    return;
  }
  if (error != 0 && head_.empty()) {
    fail_connect(ConnectFailure::unreachable,
                 "cannot connect to " + peer_ + ": " + std::strerror(error));
    return;
  }
  fail_connect(ConnectFailure::closed, head_.empty()
                                           ? peer_ + " closed the connection before answering"
                                           : peer_ + " closed the connection during the handshake");
}

void ClientSocket::on_tls_failed() {
  // A refused or unreachable connect surfaces as the first handshake write failing.
  const int error = tls()->system_error();
  if (error == ECONNREFUSED || error == ENETUNREACH || error == EHOSTUNREACH ||
      error == ETIMEDOUT) {
    fail_connect(ConnectFailure::unreachable,
                 "cannot connect to " + peer_ + ": " + std::strerror(error));
    return;
  }
  fail_connect(ConnectFailure::tls, "TLS handshake with " + peer_ + " failed: " + tls()->error());
}

void ClientSocket::fail_connect(ConnectFailure failure, const std::string& error) {
  failure_ = failure;
  handler().on_connect_error(*this, error);
  WebSocket::close();  // during the handshake: drops the connection
}

}  // namespace gw::ws
