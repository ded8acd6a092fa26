// The Deribit-shaped encoders: each writer's JSON against Deribit's captured frames (the
// reference's and the API documentation's examples), with the same field names, value formats
// and member order; the same calls through MsgpackWriter decode to the same tree; debug builds
// check every begin_*(n) count.
#include "gateway/encode.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/tree.hpp"
#include "gateway/encode_test_support.hpp"
#include "pricing/ssvi.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;
using codec::JsonWriter;
using codec::MsgpackWriter;
using market::Currency;
using market::Instrument;
using market::OptionType;
using simdjson::dom::element;
using simdjson::dom::element_type;
using testing::encode;

// ---- Helpers ----------------------------------------------------------------------------------

// A parsed JSON document (the parser owns the elements).
struct Doc {
  explicit Doc(std::string_view json) : text(json) {
    const auto error = parser->parse(text).get(root);
    EXPECT_FALSE(error) << "not JSON: " << text;
  }
  element operator[](std::string_view key) const { return root[key].value_unsafe(); }
  bool has(std::string_view key) const { return !root[key].error(); }

  std::string text;
  std::unique_ptr<simdjson::dom::parser> parser = std::make_unique<simdjson::dom::parser>();
  element root;
};

bool is_number(element e) {
  return e.is_int64() || e.is_uint64() || e.is_double();
}

double number(element e) {
  if (e.is_int64()) return static_cast<double>(e.get_int64().value_unsafe());
  if (e.is_uint64()) return static_cast<double>(e.get_uint64().value_unsafe());
  return e.get_double().value_unsafe();
}

std::vector<std::string> keys_of(element e) {
  std::vector<std::string> keys;
  const simdjson::dom::object object = e.get_object().value_unsafe();
  for (auto field : object) keys.emplace_back(field.key);
  return keys;
}

// The first difference between two values ("" if none): numbers by value (21 equals 21.0, as a
// client sees them), objects by their members regardless of order, arrays element-wise.
// Members named in `ignored` (at any depth) are not compared but must be present.
std::string difference(element expected, element actual, const std::string& path,
                       const std::set<std::string>& ignored = {}) {
  if (is_number(expected) && is_number(actual)) {
    return number(expected) == number(actual) ? "" : path + ": number differs";
  }
  if (expected.type() != actual.type()) return path + ": type differs";
  switch (expected.type()) {
    case element_type::OBJECT: {
      const auto want = expected.get_object().value_unsafe();
      const auto got = actual.get_object().value_unsafe();
      if (want.size() != got.size()) return path + ": member count differs";
      for (auto field : want) {
        const std::string key(field.key);
        element other;
        if (got[field.key].get(other)) return path + "." + key + ": missing";
        if (ignored.count(key)) continue;
        std::string d = difference(field.value, other, path + "." + key, ignored);
        if (!d.empty()) return d;
      }
      return "";
    }
    case element_type::ARRAY: {
      const auto want = expected.get_array().value_unsafe();
      const auto got = actual.get_array().value_unsafe();
      if (want.size() != got.size()) return path + ": length differs";
      for (std::size_t i = 0; i < want.size(); ++i) {
        std::string d = difference(want.at(i).value_unsafe(), got.at(i).value_unsafe(),
                                   path + "[" + std::to_string(i) + "]", ignored);
        if (!d.empty()) return d;
      }
      return "";
    }
    case element_type::STRING:
      return expected.get_string().value_unsafe() == actual.get_string().value_unsafe()
                 ? ""
                 : path + ": string differs";
    case element_type::BOOL:
      return expected.get_bool().value_unsafe() == actual.get_bool().value_unsafe()
                 ? ""
                 : path + ": bool differs";
    default:
      return "";  // null
  }
}

// `actual` has exactly the members of `expected` with the same values, in the same order.
void expect_same(std::string_view actual, std::string_view expected,
                 const std::set<std::string>& ignored = {}) {
  const Doc got(actual);
  const Doc want(expected);
  EXPECT_EQ(difference(want.root, got.root, "$", ignored), "") << actual;
  if (want.root.is_object()) {
    EXPECT_EQ(keys_of(got.root), keys_of(want.root)) << actual;
  }
}

// `actual` is the captured object `capture` plus exactly the members `extra`: every captured
// member with its value, the captured members in the captured order.
void expect_extends(element actual, element capture, const std::set<std::string>& extra,
                    const std::set<std::string>& ignored = {}) {
  std::set<std::string> expected_keys(extra);
  std::vector<std::string> captured_order;
  const simdjson::dom::object captured = capture.get_object().value_unsafe();
  for (auto field : captured) {
    const std::string key(field.key);
    expected_keys.insert(key);
    captured_order.push_back(key);
    element value;
    ASSERT_FALSE(actual[field.key].get(value)) << "missing " << key;
    if (!ignored.count(key)) {
      EXPECT_EQ(difference(field.value, value, key, ignored), "");
    }
  }
  const std::vector<std::string> actual_keys = keys_of(actual);
  EXPECT_EQ(std::set<std::string>(actual_keys.begin(), actual_keys.end()), expected_keys);
  std::vector<std::string> order;
  for (const std::string& key : actual_keys) {
    if (!extra.count(key)) order.push_back(key);
  }
  EXPECT_EQ(order, captured_order);
}

void expect_extends(std::string_view actual, std::string_view capture,
                    const std::set<std::string>& extra, const std::set<std::string>& ignored = {}) {
  const Doc got(actual);
  const Doc want(capture);
  expect_extends(got.root, want.root, extra, ignored);
}

std::set<std::string> key_set(std::string_view json) {
  const Doc doc(json);
  const std::vector<std::string> keys = keys_of(doc.root);
  return {keys.begin(), keys.end()};
}

Instrument listed(market::InstrumentName name, market::InstrumentId id,
                  market::TimestampMs created = 1'600'000'000'000) {
  Instrument i = market::make_instrument(name);
  i.id = id;
  i.creation_ms = created;
  return i;
}

Instrument btc_option(std::chrono::year_month_day expiry, double strike, OptionType type,
                      market::InstrumentId id = 7) {
  return listed(market::option_name(Currency::BTC, expiry, strike, type), id);
}

// ---- Ids and small helpers --------------------------------------------------------------------

TEST(EncodeIds, FormatLikeDeribit) {
  EXPECT_EQ(format_id(Currency::ETH, 584864807).view(), "ETH-584864807");
  EXPECT_EQ(format_id(Currency::BTC, 0).view(), "BTC-0");
  EXPECT_EQ(format_id(Currency::BTC, UINT64_MAX).view(), "BTC-18446744073709551615");
}

TEST(EncodeIds, ParseIsTheInverse) {
  for (std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2696097}, UINT64_MAX}) {
    for (Currency c : market::kCurrencies) {
      const auto parsed = parse_id(format_id(c, n).view());
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed->currency, c);
      EXPECT_EQ(parsed->number, n);
    }
  }
  for (std::string_view bad : {"", "BTC-", "BTC584", "btc-1", "SOL-1", "BTC-01", "BTC--1", "BTC-+1",
                               "BTC-1x", "BTC-18446744073709551616", "BTC-1 "}) {
    EXPECT_FALSE(parse_id(bad)) << bad;
  }
}

TEST(EncodeHelpers, UnderlyingIndexNamesTheFutureOrItsSynthetic) {
  const Instrument option = btc_option(2026y / 12 / 27d, 100000, OptionType::call);
  EXPECT_EQ(underlying_index(option, true).view(), "BTC-27DEC26");
  EXPECT_EQ(underlying_index(option, false).view(), "SYN.BTC-27DEC26");
}

