// The protobuf encoding of every Deribit shape the gateway writes (gateway/encode.hpp): each
// notification and result is written with JsonWriter and with ProtobufWriter (the member chosen
// as the gateway chooses it, protobuf_members.hpp), decoded by libprotobuf's classes generated
// from proto/greekwire.proto, and compared with the JSON as trees (codec/protobuf_tree.hpp). No
// mismatch is allowed: a member or shape the schema lacks fails here, in every build. Also: every
// method of the gateway's dispatch table and every channel kind has a typed member. The results
// written outside encode.hpp and risk.hpp (tokens, cancel-on-disconnect) are checked over the
// wire by tests/gateway/test_protobuf.py.
#include <greekwire.pb.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/protobuf_tree.hpp"
#include "codec/protobuf_writer.hpp"
#include "codec/response.hpp"
#include "gateway/channels.hpp"
#include "gateway/encode.hpp"
#include "gateway/protobuf_members.hpp"
#include "gateway/risk.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;
using codec::JsonWriter;
using codec::ProtobufWriter;
using market::Currency;
using market::Instrument;
using market::OptionType;

// ---- Helpers ----------------------------------------------------------------------------------

// Encodes `write` in both encodings with `member` chosen, and checks that the protobuf decodes
// to the JSON's tree with no mismatch. Returns the decoded envelope.
template <class F>
greekwire::v2::Envelope round_trip(F&& write, const codec::protobuf::Field* member) {
  std::string json;
  {
    JsonWriter w(json);
    write(w);
  }
  std::string bytes;
  ProtobufWriter w(bytes, codec::protobuf::greekwire_schema(), {.strict = false});
  w.choose(member);
  write(w);
  EXPECT_EQ(w.mismatches(), 0u) << w.last_mismatch() << "\n" << json;
  greekwire::v2::Envelope decoded;
  EXPECT_TRUE(decoded.ParseFromString(bytes)) << json;
  EXPECT_EQ(codec::test::sorted_proto(decoded), codec::test::sorted_json(json)) << json;
  return decoded;
}

// A notification of `channel` whose data `write_data` writes.
template <class F>
greekwire::v2::Envelope notification(std::string_view channel, F&& write_data) {
  const auto spec = parse_channel(channel);
  EXPECT_TRUE(spec) << channel;
  const codec::protobuf::Field* member = spec ? data_member(*spec) : nullptr;
  EXPECT_NE(member, nullptr) << channel;
  return round_trip([&](auto& w) { codec::write_notification(w, channel, write_data); }, member);
}

// A response to `method` whose result `write_value` writes.
template <class F>
greekwire::v2::Envelope response(std::string_view method, F&& write_value) {
  const codec::protobuf::Field* member = result_member(method);
  EXPECT_NE(member, nullptr) << method;
  codec::RequestId id;
  id.kind = codec::IdKind::int64;
  id.int64 = 42;
  id.json = "42";
  const codec::ResponseMeta meta{1767225600000100, 1767225600000900, false};
  return round_trip([&](auto& w) { codec::write_result(w, id, meta, write_value); }, member);
}

Instrument listed(market::InstrumentName name, market::InstrumentId id) {
  Instrument i = market::make_instrument(name);
  i.id = id;
  i.creation_ms = 1'600'000'000'000;
  return i;
}

Instrument perpetual() {
  return listed(market::perpetual_name(Currency::BTC), 1);
}

Instrument future() {
  return listed(market::future_name(Currency::BTC, 2026y / 12 / 25d), 3);
}

Instrument option() {
  return listed(market::option_name(Currency::BTC, 2026y / 12 / 25d, 100000, OptionType::call), 7);
}

