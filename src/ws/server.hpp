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

struct ServerOptions {
  net::Endpoint listen{"127.0.0.1", 9001};
  int threads = 1;
  SocketOptions socket;  // protocol options, timeouts, flow control
  ServerHandshakeOptions handshake;
  http::Limits http_limits;
  std::optional<net::TlsServerConfig> tls;  // set: every connection is TLS (wss://, https://)
};

// A plain-HTTP route (for requests that are not WebSocket upgrades): returns the complete
// response bytes. The connection is closed after the answer.
using HttpRoute = std::function<std::string(const http::Request&)>;

class Server {
 public:
  Server(ServerOptions options, WebSocketHandler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a plain-HTTP route; call before start().
  void route(std::string method, std::string path, HttpRoute route);
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
  http::Router<HttpRoute> router_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
  std::atomic<bool> shutting_down_{false};
  mutable std::mutex tls_mutex_;
  std::shared_ptr<const net::TlsServerContext> tls_context_;
};

}  // namespace gw::ws
