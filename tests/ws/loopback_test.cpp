// Our client against our server over loopback TCP: the event-loop glue, timeouts and shutdown.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "http/response.hpp"
#include "net/event_loop.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"
#include "ws/test_peers.hpp"

namespace gw::ws {
namespace {

struct ServerFixture : ::testing::Test {
  void start(ServerOptions options = {}) {
    options.listen = {"127.0.0.1", 0};
    server = std::make_unique<Server>(options, handler);
    server->route("GET", "/healthz", [](const http::Request&) {
      return http::format_response({200, {}}, "ok", true);
    });
    server->start();
    url = *parse_url("ws://127.0.0.1:" + std::to_string(server->port()) + "/ws");
  }
  void TearDown() override {
    if (server) {
      server->shutdown();
      server->wait();
    }
  }
  // Runs the client loop with a safety deadline so a bug cannot hang the suite.
  void run_client(RecordingClient& client, const ClientOptions& options, double seconds = 10) {
    run_client_loop(loop, url, client, options, seconds, timed_out);
  }

  EchoHandler handler;
  std::unique_ptr<Server> server;
  Url url;
  net::EventLoop loop;
  bool timed_out = false;
};

TEST_F(ServerFixture, EchoesTextAndBinaryOfManySizesThenClosesNormally) {
  start();
  RecordingClient client;
  const std::vector<std::size_t> sizes = {0, 1, 125, 126, 65535, 65536, 1 << 20};
  client.on_open_action = [&](WebSocket& socket) {
    for (std::size_t size : sizes) {
      socket.send_text(std::string(size, 'a'));
      std::vector<std::uint8_t> binary(size);
      for (std::size_t i = 0; i < size; ++i) binary[i] = static_cast<std::uint8_t>(i);
      socket.send_binary(binary);
    }
  };
  client.on_message_action = [&](WebSocket& socket) {
    if (client.messages.size() == sizes.size() * 2) socket.close(1000, "done");
  };
  run_client(client, {});
  ASSERT_FALSE(timed_out);
  ASSERT_EQ(client.messages.size(), sizes.size() * 2);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(client.messages[2 * i].first, MessageType::text);
    EXPECT_EQ(client.messages[2 * i].second.size(), sizes[i]);
    EXPECT_EQ(client.messages[2 * i + 1].first, MessageType::binary);
    ASSERT_EQ(client.messages[2 * i + 1].second.size(), sizes[i]);
    if (sizes[i] > 200) {
      EXPECT_EQ(static_cast<std::uint8_t>(client.messages[2 * i + 1].second[200]), 200);
    }
  }
  EXPECT_EQ(client.close_code, 1000);  // the server's echo of our close
}

TEST_F(ServerFixture, NegotiatesSubprotocolByServerPreference) {
  ServerOptions options;
  options.handshake.subprotocols = {"msgpack", "json"};
  start(options);
  RecordingClient client;
  client.on_open_action = [](WebSocket& socket) { socket.close(); };
  ClientOptions client_options;
  client_options.handshake.subprotocols = {"json", "msgpack"};
  run_client(client, client_options);
  EXPECT_TRUE(client.opened);
  EXPECT_EQ(client.subprotocol, "msgpack");
}

TEST_F(ServerFixture, PermessageDeflateIsNegotiatedAndMessagesRoundTrip) {
  ServerOptions options;
  options.socket.deflate.enabled = true;
  start(options);
  RecordingClient client;
  std::string extensions;
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "{\"price\":" + std::to_string(100000 + i % 37) + "},";
  client.on_open_action = [&](WebSocket& socket) {
    extensions = socket.extensions();
    socket.send_text("small");
    socket.send_text(big);
    socket.send_binary(std::vector<std::uint8_t>(70000, 7));
  };
  client.on_message_action = [&](WebSocket& socket) {
    if (client.messages.size() == 3) socket.close();
  };
  ClientOptions client_options;
  client_options.socket.deflate.enabled = true;
  run_client(client, client_options);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(extensions, "permessage-deflate");
  ASSERT_EQ(client.messages.size(), 3u);
  EXPECT_EQ(client.messages[0].second, "small");
  EXPECT_EQ(client.messages[1].second, big);
  EXPECT_EQ(client.messages[2].second, std::string(70000, '\x07'));
  EXPECT_EQ(client.close_code, 1000);
}

TEST_F(ServerFixture, DeflateOfferIsDeclinedByAServerWithoutIt) {
  start();
  RecordingClient client;
  std::string extensions = "unset";
  client.on_open_action = [&](WebSocket& socket) {
    extensions = socket.extensions();
    socket.send_text(std::string(1000, 'a'));
  };
  client.on_message_action = [](WebSocket& socket) { socket.close(); };
  ClientOptions client_options;
  client_options.socket.deflate.enabled = true;
  run_client(client, client_options);
  EXPECT_EQ(extensions, "");
  ASSERT_EQ(client.messages.size(), 1u);
}

TEST_F(ServerFixture, ShutdownSendsGoingAwayToOpenConnections) {
  start();
  RecordingClient client;
  client.on_open_action = [&](WebSocket&) { server->shutdown(); };
  run_client(client, {});
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(client.close_code, 1001);
}

TEST_F(ServerFixture, IdleConnectionIsClosedWithGoingAway) {
  ServerOptions options;
  options.socket.idle_timeout_s = 0.3;
  start(options);
  RecordingClient client;
  run_client(client, {});
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(client.close_code, 1001);
  EXPECT_EQ(client.close_reason, "idle timeout");
}

TEST_F(ServerFixture, PingsKeepAQuietPeerAlive) {
  ServerOptions options;
  options.socket.idle_timeout_s = 0.6;
  options.socket.ping_interval_s = 0.15;
  start(options);
  RecordingClient client;
  net::Timer later;
  client.on_open_action = [&](WebSocket& socket) {
    later.set_callback([&socket] { socket.close(1000, "still here"); });
    loop.timers().arm(later, net::monotonic_ms() + 1500);
  };
  run_client(client, {});
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(client.close_code, 1000) << client.close_reason;
}

TEST_F(ServerFixture, ClientCloseIsSeenByBothSides) {
  start();
  RecordingClient client;
  client.on_open_action = [](WebSocket& socket) { socket.close(4000, "bye"); };
  run_client(client, {});
  EXPECT_EQ(client.close_code, 4000);
  for (int i = 0; i < 100 && handler.closed.load() == 0; ++i) usleep(10000);
  EXPECT_EQ(handler.last_close_code.load(), 4000);
}

TEST_F(ServerFixture, MessageTooBigClosesWith1009) {
  ServerOptions options;
  options.socket.protocol.max_message_size = 1000;
  start(options);
  RecordingClient client;
  client.on_open_action = [](WebSocket& socket) { socket.send_text(std::string(1001, 'x')); };
  run_client(client, {});
  EXPECT_EQ(client.close_code, 1009);
}

TEST_F(ServerFixture, ConnectErrorIsReported) {
  start();
  const std::uint16_t port = server->port();
  server->shutdown();
  server->wait();
  server.reset();
  url = *parse_url("ws://127.0.0.1:" + std::to_string(port) + "/");
  RecordingClient client;
  run_client(client, {});
  EXPECT_FALSE(client.opened);
  EXPECT_FALSE(client.connect_error.empty());
}

TEST_F(ServerFixture, HandshakeRefusedByServerIsAConnectError) {
  ServerOptions options;
  options.handshake.allowed_origins = {"https://allowed.example"};
  start(options);
  RecordingClient client;
  ClientOptions client_options;
  client_options.handshake.origin = "https://evil.example";
  run_client(client, client_options);
  EXPECT_FALSE(client.opened);
  EXPECT_NE(client.connect_error.find("403"), std::string::npos) << client.connect_error;
}

TEST_F(ServerFixture, ThreadsShareThePortAndAllServe) {
  ServerOptions options;
  options.threads = 3;
  start(options);
  for (int i = 0; i < 6; ++i) {
    RecordingClient client;
    client.on_open_action = [](WebSocket& socket) { socket.send_text("hi"); };
    client.on_message_action = [](WebSocket& socket) { socket.close(); };
    run_client(client, {});
    ASSERT_EQ(client.messages.size(), 1u);
    EXPECT_EQ(client.close_code, 1000);
  }
}

// A raw TCP client that connects and sends nothing is dropped at the handshake timeout.
TEST_F(ServerFixture, SilentHandshakeIsDroppedAtTheTimeout) {
  ServerOptions options;
  options.socket.handshake_timeout_s = 0.3;
  start(options);
  std::string error;
  const int fd = net::connect_tcp({"127.0.0.1", server->port()}, &error);
  ASSERT_GE(fd, 0) << error;
  const std::uint64_t start_ms = net::monotonic_ms();
  char byte;
  for (;;) {
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) break;
    usleep(10000);
    ASSERT_LT(net::monotonic_ms() - start_ms, 5000u) << "not closed";
  }
  const std::uint64_t elapsed = net::monotonic_ms() - start_ms;
  EXPECT_GE(elapsed, 250u);
  ::close(fd);
}

}  // namespace
}  // namespace gw::ws