TEST(EncodeHelpers, PriceBandsLieOnTheTickGrid) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const PriceBand futures = price_band(perp, 36446.51);
  EXPECT_EQ(futures.min_price, 35900.0);  // 35899.81 up to the 0.5 grid
  EXPECT_EQ(futures.max_price, 36993.0);  // 36993.21 down
  const Instrument option = btc_option(2026y / 12 / 27d, 100000, OptionType::call);
  const PriceBand cheap = price_band(option, 0.001972);
  EXPECT_EQ(cheap.min_price, 0.0001);  // the tick is the floor
  EXPECT_EQ(cheap.max_price, 0.0415);  // 0.041972 down onto the 0.0005 grid above 0.005
  const PriceBand dear = price_band(option, 0.1234);
  EXPECT_EQ(dear.min_price, 0.0835);  // 0.0834 up onto the 0.0005 grid
  EXPECT_EQ(dear.max_price, 0.1630);
  EXPECT_TRUE(std::isnan(price_band(option, 0).min_price));
}

// ---- Instruments ------------------------------------------------------------------------------

TEST(EncodeInstrument, OptionRowExtendsTheCapturedRow) {
  // CF's real BTC-24SEP21-40000-P row; its tick was 0.0005 then (ours is 0.0001 with a
  // 0.0005 step above 0.005), so the test takes the captured tick.
  Instrument option = btc_option(2021y / 9 / 24d, 40000, OptionType::put, 123);
  option.tick_size = 0.0005;
  const std::string json = encode([&](auto& w) { write_instrument(w, option); });
  expect_extends(
      json,
      R"({"tick_size":0.0005,"strike":40000.0,"settlement_period":"month","quote_currency":"BTC",)"
      R"("option_type":"put","min_trade_amount":0.1,"kind":"option",)"
      R"("instrument_name":"BTC-24SEP21-40000-P","expiration_timestamp":1632470400000,)"
      R"("contract_size":1.0,"base_currency":"BTC"})",
      {"tick_size_steps", "taker_commission", "state", "settlement_currency", "rfq", "price_index",
       "maker_commission", "is_active", "instrument_type", "instrument_id", "creation_timestamp",
       "counter_currency", "block_trade_tick_size", "block_trade_min_trade_amount",
       "block_trade_commission"});
  const Doc doc(json);
  EXPECT_EQ(difference(Doc(R"([{"above_price":0.005,"tick_size":0.0005}])").root,
                       doc["tick_size_steps"], "steps"),
            "");
  EXPECT_EQ(number(doc["instrument_id"]), 123);
  EXPECT_EQ(std::string_view(doc["instrument_type"].get_string().value_unsafe()), "reversed");
}

TEST(EncodeInstrument, PerpetualRowIsDeribitsDocumentedRow) {
  // The BTC-PERPETUAL row of Deribit's public/get_instruments documentation (with our
  // instrument id and creation time), plus rfq and future_type.
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 124972, 1534167754000);
  const std::string json = encode([&](auto& w) { write_instrument(w, perp); });
  expect_extends(json,
                 R"({"tick_size":0.5,"tick_size_steps":[],"taker_commission":0.0005,)"
                 R"("state":"open","settlement_period":"perpetual","settlement_currency":"BTC",)"
                 R"("quote_currency":"USD","price_index":"btc_usd","min_trade_amount":10,)"
                 R"("max_liquidation_commission":0.0075,"max_leverage":50,"maker_commission":0,)"
                 R"("kind":"future","is_active":true,"instrument_type":"reversed",)"
                 R"("instrument_name":"BTC-PERPETUAL","instrument_id":124972,)"
                 R"("expiration_timestamp":32503708800000,"creation_timestamp":1534167754000,)"
                 R"("counter_currency":"USD","contract_size":10,"block_trade_tick_size":0.01,)"
                 R"("block_trade_min_trade_amount":200000,"block_trade_commission":0.00025,)"
                 R"("base_currency":"BTC"})",
                 {"rfq", "future_type"});
}

TEST(EncodeInstrument, ExpiredFutureIsClosed) {
  Instrument future = listed(market::future_name(Currency::ETH, 2026y / 3 / 27d), 9);
  future.is_active = false;
  const Doc doc(encode([&](auto& w) { write_instrument(w, future); }));
  EXPECT_EQ(std::string_view(doc["state"].get_string().value_unsafe()), "closed");
  EXPECT_FALSE(doc["is_active"].get_bool().value_unsafe());
  EXPECT_EQ(std::string_view(doc["settlement_period"].get_string().value_unsafe()), "month");
  EXPECT_FALSE(doc.has("strike"));
  EXPECT_FALSE(doc.has("option_type"));
}

// ---- Books ------------------------------------------------------------------------------------

TEST(EncodeBook, ChangeIsTheCapturedFramePlusChecksum) {
  // CF's book.BTC-24SEP21-8000-P.raw frame.
  const Instrument option = btc_option(2021y / 9 / 24d, 8000, OptionType::put);
  sim::OwnedBookChange change;
  change.timestamp = 1626993724318;
  change.instrument = option.id;
  change.change_id = 33195894355;
  change.prev_change_id = 33195894164;
  change.checksum = 4181265969;
  const market::LevelUpdate asks[] = {{10, 26, market::BookAction::add}};  // 0.001 × 2.6
  change.asks.assign(asks);
  expect_same(encode([&](auto& w) { write_book_change(w, change, option, false); }),
              R"({"type":"change","timestamp":1626993724318,"prev_change_id":33195894164,)"
              R"("instrument_name":"BTC-24SEP21-8000-P","change_id":33195894355,"bids":[],)"
              R"("asks":[["new",0.001,2.6]],"checksum":4181265969})");
}

TEST(EncodeBook, ChangeActionsAndSnapshot) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  sim::OwnedBookChange change;
  change.timestamp = 1767225600123;
  change.change_id = 8812;
  change.prev_change_id = 8790;
  change.checksum = 3370445602;
  // Five levels: more than InlineVec keeps inline.
  const market::LevelUpdate bids[] = {{130000, 1200, market::BookAction::change},
                                      {129999, 0, market::BookAction::remove},
                                      {129998, 1, market::BookAction::add},
                                      {129990, 3, market::BookAction::add},
                                      {129980, 4, market::BookAction::add}};
  change.bids.assign(bids);
  expect_same(encode([&](auto& w) { write_book_change(w, change, perp, false); }),
              R"({"type":"change","timestamp":1767225600123,"prev_change_id":8790,)"
              R"("instrument_name":"BTC-PERPETUAL","change_id":8812,)"
              R"("bids":[["change",65000.0,12000.0],["delete",64999.5,0],["new",64999,10],)"
              R"(["new",64995,30],["new",64990,40]],"asks":[],"checksum":3370445602})");
  expect_same(encode([&](auto& w) { write_book_change(w, change, perp, true); }),
              R"({"type":"snapshot","timestamp":1767225600123,)"
              R"("instrument_name":"BTC-PERPETUAL","change_id":8812,)"
              R"("bids":[["change",65000.0,12000.0],["delete",64999.5,0],["new",64999,10],)"
              R"(["new",64995,30],["new",64990,40]],"asks":[],"checksum":3370445602})");
}

