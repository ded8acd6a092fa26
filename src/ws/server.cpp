#include "ws/server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "http/response.hpp"

namespace gw::ws {

class ServerSocket;

struct HttpReply::Slot {
  ServerSocket* socket = nullptr;  // null once answered or closed
};

struct Server::Worker : net::IoHandler {
  Worker(Server& owner, const ServerOptions& server_options, WebSocketHandler& socket_handler,
         const http::Router<AsyncHttpRoute>& http_router)
      : server(owner), options(server_options), handler(socket_handler), router(http_router) {}

  ~Worker() override {
    if (listen_fd >= 0) ::close(listen_fd);
  }

  void on_io(std::uint32_t events) override;  // the listener is readable: accept
  void begin_shutdown();
  void forget(ServerSocket* socket);

  Server& server;
  const ServerOptions& options;
  WebSocketHandler& handler;
  const http::Router<AsyncHttpRoute>& router;
  net::EventLoop loop;
  net::Timer shutdown_timer;
  int listen_fd = -1;
  bool shutting_down = false;
  ServerSocket* sockets = nullptr;  // intrusive list of live connections
  std::thread thread;
};

// The server side of one connection: reads the HTTP request, answers a route, refuses a bad
// handshake, or upgrades.
class ServerSocket final : public WebSocket {
 public:
  ServerSocket(Server::Worker& worker, int fd, std::unique_ptr<net::TlsSession> tls)
      : WebSocket(worker.loop, fd, std::move(tls), Role::server, worker.options.socket,
                  worker.handler),
        worker_(worker) {
    next_ = worker_.sockets;
    if (next_ != nullptr) next_->prev_ = this;
    worker_.sockets = this;
  }

  ~ServerSocket() override {
    if (reply_) reply_->socket = nullptr;
    worker_.forget(this);
  }

  ServerSocket* prev_ = nullptr;
  ServerSocket* next_ = nullptr;

  // A plain-HTTP answer: written, then the connection winds down.
  void refuse(const std::string& response) {
    if (reply_) reply_->socket = nullptr;
    reply_.reset();
    write(reinterpret_cast<const std::uint8_t*>(response.data()), response.size());
    head_.clear();
    head_.shrink_to_fit();
    finish_without_open();
  }