sim::Ticker ticker_of(const Instrument& i) {
  sim::Ticker t;
  t.timestamp = 1767225600250;
  t.instrument = i.id;
  t.currency = i.currency;
  t.kind = i.kind;
  const bool opt = i.kind == market::Kind::option;
  t.best_bid_price = opt ? 520 : 130000;
  t.best_bid_amount = 30;
  t.best_ask_price = opt ? 525 : 130001;
  t.best_ask_amount = 12;
  t.last_price = opt ? 522 : 130000;
  t.mark_price = opt ? 0.0523 : 65012.34;
  t.index_price = 65000.1;
  t.estimated_delivery_price = 65000.1;
  t.open_interest = 153;
  t.stats = {opt ? 530L : 130600L, opt ? 505L : 129400L, 214, 92830000.0, -1.8};
  t.underlying_price = 65450.5;
  t.underlying_future = 3;
  t.bid_iv = 54.2;
  t.ask_iv = 56.05;
  t.mark_iv = 55.1;
  t.greeks = {0.4521, 2e-05, 150.2, -40.1, 80.3};
  t.current_funding = 1e-05;
  t.funding_8h = 2.11e-05;
  t.interest_value = 3.6e-06;
  return t;
}

sim::BookSnapshot book_of(const Instrument& i, bool with_ticker) {
  sim::BookSnapshot book;
  book.found = true;
  book.timestamp = 1767225600123;
  book.instrument = i.id;
  book.change_id = 8812;
  book.checksum = 3370445602;
  book.bids = {{130000, 1200}, {129999, 50}, {129980, 1}};
  book.asks = {{130001, 300}, {130002, 2}};
  if (with_ticker) book.ticker = ticker_of(i);
  return book;
}

market::Trade trade_of(const Instrument& i) {
  market::Trade t;
  t.timestamp = 1767225600300;
  t.trade_id = 2696097;
  t.trade_seq = 1966068;
  t.instrument = i.id;
  t.currency = i.currency;
  t.direction = market::Side::sell;
  t.tick_direction = market::TickDirection::minus;
  t.price = i.kind == market::Kind::option ? 522 : 130024;
  t.amount = 21;
  t.mark_price = i.kind == market::Kind::option ? 0.0523 : 65012.34;
  t.index_price = 65000.1;
  t.taker_order = 584864807;
  t.maker_order = 584860001;
  t.taker = 5;
  t.maker = 6;
  t.taker_state = market::OrderState::filled;
  t.maker_state = market::OrderState::open;
  t.taker_fee = 1.615e-06;
  t.maker_fee = -1.2e-06;
  t.taker_pnl = 0.0012;
  return t;
}

sim::OwnedOrderUpdate order_of(const Instrument& i, bool market_order, bool cancelled) {
  market::OrderUpdate o;
  o.timestamp = 1767225600300;
  o.created = 1767225600300;
  o.order_id = 584864807;
  o.account = 5;
  o.instrument = i.id;
  o.currency = i.currency;
  o.side = market::Side::sell;
  o.type = market_order ? market::OrderType::market : market::OrderType::limit;
  o.state = cancelled ? market::OrderState::cancelled : market::OrderState::filled;
  if (cancelled) o.cancel_reason = market::CancelReason::user_request;
  o.price = 130020;
  o.amount = 21;
  o.filled = cancelled ? 0 : 21;
  o.average_price = cancelled ? 0 : 65012.0;
  o.label = "bot-1";
  return sim::OwnedOrderUpdate(o);
}

// ---- Books ------------------------------------------------------------------------------------

TEST(ProtobufShapes, BookChangesAndSnapshots) {
  const Instrument perp = perpetual();
  sim::OwnedBookChange change;
  change.timestamp = 1767225600123;
  change.change_id = 8812;
  change.prev_change_id = 8790;
  change.checksum = 3370445602;
  const market::LevelUpdate bids[] = {{130000, 1200, market::BookAction::change},
                                      {129999, 0, market::BookAction::remove},
                                      {129998, 1, market::BookAction::add}};
  change.bids.assign(bids);
  const auto m = notification("book.BTC-PERPETUAL.100ms",
                              [&](auto& w) { write_book_change(w, change, perp, false); });
  ASSERT_EQ(m.params().book().bids_size(), 3);
  EXPECT_EQ(m.params().book().bids(1).action(), "delete");
  EXPECT_EQ(m.params().book().bids(1).amount(), 0.0);
  EXPECT_EQ(m.params().book().asks_size(), 0);
  EXPECT_EQ(m.params().book().checksum(), 3370445602u);
  const auto snapshot = notification("book.BTC-PERPETUAL.raw",
                                     [&](auto& w) { write_book_change(w, change, perp, true); });
  EXPECT_FALSE(snapshot.params().book().has_prev_change_id());
  EXPECT_FALSE(snapshot.params().book().has_resync());
  // A snapshot sent again after the subscriber lost changes to backpressure.
  const auto resync = notification(
      "book.BTC-PERPETUAL.raw", [&](auto& w) { write_book_change(w, change, perp, true, true); });
  EXPECT_TRUE(resync.params().book().resync());
  notification("book.BTC-PERPETUAL.agg2",
               [&](auto& w) { write_book_change(w, book_of(perp, false), perp); });
}

