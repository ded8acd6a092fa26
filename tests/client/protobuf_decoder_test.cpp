// The SDK's protobuf decoder (client/protobuf_decoder.cpp, client/protobuf_reader.hpp):
//  - every shape of docs/PROTOCOL.md, written as JSON and, through codec's ProtobufWriter (the
//    gateway's encoder), as protobuf, decodes to the same Value tree in both decoders: same
//    members in the same order, integers as integers and reals as reals, less what protobuf
//    cannot carry (null members, [] and {}); books read into the same BookUpdate;
//  - responses (typed results, scalars, errors with object or text data), heartbeats, string
//    ids (unmatched), text frames (JSON on any connection);
//  - what another encoder may do: fields in number order (libprotobuf), repeated numbers not
//    packed, unknown fields (skipped), an unknown result member (null);
//  - malformed frames are errors, never crashes: every truncation, wrong wire types, invalid
//    UTF-8; a book level without its action does not read as a book.
#include <greekwire.pb.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "client/decoder.hpp"
#include "client/pack_value.hpp"
#include "client/protobuf_reader.hpp"
#include "codec/protobuf_writer.hpp"

namespace gw::client {
namespace {

using greekwire::BookUpdate;
using greekwire::Value;
using test::json;
namespace schema = codec::protobuf;

// Everything a decoder delivered for one frame.
struct Delivery {
  enum class Kind { none, response, unmatched, notification, heartbeat } kind = Kind::none;
  std::uint64_t id = 0;
  std::optional<greekwire::Result<Value>> result;
  std::string channel;
  Value data;
  bool book_read = false;
  BookUpdate book;
  std::string book_name;  // book.instrument_name, kept past the callback
  std::string heartbeat;
};

class Recorder : public MessageSink {
 public:
  void on_response(std::uint64_t id, greekwire::Result<Value> result) override {
    got.kind = Delivery::Kind::response;
    got.id = id;
    got.result = std::move(result);
  }
  void on_unmatched_response(greekwire::Result<Value> result) override {
    got.kind = Delivery::Kind::unmatched;
    got.result = std::move(result);
  }
  void on_notification(std::string_view channel, const NotificationData& data) override {
    got.kind = Delivery::Kind::notification;
    got.channel = channel;
    got.data = data.to_value();
    got.book_read = data.read_book(got.book);
    got.book_name = got.book.instrument_name;
  }
  void on_heartbeat(std::string_view type) override {
    got.kind = Delivery::Kind::heartbeat;
    got.heartbeat = type;
  }
  Delivery got;
};

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Delivery decode(greekwire::Encoding encoding, std::string_view frame, bool binary,
                std::string* error = {}) {
  auto decoder = make_decoder(encoding, nullptr);
  Recorder sink;
  std::string why;
  const bool ok = decoder->decode(bytes_of(frame), binary, sink, why);
  if (error != nullptr) *error = why;
  EXPECT_EQ(ok, sink.got.kind != Delivery::Kind::none) << why;
  return std::move(sink.got);
}

Delivery decode_protobuf(std::string_view frame, std::string* error = {}) {
  return decode(greekwire::Encoding::protobuf, frame, true, error);
}

// Objects with their members sorted by key (for an encoder that writes in field-number order).
Value sorted(const Value& v) {
  if (v.is_array()) {
    Value::Array out;
    for (const Value& e : v.array()) out.push_back(sorted(e));
    return Value(std::move(out));
  }
  if (!v.is_object()) return v;
  Value::Object out;
  for (const auto& m : v.object()) out.push_back({m.key, sorted(m.value)});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return Value(std::move(out));
}

const schema::Schema& greekwire_schema() {
  return schema::greekwire_schema();
}

// The member of Envelope.result (responses) or Params.data (notifications) named `member`.
const schema::Field* member_of(const Value& message, std::string_view member) {
  const schema::Schema& s = greekwire_schema();
  if (message.contains("params")) {
    return s.find_member(*s.find_message("greekwire.v2.Params"), "data", member);
  }
  return s.find_member(s.root_message(), "result", member);
}

// A message as the gateway writes it in the protobuf encoding (with `member` chosen).
std::string protobuf_of(std::string_view json_text, std::string_view member = {}) {
  const Value message = json(json_text);
  std::string out;
  codec::ProtobufWriter w(out);
  if (!member.empty()) {
    const schema::Field* chosen = member_of(message, member);
    EXPECT_NE(chosen, nullptr) << member;
    w.choose(chosen);
  }
  test::pack(message, w);
  EXPECT_EQ(w.mismatches(), 0u) << w.last_mismatch();
  return out;
}

// The JSON text and its protobuf twin decode to the same delivery.
void expect_same(std::string_view json_text, std::string_view member) {
  SCOPED_TRACE(std::string(json_text.substr(0, 120)));
  const Delivery from_json = decode(greekwire::Encoding::json, json_text, false);
  const Delivery from_protobuf = decode_protobuf(protobuf_of(json_text, member));
  ASSERT_EQ(from_protobuf.kind, from_json.kind);
  EXPECT_EQ(from_protobuf.id, from_json.id);
  if (from_json.result) {
    ASSERT_EQ(from_protobuf.result->ok(), from_json.result->ok());
    if (from_json.result->ok()) {
      EXPECT_EQ(from_protobuf.result->value(),
                test::without_empty_members(from_json.result->value()))
          << from_protobuf.result->value().to_json() << "\n"
          << from_json.result->value().to_json();
    } else {
      const greekwire::Error& p = from_protobuf.result->error();
      const greekwire::Error& j = from_json.result->error();
      EXPECT_EQ(p.code, j.code);
      EXPECT_EQ(p.message, j.message);
      EXPECT_EQ(p.data, j.data);
    }
  }
  EXPECT_EQ(from_protobuf.channel, from_json.channel);
  EXPECT_EQ(from_protobuf.data, test::without_empty_members(from_json.data))
      << from_protobuf.data.to_json() << "\n"
      << from_json.data.to_json();
  ASSERT_EQ(from_protobuf.book_read, from_json.book_read);
  if (from_json.book_read) {
    const BookUpdate& p = from_protobuf.book;
    const BookUpdate& j = from_json.book;
    EXPECT_EQ(p.snapshot, j.snapshot);
    EXPECT_EQ(from_protobuf.book_name, from_json.book_name);
    EXPECT_EQ(p.timestamp, j.timestamp);
    EXPECT_EQ(p.change_id, j.change_id);
    EXPECT_EQ(p.prev_change_id, j.prev_change_id);
    EXPECT_EQ(p.checksum, j.checksum);
    ASSERT_EQ(p.bids.size(), j.bids.size());
    ASSERT_EQ(p.asks.size(), j.asks.size());
    for (std::size_t i = 0; i < p.bids.size(); ++i) {
      EXPECT_EQ(p.bids[i].action, j.bids[i].action);
      EXPECT_EQ(p.bids[i].price, j.bids[i].price);
      EXPECT_EQ(p.bids[i].amount, j.bids[i].amount);
    }
    for (std::size_t i = 0; i < p.asks.size(); ++i) {
      EXPECT_EQ(p.asks[i].action, j.asks[i].action);
      EXPECT_EQ(p.asks[i].price, j.asks[i].price);
      EXPECT_EQ(p.asks[i].amount, j.asks[i].amount);
    }
  }
  EXPECT_EQ(from_protobuf.heartbeat, from_json.heartbeat);
}

std::string notification(std::string_view channel, std::string_view data) {
  return R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":")" +
         std::string(channel) + R"(","data":)" + std::string(data) +
         R"(,"usIn":1767225600123456}})";
}

