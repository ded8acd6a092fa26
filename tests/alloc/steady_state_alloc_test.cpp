// Proves the echo path allocates nothing per message once warm: global operator new is
// replaced by a counting one, and the count must not move while thousands of messages are
// echoed between our client and our server (both sides count: they share the process).
#include <gtest/gtest.h>

#include <string>

#include "counting_new.hpp"
#include "net/event_loop.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"

namespace gw::ws {
namespace {

class EchoHandler : public WebSocketHandler {
 public:
  void on_message(WebSocket& socket, MessageType type, std::span<std::uint8_t> payload) override {
    socket.send(type, payload);
  }
};

// Keeps `pipeline` messages in flight; counts allocations between two marks.
class CountingClient : public WebSocketHandler {
 public:
  CountingClient(MessageType type, std::size_t size) : type_(type), payload_(size, 'm') {}

  void on_open(WebSocket& socket) override {
    for (int i = 0; i < 8; ++i) send(socket);
  }
  void on_message(WebSocket& socket, MessageType, std::span<std::uint8_t>) override {
    ++received;
    if (received == kWarmup) start_count = g_allocations.load();
    if (received == kWarmup + kMeasured) {
      end_count = g_allocations.load();
      socket.close();
      return;
    }
    send(socket);
  }

  static constexpr int kWarmup = 2000;
  static constexpr int kMeasured = 40000;
  int received = 0;
  std::uint64_t start_count = 0;
  std::uint64_t end_count = 0;

 private:
  void send(WebSocket& socket) {
    socket.send(type_, {reinterpret_cast<const std::uint8_t*>(payload_.data()), payload_.size()});
  }
  MessageType type_;
  std::string payload_;
};

// With a sanitizer runtime that brings its own operator new, ours is not called and the count
// would stay at zero whatever happens: skip rather than pass vacuously.
bool counting_works() {
  const std::uint64_t before = g_allocations.load();
  // A direct call, which (unlike a new-expression) the compiler may not elide.
  ::operator delete(::operator new(16));
  return g_allocations.load() != before;
}

constexpr std::uint64_t kOneTimeQueueGrowth = 16;

void expect_no_allocations(MessageType type, std::size_t size) {
  if (!counting_works()) GTEST_SKIP() << "operator new is not ours in this build (sanitizer)";
  EchoHandler echo;
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  Server server(options, echo);
  server.start();
  net::EventLoop loop;
  CountingClient client(type, size);
  ClientOptions client_options;
  std::string error;
  auto url = parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_NE(ClientSocket::connect(loop, *url, client_options, client, &error), nullptr) << error;
  loop.stop_when_no_connections();
  loop.run();
  server.shutdown();
  server.wait();
  ASSERT_EQ(client.received, CountingClient::kWarmup + CountingClient::kMeasured);
  // The echo path itself allocates nothing. When the kernel's socket buffer happens to fill,
  // the unsent rest goes to a write queue whose buffers grow once and are then reused; that
  // one-time growth is the only allocation allowed: a handful, against 40000 messages.
  EXPECT_LE(client.end_count - client.start_count, kOneTimeQueueGrowth)
      << "heap allocations while echoing " << CountingClient::kMeasured << " messages";
}

TEST(SteadyState, EchoOfSmallTextMessagesAllocatesNothing) {
  expect_no_allocations(MessageType::text, 512);
}

TEST(SteadyState, EchoOfBinaryMessagesAllocatesNothing) {
  expect_no_allocations(MessageType::binary, 16 * 1024);
}

}  // namespace
}  // namespace gw::ws