TEST(ProtobufShapes, GroupedBook) {
  const Instrument perp = perpetual();
  const sim::BookSnapshot book = book_of(perp, false);
  const auto m = notification("book.BTC-PERPETUAL.none.10.100ms", [&](auto& w) {
    write_grouped_book(w, perp, 8812, 1767225600123, book.bids, book.asks);
  });
  EXPECT_EQ(m.params().book_grouped().asks(1).price(), 65001.0);
}

// ---- Tickers and books ------------------------------------------------------------------------

TEST(ProtobufShapes, TickersOfEveryKind) {
  for (const Instrument& i : {perpetual(), future(), option()}) {
    const sim::Ticker t = ticker_of(i);
    const std::string channel = "ticker." + i.name + ".100ms";
    notification(channel, [&](auto& w) { write_ticker(w, t, i); });
    response("public/ticker", [&](auto& w) { write_ticker(w, t, i); });
  }
  // Unknown marks and an empty window: nulls, left out.
  const Instrument perp = perpetual();
  sim::Ticker empty;
  empty.instrument = perp.id;
  const auto m = response("public/ticker", [&](auto& w) { write_ticker(w, empty, perp); });
  EXPECT_FALSE(m.public_ticker().has_mark_price());
  EXPECT_TRUE(m.public_ticker().has_best_bid_price());
  EXPECT_FALSE(m.public_ticker().stats().has_low());
}

TEST(ProtobufShapes, OrderBooks) {
  for (const Instrument& i : {perpetual(), option()}) {
    for (bool with_ticker : {true, false}) {
      const sim::BookSnapshot book = book_of(i, with_ticker);
      const auto m =
          response("public/get_order_book", [&](auto& w) { write_order_book(w, book, i); });
      EXPECT_EQ(m.public_get_order_book().bids_size(), 3);
      EXPECT_EQ(m.public_get_order_book().checksum(), 3370445602u);
    }
  }
}

// ---- Trades and orders ------------------------------------------------------------------------

TEST(ProtobufShapes, PublicAndUserTrades) {
  for (const Instrument& i : {perpetual(), option()}) {
    const market::Trade t = trade_of(i);
    notification("trades." + i.name + ".raw", [&](auto& w) {
      w.begin_array(2);
      write_trade(w, t, i, 65450.5);
      write_trade(w, t, i);
      w.end_array();
    });
    notification("trades.any.BTC.100ms", [&](auto& w) {
      w.begin_array(1);
      write_trade(w, t, i);
      w.end_array();
    });
    const auto m = notification("user.trades." + i.name + ".raw", [&](auto& w) {
      w.begin_array(2);
      write_user_trade(w, t, i, Liquidity::taker, trade_order(order_of(i, false, false)), 65450.5);
      write_user_trade(w, t, i, Liquidity::maker, TradeOrder{});
      w.end_array();
    });
    const greekwire::v2::Trade& taker = m.params().user_trades().trades(0);
    const greekwire::v2::Trade& maker = m.params().user_trades().trades(1);
    EXPECT_EQ(maker.liquidity(), "M");
    EXPECT_FALSE(taker.has_matching_id());  // null
    EXPECT_EQ(taker.label(), "bot-1");
    EXPECT_FALSE(maker.has_label());  // only when the order has one
    EXPECT_TRUE(taker.api());
    EXPECT_TRUE(taker.has_mmp() && !taker.mmp());
    EXPECT_TRUE(taker.has_risk_reducing() && !taker.risk_reducing());
    if (i.kind == market::Kind::option) {
      EXPECT_EQ(taker.underlying_price(), 65450.5);
      EXPECT_EQ(maker.underlying_price(), 65000.1);  // none given: the trade's index
    } else {
      EXPECT_FALSE(taker.has_underlying_price());
    }
  }
}