std::string response(std::string_view result) {
  return R"({"jsonrpc":"2.0","id":42,"result":)" + std::string(result) +
         R"(,"usIn":1767225600000100,"usOut":1767225600000900,"usDiff":800,"testnet":false})";
}

// ---- the same trees as JSON -----------------------------------------------------------------

TEST(ProtobufDecoder, BookChangesAndSnapshotsReadAsTheJsonOnes) {
  expect_same(notification("book.BTC-PERPETUAL.raw",
                           R"({"type":"change","timestamp":1767225600100,"prev_change_id":99,
                               "instrument_name":"BTC-PERPETUAL","change_id":100,
                               "bids":[["new",65000.0,12000.0],["delete",64999.5,0.0]],
                               "asks":[["change",65000.5,3000.0]],"checksum":3370445602})"),
              "book");
  expect_same(notification("book.BTC-27NOV26-85000-C.100ms",
                           R"({"type":"snapshot","timestamp":1795707315930,
                               "instrument_name":"BTC-27NOV26-85000-C","change_id":218513,
                               "bids":[["new",0.15,2.7]],"asks":[],"checksum":449860755,
                               "resync":true})"),
              "book");
  // A change without levels on either side still chains.
  expect_same(notification("book.ETH-PERPETUAL.100ms",
                           R"({"type":"change","timestamp":1,"prev_change_id":7,
                               "instrument_name":"ETH-PERPETUAL","change_id":8,"bids":[],
                               "asks":[],"checksum":0})"),
              "book");
}

