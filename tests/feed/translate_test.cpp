// feed/translate: what greekwire's gateway writes (gateway/encode.hpp, in JSON and MessagePack
// alike) and what Deribit sends, back to the mirror's inputs with every field exact; malformed
// messages are errors, not crashes.
#include "feed/translate.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <tuple>
#include <variant>

#include "codec/json_writer.hpp"
#include "gateway/encode.hpp"

namespace gw::feed {
namespace {

using namespace std::chrono_literals;
using greekwire::Value;
using market::Currency;
using market::Instrument;

Value parse(const std::string& json) {
  std::string error;
  auto value = Value::parse_json(json, &error);
  EXPECT_TRUE(value) << error << ": " << json;
  return value.value_or(Value());
}

// What our server writes, read back by the SDK's JSON decoder.
template <class F>
Value written(F&& write) {
  std::string json;
  {
    codec::JsonWriter w(json);
    write(w);
  }
  return parse(json);
}

Instrument listed(market::InstrumentName name, market::InstrumentId id) {
  Instrument i = market::make_instrument(name);
  i.id = id;
  i.creation_ms = 1'767'225'600'000;
  return i;
}

const auto kExpiry = std::chrono::year{2026} / std::chrono::December / 25d;

Instrument perpetual() {
  return listed(market::perpetual_name(Currency::BTC), 1);
}
Instrument option() {
  return listed(market::option_name(Currency::BTC, kExpiry, 100000, market::OptionType::call), 7);
}
Instrument eth_future() {
  return listed(market::future_name(Currency::ETH, kExpiry), 3);
}

// ---- Instruments --------------------------------------------------------------------------------

void expect_same_specification(const Instrument& a, const Instrument& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.perpetual, b.perpetual);
  EXPECT_EQ(a.option_type, b.option_type);
  EXPECT_EQ(a.strike, b.strike);
  EXPECT_EQ(a.expiration_ms, b.expiration_ms);
  EXPECT_EQ(a.creation_ms, b.creation_ms);
  EXPECT_EQ(a.settlement_period, b.settlement_period);
  EXPECT_EQ(a.tick_size, b.tick_size);
  ASSERT_EQ(a.tick_size_steps.size(), b.tick_size_steps.size());
  for (std::size_t s = 0; s < a.tick_size_steps.size(); ++s) {
    EXPECT_EQ(a.tick_size_steps[s].above_price, b.tick_size_steps[s].above_price);
    EXPECT_EQ(a.tick_size_steps[s].tick_size, b.tick_size_steps[s].tick_size);
  }
  EXPECT_EQ(a.contract_size, b.contract_size);
  EXPECT_EQ(a.min_trade_amount, b.min_trade_amount);
  EXPECT_EQ(a.maker_commission, b.maker_commission);
  EXPECT_EQ(a.taker_commission, b.taker_commission);
  EXPECT_EQ(a.price_index, b.price_index);
  EXPECT_EQ(a.price_unit, b.price_unit);
  EXPECT_EQ(a.amount_unit, b.amount_unit);
  EXPECT_EQ(a.price_decimals, b.price_decimals);
  EXPECT_EQ(a.amount_decimals, b.amount_decimals);
  EXPECT_EQ(a.instrument_type, b.instrument_type);
  EXPECT_EQ(a.block_trade_commission, b.block_trade_commission);
  EXPECT_EQ(a.block_trade_tick_size, b.block_trade_tick_size);
  EXPECT_EQ(a.block_trade_min_trade_amount, b.block_trade_min_trade_amount);
  EXPECT_EQ(a.max_leverage, b.max_leverage);
  EXPECT_EQ(a.max_liquidation_commission, b.max_liquidation_commission);
  EXPECT_EQ(a.is_active, b.is_active);
}

TEST(Translate, InstrumentRowsOfOurServerRoundTrip) {
  for (const Instrument& original : {perpetual(), option(), eth_future()}) {
    const Value row = written([&](auto& w) { gateway::write_instrument(w, original); });
    std::string error;
    const auto read = instrument_from_row(row, &error);
    ASSERT_TRUE(read) << error;
    EXPECT_EQ(read->id, 0u);  // the mirror assigns ids
    expect_same_specification(*read, original);
  }
}

TEST(Translate, InstrumentRowKeepsTheUpstreamSpecification) {
  // Not the venue's BTC option specification: the row's wins, and the units follow from it.
  const Value row = parse(R"({"tick_size":0.0005,"tick_size_steps":[{"above_price":0.1,
      "tick_size":0.001}],"strike":40000.0,"settlement_period":"week","quote_currency":"BTC",
      "option_type":"put","min_trade_amount":0.25,"maker_commission":0.0002,
      "taker_commission":0.0004,"kind":"option","is_active":false,
      "instrument_name":"BTC-24SEP21-40000-P","expiration_timestamp":1632470400000,
      "creation_timestamp":1630000000000,"contract_size":2.0,"base_currency":"BTC"})");
  std::string error;
  const auto i = instrument_from_row(row, &error);
  ASSERT_TRUE(i) << error;
  EXPECT_EQ(i->kind, market::Kind::option);
  EXPECT_EQ(i->option_type, market::OptionType::put);
  EXPECT_EQ(i->strike, 40000);
  EXPECT_EQ(i->tick_size, 0.0005);
  ASSERT_EQ(i->tick_size_steps.size(), 1u);
  EXPECT_EQ(i->tick_size_steps[0].tick_size, 0.001);
  EXPECT_EQ(i->settlement_period, "week");
  EXPECT_EQ(i->min_trade_amount, 0.25);
  EXPECT_EQ(i->contract_size, 2.0);
  EXPECT_EQ(i->maker_commission, 0.0002);
  EXPECT_EQ(i->taker_commission, 0.0004);
  EXPECT_EQ(i->expiration_ms, 1632470400000);
  EXPECT_EQ(i->creation_ms, 1630000000000);
  EXPECT_FALSE(i->is_active);
  EXPECT_EQ(i->price_unit, 0.0005);
  EXPECT_EQ(i->amount_unit, 0.25);
  EXPECT_EQ(i->price_decimals, 4);
  EXPECT_EQ(i->amount_decimals, 2);
}

