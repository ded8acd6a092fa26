// Proves the SDK's book path allocates nothing per message once warm: frames of book changes
// are decoded (JSON with simdjson, MessagePack and protobuf with the SDK's readers) and applied
// to a Book exactly
// as the Connection does, with global operator new replaced by a counting one. (The socket
// under it is covered by steady_state_alloc_test.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/decoder.hpp"
#include "client/pack_value.hpp"
#include "codec/protobuf_writer.hpp"
#include "counting_new.hpp"
#include "greekwire/book.hpp"

namespace gw::client {
namespace {

// What Connection::Impl::on_book does with a notification: read it into the reused update and
// apply it.
class BookSink : public MessageSink {
 public:
  void on_response(std::uint64_t, greekwire::Result<greekwire::Value>) override { ++other; }
  void on_unmatched_response(greekwire::Result<greekwire::Value>) override { ++other; }
  void on_heartbeat(std::string_view) override { ++other; }
  void on_notification(std::string_view channel, const NotificationData& data) override {
    if (channel != "book.BTC-PERPETUAL.raw" || !data.read_book(update)) {
      ++other;
      return;
    }
    applied += book.apply(update) == greekwire::ApplyResult::applied;
  }

  greekwire::Book book{"BTC-PERPETUAL"};
  greekwire::BookUpdate update;
  int applied = 0;
  int other = 0;
};

// A snapshot of 50 levels a side, then changes: amounts at the top, and a level that comes and
// goes (so the sides move but never outgrow their capacity).
std::vector<std::string> json_stream(int changes) {
  std::vector<std::string> frames;
  std::string snapshot =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.raw",)"
      R"("data":{"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":1,)";
  std::string bids, asks;
  for (int i = 0; i < 50; ++i) {
    bids += std::string(i ? "," : "") + "[\"new\"," + std::to_string(64999.5 - i) + ",100.0]";
    asks += std::string(i ? "," : "") + "[\"new\"," + std::to_string(65000.5 + i) + ",100.0]";
  }
  frames.push_back(snapshot + "\"bids\":[" + bids + "],\"asks\":[" + asks + "]}}}");
  for (int i = 0; i < changes; ++i) {
    const int id = i + 2;
    const char* level = i % 2 == 0 ? R"(["new",65000.0,10.0])" : R"(["delete",65000.0,0.0])";
    frames.push_back(
        R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.raw",)"
        R"("data":{"type":"change","timestamp":)" +
        std::to_string(id) + R"(,"prev_change_id":)" + std::to_string(id - 1) +
        R"(,"instrument_name":"BTC-PERPETUAL",)"
        R"("change_id":)" +
        std::to_string(id) + R"(,"bids":[["change",64999.5,)" + std::to_string(100 + i % 7) +
        R"(.0]],"asks":[)" + level + R"(],"checksum":12345}}})");
  }
  return frames;
}

std::vector<std::string> msgpack_stream(const std::vector<std::string>& json) {
  std::vector<std::string> frames;
  for (const std::string& text : json) {
    std::string bytes;
    codec::MsgpackWriter w(bytes);
    test::pack(test::json(text), w);
    frames.push_back(std::move(bytes));
  }
  return frames;
}

// The same messages as the gateway writes them for the protobuf subprotocol.
std::vector<std::string> protobuf_stream(const std::vector<std::string>& json) {
  const auto& schema = codec::protobuf::greekwire_schema();
  const auto* book =
      schema.find_member(*schema.find_message("greekwire.v2.Params"), "data", "book");
  std::vector<std::string> frames;
  for (const std::string& text : json) {
    std::string bytes;
    codec::ProtobufWriter w(bytes);
    w.choose(book);
    test::pack(test::json(text), w);
    frames.push_back(std::move(bytes));
  }
  return frames;
}

void expect_no_allocations(const std::vector<std::string>& frames, greekwire::Encoding encoding) {
  const bool binary = encoding != greekwire::Encoding::json;
  std::string error;
  auto decoder = make_decoder(encoding, &error);
  BookSink sink;
  auto feed = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(frames[i].data());
      ASSERT_TRUE(decoder->decode({data, frames[i].size()}, binary, sink, error)) << error;
    }
  };
  feed(0, 100);  // warm up: parser buffers, the update's vectors, the sides' capacity
  const std::uint64_t before = g_allocations.load();
  feed(100, frames.size());
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u) << "allocations while decoding and applying " << frames.size() - 100
                                << " book messages";
  EXPECT_EQ(sink.applied, static_cast<int>(frames.size()) - 1);  // all but the snapshot
  EXPECT_EQ(sink.other, 0);
  EXPECT_TRUE(sink.book.live());
}

TEST(ClientBookAlloc, JsonBookMessagesAllocateNothingOnceWarm) {
  expect_no_allocations(json_stream(10000), greekwire::Encoding::json);
}

TEST(ClientBookAlloc, MsgpackBookMessagesAllocateNothingOnceWarm) {
  expect_no_allocations(msgpack_stream(json_stream(10000)), greekwire::Encoding::msgpack);
}

TEST(ClientBookAlloc, ProtobufBookMessagesAllocateNothingOnceWarm) {
  expect_no_allocations(protobuf_stream(json_stream(10000)), greekwire::Encoding::protobuf);
}

}  // namespace
}  // namespace gw::client
