// Fan-out: a message prepared once reaches receivers with and without permessage-deflate; the
// frame and the compressed frame are built once and shared.
#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "net/event_loop.hpp"
#include "ws/client.hpp"
#include "ws/frame.hpp"
#include "ws/prepared.hpp"
#include "ws/server.hpp"
#include "ws/test_peers.hpp"

namespace gw::ws {
namespace {

std::string market_json(int levels) {
  std::string text = R"({"channel":"book.BTC-PERPETUAL.raw","data":{"bids":[)";
  for (int i = 0; i < levels; ++i) text += "[\"new\"," + std::to_string(50000 + i) + ".5,120],";
  return text + "]}}";
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(PreparedMessage, FrameIsOneUnmaskedFinalFrameOfThePayload) {
  const std::string payload = market_json(3);
  PreparedMessage message(MessageType::text, bytes_of(payload));
  const std::string& frame = *message.frame();
  FrameHeader header;
  const HeaderParse parsed =
      parse_frame_header(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size(), header);
  ASSERT_EQ(parsed, HeaderParse::ok);
  EXPECT_TRUE(header.fin);
  EXPECT_FALSE(header.masked);
  EXPECT_FALSE(header.rsv1);
  EXPECT_EQ(header.opcode, static_cast<std::uint8_t>(Opcode::text));
  EXPECT_EQ(frame.substr(header.header_length), payload);
}

TEST(PreparedMessage, CompressedFrameIsBuiltOncePerWindowAndInflatesBack) {
  const std::string payload = market_json(200);
  PreparedMessage message(MessageType::text, bytes_of(payload));
  const net::SharedBytes first = message.compressed_frame(15);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(message.compressed_frame(15).get(), first.get());  // cached, not recompressed
  const net::SharedBytes small_window = message.compressed_frame(9);
  ASSERT_NE(small_window, nullptr);
  EXPECT_NE(small_window.get(), first.get());
  for (const net::SharedBytes& frame : {first, small_window}) {
    FrameHeader header;
    const HeaderParse parsed = parse_frame_header(
        reinterpret_cast<const std::uint8_t*>(frame->data()), frame->size(), header);
    ASSERT_EQ(parsed, HeaderParse::ok);
    EXPECT_TRUE(header.rsv1);
    EXPECT_LT(frame->size(), payload.size() / 2);
    Inflater inflater(true);
    std::vector<std::uint8_t> out;
    const std::string body = frame->substr(header.header_length);
    ASSERT_EQ(inflater.inflate(bytes_of(body), out, 1 << 20), Inflater::Result::ok);
    ASSERT_EQ(inflater.finish(out, 1 << 20), Inflater::Result::ok);
    EXPECT_EQ(std::string(out.begin(), out.end()), payload);
  }
}

TEST(PreparedMessage, SmallOrIncompressiblePayloadsHaveNoCompressedFrame) {
  PreparedMessage tiny(MessageType::text, bytes_of("hi"));
  EXPECT_EQ(tiny.compressed_frame(15), nullptr);
  std::string noise(4096, '\0');
  std::uint32_t x = 1;
  for (char& c : noise) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  PreparedMessage random(MessageType::binary, bytes_of(noise));
  EXPECT_EQ(random.compressed_frame(15), nullptr);
}

// Each client says "go"; the server answers with the one prepared message.
class FanoutServer : public WebSocketHandler {
 public:
  explicit FanoutServer(const PreparedMessage& message) : message_(message) {}
  void on_message(WebSocket& socket, MessageType, std::span<std::uint8_t>) override {
    const bool sent = socket.send_prepared(message_);
    std::lock_guard lock(mutex);
    results.push_back(sent);
  }
  std::mutex mutex;
  std::vector<bool> results;

 private:
  const PreparedMessage& message_;
};

TEST(PreparedMessage, ReachesReceiversWithAndWithoutDeflate) {
  const std::string payload = market_json(500);
  PreparedMessage message(MessageType::text, bytes_of(payload));
  FanoutServer handler(message);
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  options.socket.deflate.enabled = true;
  options.socket.deflate.no_context_takeover = true;  // lets receivers share compressed bytes
  Server server(options, handler);
  server.start();
  const Url url = *parse_url("ws://127.0.0.1:" + std::to_string(server.port()) + "/");

  net::EventLoop loop;
  ClientOptions plain, deflate;
  deflate.socket.deflate.enabled = true;
  std::vector<std::unique_ptr<RecordingClient>> clients;
  for (const ClientOptions* client_options : {&plain, &deflate, &deflate}) {
    auto client = std::make_unique<RecordingClient>();
    client->on_open_action = [](WebSocket& socket) { socket.send_text("go"); };
    client->on_message_action = [](WebSocket& socket) { socket.close(); };
    std::string error;
    ASSERT_NE(ClientSocket::connect(loop, url, *client_options, *client, &error), nullptr) << error;
    clients.push_back(std::move(client));
  }
  net::Timer deadline([&] { loop.stop(); });
  loop.timers().arm(deadline, net::monotonic_ms() + 10000);
  loop.stop_when_no_connections();
  loop.run();
  server.shutdown();
  server.wait();

  for (const auto& client : clients) {
    ASSERT_EQ(client->messages.size(), 1u) << client->connect_error;
    EXPECT_EQ(client->messages[0].second, payload);
  }
  EXPECT_EQ(handler.results, (std::vector<bool>{true, true, true}));
  EXPECT_NE(message.compressed_frame(15), nullptr);
}

}  // namespace
}  // namespace gw::ws