TEST(Translate, BadInstrumentRowsAreErrors) {
  const char* rows[] = {
      R"([])",
      R"({"instrument_name":"BTC_USDC-PERPETUAL","tick_size":1,"contract_size":1,
          "min_trade_amount":1,"expiration_timestamp":1})",
      R"({"instrument_name":"BTC-PERPETUAL","contract_size":10,"min_trade_amount":10,
          "expiration_timestamp":1})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0,"contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":"0.5","contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0.5,"contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1,"kind":"option"})",
      R"({"instrument_name":"BTC-24SEP21-40000-P","tick_size":0.5,"contract_size":1,
          "min_trade_amount":1,"expiration_timestamp":1,"strike":30000})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0.5,"contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1,"tick_size_steps":[{"tick_size":-1,
          "above_price":5}]})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0.5,"contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1.5})",
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0.5,"contract_size":10,
          "min_trade_amount":10,"expiration_timestamp":1,"is_active":"yes"})",
  };
  for (const char* json : rows) {
    std::string error;
    EXPECT_FALSE(instrument_from_row(parse(json), &error)) << json;
    EXPECT_FALSE(error.empty()) << json;
  }
}

// ---- Books --------------------------------------------------------------------------------------

sim::OwnedBookChange option_change() {
  const Instrument o = option();
  const market::LevelUpdate bids[] = {{o.to_ticks(0.0415), 125, market::BookAction::change},
                                      {o.to_ticks(0.041), 0, market::BookAction::remove}};
  const market::LevelUpdate asks[] = {{o.to_ticks(0.0425), 3, market::BookAction::add}};
  sim::OwnedBookChange c;
  c.timestamp = 1'766'000'000'123;
  c.instrument = o.id;
  c.change_id = 900'000'000'017;
  c.prev_change_id = 900'000'000'011;
  c.checksum = 123456789;
  c.bids.assign(std::span<const market::LevelUpdate>(bids));
  c.asks.assign(std::span<const market::LevelUpdate>(asks));
  return c;
}