TEST(ProtobufShapes, Orders) {
  const Instrument perp = perpetual();
  for (bool market_order : {false, true}) {
    for (bool cancelled : {false, true}) {
      const sim::OwnedOrderUpdate order = order_of(perp, market_order, cancelled);
      const auto raw = notification("user.orders.BTC-PERPETUAL.raw",
                                    [&](auto& w) { write_order(w, order, perp); });
      if (market_order) {
        EXPECT_EQ(raw.params().user_orders().price_text(), "market_price");
      } else {
        EXPECT_EQ(raw.params().user_orders().price(), 65010.0);
      }
      const auto list = notification("user.orders.any.any.100ms", [&](auto& w) {
        w.begin_array(1);
        write_order(w, order, perp);
        w.end_array();
      });
      EXPECT_EQ(list.params().user_orders_list().orders_size(), 1);
      response("private/cancel", [&](auto& w) { write_order(w, order, perp); });
      response("private/get_order_state", [&](auto& w) { write_order(w, order, perp); });
    }
  }
}

TEST(ProtobufShapes, OrderResults) {
  const Instrument perp = perpetual();
  sim::OrderResult result;
  result.executed = true;
  result.order = order_of(perp, false, false);
  result.trades = {trade_of(perp), trade_of(perp)};
  for (std::string_view method : {"private/buy", "private/sell", "private/edit"}) {
    response(method, [&](auto& w) { write_order_result(w, result, perp); });
  }
  const auto m =
      response("private/buy", [&](auto& w) { write_order_result(w, sim::OrderResult{}, perp); });
  EXPECT_FALSE(m.private_buy().has_order());  // null: the command failed
}

// ---- Positions and accounts -------------------------------------------------------------------

TEST(ProtobufShapes, PositionsSummaryAndPortfolio) {
  const Instrument perp = perpetual();
  const Instrument opt = option();
  const sim::PositionSnapshot future_position{perp.id, -100, 50000, 51000, -0.0004, 0.001};
  const sim::PositionSnapshot option_position{opt.id, 15, 0.05, 0.06, 0.015, 0};
  const sim::TickerGreeks greeks{0.4, 0.00002, 150, -40, 80};
  const auto m = response("private/get_positions", [&](auto& w) {
    w.begin_array(2);
    write_position(w, future_position, perp,
                   position_context(perp, future_position, 50990, nullptr));
    write_position(w, option_position, opt, position_context(opt, option_position, 90000, &greeks));
    w.end_array();
  });
  EXPECT_EQ(m.private_get_positions().positions(0).leverage(), 50);
  EXPECT_FALSE(m.private_get_positions().positions(0).has_estimated_liquidation_price());
  response("private/get_positions", [&](auto& w) {
    w.begin_array(0);
    w.end_array();
  });
  const auto one = response("private/get_position", [&](auto& w) {
    write_position(w, option_position, opt, position_context(opt, option_position, 90000, &greeks));
  });
  EXPECT_DOUBLE_EQ(one.private_get_position().gamma(),
                   opt.to_amount(option_position.size) * greeks.gamma);
  EXPECT_FALSE(one.private_get_position().has_leverage());
}

