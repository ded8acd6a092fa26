// libFuzzer target for what the client SDK does with a frame from the server.
//
// The input goes through the decoder as a text frame (JSON) and as a binary frame
// (MessagePack); every notification is read both as a tree and as a book message, applied to a
// Book, and every tree printed. Nothing may crash, and:
//  - MessagePack: when msgpack-cxx unpacks the input completely (and it nests at most 64 deep),
//    our reader accepts it too and builds the same tree (bin and ext values read as null);
//  - JSON: a frame our decoder reads, re-printed by the SDK, parses again to the same tree;
//  - a Book fed any of it keeps each side strictly sorted.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/decoder.hpp"
#include "client/msgpack_tree.hpp"
#include "client/tree.hpp"
#include "fuzz_check.hpp"
#include "greekwire/book.hpp"

#include <msgpack.hpp>

namespace {

using greekwire::Value;

class Sink : public gw::client::MessageSink {
 public:
  void on_response(std::uint64_t, greekwire::Result<Value> result) override { touch(result); }
  void on_unmatched_response(greekwire::Result<Value> result) override { touch(result); }
  void on_heartbeat(std::string_view type) override { CHECK(type.size() < (1u << 30)); }
  void on_notification(std::string_view, const gw::client::NotificationData& data) override {
    const Value tree = data.to_value();
    (void)tree.to_json(true);
    if (data.read_book(update)) {
      // Whatever the message, the book stays sorted and never crossed within a side.
      book.apply(update);
      book.set_format({2, 1});
      (void)book.checksum();
      const auto bids = book.bids();
      for (std::size_t i = 1; i < bids.size(); ++i) CHECK(bids[i - 1].price > bids[i].price);
      const auto asks = book.asks();
      for (std::size_t i = 1; i < asks.size(); ++i) CHECK(asks[i - 1].price < asks[i].price);
    }
  }
  static void touch(const greekwire::Result<Value>& result) {
    if (result.ok()) {
      (void)result.value().to_json();
    } else {
      (void)result.error().describe();
    }
  }

  greekwire::BookUpdate update;
  greekwire::Book book;
};

// msgpack-cxx's object as a Value, the way our reader builds one (bin and ext as null).
Value from_msgpack(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return {};
    case msgpack::type::BOOLEAN:
      return Value(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      return Value(o.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return Value(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Value(o.via.f64);
    case msgpack::type::STR:
      return Value(std::string_view(o.via.str.ptr, o.via.str.size));
    case msgpack::type::ARRAY: {
      Value::Array array;
      for (std::uint32_t i = 0; i < o.via.array.size; ++i)
        array.push_back(from_msgpack(o.via.array.ptr[i]));
      return Value(std::move(array));
    }
    case msgpack::type::MAP: {
      Value::Object object;
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) continue;  // our reader keeps string keys only
        object.push_back(
            {std::string(kv.key.via.str.ptr, kv.key.via.str.size), from_msgpack(kv.val)});
      }
      return Value(std::move(object));
    }
    default:
      return {};
  }
}

void differential_msgpack(const std::uint8_t* data, std::size_t size) {
  msgpack::object_handle handle;
  std::size_t offset = 0;
  try {
    msgpack::unpack(
        handle, reinterpret_cast<const char*>(data), size, offset, nullptr, nullptr,
        // Every element takes a byte: bigger counts are malformed, and must not
        // make msgpack-cxx allocate for them.
        msgpack::unpack_limit(size, size, size, size, size, gw::client::MsgpackTree::kMaxDepth));
  } catch (const std::exception&) {
    return;  // msgpack-cxx refuses it: nothing to compare
  }
  if (offset != size) return;
  gw::client::MsgpackTree tree;
  std::string error;
  CHECK(tree.parse({data, size}, error));
  const Value ours = gw::client::to_value(gw::client::MsgpackNode{&tree, tree.root()});
  CHECK(ours.to_json() == from_msgpack(handle.get()).to_json());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto decoder = gw::client::make_decoder(greekwire::Encoding::json, nullptr);
  Sink sink;
  std::string error;
  if (decoder->decode({data, size}, false, sink, error)) {
    // What we read from JSON prints back to JSON that parses to the same tree.
    const auto tree =
        Value::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
    if (tree) CHECK(Value::parse_json(tree->to_json())->to_json() == tree->to_json());
  }
  (void)decoder->decode({data, size}, true, sink, error);
  differential_msgpack(data, size);
  return 0;
}