sim::BookSnapshot perp_book(const Instrument& perp) {
  // The levels of the BookChecksum test vector (docs/PROTOCOL.md).
  sim::BookSnapshot book;
  book.found = true;
  book.timestamp = 1767225600123;
  book.instrument = perp.id;
  book.change_id = 8812;
  book.checksum = 3370445602;
  book.bids = {{130000, 1200}, {129999, 50}, {129980, 1}};
  book.asks = {{130001, 300}, {130002, 2}};
  return book;
}

TEST(EncodeBook, SnapshotFromABookQuery) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  expect_same(encode([&](auto& w) { write_book_change(w, perp_book(perp), perp); }),
              R"({"type":"snapshot","timestamp":1767225600123,)"
              R"("instrument_name":"BTC-PERPETUAL","change_id":8812,)"
              R"("bids":[["new",65000.0,12000],["new",64999.5,500],["new",64990,10]],)"
              R"("asks":[["new",65000.5,3000],["new",65001,20]],"checksum":3370445602})");
}

TEST(EncodeBook, GroupedBookIsPairs) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const sim::BookSnapshot book = perp_book(perp);
  expect_same(encode([&](auto& w) {
                write_grouped_book(w, perp, 8812, 1767225600123, book.bids, book.asks);
              }),
              R"({"timestamp":1767225600123,"instrument_name":"BTC-PERPETUAL","change_id":8812,)"
              R"("bids":[[65000.0,12000],[64999.5,500],[64990,10]],)"
              R"("asks":[[65000.5,3000],[65001,20]]})");
}

// ---- Tickers ----------------------------------------------------------------------------------

constexpr std::string_view kOptionTickerCapture =
    R"({"underlying_price":2003.61,"underlying_index":"ETH-30JUL21","timestamp":1626993723632,)"
    R"("stats":{"volume":869.0,"price_change":0.0,"low":0.0015,"high":0.0025},"state":"open",)"
    R"("settlement_price":0.0,"open_interest":12685.0,"min_price":0.0001,"max_price":0.025,)"
    R"("mark_price":0.001972,"mark_iv":120.74,"last_price":0.002,"interest_rate":0.0,)"
    R"("instrument_name":"ETH-30JUL21-2800-C","index_price":2006.72,)"
    R"("greeks":{"vega":0.20072,"theta":-1.64029,"rho":0.01188,"gamma":0.0002,"delta":0.03127},)"
    R"("estimated_delivery_price":2006.72,"bid_iv":115.62,"best_bid_price":0.0015,)"
    R"("best_bid_amount":4714.0,"best_ask_price":0.0025,"best_ask_amount":873.0,"ask_iv":125.63})";

Instrument eth_option_2800() {
  return listed(market::option_name(Currency::ETH, 2021y / 7 / 30d, 2800, OptionType::call), 42);
}

// The captured ETH-30JUL21-2800-C ticker as the simulator's struct (ETH options: price unit
// 0.0001 ETH, amount unit 1 ETH).
sim::Ticker captured_option_ticker(const Instrument& option) {
  sim::Ticker t;
  t.timestamp = 1626993723632;
  t.instrument = option.id;
  t.currency = Currency::ETH;
  t.kind = market::Kind::option;
  t.best_bid_price = 15;
  t.best_bid_amount = 4714;
  t.best_ask_price = 25;
  t.best_ask_amount = 873;
  t.last_price = 20;
  t.mark_price = 0.001972;
  t.index_price = 2006.72;
  t.estimated_delivery_price = 2006.72;
  t.open_interest = 12685;
  t.stats = {25, 15, 869, 0, 0.0};
  t.underlying_price = 2003.61;
  t.underlying_future = 41;  // ETH-30JUL21 is listed
  t.interest_rate = 0;
  t.bid_iv = 115.62;
  t.ask_iv = 125.63;
  t.mark_iv = 120.74;
  t.greeks = {0.03127, 0.0002, 0.20072, -1.64029, 0.01188};
  return t;
}

TEST(EncodeTicker, OptionIsTheCapturedFrame) {
  const Instrument option = eth_option_2800();
  const sim::Ticker ticker = captured_option_ticker(option);
  const std::string json = encode([&](auto& w) { write_ticker(w, ticker, option); });
  // Same members, values and order; the price band is ours (see price_band).
  expect_same(json, kOptionTickerCapture, {"max_price"});
  const Doc doc(json);
  EXPECT_EQ(number(doc["max_price"]), 0.0415);
}

TEST(EncodeTicker, OptionWithoutTradesOrListedFuture) {
  const Instrument option = eth_option_2800();
  sim::Ticker ticker = captured_option_ticker(option);
  ticker.last_price = 0;
  ticker.stats = {};
  ticker.underlying_future = 0;
  const Doc doc(encode([&](auto& w) { write_ticker(w, ticker, option); }));
  EXPECT_TRUE(doc["last_price"].is_null());
  EXPECT_EQ(difference(Doc(R"({"volume":0,"price_change":null,"low":null,"high":null})").root,
                       doc["stats"], "stats"),
            "");
  EXPECT_EQ(std::string_view(doc["underlying_index"].get_string().value_unsafe()),
            "SYN.ETH-30JUL21");
}

// Deribit's documented BTC-PERPETUAL ticker (incremental_ticker snapshot / public/ticker).
constexpr std::string_view kPerpetualTickerDoc =
    R"({"timestamp":1623060194301,"stats":{"volume_usd":284061480,"volume":7871.02139035,)"
    R"("price_change":0.7229,"low":35213.5,"high":36824.5},"state":"open",)"
    R"("settlement_price":36169.49,"open_interest":502097590,"min_price":35898.37,)"
    R"("max_price":36991.72,"mark_price":36446.51,"last_price":36457.5,)"
    R"("instrument_name":"BTC-PERPETUAL","index_price":36441.64,"funding_8h":0.0000211,)"
    R"("estimated_delivery_price":36441.64,"current_funding":0,"best_bid_price":36442.5,)"
    R"("best_bid_amount":5000,"best_ask_price":36443,"best_ask_amount":100})";

sim::Ticker documented_perpetual_ticker(const Instrument& perp) {
  // BTC futures: price unit 0.5 USD, amount unit 10 USD.
  sim::Ticker t;
  t.timestamp = 1623060194301;
  t.instrument = perp.id;
  t.best_bid_price = 72885;
  t.best_bid_amount = 500;
  t.best_ask_price = 72886;
  t.best_ask_amount = 10;
  t.last_price = 72915;
  t.mark_price = 36446.51;
  t.index_price = 36441.64;
  t.estimated_delivery_price = 36441.64;
  t.open_interest = 50209759;
  t.stats = {73649, 70427, 28406148, 284061480, 0.7229};
  t.current_funding = 0;
  t.funding_8h = 0.0000211;
  t.interest_value = 1.7362511643080387;
  return t;
}

TEST(EncodeTicker, PerpetualIsTheDocumentedTickerPlusInterestValue) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const sim::Ticker ticker = documented_perpetual_ticker(perp);
  const std::string json = encode([&](auto& w) { write_ticker(w, ticker, perp); });
  // Ours: no settlement yet (0), our price band, and coin volume from USD at the index.
  expect_extends(json, kPerpetualTickerDoc, {"interest_value"},
                 {"settlement_price", "min_price", "max_price", "stats"});
  const Doc doc(json);
  EXPECT_EQ(number(doc["interest_value"]), 1.7362511643080387);
  EXPECT_EQ(number(doc["settlement_price"]), 0);
  EXPECT_EQ(number(doc["min_price"]), 35900);
  EXPECT_EQ(number(doc["max_price"]), 36993);
  const element stats = doc["stats"];
  EXPECT_EQ(keys_of(stats),
            (std::vector<std::string>{"volume_usd", "volume", "price_change", "low", "high"}));
  EXPECT_EQ(number(stats["volume_usd"].value_unsafe()), 284061480);
  EXPECT_DOUBLE_EQ(number(stats["volume"].value_unsafe()), 284061480 / 36441.64);
  EXPECT_EQ(number(stats["high"].value_unsafe()), 36824.5);
}

