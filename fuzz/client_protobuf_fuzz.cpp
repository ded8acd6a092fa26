// libFuzzer target for the SDK's protobuf decoder (client/protobuf_decoder.cpp).
//
// Each input is decoded twice as a binary frame: as it is (a whole Envelope), and as the body
// of a notification's data member, wrapped in a valid Envelope (the first byte picks the member
// of Params.data), so that the fuzzer spends its time inside the typed messages. Every
// delivery is read as a tree, printed, read as a book and applied to a Book. Nothing may
// crash, and:
//  - the fast book reader (straight from the wire) and the JSON path's reader over the tree
//    (read_book_update) agree: both refuse, or both read the same update;
//  - a message-typed data tree, written back through codec's ProtobufWriter (the gateway's
//    encoder) and decoded again, gives the same tree (less null members, [] and {}, which
//    protobuf does not carry);
//  - a Book fed any of it keeps each side strictly sorted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/decoder.hpp"
#include "client/pack_value.hpp"
#include "client/protobuf_reader.hpp"
#include "client/tree.hpp"
#include "codec/protobuf_writer.hpp"
#include "fuzz_check.hpp"
#include "greekwire/book.hpp"

namespace {

using greekwire::Value;
namespace schema = gw::codec::protobuf;

const schema::Schema& the_schema() {
  return schema::greekwire_schema();
}

const schema::Message& params_message() {
  return *the_schema().find_message("greekwire.v2.Params");
}

const schema::Field& data_choice() {
  return *the_schema().find_key(params_message(), "data");
}

std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string length_field(std::uint32_t number, std::string_view payload) {
  return varint(std::uint64_t{number} << 3 | 2) + varint(payload.size()) + std::string(payload);
}

// A notification Envelope whose Params.data member `member` holds `body`.
std::string wrap(const schema::Field& member, std::string_view body) {
  return length_field(1, "2.0") + length_field(4, "subscription") +
         length_field(5, length_field(1, "book.FUZZ.raw") + length_field(member.number, body));
}

// The data tree written back as the gateway writes it, decoded again.
std::string rewrite(const schema::Field& member, const Value& data) {
  std::string out;
  gw::codec::ProtobufWriter w(out, the_schema(), {.strict = false});
  w.choose(&member);
  w.begin_object(3);
  w.key("jsonrpc");
  w.value("2.0");
  w.key("method");
  w.value("subscription");
  w.key("params");
  w.begin_object(2);
  w.key("channel");
  w.value("book.FUZZ.raw");
  w.key("data");
  gw::client::test::pack(data, w);
  w.end_object();
  w.end_object();
  return out;
}

bool same_update(const greekwire::BookUpdate& a, const greekwire::BookUpdate& b) {
  auto same_levels = [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].action != y[i].action || x[i].price != y[i].price || x[i].amount != y[i].amount)
        return false;
    }
    return true;
  };
  return a.snapshot == b.snapshot && a.instrument_name == b.instrument_name &&
         a.timestamp == b.timestamp && a.change_id == b.change_id &&
         a.prev_change_id == b.prev_change_id && a.checksum == b.checksum &&
         same_levels(a.bids, b.bids) && same_levels(a.asks, b.asks);
}

class Sink : public gw::client::MessageSink {
 public:
  void on_response(std::uint64_t, greekwire::Result<Value> result) override { touch(result); }
  void on_unmatched_response(greekwire::Result<Value> result) override { touch(result); }
  void on_heartbeat(std::string_view type) override { CHECK(type.size() < (1u << 30)); }
  void on_notification(std::string_view, const gw::client::NotificationData& data) override {
    tree = data.to_value();
    (void)tree.to_json(true);
    notified = true;
    const bool fast = data.read_book(update);
    const bool reference =
        gw::client::read_book_update(gw::client::ValueNode{&tree}, reference_update);
    CHECK(fast == reference);
    if (!fast) return;
    CHECK(same_update(update, reference_update));
    // Whatever the message, the book stays sorted and never crossed within a side.
    book.apply(update);
    book.set_format({2, 1});
    (void)book.checksum();
    const auto bids = book.bids();
    for (std::size_t i = 1; i < bids.size(); ++i) CHECK(bids[i - 1].price > bids[i].price);
    const auto asks = book.asks();
    for (std::size_t i = 1; i < asks.size(); ++i) CHECK(asks[i - 1].price < asks[i].price);
  }
  static void touch(const greekwire::Result<Value>& result) {
    if (result.ok()) {
      (void)result.value().to_json();
    } else {
      (void)result.error().describe();
    }
  }

  bool notified = false;
  Value tree;
  greekwire::BookUpdate update, reference_update;
  greekwire::Book book;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto decoder = gw::client::make_decoder(greekwire::Encoding::protobuf, nullptr);
  Sink sink;
  std::string error;
  (void)decoder->decode({data, size}, true, sink, error);
  if (size == 0) return 0;

  // The rest of the input as the body of the data member the first byte picks.
  const schema::Field& choice = data_choice();
  const schema::Field& member =
      the_schema().at(static_cast<std::int16_t>(choice.first + data[0] % choice.count));
  const std::string frame = wrap(member, {reinterpret_cast<const char*>(data + 1), size - 1});
  Sink wrapped;
  const bool decoded = decoder->decode(
      {reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()}, true, wrapped, error);
  if (!decoded || member.type != schema::FieldType::message) return 0;
  CHECK(wrapped.notified);
  // Round trip through the gateway's encoder.
  const std::string again = rewrite(member, wrapped.tree);
  Sink reread;
  CHECK(decoder->decode({reinterpret_cast<const std::uint8_t*>(again.data()), again.size()}, true,
                        reread, error));
  CHECK(reread.notified);
  CHECK(gw::client::test::without_empty_members(reread.tree) ==
        gw::client::test::without_empty_members(wrapped.tree));
  return 0;
}