// The portfolio's Greeks and Deribit's per-index maps ({"btc_usd": x}, {} without positions).
TEST(ProtobufShapes, AccountSummaryAndPortfolioWithTheirMaps) {
  const Instrument perp = perpetual();
  const Instrument opt = option();
  const sim::PositionSnapshot future_position{perp.id, -100, 50000, 51000, -0.0004, 0.001};
  const sim::PositionSnapshot option_position{opt.id, 15, 0.05, 0.06, 0.015, 0};
  const sim::TickerGreeks greeks{0.4, 0.00002, 150, -40, 80};
  sim::AccountSnapshot account;
  account.found = true;
  account.currency = Currency::BTC;
  account.summary = {10.0, 10.2, 0.5, 0.3, 9.7, 0.12, -0.02, 0.001};
  const auto flat =
      response("private/get_account_summary", [&](auto& w) { write_account_summary(w, account); });
  EXPECT_EQ(flat.private_get_account_summary().delta_total_map_size(), 0);  // {}

  account.positions = {future_position, option_position};
  sim::add_position_risk(account.risk, perp, future_position, nullptr, false);
  sim::add_position_risk(account.risk, opt, option_position, &greeks, true);
  const auto m =
      response("private/get_account_summary", [&](auto& w) { write_account_summary(w, account); });
  const greekwire::v2::AccountSummary& summary = m.private_get_account_summary();
  ASSERT_EQ(summary.delta_total_map_size(), 1);
  EXPECT_EQ(summary.delta_total_map().at("btc_usd"), account.risk.delta_total);
  EXPECT_EQ(summary.options_vega_map().at("btc_usd"), account.risk.options_vega);
  EXPECT_EQ(summary.options_theta_map().at("btc_usd"), account.risk.options_theta);
  EXPECT_EQ(summary.options_gamma_map().at("btc_usd"), account.risk.options_gamma);
  EXPECT_EQ(summary.margin_model(), "segregated_sm");

  // Futures only: delta_total_map has its entry, the options' maps are {}.
  sim::Portfolio portfolio;
  portfolio.funds.currency = Currency::ETH;
  portfolio.funds.balance = 1.0;
  portfolio.funds.equity = 0.9;
  portfolio.funds.session_upl = -0.1;
  sim::add_position_risk(portfolio.risk, perp, future_position, nullptr, false);
  const auto p =
      notification("user.portfolio.ETH", [&](auto& w) { write_portfolio(w, portfolio); });
  EXPECT_EQ(p.params().user_portfolio().delta_total_map().at("eth_usd"),
            portfolio.risk.delta_total);
  EXPECT_EQ(p.params().user_portfolio().options_vega_map_size(), 0);
  notification("user.portfolio.BTC", [&](auto& w) { write_portfolio(w, sim::Portfolio{}); });
}

// ---- Queries: open orders, trade pages, book summaries --------------------------------------

TEST(ProtobufShapes, OpenOrders) {
  const Instrument perp = perpetual();
  const sim::OwnedOrderUpdate resting = order_of(perp, false, true);
  for (std::string_view method :
       {"private/get_open_orders_by_instrument", "private/get_open_orders_by_currency"}) {
    const auto m = response(method, [&](auto& w) {
      w.begin_array(2);
      write_order(w, resting, perp);
      write_order(w, order_of(perp, true, false), perp);
      w.end_array();
    });
    const greekwire::v2::OrderList& orders = method.ends_with("instrument")
                                                 ? m.private_get_open_orders_by_instrument()
                                                 : m.private_get_open_orders_by_currency();
    ASSERT_EQ(orders.orders_size(), 2);
    EXPECT_EQ(orders.orders(1).price_text(), "market_price");
    response(method, [&](auto& w) {
      w.begin_array(0);
      w.end_array();
    });
  }
}