TEST(EncodeTicker, DatedFutureHasNoFunding) {
  const Instrument future = listed(market::future_name(Currency::BTC, 2026y / 12 / 25d), 3);
  sim::Ticker ticker = documented_perpetual_ticker(future);
  const Doc doc(encode([&](auto& w) { write_ticker(w, ticker, future); }));
  const std::set<std::string> keys = key_set(doc.text);
  for (const char* absent : {"current_funding", "funding_8h", "interest_value", "greeks", "mark_iv",
                             "underlying_index", "underlying_price"}) {
    EXPECT_FALSE(keys.count(absent)) << absent;
  }
  EXPECT_EQ(keys.size(), 16u);
}

TEST(EncodeTicker, UnknownMarkAndIndexAreNull) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  sim::Ticker ticker;
  ticker.instrument = perp.id;
  const Doc doc(encode([&](auto& w) { write_ticker(w, ticker, perp); }));
  for (const char* key : {"mark_price", "index_price", "estimated_delivery_price", "last_price",
                          "min_price", "max_price"}) {
    EXPECT_TRUE(doc[key].is_null()) << key;
  }
  EXPECT_EQ(number(doc["best_bid_price"]), 0);  // Deribit's empty side
}

// ---- public/get_order_book --------------------------------------------------------------------

TEST(EncodeOrderBook, PerpetualIsTheDocumentedResultPlusChecksum) {
  // Deribit's public/get_order_book_by_instrument_id example, on ETH-PERPETUAL (whose units,
  // 0.05 USD and 1 USD, hold its prices and amounts).
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  sim::BookSnapshot book;
  book.found = true;
  book.timestamp = 1550757626706;
  book.instrument = perp.id;
  book.change_id = 474988;
  book.checksum = 12345;
  book.bids = {{79115, 30}, {78815, 102020}, {68460, 42840}};
  sim::Ticker t;
  t.timestamp = book.timestamp;
  t.instrument = perp.id;
  t.best_bid_price = 79115;
  t.best_bid_amount = 30;
  t.last_price = 79115;
  t.mark_price = 3931.97;
  t.index_price = 3910.46;
  t.estimated_delivery_price = 3910.46;
  t.open_interest = 45;
  t.stats = {79525, 78815, 365000, 365000, 0.6913};
  t.funding_8h = 0.00455263;
  t.current_funding = 0.00500063;
  book.ticker = t;
  const std::string json = encode([&](auto& w) { write_order_book(w, book, perp); });
  expect_extends(json,
                 R"({"timestamp":1550757626706,"stats":{"volume":93.35589552,)"
                 R"("price_change":0.6913,"low":3940.75,"high":3976.25},"state":"open",)"
                 R"("settlement_price":3925.85,"open_interest":45,"min_price":3932.22,)"
                 R"("max_price":3971.74,"mark_price":3931.97,"last_price":3955.75,)"
                 R"("instrument_name":"ETH-PERPETUAL","index_price":3910.46,)"
                 R"("funding_8h":0.00455263,"current_funding":0.00500063,"change_id":474988,)"
                 R"("bids":[[3955.75,30],[3940.75,102020],[3423,42840]],)"
                 R"("best_bid_price":3955.75,"best_bid_amount":30,"best_ask_price":0,)"
                 R"("best_ask_amount":0,"asks":[]})",
                 {"interest_value", "estimated_delivery_price", "checksum"},
                 {"stats", "settlement_price", "min_price", "max_price"});
  const Doc doc(json);
  EXPECT_EQ(keys_of(doc.root).back(), "checksum");
  EXPECT_EQ(number(doc["checksum"]), 12345);
}

TEST(EncodeOrderBook, OptionCarriesTheTickerAndTheBook) {
  const Instrument option = eth_option_2800();
  sim::BookSnapshot book;
  book.found = true;
  book.timestamp = 1626993723632;
  book.instrument = option.id;
  book.change_id = 77;
  book.checksum = 99;
  book.bids = {{15, 4714}};
  book.asks = {{25, 873}, {30, 5}};
  book.ticker = captured_option_ticker(option);
  const std::string json = encode([&](auto& w) { write_order_book(w, book, option); });
  expect_extends(json, kOptionTickerCapture, {"change_id", "bids", "asks", "checksum"},
                 {"max_price"});
  const Doc doc(json);
  EXPECT_EQ(difference(Doc("[[0.0025,873],[0.003,5]]").root, doc["asks"], "asks"), "");
}

TEST(EncodeOrderBook, WithoutATickerTheBookGivesTheBestLevels) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const Doc doc(encode([&](auto& w) { write_order_book(w, perp_book(perp), perp); }));
  EXPECT_EQ(number(doc["best_bid_price"]), 65000);
  EXPECT_EQ(number(doc["best_bid_amount"]), 12000);
  EXPECT_EQ(number(doc["best_ask_price"]), 65000.5);
  EXPECT_TRUE(doc["mark_price"].is_null());
  EXPECT_EQ(number(doc["timestamp"]), 1767225600123);
}

// ---- Orders and trades ------------------------------------------------------------------------

// The private/buy result captured in the reference (ETH-PERPETUAL: price unit 0.05, amount 1).
constexpr std::string_view kCapturedTrade =
    R"({"trade_seq":1966068,"trade_id":"ETH-2696097","timestamp":1590486335742,)"
    R"("tick_direction":0,"state":"filled","price":202.8,"order_type":"limit",)"
    R"("order_id":"ETH-584864807","matching_id":null,"mark_price":202.79,"liquidity":"T",)"
    R"("instrument_name":"ETH-PERPETUAL","index_price":202.86,"fee_currency":"ETH",)"
    R"("fee":7.766e-05,"direction":"sell","amount":21})";
constexpr std::string_view kCapturedOrder =
    R"({"time_in_force":"good_til_cancelled","replaced":false,"reduce_only":true,)"
    R"("price":198.75,"post_only":false,"order_type":"limit","order_state":"filled",)"
    R"("order_id":"ETH-584864807","max_show":21,"last_update_timestamp":1590486335742,)"
    R"("label":"","is_liquidation":false,"instrument_name":"ETH-PERPETUAL",)"
    R"("filled_amount":21,"direction":"sell","creation_timestamp":1590486335742,)"
    R"("average_price":202.8,"api":true,"amount":21})";
const std::set<std::string> kOrderExtras = {"web", "risk_reducing", "reject_post_only", "mmp",
                                            "contracts"};
// Deribit's documented user-trade fields the captured example lacks (its order had no label,
// so there is none: Deribit sends `label` only when the order has one).
const std::set<std::string> kUserTradeExtras = {
    "reduce_only", "profit_loss", "post_only", "contracts", "api", "mmp", "risk_reducing"};