TEST(ProtobufDecoder, TickersTradesAndIndexReadAsTheJsonOnes) {
  expect_same(
      notification("ticker.BTC-27NOV26-85000-C.100ms",
                   R"({"underlying_price":100088.7004228273,"underlying_index":"BTC-27NOV26",
                       "timestamp":1795707316861,"stats":{"volume":4.2,"price_change":null,
                       "low":null,"high":0.1515},"state":"open","settlement_price":0.0,
                       "open_interest":2.8,"min_price":0.111,"max_price":0.1905,
                       "mark_price":0.15076369783259405,"mark_iv":119.63624621589248,
                       "last_price":null,"interest_rate":0.0,
                       "instrument_name":"BTC-27NOV26-85000-C","index_price":100077.45,
                       "greeks":{"vega":0.10958413035801699,"theta":-1.0421641768643894,
                       "rho":1.5910934521923294,"gamma":4.880427136853742e-07,"delta":-0.0},
                       "estimated_delivery_price":100077.45,"bid_iv":0.0,
                       "best_bid_price":0.0,"best_bid_amount":0.0,"best_ask_price":0.1515,
                       "best_ask_amount":6.7,"ask_iv":121.5})"),
      "ticker");
  expect_same(notification("trades.option.BTC.100ms",
                           R"([{"trade_seq":51,"trade_id":"BTC-9674","timestamp":1795707316102,
                        "tick_direction":3,"price":0.0435,"mark_price":0.04404238881131187,
                        "iv":56.61123665198448,"instrument_name":"BTC-4DEC26-102000-P",
                        "index_price":100087.51,"direction":"sell","contracts":1.6,"amount":1.6},
                       {"trade_seq":45,"trade_id":"BTC-9675","timestamp":1795707316108,
                        "tick_direction":0,"price":0.0805,"mark_price":null,"iv":62.9,
                        "instrument_name":"BTC-25DEC26-98000-C","index_price":100087.51,
                        "direction":"buy","contracts":4.2,"amount":4.2}])"),
              "trades");
  expect_same(notification("deribit_price_index.btc_usd",
                           R"({"timestamp":1767225600000,"price":65000.1,"index_name":"btc_usd"})"),
              "deribit_price_index");
  expect_same(notification("book.BTC-PERPETUAL.1.10.100ms",
                           R"({"timestamp":1795707316061,"instrument_name":"BTC-PERPETUAL",
                               "change_id":219225,"bids":[[100098.0,213060.0],[100097.0,17320.0]],
                               "asks":[[100101.0,283930.0]]})"),
              "book_grouped");
}