TEST(ProtobufShapes, TradePages) {
  for (const Instrument& i : {perpetual(), option()}) {
    sim::PublicTradePage page;
    page.trades = {trade_of(i), trade_of(i)};
    page.has_more = true;
    const auto last = response("public/get_last_trades_by_instrument",
                               [&](auto& w) { write_last_trades(w, page, i); });
    EXPECT_EQ(last.public_get_last_trades_by_instrument().trades_size(), 2);
    EXPECT_TRUE(last.public_get_last_trades_by_instrument().has_more());
    EXPECT_FALSE(last.public_get_last_trades_by_instrument().trades(0).has_liquidity());

    sim::UserTrade labelled;
    labelled.trade = trade_of(i);
    labelled.maker = true;
    labelled.post_only = true;
    labelled.order_known = true;
    labelled.label_size = 4;
    std::memcpy(labelled.label_data.data(), "rest", 4);
    sim::UserTrade plain;
    plain.trade = trade_of(i);
    plain.order_type = market::OrderType::market;
    sim::UserTradePage mine;
    mine.trades = {labelled, plain};
    const auto user = response("private/get_user_trades_by_instrument",
                               [&](auto& w) { write_user_trades(w, mine, i); });
    const greekwire::v2::TradePage& result = user.private_get_user_trades_by_instrument();
    ASSERT_EQ(result.trades_size(), 2);
    EXPECT_FALSE(result.has_more());  // false is sent, not left out
    ASSERT_TRUE(result.has_has_more());
    EXPECT_EQ(result.trades(0).label(), "rest");
    EXPECT_EQ(result.trades(0).direction(), "buy");  // the maker's side
    EXPECT_FALSE(result.trades(1).has_label());
    EXPECT_EQ(result.trades(1).order_type(), "market");
    EXPECT_EQ(result.trades(0).has_underlying_price(), i.kind == market::Kind::option);

    page.trades.clear();
    page.has_more = false;
    response("public/get_last_trades_by_instrument",
             [&](auto& w) { write_last_trades(w, page, i); });
  }
}

TEST(ProtobufShapes, SettlementPages) {
  const auto instrument = std::make_shared<const Instrument>(future());
  sim::SettlementPage page;
  sim::SettlementRecord r;
  r.settlement.timestamp = 1'766'000'000'000;
  r.settlement.position = 20;
  r.settlement.mark_price = 65'000.5;
  r.settlement.index_price = 65'000.5;
  r.settlement.profit_loss = -0.0001;
  r.instrument = instrument;
  r.seq = 7;
  page.settlements = {r};
  page.has_more = true;
  for (const char* method : {"private/get_settlement_history_by_instrument",
                             "private/get_settlement_history_by_currency"}) {
    const auto m = response(method, [&](auto& w) { write_settlements(w, page); });
    const greekwire::v2::SettlementPage& result =
        std::string_view(method).ends_with("instrument")
            ? m.private_get_settlement_history_by_instrument()
            : m.private_get_settlement_history_by_currency();
    ASSERT_EQ(result.settlements_size(), 1);
    EXPECT_EQ(result.settlements(0).type(), "delivery");
    EXPECT_EQ(result.settlements(0).instrument_name(), instrument->name);
    EXPECT_EQ(result.settlements(0).position(), instrument->to_amount(20));
    EXPECT_EQ(result.settlements(0).profit_loss(), -0.0001);
    EXPECT_EQ(result.continuation(), "7");
  }
  page.has_more = false;  // the last page: continuation null, left out
  const auto last = response("private/get_settlement_history_by_currency",
                             [&](auto& w) { write_settlements(w, page); });
  EXPECT_FALSE(last.private_get_settlement_history_by_currency().has_continuation());
}

TEST(ProtobufShapes, BookSummariesOfEveryKind) {
  const std::vector<Instrument> rows = {perpetual(), future(), option()};
  std::vector<sim::Ticker> tickers;
  for (const Instrument& i : rows) tickers.push_back(ticker_of(i));
  // An untraded instrument with an empty bid side: Deribit's nulls, left out.
  sim::Ticker untraded = ticker_of(rows[1]);
  untraded.stats = {};
  untraded.best_bid_amount = 0;
  untraded.last_price = 0;
  const auto m = response("public/get_book_summary_by_currency", [&](auto& w) {
    w.begin_array(rows.size() + 1);
    for (std::size_t k = 0; k < rows.size(); ++k) write_book_summary(w, tickers[k], rows[k]);
    write_book_summary(w, untraded, rows[1]);
    w.end_array();
  });
  const greekwire::v2::BookSummaryList& list = m.public_get_book_summary_by_currency();
  ASSERT_EQ(list.summaries_size(), 4);
  EXPECT_TRUE(list.summaries(0).has_funding_8h());
  EXPECT_TRUE(list.summaries(1).has_volume_notional());
  EXPECT_EQ(list.summaries(2).underlying_index(), "BTC-25DEC26");
  EXPECT_FALSE(list.summaries(2).has_volume_notional());
  EXPECT_FALSE(list.summaries(3).has_bid_price());
  EXPECT_FALSE(list.summaries(3).has_mid_price());
  EXPECT_FALSE(list.summaries(3).has_last());
  EXPECT_FALSE(list.summaries(3).has_high());
  EXPECT_TRUE(list.summaries(3).has_ask_price());
  response("public/get_book_summary_by_currency", [&](auto& w) {
    w.begin_array(0);
    w.end_array();
  });
}

