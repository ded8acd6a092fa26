// Plain-HTTP routes next to the WebSocket endpoint: synchronous and asynchronous answers, POST
// bodies and their limits, and the upgrade hook that may refuse a handshake or prepare a socket.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "http/response.hpp"
#include "net/event_loop.hpp"
#include "net/tcp.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"
#include "ws/test_peers.hpp"

namespace gw::ws {
namespace {

// Sends `request` on a fresh connection and returns everything the server sends until it
// closes (or 5 s pass).
std::string exchange(std::uint16_t port, const std::string& request) {
  std::string error;
  const int fd = net::connect_tcp({"127.0.0.1", port}, &error);
  pollfd p{fd, POLLOUT, 0};
  ::poll(&p, 1, 2000);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      break;
    } else {
      p = {fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
  }
  std::string answer;
  char buffer[65536];
  const std::uint64_t deadline = net::monotonic_ms() + 5000;
  while (net::monotonic_ms() < deadline) {
    p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      answer.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;
    }
  }
  ::close(fd);
  return answer;
}

std::string post(const std::string& path, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "\r\n" + body;
}

struct RoutesFixture : ::testing::Test {
  void start(ServerOptions options = {}) {
    options.listen = {"127.0.0.1", 0};
    options.max_http_body = 1000;
    server = std::make_unique<Server>(options, handler);
    server->route("GET", "/sync", [](const http::Request& request) {
      return http::format_response({200, {}}, "sync " + std::string(request.query()), true);
    });
    // Answers later: the reply is sent from a task posted to the connection's loop, as a route
    // that asked another thread would.
    server->route_async("POST", "/api/*", [](const HttpExchange& e, HttpReply reply) {
      std::string answer = std::string(e.request.path()) + " " + std::string(e.body) + " from " +
                           std::string(e.peer);
      e.loop.post([reply, answer] { reply.send(http::format_response({200, {}}, answer, true)); });
    });
    server->route_async("GET", "/never", [](const HttpExchange&, HttpReply) {});
    server->start();
  }
  void TearDown() override {
    if (server) {
      server->shutdown();
      server->wait();
    }
  }
  EchoHandler handler;
  std::unique_ptr<Server> server;
};

TEST_F(RoutesFixture, SyncRouteAnswers) {
  start();
  const std::string answer = exchange(server->port(), "GET /sync?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("sync a=1"), std::string::npos) << answer;
}

TEST_F(RoutesFixture, AsyncRouteGetsTheBodyAndAnswersLater) {
  start();
  const std::string answer = exchange(server->port(), post("/api/v2/public/test", "{\"x\":1}"));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("/api/v2/public/test {\"x\":1} from 127.0.0.1"), std::string::npos)
      << answer;
}

TEST_F(RoutesFixture, BodyArrivingInPiecesIsAwaited) {
  start();
  std::string error;
  const int fd = net::connect_tcp({"127.0.0.1", server->port()}, &error);
  pollfd p{fd, POLLOUT, 0};
  ::poll(&p, 1, 2000);
  const std::string request = post("/api/x", "0123456789");
  for (char c : request) {
    ASSERT_EQ(::send(fd, &c, 1, MSG_NOSIGNAL), 1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::string answer;
  char buffer[4096];
  for (int i = 0; i < 100 && answer.find("0123456789") == std::string::npos; ++i) {
    p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  EXPECT_NE(answer.find("/api/x 0123456789"), std::string::npos) << answer;
}

TEST_F(RoutesFixture, BodyLimitsAndFramingAreEnforced) {
  start();
  EXPECT_EQ(
      exchange(server->port(), post("/api/x", std::string(1001, 'a'))).rfind("HTTP/1.1 413", 0),
      0u);
  EXPECT_EQ(
      exchange(server->port(),
               "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
          .rfind("HTTP/1.1 501", 0),
      0u);
  EXPECT_EQ(exchange(server->port(),
                     "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
                     "\r\nabcdef")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(
      exchange(server->port(), "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n")
          .rfind("HTTP/1.1 400", 0),
      0u);
  EXPECT_EQ(
      exchange(server->port(), "GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 405", 0),
      0u);
}

TEST_F(RoutesFixture, UnansweredRouteIsDroppedAtTheHandshakeTimeout) {
  ServerOptions options;
  options.socket.handshake_timeout_s = 0.2;
  start(options);
  const std::uint64_t begin = net::monotonic_ms();
  EXPECT_EQ(exchange(server->port(), "GET /never HTTP/1.1\r\nHost: x\r\n\r\n"), "");
  EXPECT_LT(net::monotonic_ms() - begin, 3000u);
}

TEST(UpgradeHook, RefusesOrPreparesTheSocket) {
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  std::atomic<int> prepared{0};
  options.on_upgrade = [&](const http::Request& request, WebSocket& socket) -> std::string {
    const auto auth = request.headers.get("Authorization");
    if (!auth || *auth != "Bearer good") {
      return http::error_response(401, "unauthorized", {{"WWW-Authenticate", "Bearer"}});
    }
    socket.user_data = &prepared;
    ++prepared;
    return {};
  };
  EchoHandler handler;
  Server server(options, handler);
  server.start();
  const Url url = *parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/");
  net::EventLoop loop;
  RecordingClient refused, accepted;
  ClientOptions bad, good;
  bad.handshake.headers = {{"Authorization", "Bearer bad"}};
  good.handshake.headers = {{"Authorization", "Bearer good"}};
  accepted.on_open_action = [](WebSocket& socket) { socket.close(); };
  std::string error;
  ASSERT_NE(ClientSocket::connect(loop, url, bad, refused, &error), nullptr);
  ASSERT_NE(ClientSocket::connect(loop, url, good, accepted, &error), nullptr);
  net::Timer deadline([&] { loop.stop(); });
  loop.timers().arm(deadline, net::monotonic_ms() + 5000);
  loop.stop_when_no_connections();
  loop.run();
  server.shutdown();
  server.wait();
  EXPECT_FALSE(refused.opened);
  EXPECT_NE(refused.connect_error.find("401"), std::string::npos) << refused.connect_error;
  EXPECT_TRUE(accepted.opened) << accepted.connect_error;
  EXPECT_EQ(prepared, 1);
}

}  // namespace
}  // namespace gw::ws