TEST(Translate, BookChangeOfOurServer) {
  const Instrument o = option();
  const sim::OwnedBookChange c = option_change();
  const Value data = written([&](auto& w) { gateway::write_book_change(w, c, o, false); });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("book." + o.name + ".raw", data, out, &error)) << error;
  ASSERT_EQ(out.size(), 1u);
  const auto& book = std::get<sim::FeedBook>(out[0]);
  EXPECT_EQ(book.instrument, o.name);
  EXPECT_EQ(book.timestamp, c.timestamp);
  EXPECT_FALSE(book.snapshot);
  EXPECT_EQ(book.change_id, c.change_id);
  EXPECT_EQ(book.prev_change_id, c.prev_change_id);
  ASSERT_EQ(book.bids.size(), 2u);
  EXPECT_EQ(book.bids[0].price, 0.0415);
  EXPECT_EQ(book.bids[0].amount, 12.5);
  EXPECT_EQ(book.bids[1].price, 0.041);
  EXPECT_EQ(book.bids[1].amount, 0);
  ASSERT_EQ(book.asks.size(), 1u);
  EXPECT_EQ(book.asks[0].price, 0.0425);
  EXPECT_EQ(book.asks[0].amount, 0.3);
  // The prices and amounts convert back to the very same units.
  EXPECT_EQ(o.to_ticks(book.bids[0].price), c.bids.span()[0].price);
  EXPECT_EQ(o.to_lots(book.bids[0].amount), c.bids.span()[0].amount);
}

TEST(Translate, BookSnapshotOfOurServer) {
  const Instrument p = perpetual();
  sim::BookSnapshot snapshot;
  snapshot.found = true;
  snapshot.timestamp = 1'766'000'000'000;
  snapshot.instrument = p.id;
  snapshot.change_id = 42;
  snapshot.bids = {{p.to_ticks(100000.5), p.to_lots(20)}, {p.to_ticks(100000), p.to_lots(10)}};
  snapshot.asks = {{p.to_ticks(100001), p.to_lots(1000)}};
  const Value data = written([&](auto& w) { gateway::write_book_change(w, snapshot, p); });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("book.BTC-PERPETUAL.100ms", data, out, &error)) << error;
  const auto& book = std::get<sim::FeedBook>(out.at(0));
  EXPECT_TRUE(book.snapshot);
  EXPECT_EQ(book.change_id, 42u);
  EXPECT_EQ(book.prev_change_id, 0u);
  ASSERT_EQ(book.bids.size(), 2u);
  EXPECT_EQ(book.bids[0].price, 100000.5);
  EXPECT_EQ(book.bids[0].amount, 20);
  EXPECT_EQ(book.bids[1].price, 100000);
  ASSERT_EQ(book.asks.size(), 1u);
  EXPECT_EQ(book.asks[0].amount, 1000);
}

TEST(Translate, DeribitBookChange) {
  const Value data = parse(R"({"type":"change","timestamp":1626993724318,
      "prev_change_id":33195894164,"instrument_name":"BTC-24SEP21-8000-P",
      "change_id":33195894355,"bids":[],"asks":[["new",0.001,2.6],["delete",0.002,0.0]]})");
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("book.BTC-24SEP21-8000-P.raw", data, out, &error)) << error;
  const auto& book = std::get<sim::FeedBook>(out.at(0));
  EXPECT_EQ(book.change_id, 33195894355u);
  EXPECT_EQ(book.prev_change_id, 33195894164u);
  EXPECT_TRUE(book.bids.empty());
  ASSERT_EQ(book.asks.size(), 2u);
  EXPECT_EQ(book.asks[0].price, 0.001);
  EXPECT_EQ(book.asks[0].amount, 2.6);
  EXPECT_EQ(book.asks[1].amount, 0);
}

TEST(Translate, BookInputFromTheSdkUpdate) {
  greekwire::BookUpdate u;
  u.snapshot = false;
  u.instrument_name = "BTC-PERPETUAL";
  u.timestamp = 17;
  u.change_id = 9;
  u.prev_change_id = 8;
  u.bids = {{greekwire::LevelAction::changed, 100.5, 30},
            {greekwire::LevelAction::deleted, 100, 0}};
  u.asks = {{greekwire::LevelAction::added, 101, 10}};
  u.checksum = 5;
  const sim::FeedBook book = book_input(u);
  EXPECT_EQ(book.instrument, "BTC-PERPETUAL");
  EXPECT_EQ(book.timestamp, 17);
  EXPECT_FALSE(book.snapshot);
  EXPECT_EQ(book.change_id, 9u);
  EXPECT_EQ(book.prev_change_id, 8u);
  ASSERT_EQ(book.bids.size(), 2u);
  EXPECT_EQ(book.bids[0].price, 100.5);
  EXPECT_EQ(book.bids[0].amount, 30);
  EXPECT_EQ(book.bids[1].amount, 0);
  ASSERT_EQ(book.asks.size(), 1u);
  EXPECT_EQ(book.asks[0].price, 101);
}