// ---- private/get_risk_matrix ----------------------------------------------------------------

TEST(ProtobufShapes, RiskMatrixTotalsAndBreakdown) {
  const Instrument perp = perpetual();
  const Instrument opt = option();
  const double moves[] = {-0.5, 0, 0.25};
  const double shifts[] = {-5, 0};
  market::RiskMatrix matrix;
  matrix.pnl = {-0.25, 0, 0.125, -0.3, 0, 0.2};
  matrix.greeks = {0.5, 1e-05, 12.5, -3.25};
  matrix.position_pnl = {-0.5, 0, 0.25, -0.5, 0, 0.25, 0.25, 0, -0.125, 0.2, 0, -0.05};
  matrix.position_greeks = {{0.75, 0, 0, 0}, {-0.25, 1e-05, 12.5, -3.25}};
  const RiskRow rows[] = {{&perp, 1000, 50000, 0}, {&opt, -2, 0.0415, 61.5}};
  RiskView view;
  view.currency = Currency::BTC;
  view.timestamp = 1767225600000;
  view.index_price = 49990.5;
  view.underlying_moves = moves;
  view.vol_shifts = shifts;
  view.matrix = &matrix;
  const auto totals =
      response("private/get_risk_matrix", [&](auto& w) { write_risk_matrix(w, view); });
  const greekwire::v2::RiskMatrix& t = totals.private_get_risk_matrix();
  ASSERT_EQ(t.pnl_size(), 2);
  EXPECT_EQ(t.pnl(1).pnl(2), 0.2);
  EXPECT_EQ(t.underlying_moves_size(), 3);
  EXPECT_EQ(t.positions_size(), 0);

  view.rows = rows;
  view.per_position = true;
  const auto full =
      response("private/get_risk_matrix", [&](auto& w) { write_risk_matrix(w, view); });
  const greekwire::v2::RiskMatrix& f = full.private_get_risk_matrix();
  ASSERT_EQ(f.positions_size(), 2);
  EXPECT_FALSE(f.positions(0).has_mark_iv());  // futures
  EXPECT_EQ(f.positions(1).mark_iv(), 61.5);
  EXPECT_EQ(f.positions(1).pnl(0).pnl(2), -0.125);
  EXPECT_EQ(f.positions(1).gamma(), 1e-05);
}

// ---- Index and mark prices, instruments -------------------------------------------------------

TEST(ProtobufShapes, IndexAndMarkPrices) {
  const market::IndexPrice index{1767225600000, Currency::BTC, 65000.1};
  notification("deribit_price_index.btc_usd", [&](auto& w) { write_index_price(w, index); });
  const OptionMark marks[] = {{1767225600250, "BTC-25DEC26-100000-C", 0.0523, 0.551},
                              {1767225600250, "BTC-25DEC26-100000-P", 0.5, 0.6}};
  const auto m =
      notification("markprice.options.btc_usd", [&](auto& w) { write_markprices(w, marks); });
  EXPECT_EQ(m.params().markprice_options().marks(1).iv(), 0.6);
}

TEST(ProtobufShapes, Instruments) {
  const std::vector<Instrument> rows = {perpetual(), future(), option()};
  const auto m = response("public/get_instruments", [&](auto& w) {
    w.begin_array(rows.size());
    for (const Instrument& i : rows) write_instrument(w, i);
    w.end_array();
  });
  EXPECT_EQ(m.public_get_instruments().instruments(2).option_type(), "call");
  response("public/get_instruments", [&](auto& w) {
    w.begin_array(0);
    w.end_array();
  });
  response("public/get_instrument", [&](auto& w) { write_instrument(w, option()); });
}

