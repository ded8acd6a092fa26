// Why a client connection failed, as ClientSocket reports it: a refused connect names the
// errno, an HTTP status other than 101 comes with its reason phrase and body, and the socket
// tells its handler when it is destroyed (so that a handler can live exactly as long).
#include <gtest/gtest.h>

#include <string>

#include "http/response.hpp"
#include "net/event_loop.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"
#include "ws/test_peers.hpp"

namespace gw::ws {
namespace {

// Records the failure the socket reports, read from the socket itself.
class FailureRecorder : public RecordingClient {
 public:
  void on_connect_error(WebSocket& socket, std::string_view error) override {
    RecordingClient::on_connect_error(socket, error);
    const auto& client = static_cast<const ClientSocket&>(socket);
    failure = client.failure();
    status = client.http_status();
    reason = client.http_reason();
    body = client.body();
  }
  ConnectFailure failure = ConnectFailure::none;
  int status = 0;
  std::string reason, body;
};

void run(net::EventLoop& loop, const std::string& url, WebSocketHandler& handler,
         const ClientOptions& options, bool* destroyed) {
  std::string error;
  ClientSocket* socket = ClientSocket::connect(loop, *parse_url(url), options, handler, &error);
  ASSERT_NE(socket, nullptr) << error;
  socket->set_on_destroyed([destroyed] { *destroyed = true; });
  net::Timer deadline([&] { loop.stop(); });
  loop.timers().arm(deadline, net::monotonic_ms() + 10'000);
  loop.stop_when_no_connections();
  loop.run();
}

TEST(ClientFailure, ARefusedConnectNamesTheReason) {
  const int fd = net::listen_tcp({"127.0.0.1", 0}, false);
  const std::uint16_t port = net::local_port(fd);
  ::close(fd);
  net::EventLoop loop;
  FailureRecorder client;
  bool destroyed = false;
  ClientOptions options;
  run(loop, "ws://127.0.0.1:" + std::to_string(port) + "/", client, options, &destroyed);
  EXPECT_EQ(client.failure, ConnectFailure::unreachable);
  EXPECT_NE(client.connect_error.find("Connection refused"), std::string::npos)
      << client.connect_error;
  EXPECT_TRUE(destroyed);
}

TEST(ClientFailure, AnHttpStatusComesWithItsBody) {
  EchoHandler handler;
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  options.on_upgrade = [](const http::Request&, WebSocket&) {
    return http::error_response(404, "the WebSocket API is at /ws/api/v2");
  };
  Server server(options, handler);
  server.start();
  net::EventLoop loop;
  FailureRecorder client;
  bool destroyed = false;
  ClientOptions client_options;
  run(loop, "ws://127.0.0.1:" + std::to_string(server.port()) + "/x", client, client_options,
      &destroyed);
  server.shutdown();
  server.wait();
  EXPECT_FALSE(client.opened);
  EXPECT_EQ(client.failure, ConnectFailure::http_status);
  EXPECT_EQ(client.status, 404);
  EXPECT_EQ(client.reason, "Not Found");
  EXPECT_NE(client.body.find("the WebSocket API is at /ws/api/v2"), std::string::npos)
      << client.body;
  EXPECT_NE(client.connect_error.find("HTTP 404 Not Found instead of 101"), std::string::npos)
      << client.connect_error;
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace gw::ws