TEST(Translate, BadBooksAreErrorsAndAppendNothing) {
  const char* messages[] = {
      R"("text")",
      R"({"type":"change","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[],"asks":[]})",  // no prev_change_id
      R"({"type":"update","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[],"asks":[]})",
      R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":-2,
          "bids":[],"asks":[]})",
      R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[["add",1,2]],"asks":[]})",
      R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[["new",1]],"asks":[]})",
      R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[["new",1,-2]],"asks":[]})",
      R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[],"asks":{}})",
      R"({"type":"snapshot","timestamp":"1","instrument_name":"BTC-PERPETUAL","change_id":2,
          "bids":[],"asks":[]})",
  };
  for (const char* json : messages) {
    std::vector<sim::FeedInput> out(1, sim::FeedLost{});
    std::string error;
    EXPECT_FALSE(translate("book.BTC-PERPETUAL.raw", parse(json), out, &error)) << json;
    EXPECT_FALSE(error.empty()) << json;
    EXPECT_EQ(out.size(), 1u) << json;
  }
}

// ---- Tickers ------------------------------------------------------------------------------------

TEST(Translate, OptionTickerOfOurServerCarriesEveryField) {
  const Instrument o = option();
  sim::Ticker t;
  t.timestamp = 1'766'000'000'500;
  t.instrument = o.id;
  t.kind = market::Kind::option;
  t.best_bid_price = o.to_ticks(0.0415);
  t.best_bid_amount = o.to_lots(12.5);
  t.best_ask_price = o.to_ticks(0.0425);
  t.best_ask_amount = o.to_lots(3);
  t.last_price = o.to_ticks(0.042);
  t.mark_price = 0.04213;
  t.index_price = 101234.56;
  t.estimated_delivery_price = 101234.56;
  t.open_interest = o.to_lots(321.4);
  t.stats = {o.to_ticks(0.05), o.to_ticks(0.03), o.to_lots(77.7), 0, -3.25};
  t.underlying_price = 101900.25;
  t.underlying_future = 3;
  t.interest_rate = 0;
  t.bid_iv = 51.23;
  t.ask_iv = 53.9;
  t.mark_iv = 52.5;
  t.greeks = {0.51234, 0.00001234, 123.45, -98.76, 12.34};
  const Value data = written([&](auto& w) { gateway::write_ticker(w, t, o); });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("ticker." + o.name + ".100ms", data, out, &error)) << error;
  const auto& f = std::get<sim::FeedTicker>(out.at(0));
  EXPECT_EQ(f.instrument, o.name);
  EXPECT_EQ(f.underlying_index, "BTC-25DEC26");
  EXPECT_EQ(f.values.timestamp, t.timestamp);
  EXPECT_EQ(f.best_bid_price, 0.0415);
  EXPECT_EQ(f.best_bid_amount, 12.5);
  EXPECT_EQ(f.best_ask_price, 0.0425);
  EXPECT_EQ(f.best_ask_amount, 3);
  EXPECT_EQ(f.last_price, 0.042);
  EXPECT_EQ(f.values.mark_price, t.mark_price);
  EXPECT_EQ(f.values.index_price, t.index_price);
  EXPECT_EQ(f.values.estimated_delivery_price, t.estimated_delivery_price);
  EXPECT_EQ(f.open_interest, 321.4);
  EXPECT_EQ(f.high, 0.05);
  EXPECT_EQ(f.low, 0.03);
  EXPECT_EQ(f.volume, 77.7);
  EXPECT_EQ(f.values.stats.price_change, -3.25);
  EXPECT_EQ(f.values.underlying_price, t.underlying_price);
  EXPECT_EQ(f.values.interest_rate, 0);
  EXPECT_EQ(f.values.bid_iv, t.bid_iv);
  EXPECT_EQ(f.values.ask_iv, t.ask_iv);
  EXPECT_EQ(f.values.mark_iv, t.mark_iv);
  EXPECT_EQ(f.values.greeks.delta, t.greeks.delta);
  EXPECT_EQ(f.values.greeks.gamma, t.greeks.gamma);
  EXPECT_EQ(f.values.greeks.vega, t.greeks.vega);
  EXPECT_EQ(f.values.greeks.theta, t.greeks.theta);
  EXPECT_EQ(f.values.greeks.rho, t.greeks.rho);
  // Converted back into the instrument's units, the same integers.
  EXPECT_EQ(o.to_ticks(f.best_bid_price), t.best_bid_price);
  EXPECT_EQ(o.to_lots(f.open_interest), t.open_interest);
  EXPECT_EQ(o.to_lots(f.volume), t.stats.volume);
}

