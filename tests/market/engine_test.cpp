// The matching engine's rules one by one: price-time priority, order types and times in force,
// post-only and reduce-only, edits, cancels, self-trade prevention, trade numbering, fees, PnL,
// margin, good_til_day expiry, validation errors and the order of events in a command.
#include "market/engine.hpp"

#include <gtest/gtest.h>

#include "market/reference_matcher.hpp"

namespace gw::market {
namespace {

using testing::OwnedBookChange;
using testing::Recorder;

constexpr InstrumentId kPerp = 0;     // BTC-PERPETUAL: tick 0.5 USD, 10 USD lots
constexpr InstrumentId kPut = 1;      // BTC put 60000: ticks of 0.0001 (0.0005 from 0.005), 0.1 BTC
constexpr InstrumentId kEthPerp = 2;  // ETH-PERPETUAL: tick 0.05 USD, 1 USD lots
constexpr InstrumentId kCall = 3;     // BTC call 70000
constexpr Ticks kMid = 130'000;       // 65000 USD
constexpr TimestampMs kT0 = 1'767'225'600'000;  // 2026-01-01 00:00 UTC

class EngineTest : public ::testing::Test {
 protected:
  Recorder ev;
  Engine engine{ev};
  TimestampMs now = kT0;

  EngineTest() {
    engine.add_instrument(testing::make_future(kPerp, Currency::BTC));
    engine.add_instrument(testing::make_option(kPut, Currency::BTC, 60000, OptionType::put));
    engine.add_instrument(testing::make_future(kEthPerp, Currency::ETH));
    engine.add_instrument(testing::make_option(kCall, Currency::BTC, 70000, OptionType::call));
    for (AccountId a = 1; a <= 6; ++a) {
      engine.deposit(a, Currency::BTC, 100, now);
      engine.deposit(a, Currency::ETH, 1000, now);
    }
    ev.clear();
  }