 private:
  void on_handshake_data(std::span<std::uint8_t> data) override {
    if (reply_) return;  // a route is answering; nothing more is read
    head_.append(reinterpret_cast<const char*>(data.data()), data.size());
    http::Request request;
    const http::ParseResult parsed =
        http::parse_request(head_, request, worker_.options.http_limits);
    switch (parsed.status) {
      case http::ParseStatus::incomplete:
        return;
      case http::ParseStatus::bad_request:
        refuse(http::error_response(400, "malformed HTTP request"));
        return;
      case http::ParseStatus::head_too_large:
        refuse(http::error_response(431, "request header fields too large"));
        return;
      case http::ParseStatus::complete:
        break;
    }
    if (!is_upgrade_request(request)) {
      const auto match = worker_.router.match(request.method, request.path());
      if (match.status == http::RouteStatus::found) {
        call_route(*match.handler, request, parsed.head_length);
        return;
      }
      if (match.status == http::RouteStatus::method_not_allowed) {
        refuse(http::error_response(405, "method not allowed", {{"Allow", match.allow}}));
        return;
      }
      if (request.method == "GET") {
        // A plain GET on a WebSocket endpoint (a browser typing the URL, a health probe).
        refuse(http::error_response(426, "this is a WebSocket endpoint",
                                    {{"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}}));
        return;
      }
    }
    ServerHandshake handshake = accept_upgrade(request, worker_.options.handshake);
    if (!handshake.accepted) {
      refuse(handshake.response);
      return;
    }
    if (worker_.options.on_upgrade) {
      const std::string refusal = worker_.options.on_upgrade(request, *this);
      if (!refusal.empty()) {
        refuse(refusal);
        return;
      }
    }
    write(reinterpret_cast<const std::uint8_t*>(handshake.response.data()),
          handshake.response.size());
    // Frames the client pipelined behind its request are in head_ after the head.
    std::string leftover = head_.substr(parsed.head_length);
    head_.clear();
    head_.shrink_to_fit();
    open(std::move(handshake.subprotocol), std::move(handshake.extensions),
         {reinterpret_cast<std::uint8_t*>(leftover.data()), leftover.size()});
  }

  // Waits for the body (Content-Length), then hands the request to the route.
  void call_route(const AsyncHttpRoute& route, const http::Request& request,
                  std::size_t head_length) {
    std::size_t length = 0;
    switch (http::request_body(request, length)) {
      case http::BodyFraming::bad:
        refuse(http::error_response(400, "bad Content-Length"));
        return;
      case http::BodyFraming::unsupported:
        refuse(http::error_response(501, "Transfer-Encoding is not supported"));
        return;
      case http::BodyFraming::none:
      case http::BodyFraming::length:
        break;
    }
    if (length > worker_.options.max_http_body) {
      refuse(http::error_response(413, "request body too large"));
      return;
    }
    if (head_.size() < head_length + length) return;  // more body to come
    reply_ = std::make_shared<HttpReply::Slot>();
    reply_->socket = this;
    const std::string peer = peer_address();
    const HttpExchange exchange{request, std::string_view(head_).substr(head_length, length), peer,
                                loop(), tls()};
    route(exchange, HttpReply(reply_));
  }

  Server::Worker& worker_;
  std::string head_;  // the request head (and a plain-HTTP body) while it arrives
  std::shared_ptr<HttpReply::Slot> reply_;  // a route is answering this request
};

void HttpReply::send(const std::string& response) const {
  if (!slot_ || slot_->socket == nullptr) return;
  ServerSocket* socket = slot_->socket;
  slot_->socket = nullptr;
  socket->refuse(response);
}

bool HttpReply::pending() const {
  return slot_ && slot_->socket != nullptr;
}

void Server::Worker::on_io(std::uint32_t /*events*/) {
  while (listen_fd >= 0) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) std::perror("accept");
      return;
    }
    net::set_no_delay(fd);
    std::unique_ptr<net::TlsSession> tls;
    if (auto context = server.tls_context()) {
      tls = net::TlsSession::server(std::move(context), fd);
      if (!tls) {
        ::close(fd);
        continue;
      }
    }
    new ServerSocket(*this, fd, std::move(tls));  // owns itself; destroyed by the loop when closed
  }
}

void Server::Worker::forget(ServerSocket* socket) {
  if (socket->prev_ != nullptr) {
    socket->prev_->next_ = socket->next_;
  } else {
    sockets = socket->next_;
  }
  if (socket->next_ != nullptr) socket->next_->prev_ = socket->prev_;
  if (shutting_down && sockets == nullptr) loop.stop();
}

void Server::Worker::begin_shutdown() {
  if (shutting_down) return;
  shutting_down = true;
  if (listen_fd >= 0) {
    loop.remove(listen_fd);
    ::close(listen_fd);
    listen_fd = -1;
  }
  if (sockets == nullptr) {
    loop.stop();
    return;
  }
  // Closing may destroy sockets later in this batch, never now: walking the list is safe.
  for (ServerSocket* socket = sockets; socket != nullptr; socket = socket->next_) {
    socket->close(close_code::going_away, "server shutting down");
  }
  shutdown_timer.set_callback([this] { loop.stop(); });
  loop.timers().arm(
      shutdown_timer,
      loop.now_ms() + static_cast<std::uint64_t>(options.socket.close_timeout_s * 1000.0 + 1.0));
}

Server::Server(ServerOptions options, WebSocketHandler& handler)
    : options_(std::move(options)), handler_(handler) {
  if (options_.socket.deflate.enabled && !options_.handshake.negotiate_extensions) {
    options_.handshake.negotiate_extensions =
        [deflate = options_.socket.deflate](std::string_view offers) {
          return negotiate_deflate(offers, deflate);
        };
  }
  if (options_.threads < 1) options_.threads = 1;
}

Server::~Server() {
  shutdown();
  wait();
}

void Server::route(std::string method, std::string path, HttpRoute route) {
  route_async(std::move(method), std::move(path),
              [route = std::move(route)](const HttpExchange& exchange, HttpReply reply) {
                reply.send(route(exchange.request));
              });
}

void Server::route_async(std::string method, std::string path, AsyncHttpRoute route) {
  router_.add(std::move(method), std::move(path), std::move(route));
}

net::EventLoop& Server::loop(std::size_t thread) {
  return workers_.at(thread)->loop;
}

void Server::post(std::size_t thread, std::function<void()> task) {
  workers_.at(thread)->loop.post(std::move(task));
}

bool Server::reload_tls(std::string* error) {
  if (!options_.tls) {
    if (error != nullptr) *error = "TLS is not enabled";
    return false;
  }
  auto context = net::TlsServerContext::create(*options_.tls, error);
  if (!context) return false;
  std::lock_guard lock(tls_mutex_);
  tls_context_ = std::move(context);
  return true;
}

std::shared_ptr<const net::TlsServerContext> Server::tls_context() const {
  std::lock_guard lock(tls_mutex_);
  return tls_context_;
}

void Server::start() {
  std::string error;
  if (options_.tls && !reload_tls(&error)) throw std::runtime_error(error);
  net::Endpoint endpoint = options_.listen;
  for (int i = 0; i < options_.threads; ++i) {
    auto worker = std::make_unique<Worker>(*this, options_, handler_, router_);
    worker->listen_fd = net::listen_tcp(endpoint, options_.threads > 1);
    // With port 0 the first listener picks the port; the others must share it.
    if (i == 0) {
      port_ = net::local_port(worker->listen_fd);
      endpoint.port = port_;
    }
    worker->loop.add(worker->listen_fd, EPOLLIN, worker.get());
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([w] {
      w->loop.run();
      // Whatever is left after the grace period is dropped without a handshake.
      while (w->sockets != nullptr) delete w->sockets;  // its destructor unlinks it
    });
  }
}

void Server::shutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop.post([w] { w->begin_shutdown(); });
  }
}

void Server::wait() {
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace gw::ws