TEST(Translate, PerpetualTickerOfOurServerCarriesFundingAndNulls) {
  const Instrument p = perpetual();
  sim::Ticker t;
  t.timestamp = 1'766'000'001'000;
  t.instrument = p.id;
  t.best_bid_price = p.to_ticks(101000.5);
  t.best_bid_amount = p.to_lots(25000);
  t.mark_price = 0;  // not known yet: null
  t.index_price = 101000;
  t.stats.volume_usd = 123450;
  t.current_funding = 0.0000123;
  t.funding_8h = 0.0000456;
  t.interest_value = 0.00000789;
  const Value data = written([&](auto& w) { gateway::write_ticker(w, t, p); });
  EXPECT_TRUE(data["mark_price"].is_null());
  EXPECT_TRUE(data["last_price"].is_null());
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("ticker.BTC-PERPETUAL.raw", data, out, &error)) << error;
  const auto& f = std::get<sim::FeedTicker>(out.at(0));
  EXPECT_EQ(f.values.mark_price, 0);
  EXPECT_EQ(f.last_price, 0);
  EXPECT_EQ(f.best_bid_price, 101000.5);
  EXPECT_EQ(f.best_bid_amount, 25000);
  EXPECT_EQ(f.best_ask_price, 0);
  EXPECT_EQ(f.values.index_price, 101000);
  EXPECT_EQ(f.values.stats.volume_usd, 123450);
  // Deribit's `volume` is coin (the writer converts at the index); a future's amounts are USD.
  EXPECT_EQ(data["stats"]["volume"].as_double(), 123450.0 / 101000);
  EXPECT_EQ(f.volume, 123450);
  EXPECT_EQ(f.high, 0);  // no trade in the window: null
  EXPECT_EQ(f.values.current_funding, t.current_funding);
  EXPECT_EQ(f.values.funding_8h, t.funding_8h);
  EXPECT_EQ(f.values.interest_value, t.interest_value);
  EXPECT_EQ(f.underlying_index, "");
}

TEST(Translate, DeribitOptionTicker) {
  const Value data = parse(R"({"underlying_price":2003.61,"underlying_index":"ETH-30JUL21",
      "timestamp":1626993723632,"stats":{"volume":869.0,"price_change":0.0,"low":0.0015,
      "high":0.0025},"state":"open","settlement_price":0.0,"open_interest":12685.0,
      "min_price":0.0001,"max_price":0.025,"mark_price":0.001972,"mark_iv":120.74,
      "last_price":0.002,"interest_rate":0.0,"instrument_name":"ETH-30JUL21-2800-C",
      "index_price":2006.72,"greeks":{"vega":0.20072,"theta":-1.64029,"rho":0.01188,
      "gamma":0.0002,"delta":0.03127},"estimated_delivery_price":2006.72,"bid_iv":115.62,
      "best_bid_price":0.0015,"best_bid_amount":4714.0,"best_ask_price":0.0025,
      "best_ask_amount":873.0,"ask_iv":125.63})");
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("ticker.ETH-30JUL21-2800-C.raw", data, out, &error)) << error;
  const auto& f = std::get<sim::FeedTicker>(out.at(0));
  EXPECT_EQ(f.instrument, "ETH-30JUL21-2800-C");
  EXPECT_EQ(f.underlying_index, "ETH-30JUL21");
  EXPECT_EQ(f.values.mark_iv, 120.74);
  EXPECT_EQ(f.values.greeks.theta, -1.64029);
  EXPECT_EQ(f.best_bid_amount, 4714);
  EXPECT_EQ(f.volume, 869);
  EXPECT_EQ(f.high, 0.0025);
  EXPECT_EQ(f.open_interest, 12685);
}

TEST(Translate, BadTickersAreErrors) {
  const char* messages[] = {
      R"([1])",
      R"({"timestamp":1})",
      R"({"instrument_name":"BTC-PERPETUAL"})",
      R"({"instrument_name":"BTC-PERPETUAL","timestamp":1,"mark_price":"1"})",
      R"({"instrument_name":"BTC-PERPETUAL","timestamp":1,"stats":[]})",
      R"({"instrument_name":"BTC-PERPETUAL","timestamp":1,"stats":{"high":true}})",
      R"({"instrument_name":"BTC-PERPETUAL","timestamp":1,"greeks":{"delta":"x"}})",
  };
  for (const char* json : messages) {
    std::vector<sim::FeedInput> out;
    std::string error;
    EXPECT_FALSE(translate("ticker.BTC-PERPETUAL.raw", parse(json), out, &error)) << json;
    EXPECT_FALSE(error.empty()) << json;
    EXPECT_TRUE(out.empty()) << json;
  }
}