TEST(ProtobufDecoder, OrdersPortfolioSurfaceAndChainReadAsTheJsonOnes) {
  // A market order's price is the text "market_price" (Order.price_text).
  expect_same(
      notification("user.orders.BTC-PERPETUAL.raw",
                   R"({"web":false,"time_in_force":"immediate_or_cancel","risk_reducing":false,
                       "replaced":false,"reject_post_only":false,"reduce_only":false,
                       "price":"market_price","post_only":false,"order_type":"market",
                       "order_state":"filled","order_id":"BTC-12","mmp":false,"max_show":10.0,
                       "last_update_timestamp":1767225600000,"label":"","is_liquidation":false,
                       "instrument_name":"BTC-PERPETUAL","filled_amount":10.0,"direction":"buy",
                       "creation_timestamp":1767225600000,"contracts":1.0,
                       "cancel_reason":"none","average_price":65000.5,"api":true,
                       "amount":10.0})"),
      "user_orders");
  // Per-index maps: map<string, double>, the same object.
  expect_same(notification("user.portfolio.btc",
                           R"({"total_pl":0.5,"options_vega_map":{"btc_usd":225.3},
                               "options_vega":225.3,"options_theta_map":{},
                               "delta_total_map":{"btc_usd":0.58,"eth_usd":-1.25},
                               "delta_total":0.58,"currency":"BTC","balance":10.0})"),
              "user_portfolio");
  // An IV grid with a hole: null in a list of doubles (NaN on the wire).
  expect_same(notification("volsurface.btc.1s",
                           R"({"timestamp":1767225600000,"currency":"BTC","index_price":65000.0,
                       "model":"ssvi","ssvi":{"rho":-0.3,"eta":1.0,"gamma":0.4},
                       "arbitrage_free":true,"butterfly_free":true,"calendar_free":false,
                       "expiries":[{"expiration_timestamp":1767859200000,"years":0.02,
                       "forward":65050.0,"atm_total_variance":0.0072,"atm_vol":60.0,
                       "rr25":-7.0388,"bf25":1.0078,"butterfly_free":true,
                       "svi":{"a":0.003276,"b":0.025793,"rho":-0.3,"m":0.041872,
                       "sigma":0.133144}}],"strikes":[35500.0,65000.0,118500.0],
                       "iv":[[112.5532,null,82.9239],[78.1802,58.209,59.6283]]})"),
              "volsurface");
  expect_same(
      notification("chain.btc.blocks",
                   R"({"currency":"BTC","height":880001,"hash":"3f1c9e20","prev_hash":"8a027700",
                       "block_time":1767225612000,"timestamp":1767225612000,"tx_count":3012,
                       "fee_rate":12.345,"fee_rate_milli":12345,"nonce":18446744073709551615,
                       "transfers_root":"5de1","transfer_count":1})"),
      "chain_blocks");
}

TEST(ProtobufDecoder, ResultsErrorsAndHeartbeatsReadAsTheJsonOnes) {
  expect_same(response("1767225600000"), "public_get_time");
  expect_same(response(R"("ok")"), "public_set_heartbeat");
  expect_same(response(R"({"version":"1.2.26"})"), "public_test");
  expect_same(response(R"(["ticker.BTC-PERPETUAL.100ms","book.BTC-PERPETUAL.raw"])"),
              "public_subscribe");
  expect_same(response(R"([])"), "public_subscribe");
  expect_same(response(R"({"tick_size":0.5,"tick_size_steps":[],"taker_commission":0.0005,
                            "max_leverage":50,"instrument_name":"BTC-PERPETUAL",
                            "instrument_id":1,"expiration_timestamp":32503708800000,
                            "contract_size":10.0})"),
              "public_get_instrument");
  expect_same(response(R"({"trades":[],"has_more":false})"),
              "public_get_last_trades_by_instrument");
  expect_same(
      R"({"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Invalid params","data":{"reason":"wrong format","param":"amount"}},"usIn":1,"usOut":2,"usDiff":1,"testnet":false})",
      {});
  expect_same(
      R"({"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request","data":"invalid json"},"usIn":1,"usOut":2,"usDiff":1,"testnet":false})",
      {});
  expect_same(R"({"jsonrpc":"2.0","id":"101","result":"ok","usIn":1,"usOut":2,"usDiff":1})",
              "public_set_heartbeat");
  expect_same(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})", {});
  expect_same(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})", {});
}

TEST(ProtobufDecoder, TextFramesAreJsonOnAProtobufConnection) {
  const Delivery d =
      decode(greekwire::Encoding::protobuf, R"({"jsonrpc":"2.0","id":3,"result":"ok"})", false);
  ASSERT_EQ(d.kind, Delivery::Kind::response);
  EXPECT_EQ(d.id, 3u);
  EXPECT_EQ(d.result->value(), Value("ok"));
}

// ---- other encoders -------------------------------------------------------------------------

