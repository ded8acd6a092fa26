// The writers of the query methods: public/get_book_summary_by_currency's rows (Deribit's
// members per kind, in its order, nulls where Deribit sends them), and the {trades, has_more}
// pages of public/get_last_trades_by_instrument and private/get_user_trades_by_instrument. Each
// is written with JsonWriter and MsgpackWriter, which must decode to the same tree.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "codec/tree.hpp"
#include "gateway/encode.hpp"
#include "gateway/encode_test_support.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;
using market::Currency;
using market::Instrument;
using testing::encode;
using testing::listed;

// Same members, same order, same values (numbers by value).
void expect_json(const std::string& actual, std::string_view expected) {
  EXPECT_EQ(codec::test::canonical_json(actual), codec::test::canonical_json(expected)) << actual;
}

// BTC-PERPETUAL (ticks of 0.5 USD, lots of 10 USD), traded, both sides quoted.
sim::Ticker perpetual_ticker(const Instrument& perp) {
  sim::Ticker t;
  t.timestamp = 1767225600250;
  t.instrument = perp.id;
  t.best_bid_price = 130'000;  // 65000
  t.best_bid_amount = 1500;
  t.best_ask_price = 130'001;  // 65000.5
  t.best_ask_amount = 300;
  t.last_price = 130'002;
  t.mark_price = 65000.25;
  t.index_price = 65000;
  t.estimated_delivery_price = 65000;
  t.open_interest = 5'020'975;
  t.stats = {130'010, 129'990, 65'000'000, 650'000'000, 0.42};
  t.current_funding = 1e-05;
  t.funding_8h = 2.5e-05;
  return t;
}

TEST(EncodeBookSummary, PerpetualInDeribitsOrder) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  expect_json(encode([&](auto& w) { write_book_summary(w, perpetual_ticker(perp), perp); }),
              R"({"volume_usd":650000000.0,"volume_notional":650000000.0,"volume":10000.0,)"
              R"("quote_currency":"USD","price_change":0.42,"open_interest":50209750.0,)"
              R"("mid_price":65000.25,"mark_price":65000.25,"low":64995.0,"last":65001.0,)"
              R"("instrument_name":"BTC-PERPETUAL","high":65005.0,"funding_8h":2.5e-05,)"
              R"("estimated_delivery_price":65000.0,"current_funding":1e-05,)"
              R"("creation_timestamp":1767225600250,"bid_price":65000.0,"base_currency":"BTC",)"
              R"("ask_price":65000.5})");
}

TEST(EncodeBookSummary, UntradedFutureWithAnEmptySideHasDeribitsNulls) {
  const Instrument future = listed(market::future_name(Currency::BTC, 2026y / 3 / 27d), 2);
  sim::Ticker t;
  t.timestamp = 1767225600250;
  t.instrument = future.id;
  t.best_bid_price = 130'000;
  t.best_bid_amount = 20;
  t.mark_price = 65010;
  t.index_price = 65000;
  t.estimated_delivery_price = 65000;
  expect_json(encode([&](auto& w) { write_book_summary(w, t, future); }),
              R"({"volume_usd":0.0,"volume_notional":0.0,"volume":0.0,"quote_currency":"USD",)"
              R"("price_change":null,"open_interest":0.0,"mid_price":null,"mark_price":65010.0,)"
              R"("low":null,"last":null,"instrument_name":"BTC-27MAR26","high":null,)"
              R"("estimated_delivery_price":65000.0,"creation_timestamp":1767225600250,)"
              R"("bid_price":65000.0,"base_currency":"BTC","ask_price":null})");
}