// ---- Trades and indexes -------------------------------------------------------------------------

TEST(Translate, TradesOfOurServerCarryEveryField) {
  const Instrument o = option();
  market::Trade a;
  a.timestamp = 1'766'000'002'000;
  a.trade_id = 2'696'097;
  a.trade_seq = 1'966'068;
  a.instrument = o.id;
  a.direction = market::Side::sell;
  a.tick_direction = market::TickDirection::zero_minus;
  a.price = o.to_ticks(0.0415);
  a.amount = o.to_lots(1.7);
  a.mark_price = 0.04171;
  a.index_price = 101234.5;
  market::Trade b = a;
  b.trade_id = 2'696'098;
  b.trade_seq = 1'966'069;
  b.direction = market::Side::buy;
  b.tick_direction = market::TickDirection::plus;
  b.mark_price = 0;  // null
  const Value data = written([&](auto& w) {
    w.begin_array(2);
    gateway::write_trade(w, a, o, 101900);
    gateway::write_trade(w, b, o, 101900);
    w.end_array();
  });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("trades." + o.name + ".raw", data, out, &error)) << error;
  ASSERT_EQ(out.size(), 2u);
  const auto& f = std::get<sim::FeedTrade>(out[0]);
  EXPECT_EQ(f.instrument, o.name);
  EXPECT_EQ(f.timestamp, a.timestamp);
  EXPECT_EQ(f.trade_id, a.trade_id);
  EXPECT_EQ(f.trade_seq, a.trade_seq);
  EXPECT_EQ(f.direction, market::Side::sell);
  EXPECT_EQ(f.tick_direction, market::TickDirection::zero_minus);
  EXPECT_EQ(f.price, 0.0415);
  EXPECT_EQ(f.amount, 1.7);
  EXPECT_EQ(f.mark_price, a.mark_price);
  EXPECT_EQ(f.index_price, a.index_price);
  const auto& g = std::get<sim::FeedTrade>(out[1]);
  EXPECT_EQ(g.trade_id, b.trade_id);
  EXPECT_EQ(g.direction, market::Side::buy);
  EXPECT_EQ(g.tick_direction, market::TickDirection::plus);
  EXPECT_EQ(g.mark_price, 0);
}

TEST(Translate, TradeIds) {
  EXPECT_EQ(trade_number(Value("BTC-2696097")), 2696097u);
  EXPECT_EQ(trade_number(Value("ETH-0")), 0u);
  EXPECT_EQ(trade_number(Value("12345")), 12345u);
  EXPECT_EQ(trade_number(Value(std::int64_t{77})), 77u);
  EXPECT_FALSE(trade_number(Value("BTC-")));
  EXPECT_FALSE(trade_number(Value("BTC-12x")));
  EXPECT_FALSE(trade_number(Value(std::int64_t{-1})));
  EXPECT_FALSE(trade_number(Value(1.5)));
  EXPECT_FALSE(trade_number(Value("BTC-99999999999999999999999")));
}

TEST(Translate, BadTradesAppendNothing) {
  const std::string good =
      R"({"trade_seq":1,"trade_id":"BTC-1","timestamp":1,"tick_direction":0,"price":100,
      "instrument_name":"BTC-PERPETUAL","direction":"buy","amount":10})";
  const std::string bad[] = {
      R"({"trade_seq":1,"trade_id":"BTC-1","timestamp":1,"tick_direction":4,"price":100,
      "instrument_name":"BTC-PERPETUAL","direction":"buy","amount":10})",
      R"({"trade_seq":1,"trade_id":"BTC-1","timestamp":1,"tick_direction":0,"price":100,
      "instrument_name":"BTC-PERPETUAL","direction":"up","amount":10})",
      R"({"trade_seq":1,"trade_id":"x","timestamp":1,"tick_direction":0,"price":100,
      "instrument_name":"BTC-PERPETUAL","direction":"buy","amount":10})",
      R"({"trade_seq":1,"trade_id":"BTC-1","timestamp":1,"tick_direction":0,"price":100,
      "instrument_name":"BTC-PERPETUAL","direction":"buy","amount":0})",
      R"({"trade_seq":1,"trade_id":"BTC-1","timestamp":1,"tick_direction":0,
      "instrument_name":"BTC-PERPETUAL","direction":"buy","amount":1})",
  };
  for (const std::string& one : bad) {
    std::vector<sim::FeedInput> out;
    std::string error;
    EXPECT_FALSE(
        translate("trades.BTC-PERPETUAL.raw", parse("[" + good + "," + one + "]"), out, &error))
        << one;
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(out.empty()) << one;
  }
  std::vector<sim::FeedInput> out;
  std::string error;
  EXPECT_TRUE(translate("trades.future.BTC.100ms", parse(good), out, &error)) << error;
  EXPECT_EQ(out.size(), 1u);
}

