// Kernel benchmarks of the codec layer: one Deribit book change notification (10 levels a
// side) and one option ticker notification (the gateway's own encoder) written as JSON, as
// MessagePack and as Protocol Buffers, and a typical private/buy request parsed, next to
// simdjson's DOM and On-Demand APIs doing the bare minimum on the same text (the choice between
// them for the request parser).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/protobuf_writer.hpp"
#include "codec/request.hpp"
#include "codec/response.hpp"
#include "codec/text.hpp"
#include "gateway/encode.hpp"

namespace {

using namespace gw::codec;

struct Level {
  std::string_view action;
  double price;
  double amount;
};

struct BookChange {
  std::string_view channel = "book.BTC-27DEC24-100000-C.raw";
  std::string_view instrument = "BTC-27DEC24-100000-C";
  std::int64_t timestamp = 1733212345678;
  std::int64_t prev_change_id = 68112343017;
  std::int64_t change_id = 68112343101;
  std::array<Level, 10> bids;
  std::array<Level, 10> asks;
};

// Option prices in BTC on a 0.0005 tick with amounts in tenths, as Deribit sends them. Prices
// are integer ticks divided by a power of ten (as the market layer converts them), so each is
// the double nearest its decimal; 0.0455 - 0.0005 * i would not be (0.044500000000000005).
BookChange sample_book() {
  BookChange book;
  static constexpr std::string_view kActions[] = {"new", "change", "delete"};
  for (std::size_t i = 0; i < 10; ++i) {
    const auto ticks = static_cast<double>(i) * 5;  // in 0.0001 BTC
    const auto tenths = static_cast<double>(i * 7 % 30 + 1);
    book.bids[i] = {kActions[i % 3], (455 - ticks) / 1e4, i % 3 == 2 ? 0.0 : tenths / 10};
    book.asks[i] = {kActions[(i + 1) % 3], (465 + ticks) / 1e4,
                    (i + 1) % 3 == 2 ? 0.0 : (tenths + 120) / 10};
  }
  return book;
}

template <Writer W>
void write_levels(W& w, const std::array<Level, 10>& levels) {
  w.begin_array(levels.size());
  for (const Level& level : levels) {
    w.begin_array(3);
    w.value(level.action);
    w.value(level.price);
    w.value(level.amount);
    w.end_array();
  }
  w.end_array();
}

template <Writer W>
void write_book_change(W& w, const BookChange& book) {
  write_notification(w, book.channel, [&](W& d) {
    d.begin_object(7);
    d.key("type");
    d.value("change");
    d.key("timestamp");
    d.value(book.timestamp);
    d.key("prev_change_id");
    d.value(book.prev_change_id);
    d.key("instrument_name");
    d.value(book.instrument);
    d.key("change_id");
    d.value(book.change_id);
    d.key("bids");
    write_levels(d, book.bids);
    d.key("asks");
    write_levels(d, book.asks);
    d.end_object();
  });
}

// In protobuf a notification's data is a typed member of Params.data, which the writer is told
// (the gateway looks it up once per channel kind; so does the benchmark, outside the loop).
const protobuf::Field* data_member(std::string_view name) {
  const protobuf::Schema& schema = protobuf::greekwire_schema();
  return schema.find_member(*schema.find_message("greekwire.v2.Params"), "data", name);
}

template <class W>
void choose(W& w, const protobuf::Field* member) {
  if constexpr (std::is_same_v<W, ProtobufWriter>) w.choose(member);
}

template <class W>
void BM_BookChange(benchmark::State& state) {
  const BookChange book = sample_book();
  const protobuf::Field* member = data_member("book");
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    W w(out);
    choose(w, member);
    write_book_change(w, book);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK_TEMPLATE(BM_BookChange, JsonWriter)->Name("BM_BookChangeJson");
BENCHMARK_TEMPLATE(BM_BookChange, MsgpackWriter)->Name("BM_BookChangeMsgpack");
BENCHMARK_TEMPLATE(BM_BookChange, ProtobufWriter)->Name("BM_BookChangeProtobuf");

// An option's ticker.{instrument}.100ms notification (26 members with stats and greeks), as the
// publisher writes it (gateway::write_ticker).
gw::sim::Ticker sample_ticker(const gw::market::Instrument& option) {
  gw::sim::Ticker t;
  t.timestamp = 1733212345678;
  t.instrument = option.id;
  t.kind = gw::market::Kind::option;
  t.best_bid_price = 455;  // 0.0455 BTC
  t.best_bid_amount = 31;  // 3.1 BTC
  t.best_ask_price = 465;
  t.best_ask_amount = 127;
  t.last_price = 460;
  t.mark_price = 0.04601234;
  t.index_price = 97012.37;
  t.estimated_delivery_price = 97012.37;
  t.open_interest = 1530;
  t.stats = {470, 440, 214, 0, -1.8};
  t.underlying_price = 97450.5;
  t.underlying_future = 3;
  t.bid_iv = 54.21;
  t.ask_iv = 56.05;
  t.mark_iv = 55.13;
  t.greeks = {0.45213, 0.00001923, 150.21, -40.12, 80.34};
  return t;
}

template <class W>
void BM_Ticker(benchmark::State& state) {
  gw::market::Instrument option = gw::market::make_instrument(gw::market::option_name(
      gw::market::Currency::BTC, std::chrono::year_month_day{std::chrono::year{2024} / 12 / 27},
      100000, gw::market::OptionType::call));
  option.id = 7;
  const gw::sim::Ticker ticker = sample_ticker(option);
  const std::string channel = "ticker." + option.name + ".100ms";
  const protobuf::Field* member = data_member("ticker");
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    W w(out);
    choose(w, member);
    write_notification(w, channel, [&](W& d) { gw::gateway::write_ticker(d, ticker, option); });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK_TEMPLATE(BM_Ticker, JsonWriter)->Name("BM_TickerJson");
BENCHMARK_TEMPLATE(BM_Ticker, MsgpackWriter)->Name("BM_TickerMsgpack");
BENCHMARK_TEMPLATE(BM_Ticker, ProtobufWriter)->Name("BM_TickerProtobuf");

// The book's 40 doubles alone: our Deribit-style formatting against plain std::to_chars
// (shortest round-trip, its own layout) on the same values, to show what the layout costs.
std::vector<double> book_doubles() {
  const BookChange book = sample_book();
  std::vector<double> values;
  for (const auto* side : {&book.bids, &book.asks}) {
    for (const Level& level : *side) {
      values.push_back(level.price);
      values.push_back(level.amount);
    }
  }
  return values;
}

void BM_JsonDoubles(benchmark::State& state) {
  const std::vector<double> values = book_doubles();
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    for (double v : values) append_json_double(out, v);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
}
BENCHMARK(BM_JsonDoubles);

void BM_ToCharsDoubles(benchmark::State& state) {
  const std::vector<double> values = book_doubles();
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    for (double v : values) {
      char digits[32];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
}
BENCHMARK(BM_ToCharsDoubles);

constexpr std::string_view kBuy =
    R"({"jsonrpc":"2.0","id":5275,"method":"private/buy","params":{"instrument_name":)"
    R"("BTC-27DEC24-100000-C","amount":12.5,"type":"limit","price":0.0465,)"
    R"("label":"mm-bid-0000234","time_in_force":"good_til_cancelled","post_only":true}})";

// Our parser: copy into the padded buffer, DOM parse, id/method/params, then the five params
// a buy handler reads.
void BM_ParseBuy(benchmark::State& state) {
  RequestParser parser;
  Request r;
  for (auto _ : state) {
    if (parser.parse(kBuy, r) != ParseError::none) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r.params.get_string("instrument_name").value.data());
    benchmark::DoNotOptimize(r.params.get_double("amount").value);
    benchmark::DoNotOptimize(r.params.get_string("type").value.data());
    benchmark::DoNotOptimize(r.params.get_double("price").value);
    benchmark::DoNotOptimize(r.params.get_bool("post_only").value);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBuy.size()));
}
BENCHMARK(BM_ParseBuy);

// simdjson's DOM alone on pre-padded text, the same lookups.
void BM_SimdjsonDomBuy(benchmark::State& state) {
  simdjson::dom::parser parser;
  const simdjson::padded_string text(kBuy);
  for (auto _ : state) {
    simdjson::dom::element root = parser.parse(text).value_unsafe();
    simdjson::dom::object params = root["params"].get_object().value_unsafe();
    benchmark::DoNotOptimize(root["id"].get_int64().value_unsafe());
    benchmark::DoNotOptimize(root["method"].get_string().value_unsafe().data());
    benchmark::DoNotOptimize(params["instrument_name"].get_string().value_unsafe().data());
    benchmark::DoNotOptimize(params["amount"].get_double().value_unsafe());
    benchmark::DoNotOptimize(params["type"].get_string().value_unsafe().data());
    benchmark::DoNotOptimize(params["price"].get_double().value_unsafe());
    benchmark::DoNotOptimize(params["post_only"].get_bool().value_unsafe());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBuy.size()));
}
BENCHMARK(BM_SimdjsonDomBuy);

// simdjson On-Demand on pre-padded text, reading the fields in document order (its best case:
// it does not validate what it skips, and out-of-order lookups rescan).
void BM_SimdjsonOndemandBuy(benchmark::State& state) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string text(kBuy);
  for (auto _ : state) {
    simdjson::ondemand::document doc = parser.iterate(text).value_unsafe();
    benchmark::DoNotOptimize(doc["id"].get_int64().value_unsafe());
    benchmark::DoNotOptimize(doc["method"].get_string().value_unsafe().data());
    simdjson::ondemand::object params = doc["params"].get_object().value_unsafe();
    benchmark::DoNotOptimize(params["instrument_name"].get_string().value_unsafe().data());
    benchmark::DoNotOptimize(params["amount"].get_double().value_unsafe());
    benchmark::DoNotOptimize(params["type"].get_string().value_unsafe().data());
    benchmark::DoNotOptimize(params["price"].get_double().value_unsafe());
    benchmark::DoNotOptimize(params["post_only"].get_bool().value_unsafe());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBuy.size()));
}
BENCHMARK(BM_SimdjsonOndemandBuy);

// The response to it: an order and no trades, in JSON.
void BM_BuyResponseJson(benchmark::State& state) {
  RequestParser parser;
  Request r;
  parser.parse(kBuy, r);
  const ResponseMeta meta{.us_in = 1733212345678100, .us_out = 1733212345678141};
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    JsonWriter w(out);
    write_result(w, r.id, meta, [](JsonWriter& v) {
      v.begin_object(2);
      v.key("trades");
      v.begin_array(0);
      v.end_array();
      v.key("order");
      v.begin_object(10);
      v.key("order_id");
      v.value("BTC-584864807");
      v.key("order_state");
      v.value("open");
      v.key("order_type");
      v.value("limit");
      v.key("instrument_name");
      v.value("BTC-27DEC24-100000-C");
      v.key("direction");
      v.value("buy");
      v.key("price");
      v.value(0.0465);
      v.key("amount");
      v.value(12.5);
      v.key("filled_amount");
      v.value(0.0);
      v.key("post_only");
      v.value(true);
      v.key("creation_timestamp");
      v.value(std::int64_t{1733212345678});
      v.end_object();
      v.end_object();
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_BuyResponseJson);

}  // namespace