  PlaceOrder order(AccountId a, Side s, Ticks price, Lots amount, InstrumentId i = kPerp) {
    PlaceOrder p;
    p.account = a;
    p.instrument = i;
    p.side = s;
    p.price = price;
    p.amount = amount;
    p.timestamp = ++now;
    return p;
  }
  Result limit(AccountId a, Side s, Ticks price, Lots amount, InstrumentId i = kPerp,
               TimeInForce tif = TimeInForce::good_til_cancelled) {
    PlaceOrder p = order(a, s, price, amount, i);
    p.time_in_force = tif;
    return engine.place(p);
  }
  Result market(AccountId a, Side s, Lots amount, InstrumentId i = kPerp) {
    PlaceOrder p = order(a, s, 0, amount, i);
    p.type = OrderType::market;
    return engine.place(p);
  }
  Result edit(AccountId a, OrderId id, Ticks price, Lots amount) {
    EditOrder e;
    e.account = a;
    e.order_id = id;
    e.price = price;
    e.amount = amount;
    e.timestamp = ++now;
    return engine.edit(e);
  }
  // The ids resting on a side, in priority order.
  std::vector<OrderId> queue(Side s, InstrumentId i = kPerp) const {
    std::vector<OrderId> out;
    const Book& b = *engine.book(i);
    for (std::size_t r = 0; r < b.level_count(s); ++r) {
      for (auto h = b.level_front(s, b.level(s, r).price); h != Book::kNone; h = b.next(h)) {
        out.push_back(b.order(h).id);
      }
    }
    return out;
  }
  const OrderUpdate* last_update(OrderId id) const {
    for (auto it = ev.orders.rbegin(); it != ev.orders.rend(); ++it) {
      if (it->order_id == id) return &*it;
    }
    return nullptr;
  }
  Lots position(AccountId a, InstrumentId i = kPerp) const {
    const Position* p = engine.account(a)->find(i);
    return p ? p->size : 0;
  }
  double balance(AccountId a, Currency c = Currency::BTC) const {
    return engine.account(a)->funds_in(c).balance;
  }
};

TEST_F(EngineTest, TradesAtTheMakersPriceAndRestsTheRest) {
  const Result s = limit(1, Side::sell, kMid + 2, 5);
  ASSERT_TRUE(s.ok());
  ev.clear();
  const Result b = limit(2, Side::buy, kMid + 4, 8);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(ev.trades.size(), 1u);
  const Trade& t = ev.trades[0];
  EXPECT_EQ(t.price, kMid + 2);
  EXPECT_EQ(t.amount, 5);
  EXPECT_EQ(t.direction, Side::buy);
  EXPECT_EQ(t.maker_order, s.order_id);
  EXPECT_EQ(t.taker_order, b.order_id);
  EXPECT_EQ(t.maker_state, OrderState::filled);
  EXPECT_EQ(t.taker_state, OrderState::open);
  EXPECT_EQ(last_update(s.order_id)->state, OrderState::filled);
  const OrderUpdate* taker = last_update(b.order_id);
  EXPECT_EQ(taker->state, OrderState::open);
  EXPECT_EQ(taker->filled, 5);
  EXPECT_DOUBLE_EQ(taker->average_price, 65001.0);
  EXPECT_EQ(queue(Side::buy), std::vector<OrderId>{b.order_id});
  EXPECT_EQ(engine.book(kPerp)->amount_at(Side::buy, kMid + 4), 3);
  EXPECT_EQ(position(1), -5);
  EXPECT_EQ(position(2), 5);
}

TEST_F(EngineTest, PriceThenTimePriority) {
  const OrderId a = limit(1, Side::sell, kMid + 2, 2).order_id;
  const OrderId c = limit(3, Side::sell, kMid + 2, 2).order_id;
  const OrderId d = limit(4, Side::sell, kMid + 1, 2).order_id;
  EXPECT_EQ(queue(Side::sell), (std::vector<OrderId>{d, a, c}));
  ev.clear();
  limit(2, Side::buy, kMid + 2, 5);
  ASSERT_EQ(ev.trades.size(), 3u);
  EXPECT_EQ(ev.trades[0].maker_order, d);
  EXPECT_EQ(ev.trades[0].price, kMid + 1);
  EXPECT_EQ(ev.trades[1].maker_order, a);
  EXPECT_EQ(ev.trades[2].maker_order, c);
  EXPECT_EQ(ev.trades[2].amount, 1);
  EXPECT_EQ(queue(Side::sell), std::vector<OrderId>{c});
}

TEST_F(EngineTest, MarketAndImmediateOrCancelDoNotRest) {
  limit(1, Side::sell, kMid + 1, 2);
  limit(1, Side::sell, kMid + 3, 2);
  ev.clear();
  const Result m = market(2, Side::buy, 10);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ev.trades.size(), 2u);
  const OrderUpdate* u = last_update(m.order_id);
  EXPECT_EQ(u->state, OrderState::cancelled);
  EXPECT_EQ(u->cancel_reason, CancelReason::immediate_or_cancel);
  EXPECT_EQ(u->filled, 4);
  EXPECT_EQ(u->type, OrderType::market);
  EXPECT_EQ(u->time_in_force, TimeInForce::immediate_or_cancel);
  EXPECT_TRUE(engine.book(kPerp)->empty(Side::sell));
  EXPECT_TRUE(engine.book(kPerp)->empty(Side::buy));
  // IOC: trades what crosses, cancels the rest.
  limit(1, Side::sell, kMid + 1, 2);
  ev.clear();
  const Result ioc = limit(2, Side::buy, kMid + 1, 5, kPerp, TimeInForce::immediate_or_cancel);
  EXPECT_EQ(ev.trades.size(), 1u);
  EXPECT_EQ(last_update(ioc.order_id)->state, OrderState::cancelled);
  EXPECT_TRUE(engine.book(kPerp)->empty(Side::buy));
  // A market order into an empty book ends at once.
  ev.clear();
  const Result empty = market(2, Side::buy, 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(last_update(empty.order_id)->state, OrderState::cancelled);
  EXPECT_TRUE(ev.books.empty());
}

TEST_F(EngineTest, FillOrKill) {
  limit(1, Side::sell, kMid + 1, 2);
  limit(3, Side::sell, kMid + 2, 2);
  ev.clear();
  const Result no = limit(2, Side::buy, kMid + 1, 3, kPerp, TimeInForce::fill_or_kill);
  ASSERT_TRUE(no.ok());
  EXPECT_TRUE(ev.trades.empty());
  EXPECT_TRUE(ev.books.empty());
  ASSERT_EQ(ev.orders.size(), 1u);
  EXPECT_EQ(ev.orders[0].state, OrderState::rejected);
  EXPECT_EQ(ev.orders[0].cancel_reason, CancelReason::fill_or_kill);
  ev.clear();
  const Result yes = limit(2, Side::buy, kMid + 2, 3, kPerp, TimeInForce::fill_or_kill);
  EXPECT_EQ(ev.trades.size(), 2u);
  EXPECT_EQ(last_update(yes.order_id)->state, OrderState::filled);
}

TEST_F(EngineTest, PostOnlyRepricesOrRejects) {
  limit(1, Side::sell, kMid + 2, 1);
  limit(1, Side::buy, kMid - 2, 1);
  PlaceOrder p = order(2, Side::buy, kMid + 5, 1);
  p.post_only = true;
  const Result r = engine.place(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(engine.order(r.order_id)->price, kMid + 1);  // one tick under the best ask
  engine.cancel({2, r.order_id, ++now});
  p = order(2, Side::sell, kMid - 3, 1);
  p.post_only = true;
  const OrderId sell = engine.place(p).order_id;
  EXPECT_EQ(engine.order(sell)->price, kMid - 1);
  engine.cancel({2, sell, ++now});
  // With reject_post_only: an error, and no order.
  p = order(2, Side::buy, kMid + 2, 1);
  p.post_only = true;
  p.reject_post_only = true;
  ev.clear();
  EXPECT_EQ(engine.place(p).error, Error::post_only_reject);
  EXPECT_TRUE(ev.orders.empty());
  // A post-only order that does not cross is untouched.
  p = order(2, Side::buy, kMid, 1);
  p.post_only = true;
  EXPECT_EQ(engine.order(engine.place(p).order_id)->price, kMid);
}

TEST_F(EngineTest, PostOnlyRepriceFollowsTheTickSteps) {
  // Options: 0.0001 ticks under 0.005, 0.0005 from 0.005 (ticks of 0.0001 as units).
  auto post = [&](Side s, Ticks price) {
    PlaceOrder p = order(2, s, price, 1, kPut);
    p.post_only = true;
    const Result r = engine.place(p);
    const Ticks placed = engine.order(r.order_id)->price;
    engine.cancel({2, r.order_id, ++now});
    return placed;
  };
  const OrderId ask = limit(1, Side::sell, 55, 1, kPut).order_id;
  EXPECT_EQ(post(Side::buy, 60), 50);  // under 0.0055 is 0.0050
  edit(1, ask, 50, 1);
  EXPECT_EQ(post(Side::buy, 60), 49);  // under 0.0050 is 0.0049
  engine.cancel({1, ask, ++now});
  const OrderId bid = limit(1, Side::buy, 49, 1, kPut).order_id;
  EXPECT_EQ(post(Side::sell, 10), 50);  // over 0.0049 is 0.0050
  edit(1, bid, 50, 1);
  EXPECT_EQ(post(Side::sell, 10), 55);  // over 0.0050 is 0.0055
  // Against an ask at the lowest price there is no tick under it to go to.
  engine.cancel({1, bid, ++now});
  limit(1, Side::sell, 1, 1, kPut);
  PlaceOrder p = order(2, Side::buy, 5, 1, kPut);
  p.post_only = true;
  EXPECT_EQ(engine.place(p).error, Error::post_only_reject);
}

TEST_F(EngineTest, ReduceOnly) {
  PlaceOrder p = order(2, Side::sell, kMid, 5);
  p.reduce_only = true;
  EXPECT_EQ(engine.place(p).error, Error::invalid_arguments);  // nothing to reduce
  limit(1, Side::sell, kMid, 3);
  limit(2, Side::buy, kMid, 3);  // 2 is long 3
  p.timestamp = ++now;
  const Result r = engine.place(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(engine.order(r.order_id)->amount, 3);  // clamped to the position
  // The position goes away through another order: the resting reduce-only order is cancelled
  // when it would trade.
  limit(2, Side::sell, kMid - 10, 3);  // a plain order at a better price
  limit(3, Side::buy, kMid - 10, 3);   // takes it: 2 is flat
  EXPECT_EQ(position(2), 0);
  ev.clear();
  limit(4, Side::buy, kMid, 1);
  EXPECT_TRUE(ev.trades.empty());
  EXPECT_EQ(last_update(r.order_id)->cancel_reason, CancelReason::reduce_only);
}

TEST_F(EngineTest, EditPriorityRules) {
  const OrderId a = limit(1, Side::buy, kMid, 5).order_id;
  const OrderId b = limit(3, Side::buy, kMid, 5).order_id;
  // A decrease keeps the place.
  ASSERT_TRUE(edit(1, a, kMid, 4).ok());
  EXPECT_EQ(queue(Side::buy), (std::vector<OrderId>{a, b}));
  EXPECT_EQ(engine.book(kPerp)->amount_at(Side::buy, kMid), 9);
  EXPECT_TRUE(last_update(a)->replaced);
  // An increase loses it.
  ASSERT_TRUE(edit(1, a, kMid, 6).ok());
  EXPECT_EQ(queue(Side::buy), (std::vector<OrderId>{b, a}));
  // A price change loses it, even back to the same price.
  ASSERT_TRUE(edit(3, b, kMid - 1, 5).ok());
  ASSERT_TRUE(edit(3, b, kMid, 5).ok());
  EXPECT_EQ(queue(Side::buy), (std::vector<OrderId>{a, b}));
  // An edit that crosses trades like a new order.
  const OrderId s = limit(4, Side::sell, kMid + 3, 2).order_id;
  ev.clear();
  ASSERT_TRUE(edit(4, s, kMid, 2).ok());
  ASSERT_EQ(ev.trades.size(), 1u);
  EXPECT_EQ(ev.trades[0].maker_order, a);
  EXPECT_EQ(ev.trades[0].price, kMid);
  EXPECT_EQ(last_update(s)->state, OrderState::filled);
  // Errors.
  EXPECT_EQ(edit(2, a, kMid, 5).error, Error::order_not_found);  // not the owner
  EXPECT_EQ(edit(1, 424242, kMid, 5).error, Error::order_not_found);
  EXPECT_EQ(edit(1, a, kMid, 2).error, Error::invalid_amount);  // 2 already filled
  EXPECT_EQ(edit(1, a, kMid, 0).error, Error::qty_too_low);
}

TEST_F(EngineTest, EditPostOnlyWithRejectCancels) {
  limit(1, Side::sell, kMid + 2, 1);
  PlaceOrder p = order(2, Side::buy, kMid, 1);
  p.post_only = true;
  p.reject_post_only = true;
  const OrderId id = engine.place(p).order_id;
  ev.clear();
  EXPECT_EQ(edit(2, id, kMid + 2, 1).error, Error::post_only_reject);
  EXPECT_EQ(last_update(id)->cancel_reason, CancelReason::edit_post_only_reject);
  EXPECT_FALSE(engine.order(id).has_value());
}

TEST_F(EngineTest, CancelAndCancelAll) {
  const OrderId a = limit(1, Side::buy, kMid, 1).order_id;
  limit(1, Side::buy, kMid - 1, 1);
  limit(1, Side::sell, 40, 1, kPut);
  limit(1, Side::sell, 45, 1, kCall);
  limit(1, Side::buy, 60'000, 1, kEthPerp);
  limit(2, Side::buy, kMid, 1);
  EXPECT_EQ(engine.cancel({2, a, ++now}).error, Error::order_not_found);
  ev.clear();
  EXPECT_TRUE(engine.cancel({1, a, ++now}).ok());
  EXPECT_EQ(last_update(a)->cancel_reason, CancelReason::user_request);
  EXPECT_EQ(engine.cancel({1, a, ++now}).error, Error::order_not_found);
  CancelAll c;
  c.account = 1;
  c.instrument = kPerp;
  EXPECT_EQ(engine.cancel_all(c).count, 1u);
  c.instrument.reset();
  c.currency = Currency::BTC;
  c.kind = Kind::option;
  EXPECT_EQ(engine.cancel_all(c).count, 2u);
  c.kind.reset();
  c.currency = Currency::ETH;
  EXPECT_EQ(engine.cancel_all(c).count, 1u);
  EXPECT_EQ(engine.cancel_all({}).count, 0u);
  EXPECT_EQ(engine.open_orders(), 1u);  // account 2's
}

// Cancel-on-disconnect: only the orders one connection placed (edits keep their origin), with
// the reason the command names.
TEST_F(EngineTest, CancelAllByOriginWithItsReason) {
  PlaceOrder p = order(1, Side::buy, kMid - 4, 1);
  p.origin = 7;
  const OrderId first = engine.place(p).order_id;
  p = order(1, Side::sell, 40, 1, kPut);
  p.origin = 7;
  const OrderId second = engine.place(p).order_id;
  p = order(1, Side::buy, kMid - 6, 1);
  p.origin = 8;  // another connection of the same account
  const OrderId other = engine.place(p).order_id;
  const OrderId untagged = limit(1, Side::buy, kMid - 8, 1).order_id;
  ASSERT_TRUE(edit(1, first, kMid - 5, 2).ok());
  ev.clear();
  CancelAll c;
  c.account = 1;
  c.origin = 7;
  c.reason = CancelReason::cancel_on_disconnect;
  c.timestamp = ++now;
  EXPECT_EQ(engine.cancel_all(c).count, 2u);
  ASSERT_EQ(ev.orders.size(), 2u);
  for (const OrderId id : {first, second}) {
    EXPECT_EQ(last_update(id)->state, OrderState::cancelled);
    EXPECT_EQ(last_update(id)->cancel_reason, CancelReason::cancel_on_disconnect);
  }
  EXPECT_EQ(to_string(CancelReason::cancel_on_disconnect), "cancel_on_disconnect");
  EXPECT_TRUE(engine.order(other).has_value());
  EXPECT_TRUE(engine.order(untagged).has_value());
  c.account = 2;  // the origin alone never reaches another account's orders
  c.origin = 8;
  EXPECT_EQ(engine.cancel_all(c).count, 0u);
  EXPECT_TRUE(engine.order(other).has_value());
}

TEST_F(EngineTest, SelfTradePrevention) {
  const OrderId mine = limit(1, Side::sell, kMid + 1, 2).order_id;
  const OrderId other = limit(3, Side::sell, kMid + 2, 2).order_id;
  // cancel_maker (default): the own resting order goes, matching goes on.
  ev.clear();
  const OrderId t = limit(1, Side::buy, kMid + 2, 2).order_id;
  EXPECT_EQ(last_update(mine)->cancel_reason, CancelReason::self_trade);
  ASSERT_EQ(ev.trades.size(), 1u);
  EXPECT_EQ(ev.trades[0].maker_order, other);
  EXPECT_EQ(last_update(t)->state, OrderState::filled);
  // reject_taker: the incoming order stops at the own order; its rest is cancelled.
  engine.set_self_trade_mode(5, SelfTradeMode::reject_taker);
  limit(4, Side::sell, kMid + 1, 1);
  const OrderId own = limit(5, Side::sell, kMid + 2, 1).order_id;
  limit(4, Side::sell, kMid + 3, 1);
  ev.clear();
  const OrderId t2 = limit(5, Side::buy, kMid + 3, 3).order_id;
  EXPECT_EQ(ev.trades.size(), 1u);
  const OrderUpdate* u = last_update(t2);
  EXPECT_EQ(u->state, OrderState::cancelled);
  EXPECT_EQ(u->cancel_reason, CancelReason::self_trade);
  EXPECT_EQ(u->filled, 1);
  EXPECT_TRUE(engine.order(own).has_value());
}

TEST_F(EngineTest, TradeNumbersAndTickDirections) {
  const Ticks prices[] = {100'000, 100'001, 100'001, 99'999, 99'999, 100'000, 100'000};
  const TickDirection want[] = {TickDirection::plus,       TickDirection::plus,
                                TickDirection::zero_plus,  TickDirection::minus,
                                TickDirection::zero_minus, TickDirection::plus,
                                TickDirection::zero_plus};
  for (const Ticks p : prices) {
    limit(1, Side::sell, p, 1);
    limit(2, Side::buy, p, 1);
  }
  limit(1, Side::sell, 60'000, 1, kEthPerp);
  limit(2, Side::buy, 60'000, 1, kEthPerp);
  limit(1, Side::sell, 40, 1, kPut);
  limit(2, Side::buy, 40, 1, kPut);
  ASSERT_EQ(ev.trades.size(), 9u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(ev.trades[i].tick_direction, want[i]) << i;
    EXPECT_EQ(ev.trades[i].trade_seq, i + 1);
    EXPECT_EQ(ev.trades[i].trade_id, i + 1);  // BTC-1 ...
  }
  EXPECT_EQ(ev.trades[7].trade_id, 1u);  // ETH-1: numbered per currency
  EXPECT_EQ(ev.trades[7].trade_seq, 1u);
  EXPECT_EQ(ev.trades[8].trade_id, 8u);   // BTC-8
  EXPECT_EQ(ev.trades[8].trade_seq, 1u);  // per instrument
}

TEST_F(EngineTest, InverseFuturePnlAndFees) {
  // 1 buys 1000 USD at 50000 from 3, sells it to 4 at 55000: PnL 1000 × (1/50000 − 1/55000).
  limit(3, Side::sell, 100'000, 100);  // 50000 USD, 100 lots of 10 USD
  limit(1, Side::buy, 100'000, 100);
  EXPECT_EQ(position(1), 100);
  limit(4, Side::buy, 110'000, 100);
  ev.clear();
  limit(1, Side::sell, 110'000, 100);
  const double pnl = 1000.0 * (1.0 / 50000 - 1.0 / 55000);
  const double fee1 = 0.0005 * 1000.0 / 50000;  // taker both times; makers pay 0
  const double fee2 = 0.0005 * 1000.0 / 55000;
  ASSERT_EQ(ev.trades.size(), 1u);
  EXPECT_NEAR(ev.trades[0].taker_pnl, pnl, 1e-15);
  EXPECT_NEAR(ev.trades[0].taker_fee, fee2, 1e-15);
  EXPECT_DOUBLE_EQ(ev.trades[0].maker_fee, 0);
  EXPECT_NEAR(balance(1), 100 + pnl - fee1 - fee2, 1e-12);
  EXPECT_EQ(position(1), 0);
  // 3 is short 1000 USD from 50000: at a 55000 mark it has lost as much as 1 gained.
  engine.set_mark(kPerp, 55000, ++now);
  const Summary s3 = engine.summary(3, Currency::BTC);
  EXPECT_NEAR(s3.session_upl, -pnl, 1e-12);
  EXPECT_NEAR(s3.equity, 100 - pnl, 1e-12);
  // Average price of an inverse position is harmonic: 1000 at 50000 and 1000 at 55000.
  limit(5, Side::sell, 100'000, 100);
  limit(6, Side::buy, 100'000, 100);
  limit(5, Side::sell, 110'000, 100);
  ev.clear();
  limit(6, Side::buy, 110'000, 100);
  ASSERT_EQ(ev.positions.size(), 2u);
  EXPECT_EQ(ev.positions[0].account, 6u);  // the taker's first
  EXPECT_EQ(ev.positions[0].size, 200);
  EXPECT_NEAR(ev.positions[0].average_price, 2000.0 / (1000.0 / 50000 + 1000.0 / 55000), 1e-6);
}

TEST_F(EngineTest, OptionPremiumAndCappedFees) {
  // 10 lots of 0.1 BTC = 1 BTC at 0.0450: premium 0.045, fee 0.0003 × 1 (under the cap).
  limit(1, Side::sell, 450, 10, kPut);
  ev.clear();
  limit(2, Side::buy, 450, 10, kPut);
  ASSERT_EQ(ev.trades.size(), 1u);
  EXPECT_NEAR(ev.trades[0].taker_fee, 0.0003, 1e-15);
  EXPECT_NEAR(balance(2), 100 - 0.045 - 0.0003, 1e-12);
  EXPECT_NEAR(balance(1), 100 + 0.045 - 0.0003, 1e-12);
  // At 0.0010 the fee is capped at 12.5% of the premium: 0.125 × 0.001 = 0.000125.
  limit(1, Side::sell, 10, 10, kPut);
  ev.clear();
  limit(2, Side::buy, 10, 10, kPut);
  EXPECT_NEAR(ev.trades[0].taker_fee, 0.000125, 1e-15);
  // Selling back at 0.0500 realises (0.05 − average) × 1 per BTC.
  limit(3, Side::buy, 500, 20, kPut);
  ev.clear();
  limit(2, Side::sell, 500, 20, kPut);
  EXPECT_NEAR(ev.trades[0].maker_pnl + ev.trades[0].taker_pnl, (0.05 - 0.0230) * 2, 1e-12);
  EXPECT_EQ(position(2, kPut), 0);
}

TEST_F(EngineTest, MarginRejectsWhatTheAccountCannotFund) {
  engine.deposit(10, Currency::BTC, 0.01, ++now);
  // 100,000 USD at 50000 = 2 BTC notional, 1% initial margin = 0.02 BTC > 0.01.
  EXPECT_EQ(limit(10, Side::buy, 100'000, 10'000).error, Error::not_enough_funds);
  EXPECT_TRUE(limit(10, Side::buy, 100'000, 4'000).ok());                          // 0.008
  EXPECT_EQ(limit(10, Side::buy, 100'000, 1'500).error, Error::not_enough_funds);  // +0.003
  // Buying an option reserves its premium: 1 BTC at 0.0450 needs 0.045.
  engine.deposit(11, Currency::BTC, 0.04, ++now);
  EXPECT_EQ(limit(11, Side::buy, 450, 10, kPut).error, Error::not_enough_funds);
  EXPECT_TRUE(limit(11, Side::buy, 350, 10, kPut).ok());
  // Selling an option: max(0.15 − OTM/index, 0.10) + mark per BTC. Put 60000 at index 62000:
  // 0.15 − 2000/62000 = 0.1177, plus a 0.02 mark: 0.1377 for 1 BTC.
  engine.set_index(Currency::BTC, 62000, ++now);
  engine.set_mark(kPut, 0.02, ++now);
  engine.deposit(12, Currency::BTC, 0.13, ++now);
  EXPECT_EQ(limit(12, Side::sell, 400, 10, kPut).error, Error::not_enough_funds);
  engine.deposit(12, Currency::BTC, 0.01, ++now);
  EXPECT_TRUE(limit(12, Side::sell, 400, 10, kPut).ok());
  EXPECT_NEAR(engine.summary(12, Currency::BTC).initial_margin, 0.15 - 2000.0 / 62000 + 0.02,
              1e-12);
  // Far out of the money the floor of 0.10 applies: the call 70000 is 8000 away.
  engine.deposit(14, Currency::BTC, 0.1, ++now);
  EXPECT_EQ(limit(14, Side::sell, 400, 10, kCall).error, Error::not_enough_funds);
  engine.set_mark(kCall, 0.001, ++now);
  engine.deposit(14, Currency::BTC, 0.0011, ++now);
  EXPECT_TRUE(limit(14, Side::sell, 400, 10, kCall).ok());
  // An order that only closes a position needs no margin.
  engine.deposit(13, Currency::BTC, 0.001, ++now);
  limit(1, Side::sell, kMid, 10);
  limit(13, Side::buy, kMid, 10);  // 100 USD: 0.0000154 BTC margin
  EXPECT_EQ(limit(13, Side::buy, kMid, 1000).error, Error::not_enough_funds);
  EXPECT_TRUE(limit(13, Side::sell, kMid + 10, 10).ok());
  // Cancelling returns the reserve.
  EXPECT_NEAR(engine.summary(10, Currency::BTC).initial_margin, 0.008, 1e-15);
  CancelAll everything;
  everything.account = 10;
  everything.timestamp = ++now;
  engine.cancel_all(everything);
  EXPECT_EQ(engine.summary(10, Currency::BTC).initial_margin, 0);
}

TEST_F(EngineTest, GoodTilDayExpiresAtEight) {
  now = kT0 + 7 * 3'600'000;  // 07:00 UTC
  const OrderId day = limit(1, Side::buy, kMid, 1, kPerp, TimeInForce::good_til_day).order_id;
  const OrderId gtc = limit(1, Side::buy, kMid, 1).order_id;
  engine.advance_time(kT0 + 8 * 3'600'000 - 1);
  EXPECT_TRUE(engine.order(day).has_value());
  ev.clear();
  engine.advance_time(kT0 + 8 * 3'600'000);
  EXPECT_FALSE(engine.order(day).has_value());
  EXPECT_EQ(last_update(day)->cancel_reason, CancelReason::good_til_day);
  EXPECT_TRUE(engine.order(gtc).has_value());
  ASSERT_EQ(ev.books.size(), 1u);
  // Placed after 08:00: lives until the next day's 08:00, expired by any command's timestamp.
  now = kT0 + 9 * 3'600'000;
  const OrderId next = limit(1, Side::buy, kMid, 1, kPerp, TimeInForce::good_til_day).order_id;
  now = kT0 + 32 * 3'600'000;
  limit(2, Side::buy, kMid - 5, 1);
  EXPECT_FALSE(engine.order(next).has_value());
}

TEST_F(EngineTest, ValidationErrorsCreateNothing) {
  EXPECT_EQ(limit(1, Side::buy, 51, 1, kPut).error, Error::price_wrong_tick);  // 0.0051
  EXPECT_TRUE(limit(1, Side::buy, 49, 1, kPut).ok());
  EXPECT_EQ(limit(1, Side::buy, kMid, 0).error, Error::qty_too_low);
  EXPECT_EQ(limit(1, Side::buy, 0, 1).error, Error::invalid_price);
  EXPECT_EQ(limit(1, Side::buy, kMid, 1, 99).error, Error::invalid_or_unsupported_instrument);
  PlaceOrder p = order(1, Side::buy, kMid, 1);
  const std::string long_label(65, 'x');
  p.label = long_label;
  EXPECT_EQ(engine.place(p).error, Error::invalid_arguments);
  p = order(1, Side::buy, 0, 1);
  p.type = OrderType::market;
  p.post_only = true;
  EXPECT_EQ(engine.place(p).error, Error::invalid_arguments);
  const std::size_t before = ev.events;
  limit(1, Side::buy, 51, 1, kPut);
  EXPECT_EQ(ev.events, before);
}

TEST_F(EngineTest, EventOrderWithinACommand) {
  PlaceOrder p = order(2, Side::buy, kMid + 2, 3);
  p.label = "bot-7";
  struct Kinds final : EventSink {
    std::string seq;
    Recorder inner;
    void on_event(const Event& e) override {
      seq += "OTBPXim"[e.index()];
      inner.on_event(e);
    }
  } kinds;
  Engine local(kinds);
  local.add_instrument(testing::make_future(kPerp, Currency::BTC));
  for (AccountId a = 1; a <= 3; ++a) local.deposit(a, Currency::BTC, 10, now);
  local.place(order(1, Side::sell, kMid + 1, 1));
  local.place(order(3, Side::sell, kMid + 2, 1));
  kinds.seq.clear();
  const Result r = local.place(p);
  // Trade, maker filled, trade, maker filled, taker (rests), book, 3 positions, 3 portfolios.
  EXPECT_EQ(kinds.seq, "TOTOOBPPPXXX");
  const OrderUpdate& taker = kinds.inner.orders.back();
  EXPECT_EQ(taker.order_id, r.order_id);
  EXPECT_EQ(kinds.inner.order_labels.back(), "bot-7");
  const OwnedBookChange& b = kinds.inner.books.back();
  EXPECT_EQ(b.change.checksum, local.book(kPerp)->checksum());
  EXPECT_EQ(b.change.checksum, local.book(kPerp)->compute_checksum());
  EXPECT_EQ(b.asks.size(), 2u);
  EXPECT_EQ(b.bids.size(), 1u);
}

TEST_F(EngineTest, ChangeIdsAreSharedAndChained) {
  limit(1, Side::buy, kMid, 1);
  limit(1, Side::buy, 60'000, 1, kEthPerp);
  limit(1, Side::buy, kMid - 1, 1);
  ASSERT_EQ(ev.books.size(), 3u);
  EXPECT_EQ(ev.books[0].change.prev_change_id, 0u);
  EXPECT_EQ(ev.books[1].change.prev_change_id, 0u);  // the first of ETH-PERPETUAL
  EXPECT_EQ(ev.books[2].change.prev_change_id, ev.books[0].change.change_id);
  EXPECT_GT(ev.books[2].change.change_id, ev.books[1].change.change_id);
  EXPECT_EQ(engine.last_change_id(), ev.books[2].change.change_id);
}

}  // namespace
}  // namespace gw::market

namespace gw::market {
namespace {

class CloseInstrumentTest : public ::testing::Test {
 protected:
  Recorder ev;
  Engine engine{ev};
};

// Expiry: every resting order of the instrument, whatever its account, ends cancelled with
// reason settlement; other instruments are untouched.
TEST_F(CloseInstrumentTest, CancelsEveryRestingOrderAsSettled) {
  const InstrumentId put = 2, perp = 1;
  engine.add_instrument(testing::make_future(perp, Currency::BTC));
  engine.add_instrument(testing::make_option(put, Currency::BTC, 60000, OptionType::put));
  std::vector<OrderId> on_put;
  for (AccountId a = 1; a <= 3; ++a) {
    engine.deposit(a, Currency::BTC, 100, kT0);
    PlaceOrder p;
    p.account = a;
    p.instrument = put;
    p.side = a == 2 ? Side::sell : Side::buy;
    p.price = a == 2 ? 600 : 100 + 5 * a;  // on the 0.0005 tick above 0.005
    p.amount = 10;
    p.timestamp = kT0 + a;
    const Result r = engine.place(p);
    ASSERT_TRUE(r.ok());
    on_put.push_back(r.order_id);
    p.instrument = perp;
    p.price = a == 2 ? 130'010 : 129'990;
    ASSERT_TRUE(engine.place(p).ok());
  }
  ev.clear();
  EXPECT_EQ(engine.close_instrument(put, kT0 + 100), 3u);
  EXPECT_TRUE(engine.book(put)->empty(Side::buy));
  EXPECT_TRUE(engine.book(put)->empty(Side::sell));
  EXPECT_EQ(engine.book(perp)->order_count(), 3u);
  ASSERT_EQ(ev.orders.size(), 3u);
  for (const OrderUpdate& u : ev.orders) {
    EXPECT_EQ(u.state, OrderState::cancelled);
    EXPECT_EQ(u.cancel_reason, CancelReason::settlement);
    EXPECT_NE(std::find(on_put.begin(), on_put.end(), u.order_id), on_put.end());
  }
  EXPECT_EQ(engine.close_instrument(put, kT0 + 200), 0u);  // nothing left: no events
}

}  // namespace
}  // namespace gw::market