TEST(Translate, PriceIndexes) {
  market::IndexPrice index;
  index.timestamp = 1'766'000'003'000;
  index.currency = Currency::ETH;
  index.price = 3456.78;
  const Value data = written([&](auto& w) { gateway::write_index_price(w, index); });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("deribit_price_index.eth_usd", data, out, &error)) << error;
  const auto& f = std::get<sim::FeedIndex>(out.at(0));
  EXPECT_EQ(f.currency, Currency::ETH);
  EXPECT_EQ(f.timestamp, index.timestamp);
  EXPECT_EQ(f.price, 3456.78);

  // An index the venue does not know: nothing to relay, nothing wrong.
  out.clear();
  EXPECT_TRUE(translate("deribit_price_index.sol_usd",
                        parse(R"({"timestamp":1,"price":150.5,"index_name":"sol_usd"})"), out,
                        &error));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(translate("deribit_price_index.btc_usd",
                         parse(R"({"timestamp":1,"price":-1,"index_name":"btc_usd"})"), out,
                         &error));
  EXPECT_FALSE(
      translate("deribit_price_index.btc_usd", parse(R"({"timestamp":1,"price":1})"), out, &error));
  EXPECT_TRUE(out.empty());
}

// ---- greekwire's own channels (a venue's stream to its edges)
// -------------------------------------

sim::SurfaceSnapshot surface() {
  sim::SurfaceSnapshot s;
  s.timestamp = 1'766'000'010'000;
  s.currency = Currency::ETH;
  s.index_price = 3456.789012345678;
  s.params = {-0.312345678901234, 1.23456789, 0.4123};
  for (const auto& [expiry, years, forward, theta] :
       {std::tuple{1'766'044'800'000ll, 0.0013949708523592084, 3457.1, 0.000627},
        std::tuple{1'767'254'400'000ll, 0.03975, 3460.25, 0.0201}}) {
    s.expiries.push_back({expiry, years, forward, theta, std::sqrt(theta / years)});
  }
  return s;
}

TEST(Translate, SurfacesOfOurServerRoundTripToTheBit) {
  const sim::SurfaceSnapshot s = surface();
  std::string json;
  {
    codec::JsonWriter w(json);
    gateway::write_surface(w, s);
  }
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("volsurface.ETH.raw", parse(json), out, &error)) << error;
  const sim::SurfaceSnapshot& f = std::get<sim::FeedSurface>(out.at(0)).surface;
  EXPECT_EQ(f.timestamp, s.timestamp);
  EXPECT_EQ(f.currency, Currency::ETH);
  EXPECT_EQ(f.index_price, s.index_price);
  EXPECT_EQ(f.params.rho, s.params.rho);
  EXPECT_EQ(f.params.eta, s.params.eta);
  EXPECT_EQ(f.params.gamma, s.params.gamma);
  ASSERT_EQ(f.expiries.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(f.expiries[e].expiry, s.expiries[e].expiry);
    EXPECT_EQ(f.expiries[e].years, s.expiries[e].years);
    EXPECT_EQ(f.expiries[e].forward, s.expiries[e].forward);
    EXPECT_EQ(f.expiries[e].theta, s.expiries[e].theta);
    EXPECT_EQ(f.expiries[e].atm_vol, std::sqrt(s.expiries[e].theta / s.expiries[e].years));
  }
  // Written again, the same bytes: what an edge publishes is what the venue published.
  std::string again;
  {
    codec::JsonWriter w(again);
    gateway::write_surface(w, f);
  }
  EXPECT_EQ(again, json);
}

