// Test peers shared by the loopback suites: an echo server handler and a client that records
// what it sees.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/event_loop.hpp"
#include "ws/client.hpp"
#include "ws/websocket.hpp"

namespace gw::ws {

class EchoHandler : public WebSocketHandler {
 public:
  void on_open(WebSocket&) override { ++opened; }
  void on_message(WebSocket& socket, MessageType type, std::span<std::uint8_t> payload) override {
    socket.send(type, payload);
  }
  void on_close(WebSocket&, std::uint16_t code, std::string_view) override {
    last_close_code = code;
    ++closed;
  }
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> last_close_code{0};
};

// Records everything a client sees; the test drives it from `on_open_action`.
class RecordingClient : public WebSocketHandler {
 public:
  void on_open(WebSocket& socket) override {
    opened = true;
    subprotocol = socket.subprotocol();
    if (on_open_action) on_open_action(socket);
  }
  void on_message(WebSocket& socket, MessageType type, std::span<std::uint8_t> payload) override {
    messages.emplace_back(type, std::string(payload.begin(), payload.end()));
    if (on_message_action) on_message_action(socket);
  }
  void on_close(WebSocket&, std::uint16_t code, std::string_view reason) override {
    close_code = code;
    close_reason = std::string(reason);
  }
  void on_connect_error(WebSocket&, std::string_view error) override {
    connect_error = std::string(error);
  }

  std::function<void(WebSocket&)> on_open_action;
  std::function<void(WebSocket&)> on_message_action;
  bool opened = false;
  std::string subprotocol;
  std::vector<std::pair<MessageType, std::string>> messages;
  int close_code = 0;
  std::string close_reason;
  std::string connect_error;
};

// Connects `client` to `url` on `loop` and runs the loop until the client's socket is gone (after
// its close handshake and TCP close), with a deadline so a bug cannot hang the suite.
inline void run_client_loop(net::EventLoop& loop, const Url& url, RecordingClient& client,
                            const ClientOptions& options, double seconds, bool& timed_out) {
  std::string error;
  ASSERT_NE(ClientSocket::connect(loop, url, options, client, &error), nullptr) << error;
  net::Timer deadline([&] {
    timed_out = true;
    loop.stop();
  });
  loop.timers().arm(deadline, net::monotonic_ms() + static_cast<std::uint64_t>(seconds * 1000));
  loop.stop_when_no_connections();
  loop.run();
}

}  // namespace gw::ws