TEST(EncodeBookSummary, OptionAddsItsUnderlyingAndMarkIv) {
  const Instrument option = listed(
      market::option_name(Currency::BTC, 2026y / 3 / 27d, 70000, market::OptionType::call), 7);
  sim::Ticker t;
  t.timestamp = 1767225600250;
  t.instrument = option.id;
  t.kind = market::Kind::option;
  t.best_bid_price = 520;  // 0.052 BTC
  t.best_bid_amount = 15;
  t.best_ask_price = 525;
  t.best_ask_amount = 3;
  t.last_price = 522;
  t.mark_price = 0.0523;
  t.mark_iv = 55.1;
  t.index_price = 65000;
  t.estimated_delivery_price = 65000;
  t.open_interest = 120;
  t.stats = {530, 510, 35, 113'750, -1.5};
  t.underlying_price = 65600;
  t.underlying_future = 3;  // BTC-27MAR26 is listed
  expect_json(encode([&](auto& w) { write_book_summary(w, t, option); }),
              R"({"volume_usd":113750.0,"volume":3.5,"underlying_price":65600.0,)"
              R"("underlying_index":"BTC-27MAR26","quote_currency":"BTC","price_change":-1.5,)"
              R"("open_interest":12.0,"mid_price":0.05225,"mark_price":0.0523,"mark_iv":55.1,)"
              R"("low":0.051,"last":0.0522,"interest_rate":0.0,)"
              R"("instrument_name":"BTC-27MAR26-70000-C","high":0.053,)"
              R"("estimated_delivery_price":65000.0,"creation_timestamp":1767225600250,)"
              R"("bid_price":0.052,"base_currency":"BTC","ask_price":0.0525})");
}

market::Trade perpetual_trade() {
  market::Trade t;
  t.timestamp = 1767225600300;
  t.trade_id = 2696097;
  t.trade_seq = 1966068;
  t.instrument = 1;
  t.direction = market::Side::sell;
  t.tick_direction = market::TickDirection::minus;
  t.price = 130'024;
  t.amount = 21;
  t.mark_price = 65012.34;
  t.index_price = 65000.1;
  t.taker_order = 584864807;
  t.maker_order = 584864000;
  t.taker = 5;
  t.maker = 6;
  t.maker_state = market::OrderState::filled;
  t.taker_fee = 1.615e-06;
  t.maker_fee = -3.2e-07;
  t.maker_pnl = 0.0012;
  return t;
}

TEST(EncodeTradePages, LastTradesAreTheTradesChannelsObjects) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  sim::PublicTradePage page;
  page.trades = {perpetual_trade()};
  page.has_more = true;
  expect_json(encode([&](auto& w) { write_last_trades(w, page, perp); }),
              R"({"trades":[{"trade_seq":1966068,"trade_id":"BTC-2696097",)"
              R"("timestamp":1767225600300,"tick_direction":2,"price":65012.0,)"
              R"("mark_price":65012.34,"instrument_name":"BTC-PERPETUAL","index_price":65000.1,)"
              R"("direction":"sell","contracts":21.0,"amount":210.0}],"has_more":true})");
  page.trades.clear();
  page.has_more = false;
  expect_json(encode([&](auto& w) { write_last_trades(w, page, perp); }),
              R"({"trades":[],"has_more":false})");
}

TEST(EncodeTradePages, UserTradesAreTheFillAsTheMakerSawIt) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  sim::UserTrade u;
  u.trade = perpetual_trade();
  u.maker = true;
  u.post_only = true;
  u.order_known = true;
  u.label_size = 4;
  std::memcpy(u.label_data.data(), "rest", 4);
  sim::UserTradePage page;
  page.trades = {u};
  expect_json(encode([&](auto& w) { write_user_trades(w, page, perp); }),
              R"({"trades":[{"trade_seq":1966068,"trade_id":"BTC-2696097",)"
              R"("timestamp":1767225600300,"tick_direction":2,"state":"filled",)"
              R"("risk_reducing":false,"reduce_only":false,"profit_loss":0.0012,)"
              R"("price":65012.0,"post_only":true,"order_type":"limit",)"
              R"("order_id":"BTC-584864000","mmp":false,"matching_id":null,)"
              R"("mark_price":65012.34,"liquidity":"M","label":"rest",)"
              R"("instrument_name":"BTC-PERPETUAL","index_price":65000.1,"fee_currency":"BTC",)"
              R"("fee":-3.2e-07,"direction":"buy","contracts":21.0,"api":true,"amount":210.0}],)"
              R"("has_more":false})");
}

}  // namespace
}  // namespace gw::gateway
