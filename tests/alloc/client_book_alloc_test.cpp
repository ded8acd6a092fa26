// Proves the SDK's book path allocates nothing per message once warm: frames of book changes
// are decoded (JSON with simdjson, MessagePack with msgpack-cxx) and applied to a Book exactly
// as the Connection does, with global operator new replaced by a counting one. (The socket
// under it is covered by steady_state_alloc_test.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "client/decoder.hpp"
#include "codec/msgpack_writer.hpp"
#include "greekwire/book.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}

// These replacements pair operator new with std::malloc and operator delete with std::free, which
// is correct; GCC 12 cannot see through the replacement once inlined and reports a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

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

void pack_json(const greekwire::Value& v, codec::MsgpackWriter& w);

std::vector<std::string> msgpack_stream(const std::vector<std::string>& json) {
  std::vector<std::string> frames;
  for (const std::string& text : json) {
    std::string bytes;
    codec::MsgpackWriter w(bytes);
    pack_json(*greekwire::Value::parse_json(text), w);
    frames.push_back(std::move(bytes));
  }
  return frames;
}

void pack_json(const greekwire::Value& v, codec::MsgpackWriter& w) {
  using T = greekwire::Value::Type;
  switch (v.type()) {
    case T::null:
      w.null();
      break;
    case T::boolean:
      w.value(v.as_bool());
      break;
    case T::integer:
      w.value(v.as_int());
      break;
    case T::unsigned_integer:
      w.value(v.as_uint());
      break;
    case T::real:
      w.value(v.as_double());
      break;
    case T::string:
      w.value(v.as_string());
      break;
    case T::array:
      w.begin_array(v.size());
      for (const auto& e : v.array()) pack_json(e, w);
      w.end_array();
      break;
    case T::object:
      w.begin_object(v.size());
      for (const auto& m : v.object()) {
        w.key(m.key);
        pack_json(m.value, w);
      }
      w.end_object();
      break;
  }
}

void expect_no_allocations(const std::vector<std::string>& frames, bool binary) {
  std::string error;
  auto decoder = make_decoder(greekwire::Encoding::json, &error);
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
  expect_no_allocations(json_stream(10000), false);
}

TEST(ClientBookAlloc, MsgpackBookMessagesAllocateNothingOnceWarm) {
  expect_no_allocations(msgpack_stream(json_stream(10000)), true);
}

}  // namespace
}  // namespace gw::client