market::Trade captured_trade(const Instrument& perp) {
  market::Trade t;
  t.timestamp = 1590486335742;
  t.trade_id = 2696097;
  t.trade_seq = 1966068;
  t.instrument = perp.id;
  t.currency = Currency::ETH;
  t.direction = market::Side::sell;
  t.tick_direction = market::TickDirection::plus;
  t.price = 4056;  // 202.8
  t.amount = 21;
  t.mark_price = 202.79;
  t.index_price = 202.86;
  t.taker_order = 584864807;
  t.maker_order = 584860001;
  t.taker = 5;
  t.maker = 6;
  t.taker_state = market::OrderState::filled;
  t.maker_state = market::OrderState::open;
  t.taker_fee = 7.766e-05;
  t.maker_fee = -1.2e-05;
  t.taker_pnl = 0.0012;
  t.maker_pnl = -0.0012;
  return t;
}

sim::OwnedOrderUpdate captured_order(const Instrument& perp) {
  market::OrderUpdate o;
  o.timestamp = 1590486335742;
  o.created = 1590486335742;
  o.order_id = 584864807;
  o.account = 5;
  o.instrument = perp.id;
  o.currency = Currency::ETH;
  o.side = market::Side::sell;
  o.state = market::OrderState::filled;
  o.reduce_only = true;
  o.price = 3975;  // 198.75
  o.amount = 21;
  o.filled = 21;
  o.average_price = 202.8;
  return sim::OwnedOrderUpdate(o);
}

TEST(EncodeOrder, IsTheCapturedOrderPlusDocumentedFields) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  const sim::OwnedOrderUpdate order = captured_order(perp);
  const std::string json = encode([&](auto& w) { write_order(w, order, perp); });
  expect_extends(json, kCapturedOrder, kOrderExtras);
  const Doc doc(json);
  EXPECT_FALSE(doc["web"].get_bool().value_unsafe());
  EXPECT_EQ(number(doc["contracts"]), 21);
}

TEST(EncodeOrder, CancelledMarketOrderWithLabel) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  market::OrderUpdate o;
  o.order_id = 17;
  o.currency = Currency::BTC;
  o.type = market::OrderType::market;
  o.time_in_force = market::TimeInForce::immediate_or_cancel;
  o.state = market::OrderState::cancelled;
  o.cancel_reason = market::CancelReason::immediate_or_cancel;
  o.amount = 5;  // 50 USD
  o.filled = 2;
  o.average_price = 65000.25;
  o.label = "market0000234";
  const sim::OwnedOrderUpdate order(o);
  const Doc doc(encode([&](auto& w) { write_order(w, order, perp); }));
  EXPECT_EQ(std::string_view(doc["price"].get_string().value_unsafe()), "market_price");
  EXPECT_EQ(std::string_view(doc["cancel_reason"].get_string().value_unsafe()),
            "immediate_or_cancel");
  EXPECT_EQ(std::string_view(doc["label"].get_string().value_unsafe()), "market0000234");
  EXPECT_EQ(std::string_view(doc["order_id"].get_string().value_unsafe()), "BTC-17");
  EXPECT_EQ(std::string_view(doc["order_type"].get_string().value_unsafe()), "market");
  EXPECT_EQ(number(doc["amount"]), 50);
  EXPECT_EQ(number(doc["contracts"]), 5);  // BTC futures: 10 USD per contract
  EXPECT_EQ(number(doc["filled_amount"]), 20);
  EXPECT_EQ(key_set(doc.text).size(), 25u);
}

TEST(EncodeTrade, UserTradeIsTheCapturedTradePlusDocumentedFields) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  const market::Trade trade = captured_trade(perp);
  const sim::OwnedOrderUpdate order = captured_order(perp);
  const std::string json = encode(
      [&](auto& w) { write_user_trade(w, trade, perp, Liquidity::taker, trade_order(order)); });
  expect_extends(json, kCapturedTrade, kUserTradeExtras);
  const Doc doc(json);
  EXPECT_TRUE(doc["reduce_only"].get_bool().value_unsafe());
  EXPECT_EQ(number(doc["profit_loss"]), 0.0012);
  EXPECT_TRUE(doc["api"].get_bool().value_unsafe());
  EXPECT_FALSE(doc["mmp"].get_bool().value_unsafe());
  EXPECT_FALSE(doc["risk_reducing"].get_bool().value_unsafe());
}

TEST(EncodeTrade, MakersViewIsTheOtherSide) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  const market::Trade trade = captured_trade(perp);
  const TradeOrder maker{market::OrderType::limit, true, false, "mm"};
  const Doc doc(
      encode([&](auto& w) { write_user_trade(w, trade, perp, Liquidity::maker, maker); }));
  EXPECT_EQ(std::string_view(doc["direction"].get_string().value_unsafe()), "buy");
  EXPECT_EQ(std::string_view(doc["liquidity"].get_string().value_unsafe()), "M");
  EXPECT_EQ(std::string_view(doc["order_id"].get_string().value_unsafe()), "ETH-584860001");
  EXPECT_EQ(std::string_view(doc["state"].get_string().value_unsafe()), "open");
  EXPECT_EQ(number(doc["fee"]), -1.2e-05);
  EXPECT_TRUE(doc["post_only"].get_bool().value_unsafe());
  EXPECT_EQ(std::string_view(doc["label"].get_string().value_unsafe()), "mm");
}

TEST(EncodeTrade, PublicTradeHasNoUserFields) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  const market::Trade trade = captured_trade(perp);
  expect_same(encode([&](auto& w) { write_trade(w, trade, perp); }),
              R"({"trade_seq":1966068,"trade_id":"ETH-2696097","timestamp":1590486335742,)"
              R"("tick_direction":0,"price":202.8,"mark_price":202.79,)"
              R"("instrument_name":"ETH-PERPETUAL","index_price":202.86,"direction":"sell",)"
              R"("contracts":21,"amount":21})");
}

TEST(EncodeTrade, OptionTradeCarriesItsIv) {
  const Instrument option = eth_option_2800();
  market::Trade trade;
  trade.timestamp = 1626993723632;
  trade.trade_id = 9;
  trade.currency = Currency::ETH;
  trade.instrument = option.id;
  trade.tick_direction = market::TickDirection::zero_minus;
  trade.price = 20;  // 0.002, between the captured ticker's bid and ask
  trade.amount = 3;
  const Doc doc(encode([&](auto& w) { write_trade(w, trade, option, 2003.61); }));
  const double iv = number(doc["iv"]);
  EXPECT_GT(iv, 115.62);  // bid_iv
  EXPECT_LT(iv, 125.63);  // ask_iv
  EXPECT_EQ(number(doc["tick_direction"]), 3);
  EXPECT_TRUE(doc["mark_price"].is_null());  // none known yet
  EXPECT_TRUE(doc["index_price"].is_null());
  const Doc user(encode([&](auto& w) {
    write_user_trade(w, trade, option, Liquidity::maker, TradeOrder{}, 2003.61);
  }));
  EXPECT_EQ(number(user["iv"]), iv);
  EXPECT_EQ(number(user["underlying_price"]), 2003.61);  // the forward the IV is solved on
  EXPECT_EQ(keys_of(user.root).front(), "underlying_price");
  EXPECT_EQ(key_set(user.text).size(), 26u);  // no label: the order had none
  // Without a forward or an index there is no IV to solve for.
  EXPECT_TRUE(Doc(encode([&](auto& w) { write_trade(w, trade, option); }))["iv"].is_null());
}