// ---- greekwire's channels ---------------------------------------------------------------------

TEST(ProtobufShapes, VolSurfaceAndChain) {
  sim::SurfaceSnapshot s;
  s.timestamp = 1767225600000;
  s.currency = Currency::BTC;
  s.index_price = 65000;
  s.params = {-0.3, 1.0, 0.4};
  const double years[] = {0.02, 0.1, 0.5};
  for (double t : years) {
    s.expiries.push_back({1767225600000 + static_cast<market::TimestampMs>(t * 3.1536e10), t,
                          65000 * (1 + t), 0.36 * t, 0.6});
  }
  const auto m = notification("volsurface.BTC.100ms", [&](auto& w) { write_surface(w, s); });
  ASSERT_EQ(m.params().volsurface().iv_size(), 3);
  EXPECT_EQ(m.params().volsurface().iv(0).iv_size(), 13);
  EXPECT_EQ(m.params().volsurface().strikes_size(), 13);

  sim::Block b;
  b.timestamp = 1767225612000;
  b.currency = Currency::BTC;
  b.height = 880001;
  b.hash.fill(0xab);
  b.block_time = 1767225612000;
  b.tx_count = 3012;
  b.fee_rate_milli = 12345;
  b.nonce = 8141503772;
  b.transfer_count = 1;
  notification("chain.BTC.blocks", [&](auto& w) { write_block(w, b); });
  sim::Transfer t;
  t.timestamp = 1767225612000;
  t.currency = Currency::BTC;
  t.block_height = 880001;
  t.tx_hash[31] = 0xff;
  t.amount_units = 25'000'000'000;
  t.amount = 250;
  t.usd_value = 16'250'025;
  const auto transfer = notification("chain.BTC.transfers", [&](auto& w) { write_transfer(w, t); });
  EXPECT_EQ(transfer.params().chain_transfers().amount_units(), 25'000'000'000u);
}

// ---- Coverage of the gateway's methods and channels -------------------------------------------

TEST(ProtobufShapes, EveryChannelKindHasAMember) {
  for (int k = 0; k <= static_cast<int>(ChannelKind::chain_transfers); ++k) {
    for (Interval interval : {Interval::raw, Interval::ms100}) {
      ChannelSpec spec;
      spec.kind = static_cast<ChannelKind>(k);
      spec.interval = interval;
      EXPECT_NE(data_member(spec), nullptr) << k;
    }
  }
  ChannelSpec orders;
  orders.kind = ChannelKind::user_orders;
  orders.interval = Interval::raw;
  EXPECT_EQ(data_member(orders)->name, "user_orders");
  orders.interval = Interval::agg2;
  EXPECT_EQ(data_member(orders)->name, "user_orders_list");
}

// The methods of Gateway::dispatch, read from its source, so that a method added there without
// a member in greekwire.proto fails here.
std::vector<std::string> dispatched_methods() {
  std::ifstream in(std::string(GW_SOURCE_DIR) + "/src/gateway/gateway.cpp");
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex entry(R"re(\{"((?:public|private)/[a-z_]+)", &Gateway::)re");
  std::vector<std::string> methods;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), entry);
       it != std::sregex_iterator(); ++it) {
    methods.push_back((*it)[1]);
  }
  return methods;
}

TEST(ProtobufShapes, EveryDispatchedMethodHasAResultMember) {
  const std::vector<std::string> methods = dispatched_methods();
  EXPECT_GE(methods.size(), 30u);  // the table was found
  for (const std::string& method : methods) {
    const codec::protobuf::Field* member = result_member(method);
    ASSERT_NE(member, nullptr) << method << " has no member in Envelope.result (greekwire.proto)";
    std::string name = method;
    name[name.find('/')] = '_';
    EXPECT_EQ(member->name, name);
  }
  EXPECT_EQ(result_member("public/nope"), nullptr);
  EXPECT_EQ(result_member(""), nullptr);
}

}  // namespace
}  // namespace gw::gateway
