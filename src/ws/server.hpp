// A WebSocket server: one event loop per thread, each with its own SO_REUSEPORT listener, so
// the kernel spreads connections across threads and no lock is taken on the hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/parser.hpp"
#include "http/router.hpp"
#include "net/tcp.hpp"
#include "ws/handshake.hpp"
#include "ws/websocket.hpp"

namespace gw::ws {

class WebSocket;

// Called for each valid upgrade request before the 101, on the connection's loop thread: may
// refuse it (return the complete HTTP response, e.g. a 401) or prepare the socket (user_data)
// from the request's headers (Authorization, the client certificate). Empty string: accept.
using UpgradeHook = std::function<std::string(const http::Request&, WebSocket&)>;

struct ServerOptions {
  net::Endpoint listen{"127.0.0.1", 9001};
  int threads = 1;
  SocketOptions socket;  // protocol options, timeouts, flow control
  ServerHandshakeOptions handshake;
  http::Limits http_limits;
  std::size_t max_http_body = 1 << 20;      // plain-HTTP request bodies (POST); larger: 413
  std::optional<net::TlsServerConfig> tls;  // set: every connection is TLS (wss://, https://)
  UpgradeHook on_upgrade;
};

// A plain-HTTP route (for requests that are not WebSocket upgrades): returns the complete
// response bytes. The connection is closed after the answer.
using HttpRoute = std::function<std::string(const http::Request&)>;

// The answer to a plain-HTTP request, given at most once, now or later, on the loop thread of
// the connection (HttpExchange::loop). If the connection is gone by then, nothing happens; if
// it is never given, the connection is dropped at the handshake timeout.
class HttpReply {
 public:
  struct Slot;
  HttpReply() = default;
  explicit HttpReply(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
  void send(const std::string& response) const;
  bool pending() const;  // not answered yet and the connection is still there

 private:
  std::shared_ptr<Slot> slot_;
};

// What an asynchronous route sees. The views point into the connection's buffers and are
// valid only during the call: copy what the answer will need.
struct HttpExchange {
  const http::Request& request;
  std::string_view body;  // Content-Length bytes (POST), empty otherwise
  std::string_view peer;  // the client's IP address
  net::EventLoop& loop;   // where HttpReply::send must be called
  const net::TlsSession* tls;
};
using AsyncHttpRoute = std::function<void(const HttpExchange&, HttpReply)>;

class Server {
 public:
  Server(ServerOptions options, WebSocketHandler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a plain-HTTP route (an exact path or a "/prefix/*"); call before start().
  void route(std::string method, std::string path, HttpRoute route);
  // The same for routes that answer later (after asking another thread).
  void route_async(std::string method, std::string path, AsyncHttpRoute route);
  // The loop threads, so that other threads can hand them work (Server::post).
  std::size_t threads() const { return workers_.size(); }
  net::EventLoop& loop(std::size_t thread);
  void post(std::size_t thread, std::function<void()> task);
  // Loads the TLS certificates (throws std::runtime_error with the reason), binds the
  // listeners (throws std::system_error) and starts the loop threads.
  void start();
  // Thread-safe: loads the certificates, keys and client CA again from their files. New
  // connections use them; established ones keep theirs. On failure the old ones stay in use
  // and `error` says why.
  bool reload_tls(std::string* error);
  // The TLS context new connections get (nullptr without TLS).
  std::shared_ptr<const net::TlsServerContext> tls_context() const;
  // The bound port (useful with port 0).
  std::uint16_t port() const { return port_; }
  // Thread-safe, idempotent: stops accepting, sends close 1001 to every open connection, waits
  // for the close handshakes up to the close timeout, then stops the loops.
  void shutdown();
  // Joins the loop threads.
  void wait();

  struct Worker;  // one loop thread (defined in server.cpp)

 private:
  ServerOptions options_;
  WebSocketHandler& handler_;
  http::Router<AsyncHttpRoute> router_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
  std::atomic<bool> shutting_down_{false};
  mutable std::mutex tls_mutex_;
  std::shared_ptr<const net::TlsServerContext> tls_context_;
};

}  // namespace gw::ws