TEST(EncodeOrderResult, IsTheCapturedResult) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  sim::OrderResult result;
  result.executed = true;
  result.order = captured_order(perp);
  result.trades = {captured_trade(perp)};
  const Doc doc(encode([&](auto& w) { write_order_result(w, result, perp); }));
  EXPECT_EQ(keys_of(doc.root), (std::vector<std::string>{"trades", "order"}));
  const Doc order(kCapturedOrder);
  const Doc trade(kCapturedTrade);
  expect_extends(doc["order"], order.root, kOrderExtras);
  const auto trades = doc["trades"].get_array().value_unsafe();
  ASSERT_EQ(trades.size(), 1u);
  expect_extends(trades.at(0).value_unsafe(), trade.root, kUserTradeExtras);
}

TEST(EncodeOrderResult, FailedCommandHasANullOrder) {
  const Instrument perp = listed(market::perpetual_name(Currency::ETH), 2);
  const sim::OrderResult result;
  expect_same(encode([&](auto& w) { write_order_result(w, result, perp); }),
              R"({"trades":[],"order":null})");
}

// ---- Positions and accounts -------------------------------------------------------------------

TEST(EncodePosition, FutureRow) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const sim::PositionSnapshot p{perp.id, -100, 50000, 51000, -0.0003921568627, 0.001};
  const PositionContext ctx = position_context(perp, p, 50990, nullptr);
  EXPECT_DOUBLE_EQ(ctx.initial_margin, 0.01 * 1000 / 51000);
  EXPECT_DOUBLE_EQ(ctx.maintenance_margin, 0.005 * 1000 / 51000);
  const std::string json = encode([&](auto& w) { write_position(w, p, perp, ctx); });
  expect_same(
      json,
      R"({"total_profit_loss":0.0006078431373,"size_currency":-0.0196078431372549,)"
      R"("size":-1000,"settlement_price":0,"realized_profit_loss":0.001,)"
      R"("open_orders_margin":0,"mark_price":51000,)"
      R"("maintenance_margin":9.803921568627451e-05,"leverage":50,"kind":"future",)"
      R"("instrument_name":"BTC-PERPETUAL","initial_margin":0.00019607843137254902,)"
      R"("index_price":50990,"floating_profit_loss":-0.0003921568627,)"
      R"("estimated_liquidation_price":null,"direction":"sell",)"
      R"("delta":-0.0196078431372549,"average_price":50000})",
      {"total_profit_loss", "size_currency", "delta", "maintenance_margin", "initial_margin"});
  const Doc doc(json);
  EXPECT_DOUBLE_EQ(number(doc["size_currency"]), -1000.0 / 51000);
  EXPECT_DOUBLE_EQ(number(doc["delta"]), -1000.0 / 51000);
  EXPECT_DOUBLE_EQ(number(doc["total_profit_loss"]), -0.0003921568627 + 0.001);
}

TEST(EncodePosition, OptionRowFromAnEvent) {
  const Instrument option = btc_option(2026y / 12 / 27d, 100000, OptionType::call);
  market::PositionUpdate update;
  update.instrument = option.id;
  update.size = 15;  // 1.5 BTC long
  update.average_price = 0.05;
  update.mark_price = 0.06;
  update.floating_pnl = 0.015;
  const sim::PositionSnapshot p = position_snapshot(update);
  const sim::TickerGreeks greeks{0.4, 0.00002, 150, -40, 80};
  const PositionContext ctx = position_context(option, p, 90000, &greeks);
  EXPECT_EQ(ctx.initial_margin, 0);  // a long option is paid for
  const Doc doc(encode([&](auto& w) { write_position(w, p, option, ctx); }));
  EXPECT_EQ(keys_of(doc.root), (std::vector<std::string>{"vega",
                                                         "total_profit_loss",
                                                         "theta",
                                                         "size_currency",
                                                         "size",
                                                         "settlement_price",
                                                         "realized_profit_loss",
                                                         "open_orders_margin",
                                                         "mark_price",
                                                         "maintenance_margin",
                                                         "kind",
                                                         "instrument_name",
                                                         "initial_margin",
                                                         "index_price",
                                                         "gamma",
                                                         "floating_profit_loss_usd",
                                                         "floating_profit_loss",
                                                         "direction",
                                                         "delta",
                                                         "average_price_usd",
                                                         "average_price"}));
  EXPECT_DOUBLE_EQ(number(doc["delta"]), 0.6);
  EXPECT_DOUBLE_EQ(number(doc["vega"]), 225);
  EXPECT_DOUBLE_EQ(number(doc["theta"]), -60);
  EXPECT_DOUBLE_EQ(number(doc["gamma"]), 0.00003);
  EXPECT_EQ(number(doc["size"]), 1.5);
  EXPECT_EQ(number(doc["size_currency"]), 1.5);
  EXPECT_DOUBLE_EQ(number(doc["average_price_usd"]), 4500);
  EXPECT_DOUBLE_EQ(number(doc["floating_profit_loss_usd"]), 1350);
  EXPECT_EQ(std::string_view(doc["direction"].get_string().value_unsafe()), "buy");

  // A short option needs margin; a flat position has direction "zero".
  sim::PositionSnapshot short_position = p;
  short_position.size = -15;
  EXPECT_GT(position_context(option, short_position, 90000, &greeks).initial_margin, 0.06 * 1.5);
  sim::PositionSnapshot flat = p;
  flat.size = 0;
  const Doc zero(encode([&](auto& w) { write_position(w, flat, option, ctx); }));
  EXPECT_EQ(std::string_view(zero["direction"].get_string().value_unsafe()), "zero");
}

// Deribit's user.portfolio members (the documentation's notification), reverse alphabetical.
const std::vector<std::string> kPortfolioKeys = {"total_pl",
                                                 "session_upl",
                                                 "session_rpl",
                                                 "projected_maintenance_margin",
                                                 "projected_initial_margin",
                                                 "projected_delta_total",
                                                 "portfolio_margining_enabled",
                                                 "options_vega_map",
                                                 "options_vega",
                                                 "options_value",
                                                 "options_theta_map",
                                                 "options_theta",
                                                 "options_session_upl",
                                                 "options_session_rpl",
                                                 "options_pl",
                                                 "options_gamma_map",
                                                 "options_gamma",
                                                 "options_delta",
                                                 "margin_balance",
                                                 "maintenance_margin",
                                                 "initial_margin",
                                                 "futures_session_upl",
                                                 "futures_session_rpl",
                                                 "futures_pl",
                                                 "fee_balance",
                                                 "equity",
                                                 "delta_total_map",
                                                 "delta_total",
                                                 "currency",
                                                 "balance",
                                                 "available_withdrawal_funds",
                                                 "available_funds"};

// A per-index map member: {"btc_usd": value} as (name, value) pairs.
std::vector<std::pair<std::string, double>> map_of(element e) {
  std::vector<std::pair<std::string, double>> out;
  const simdjson::dom::object object = e.get_object().value_unsafe();
  for (auto field : object) out.emplace_back(std::string(field.key), number(field.value));
  return out;
}