TEST(ProtobufDecoder, LibprotobufsFieldNumberOrderGivesTheSameMembers) {
  greekwire::v2::Envelope envelope;
  envelope.set_jsonrpc("2.0");
  envelope.set_id(9);
  greekwire::v2::OrderBook& book = *envelope.mutable_public_get_order_book();
  book.set_timestamp(1767225600000);
  book.set_instrument_name("BTC-PERPETUAL");
  book.set_change_id(77);
  auto* bid = book.add_bids();
  bid->set_price(65000.0);
  bid->set_amount(10.0);
  book.set_best_bid_price(65000.0);
  book.set_checksum(12345);
  book.mutable_stats()->set_volume(1.5);
  const Delivery d = decode_protobuf(envelope.SerializeAsString());
  ASSERT_EQ(d.kind, Delivery::Kind::response);
  EXPECT_EQ(d.id, 9u);
  EXPECT_EQ(sorted(d.result->value()),
            sorted(json(R"({"timestamp":1767225600000,"stats":{"volume":1.5},
                            "instrument_name":"BTC-PERPETUAL","change_id":77,
                            "bids":[[65000.0,10.0]],"best_bid_price":65000.0,
                            "checksum":12345})")));
}

// Hand-made wire bytes: a tag, a varint, a length-delimited field, a double.
std::string tag(std::uint32_t number, int wire) {
  std::string out;
  std::uint64_t v = static_cast<std::uint64_t>(number) << 3 | static_cast<unsigned>(wire);
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string varint_field(std::uint32_t number, std::uint64_t v) {
  std::string out = tag(number, 0);
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string bytes_field(std::uint32_t number, std::string_view payload) {
  std::string out = tag(number, 2);
  std::size_t n = payload.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  return out + std::string(payload);
}
std::string double_field(std::uint32_t number, double d) {
  std::string out = tag(number, 1);
  const auto bits = std::bit_cast<std::uint64_t>(d);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  return out;
}
// An Envelope notification of `channel` whose Params.data member number `member` is `data`.
std::string notification_bytes(std::string_view channel, std::uint32_t member,
                               std::string_view data) {
  return bytes_field(1, "2.0") + bytes_field(4, "subscription") +
         bytes_field(5, bytes_field(1, channel) + bytes_field(member, data));
}

TEST(ProtobufDecoder, UnpackedNumbersAndUnknownFieldsAreRead) {
  // RiskMatrix.underlying_moves (4) one double a field, beside an unknown field 99 in the
  // message and one in the envelope.
  const std::string matrix = bytes_field(1, "BTC") + double_field(4, -0.1) + varint_field(99, 5) +
                             double_field(4, 0.0) + double_field(4, 0.1);
  const std::string frame = bytes_field(1, "2.0") + varint_field(2, 5) +
                            bytes_field(1000, "from a newer server") + bytes_field(52, matrix);
  const Delivery d = decode_protobuf(frame);
  ASSERT_EQ(d.kind, Delivery::Kind::response);
  EXPECT_EQ(d.result->value(), json(R"({"currency":"BTC","underlying_moves":[-0.1,0.0,0.1]})"));
}

TEST(ProtobufDecoder, AResultMemberTheSchemaLacksIsNull) {
  const Delivery d = decode_protobuf(bytes_field(1, "2.0") + varint_field(2, 5) +
                                     bytes_field(900, "a newer result"));
  ASSERT_EQ(d.kind, Delivery::Kind::response);
  EXPECT_TRUE(d.result->ok());
  EXPECT_TRUE(d.result->value().is_null());
}

TEST(ProtobufDecoder, NotificationDataTheSchemaLacksIsAnError) {
  std::string error;
  const Delivery d = decode_protobuf(notification_bytes("news.btc", 900, "x"), &error);
  EXPECT_EQ(d.kind, Delivery::Kind::none);
  EXPECT_NE(error.find("without channel or data"), std::string::npos) << error;
}

// ---- malformed input ------------------------------------------------------------------------

TEST(ProtobufDecoder, EveryTruncationIsAnErrorOrAShorterValidMessage) {
  const std::string frame =
      protobuf_of(notification("book.BTC-PERPETUAL.raw",
                               R"({"type":"change","timestamp":1,"prev_change_id":99,
                       "instrument_name":"BTC-PERPETUAL","change_id":100,
                       "bids":[["new",65000.0,12000.0]],"asks":[["change",65000.5,3000.0]],
                       "checksum":3370445602})"),
                  "book");
  auto decoder = make_decoder(greekwire::Encoding::protobuf, nullptr);
  int errors = 0;
  for (std::size_t n = 0; n < frame.size(); ++n) {
    Recorder sink;
    std::string error;
    if (!decoder->decode(bytes_of(std::string_view(frame).substr(0, n)), true, sink, error)) {
      ++errors;
      EXPECT_FALSE(error.empty());
    }
  }
  // A notification's params come last: every cut leaves a truncated field or no notification.
  EXPECT_EQ(errors, static_cast<int>(frame.size()));
}

TEST(ProtobufDecoder, WrongWireTypesAndInvalidUtf8AreErrors) {
  std::string error;
  // Envelope.method (a string) as a varint.
  EXPECT_EQ(decode_protobuf(bytes_field(1, "2.0") + varint_field(4, 1), &error).kind,
            Delivery::Kind::none);
  EXPECT_NE(error.find("wire type"), std::string::npos) << error;
  // A channel name that is not UTF-8.
  EXPECT_EQ(decode_protobuf(notification_bytes("book.\xff", 3, ""), &error).kind,
            Delivery::Kind::none);
  EXPECT_NE(error.find("UTF-8"), std::string::npos) << error;
  // BookChange.change_id (a varint) as a double, deep inside.
  EXPECT_EQ(decode_protobuf(notification_bytes("book.X.raw", 3, double_field(5, 1.0)), &error).kind,
            Delivery::Kind::none);
  // A group (wire type 3), field number 0, a length past the end.
  EXPECT_EQ(decode_protobuf(tag(7, 3)).kind, Delivery::Kind::none);
  EXPECT_EQ(decode_protobuf(tag(0, 0) + "\x01").kind, Delivery::Kind::none);
  EXPECT_EQ(decode_protobuf(tag(1, 2) + "\x7f" + "2.0").kind, Delivery::Kind::none);
  // A packed run of doubles whose length is not a multiple of 8.
  EXPECT_EQ(decode_protobuf(bytes_field(1, "2.0") + varint_field(2, 1) +
                            bytes_field(52, bytes_field(4, "1234567")))
                .kind,
            Delivery::Kind::none);
}

TEST(ProtobufDecoder, BookLevelsThatDoNotFitAreNotBooks) {
  const auto level = [](std::string_view action, double price, double amount) {
    std::string out;
    if (!action.empty()) out += bytes_field(1, action);
    return out + double_field(2, price) + double_field(3, amount);
  };
  const std::string head = bytes_field(1, "change") + varint_field(3, 1) +
                           bytes_field(4, "BTC-PERPETUAL") + varint_field(5, 2);
  const std::string good = head + bytes_field(6, level("new", 1.0, 2.0));
  EXPECT_TRUE(decode_protobuf(notification_bytes("book.BTC-PERPETUAL.raw", 3, good)).book_read);
  for (const std::string& bad :
       {head + bytes_field(6, level("", 1.0, 2.0)), head + bytes_field(6, level("add", 1.0, 2.0)),
        head + bytes_field(7, level("new", NAN, 2.0)),
        head + bytes_field(7, level("new", 1.0, INFINITY)),
        bytes_field(1, "change") + bytes_field(4, "BTC-PERPETUAL") + varint_field(5, 2),
        bytes_field(1, "resync") + varint_field(3, 1) + bytes_field(4, "X") + varint_field(5, 2),
        varint_field(3, 1) + varint_field(5, 2)}) {
    const Delivery d = decode_protobuf(notification_bytes("book.BTC-PERPETUAL.raw", 3, bad));
    ASSERT_EQ(d.kind, Delivery::Kind::notification);
    EXPECT_FALSE(d.book_read) << d.data.to_json();
  }
  // The tree still shows what came: a level without action has a null in its place.
  const Delivery d = decode_protobuf(
      notification_bytes("book.BTC-PERPETUAL.raw", 3, head + bytes_field(6, level("", 1.0, 2.0))));
  EXPECT_EQ(d.data["bids"], json(R"([[null,1.0,2.0]])"));
}

}  // namespace
}  // namespace gw::client