TEST(Translate, BlocksAndTransfersOfOurServerRoundTrip) {
  sim::Block b;
  b.timestamp = 1'766'000'020'000;
  b.block_time = b.timestamp;
  b.currency = Currency::BTC;
  b.height = 870'123;
  for (std::size_t i = 0; i < b.hash.size(); ++i) {
    b.hash[i] = static_cast<std::uint8_t>(i * 7 + 1);
    b.prev_hash[i] = static_cast<std::uint8_t>(255 - i);
    b.transfers_root[i] = static_cast<std::uint8_t>(i * 13);
  }
  b.tx_count = 3456;
  b.fee_rate_milli = 12'345;
  b.nonce = 0xfedcba9876543210ull;
  b.transfer_count = 2;
  sim::Transfer t;
  t.timestamp = b.timestamp;
  t.currency = Currency::BTC;
  t.block_height = b.height;
  t.index = 1;
  t.tx_hash = b.hash;
  for (std::size_t i = 0; i < t.from.size(); ++i) {
    t.from[i] = static_cast<std::uint8_t>(i);
    t.to[i] = static_cast<std::uint8_t>(0xf0 | (i & 15));
  }
  t.amount_units = 123'456'789'012;
  t.amount = 1234.56789012;
  t.usd_value = 1.2345e8;

  const auto json_of = [](auto write) {
    std::string json;
    codec::JsonWriter w(json);
    write(w);
    return json;
  };
  const std::string block_json = json_of([&](auto& w) { gateway::write_block(w, b); });
  const std::string transfer_json = json_of([&](auto& w) { gateway::write_transfer(w, t); });
  std::vector<sim::FeedInput> out;
  std::string error;
  ASSERT_TRUE(translate("chain.BTC.blocks", parse(block_json), out, &error)) << error;
  ASSERT_TRUE(translate("chain.BTC.transfers", parse(transfer_json), out, &error)) << error;
  ASSERT_EQ(out.size(), 2u);
  const sim::Block& fb = std::get<sim::FeedBlock>(out[0]).block;
  const sim::Transfer& ft = std::get<sim::FeedTransfer>(out[1]).transfer;
  EXPECT_EQ(json_of([&](auto& w) { gateway::write_block(w, fb); }), block_json);
  EXPECT_EQ(json_of([&](auto& w) { gateway::write_transfer(w, ft); }), transfer_json);
  EXPECT_EQ(fb.hash, b.hash);
  EXPECT_EQ(fb.nonce, b.nonce);
  EXPECT_EQ(ft.to, t.to);
}

TEST(Translate, BadSurfacesAndBlocksAreErrorsThatNameTheMember) {
  std::vector<sim::FeedInput> out;
  std::string error;
  Value block = parse(R"({"currency":"BTC","height":1,"hash":"zz","prev_hash":"00",
      "block_time":1,"timestamp":1,"tx_count":1,"fee_rate_milli":1,"nonce":1,
      "transfers_root":"00","transfer_count":0})");
  EXPECT_FALSE(translate("chain.BTC.blocks", block, out, &error));
  EXPECT_EQ(error, "block: 'hash' must be 64 hex digits");
  EXPECT_FALSE(translate("chain.BTC.transfers", parse(R"({"currency":"SOL"})"), out, &error));
  EXPECT_EQ(error, "transfer: 'currency' must be \"BTC\" or \"ETH\"");
  EXPECT_FALSE(translate("volsurface.BTC.raw", parse("[]"), out, &error));
  EXPECT_EQ(error, "volatility surface must be an object");
  EXPECT_FALSE(translate("volsurface.BTC.raw",
                         parse(R"({"timestamp":1,"currency":"BTC","index_price":1,
                                   "ssvi":{"rho":0,"eta":1,"gamma":0.5},"expiries":[{}]})"),
                         out, &error));
  EXPECT_EQ(error, "volatility surface's expiry: 'expiration_timestamp' must be present");
  EXPECT_TRUE(out.empty());
}

TEST(Translate, OtherChannelsCarryNothing) {
  std::vector<sim::FeedInput> out;
  std::string error;
  EXPECT_TRUE(translate("book.BTC-PERPETUAL.none.10.100ms", parse("{}"), out, &error));
  EXPECT_TRUE(translate("markprice.options.btc_usd", parse("[]"), out, &error));
  EXPECT_TRUE(translate("user.portfolio.btc", parse("{}"), out, &error));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace gw::feed