TEST(EncodeAccount, SummaryWithPositionRisk) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const Instrument option = btc_option(2026y / 12 / 27d, 100000, OptionType::call, 2);
  sim::AccountSnapshot account;
  account.found = true;
  account.currency = Currency::BTC;
  account.summary = {10.0, 10.2, 0.5, 0.3, 9.7, 0.12, -0.02, 0.001};
  account.positions = {{perp.id, 100, 50000, 50000, 0.02, -0.01},
                       {option.id, -20, 0.05, 0.04, 0.1, -0.01}};
  const sim::TickerGreeks greeks{0.3, 0.00001, 100, -20, 50};
  sim::add_position_risk(account.risk, perp, account.positions[0], nullptr, false);
  sim::add_position_risk(account.risk, option, account.positions[1], &greeks, true);
  const sim::PortfolioRisk& risk = account.risk;
  EXPECT_DOUBLE_EQ(risk.options_delta, -0.6);
  // Options count with their net transaction delta: delta − mark, times the size.
  EXPECT_DOUBLE_EQ(risk.delta_total, 1000.0 / 50000 - 2 * (0.3 - 0.04));
  EXPECT_DOUBLE_EQ(risk.projected_delta_total, 1000.0 / 50000);  // the option expires first
  EXPECT_DOUBLE_EQ(risk.options_value, -0.08);
  EXPECT_DOUBLE_EQ(risk.options_vega, -200);
  EXPECT_DOUBLE_EQ(risk.options_theta, 40);
  EXPECT_DOUBLE_EQ(risk.futures_session_upl, 0.02);
  EXPECT_DOUBLE_EQ(risk.options_session_upl, 0.1);

  const Doc doc(encode([&](auto& w) { write_account_summary(w, account); }));
  std::vector<std::string> keys = kPortfolioKeys;
  keys.insert(keys.begin() + 18, "margin_model");
  keys.insert(keys.end() - 3, "cross_collateral_enabled");
  EXPECT_EQ(keys_of(doc.root), keys);
  EXPECT_EQ(std::string_view(doc["currency"].get_string().value_unsafe()), "BTC");
  EXPECT_EQ(number(doc["balance"]), 10.0);
  EXPECT_EQ(number(doc["equity"]), 10.2);
  EXPECT_EQ(number(doc["margin_balance"]), 10.2);
  EXPECT_EQ(number(doc["available_funds"]), 9.7);
  EXPECT_EQ(number(doc["available_withdrawal_funds"]), 9.5);  // balance − initial margin
  EXPECT_EQ(number(doc["projected_initial_margin"]), 0.5);
  EXPECT_EQ(number(doc["total_pl"]), 0.12);
  EXPECT_EQ(number(doc["futures_pl"]), 0.02);
  EXPECT_EQ(number(doc["options_pl"]), 0.1);
  EXPECT_EQ(number(doc["delta_total"]), risk.delta_total);
  EXPECT_EQ(number(doc["projected_delta_total"]), risk.projected_delta_total);
  EXPECT_EQ(number(doc["options_delta"]), risk.options_delta);
  EXPECT_EQ(number(doc["options_gamma"]), risk.options_gamma);
  EXPECT_EQ(number(doc["options_theta"]), risk.options_theta);
  using Map = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(map_of(doc["delta_total_map"]), (Map{{"btc_usd", risk.delta_total}}));
  EXPECT_EQ(map_of(doc["options_gamma_map"]), (Map{{"btc_usd", risk.options_gamma}}));
  EXPECT_EQ(map_of(doc["options_vega_map"]), (Map{{"btc_usd", risk.options_vega}}));
  EXPECT_EQ(map_of(doc["options_theta_map"]), (Map{{"btc_usd", risk.options_theta}}));
  EXPECT_FALSE(doc["portfolio_margining_enabled"].get_bool().value_unsafe());
}

// docs/PROTOCOL.md's example: a short perpetual and 1.5 of a call of a later expiry than the
// closest one.
TEST(EncodeAccount, SummaryIsTheDocumentedExample) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const Instrument option = btc_option(2026y / 3 / 27d, 70000, OptionType::call, 2);
  sim::AccountSnapshot account;
  account.found = true;
  account.currency = Currency::BTC;
  account.summary = {10.0, 10.0753, 0.0315, 0.0155, 10.0438, 0.00345, 0.0012, 0};
  account.positions = {{perp.id, -100, 65000, 65012.34, -2.9e-06, 0.0012},
                       {option.id, 15, 0.05, 0.0523, 0.00345, 0}};
  const sim::TickerGreeks greeks{0.4521, 2e-05, 150.2, -40.1, 12};
  sim::add_position_risk(account.risk, perp, account.positions[0], nullptr, false);
  sim::add_position_risk(account.risk, option, account.positions[1], &greeks, false);
  expect_same(
      encode([&](auto& w) { write_account_summary(w, account); }),
      R"({"total_pl":0.00345,"session_upl":0.00345,"session_rpl":0.0012,)"
      R"("projected_maintenance_margin":0.0155,"projected_initial_margin":0.0315,)"
      R"("projected_delta_total":0.5843183047710635,"portfolio_margining_enabled":false,)"
      R"("options_vega_map":{"btc_usd":225.29999999999998},"options_vega":225.29999999999998,)"
      R"("options_value":0.07844999999999999,"options_theta_map":{"btc_usd":-60.150000000000006},)"
      R"("options_theta":-60.150000000000006,"options_session_upl":0.00345,)"
      R"("options_session_rpl":0.0,"options_pl":0.00345,)"
      R"("options_gamma_map":{"btc_usd":3.0000000000000004e-05},)"
      R"("options_gamma":3.0000000000000004e-05,"options_delta":0.67815,)"
      R"("margin_model":"segregated_sm","margin_balance":10.0753,"maintenance_margin":0.0155,)"
      R"("initial_margin":0.0315,"futures_session_upl":-2.9e-06,"futures_session_rpl":0.0012,)"
      R"("futures_pl":-2.9e-06,"fee_balance":0.0,"equity":10.0753,)"
      R"("delta_total_map":{"btc_usd":0.5843183047710635},"delta_total":0.5843183047710635,)"
      R"("currency":"BTC","cross_collateral_enabled":false,"balance":10.0,)"
      R"("available_withdrawal_funds":9.9685,"available_funds":10.0438})");
}

TEST(EncodeAccount, PortfolioNotification) {
  sim::Portfolio portfolio;
  market::PortfolioUpdate& p = portfolio.funds;
  p.currency = Currency::ETH;
  p.balance = 1.0;
  p.equity = 0.9;  // an unrealised loss: withdrawable is limited by equity
  p.initial_margin = 0.2;
  p.maintenance_margin = 0.1;
  p.available_funds = 0.7;
  p.session_upl = -0.1;
  // A perpetual only: the delta map has the index, the options' maps are empty.
  portfolio.risk.delta_total = -0.25;
  portfolio.risk.projected_delta_total = -0.25;
  portfolio.risk.open_futures = 1;
  const Doc doc(encode([&](auto& w) { write_portfolio(w, portfolio); }));
  EXPECT_EQ(keys_of(doc.root), kPortfolioKeys);
  EXPECT_EQ(std::string_view(doc["currency"].get_string().value_unsafe()), "ETH");
  EXPECT_DOUBLE_EQ(number(doc["available_withdrawal_funds"]), 0.7);
  EXPECT_EQ(number(doc["delta_total"]), -0.25);
  EXPECT_EQ(number(doc["projected_delta_total"]), -0.25);
  using Map = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(map_of(doc["delta_total_map"]), (Map{{"eth_usd", -0.25}}));
  EXPECT_EQ(map_of(doc["options_gamma_map"]), Map{});
  EXPECT_EQ(map_of(doc["options_vega_map"]), Map{});
  EXPECT_EQ(map_of(doc["options_theta_map"]), Map{});
  // Nothing held: every map is empty.
  portfolio.risk = {};
  const Doc flat(encode([&](auto& w) { write_portfolio(w, portfolio); }));
  EXPECT_EQ(map_of(flat["delta_total_map"]), Map{});
  EXPECT_EQ(number(flat["delta_total"]), 0);
}

// ---- Index and mark prices --------------------------------------------------------------------

TEST(EncodeIndex, IsDeribitsExample) {
  const market::IndexPrice index{1535098298227, Currency::BTC, 6521.17};
  expect_same(encode([&](auto& w) { write_index_price(w, index); }),
              R"({"timestamp":1535098298227,"price":6521.17,"index_name":"btc_usd"})");
}

TEST(EncodeIndex, MarkPricesAreTheReferenceArray) {
  const OptionMark marks[] = {{1622600000000, "BTC-2JUN21-37000-P", 0.0333, 0.9}};
  expect_same(encode([&](auto& w) { write_markprices(w, marks); }),
              R"([{"timestamp":1622600000000,"mark_price":0.0333,"iv":0.9,)"
              R"("instrument_name":"BTC-2JUN21-37000-P"}])");
  const Instrument option = eth_option_2800();
  const OptionMark from_ticker = option_mark(captured_option_ticker(option), option);
  EXPECT_EQ(from_ticker.instrument_name, "ETH-30JUL21-2800-C");
  EXPECT_DOUBLE_EQ(from_ticker.iv, 1.2074);  // percent on tickers, a fraction here
  EXPECT_EQ(from_ticker.mark_price, 0.001972);
  EXPECT_EQ(encode([&](auto& w) { write_markprices(w, std::span<const OptionMark>()); }), "[]");
}

// ---- Our channels -----------------------------------------------------------------------------

sim::SurfaceSnapshot test_surface() {
  sim::SurfaceSnapshot s;
  s.timestamp = 1767225600000;
  s.currency = Currency::BTC;
  s.index_price = 65000;
  s.params = {-0.3, 1.0, 0.4};
  const double years[] = {0, 0.02, 0.1, 0.5};
  const double vols[] = {0.6, 0.6, 0.58, 0.55};
  for (int i = 0; i < 4; ++i) {
    const double theta = vols[i] * vols[i] * years[i];
    s.expiries.push_back({1767225600000 + static_cast<market::TimestampMs>(years[i] * 3.1536e10),
                          years[i], 65000 * (1 + 0.01 * i), theta, vols[i]});
  }
  return s;
}

TEST(EncodeSurface, ExpiriesParametersAndGrid) {
  const sim::SurfaceSnapshot surface = test_surface();
  const Doc doc(encode([&](auto& w) { write_surface(w, surface); }));
  EXPECT_EQ(keys_of(doc.root),
            (std::vector<std::string>{"timestamp", "currency", "index_price", "model", "ssvi",
                                      "arbitrage_free", "butterfly_free", "calendar_free",
                                      "expiries", "strikes", "iv"}));
  EXPECT_EQ(difference(Doc(R"({"rho":-0.3,"eta":1.0,"gamma":0.4})").root, doc["ssvi"], "ssvi"), "");
  const pricing::SsviConditions conditions = pricing::check_ssvi_conditions(
      surface.params, std::vector<double>{surface.expiries[1].theta, surface.expiries[2].theta,
                                          surface.expiries[3].theta});
  EXPECT_EQ(doc["arbitrage_free"].get_bool().value_unsafe(), conditions.arbitrage_free());
  EXPECT_TRUE(doc["calendar_free"].get_bool().value_unsafe());

  const auto expiries = doc["expiries"].get_array().value_unsafe();
  ASSERT_EQ(expiries.size(), 3u);  // the expired one is left out
  for (std::size_t i = 0; i < 3; ++i) {
    const element e = expiries.at(i).value_unsafe();
    const sim::SurfaceExpiry& source = surface.expiries[i + 1];
    EXPECT_EQ(number(e["expiration_timestamp"].value_unsafe()), source.expiry);
    EXPECT_NEAR(number(e["atm_vol"].value_unsafe()), source.atm_vol * 100, 1e-9);
    EXPECT_LT(number(e["rr25"].value_unsafe()), 0);  // ρ < 0: puts richer
    EXPECT_GT(number(e["bf25"].value_unsafe()), 0);
    const pricing::SviParams svi = pricing::ssvi_to_svi(surface.params, source.theta);
    const element fit = e["svi"].value_unsafe();
    EXPECT_EQ(number(fit["a"].value_unsafe()), svi.a);
    EXPECT_EQ(number(fit["sigma"].value_unsafe()), svi.sigma);
  }
  const auto strikes = doc["strikes"].get_array().value_unsafe();
  ASSERT_EQ(strikes.size(), 13u);
  EXPECT_EQ(number(strikes.at(6).value_unsafe()), 65000);  // the index, on the 500 grid
  EXPECT_EQ(number(strikes.at(0).value_unsafe()), 35500);  // 65000·e^−0.6 = 35672
  const auto rows = doc["iv"].get_array().value_unsafe();
  ASSERT_EQ(rows.size(), 3u);
  for (auto row : rows) {
    const auto ivs = row.get_array().value_unsafe();
    ASSERT_EQ(ivs.size(), 13u);
    for (auto iv : ivs) {
      EXPECT_GT(number(iv), 30);
      EXPECT_LT(number(iv), 150);
    }
  }
}

TEST(EncodeSurface, EmptySurface) {
  sim::SurfaceSnapshot surface;
  surface.params = {-0.3, 1.0, 0.4};
  const Doc doc(encode([&](auto& w) { write_surface(w, surface); }));
  EXPECT_EQ(doc["expiries"].get_array().value_unsafe().size(), 0u);
  EXPECT_EQ(doc["strikes"].get_array().value_unsafe().size(), 0u);
  EXPECT_EQ(doc["iv"].get_array().value_unsafe().size(), 0u);
}

TEST(EncodeChain, BlockCarriesItsHeader) {
  sim::Block b;
  b.timestamp = 1767225600000;
  b.currency = Currency::ETH;
  b.height = 880001;
  b.hash.fill(0xab);
  b.prev_hash[0] = 0x01;
  b.block_time = 1767225600000;
  b.tx_count = 3012;
  b.fee_rate_milli = 12345;
  b.nonce = 987654321;
  b.transfer_count = 2;
  std::string hash;
  for (int i = 0; i < 32; ++i) hash += "ab";
  expect_same(encode([&](auto& w) { write_block(w, b); }),
              R"({"currency":"ETH","height":880001,"hash":")" + hash + R"(","prev_hash":"01)" +
                  std::string(62, '0') +
                  R"(","block_time":1767225600000,"timestamp":1767225600000,"tx_count":3012,)"
                  R"("fee_rate":12.345,"fee_rate_milli":12345,"nonce":987654321,)"
                  R"("transfers_root":")" +
                  std::string(64, '0') + R"(","transfer_count":2})");
}

TEST(EncodeChain, Transfer) {
  sim::Transfer t;
  t.timestamp = 1767225600500;
  t.currency = Currency::BTC;
  t.block_height = 880001;
  t.index = 1;
  t.tx_hash[31] = 0xff;
  t.from[0] = 0x12;
  t.to[19] = 0x34;
  t.amount_units = 25'000'000'000;
  t.amount = 250;
  t.usd_value = 16'250'000;
  expect_same(encode([&](auto& w) { write_transfer(w, t); }),
              R"({"currency":"BTC","block_height":880001,"index":1,"tx_hash":")" +
                  std::string(62, '0') + R"(ff","from":"12)" + std::string(38, '0') +
                  R"(","to":")" + std::string(38, '0') +
                  R"(34","amount":250,"amount_units":25000000000,"usd_value":16250000,)"
                  R"("timestamp":1767225600500})");
}

}  // namespace
}  // namespace gw::gateway
