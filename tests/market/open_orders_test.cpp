// Engine::open_orders: one account's resting orders, filtered like cancel_all (instrument,
// currency, kind), oldest first, as open OrderUpdates with their fills so far and labels; other
// accounts' orders never appear, and filled or cancelled ones leave the list.
#include <gtest/gtest.h>

#include <algorithm>

#include "market/engine.hpp"
#include "market/reference_matcher.hpp"

namespace gw::market {
namespace {

using testing::Recorder;

constexpr InstrumentId kPerp = 0;  // BTC-PERPETUAL
constexpr InstrumentId kPut = 1;   // a BTC put
constexpr InstrumentId kEthPerp = 2;
constexpr Ticks kMid = 130'000;  // 65000 USD
constexpr TimestampMs kT0 = 1'767'225'600'000;

class OpenOrdersTest : public ::testing::Test {
 protected:
  Recorder ev;
  Engine engine{ev};
  TimestampMs now = kT0;

  OpenOrdersTest() {
    engine.add_instrument(testing::make_future(kPerp, Currency::BTC));
    engine.add_instrument(testing::make_option(kPut, Currency::BTC, 60000, OptionType::put));
    engine.add_instrument(testing::make_future(kEthPerp, Currency::ETH));
    for (AccountId a = 1; a <= 2; ++a) {
      engine.deposit(a, Currency::BTC, 100, now);
      engine.deposit(a, Currency::ETH, 1000, now);
    }
  }

  OrderId limit(AccountId a, Side s, Ticks price, Lots amount, InstrumentId i,
                std::string_view label = {}) {
    PlaceOrder p;
    p.account = a;
    p.instrument = i;
    p.side = s;
    p.price = price;
    p.amount = amount;
    p.label = label;
    p.timestamp = ++now;
    const Result r = engine.place(p);
    EXPECT_TRUE(r.ok()) << to_string(r.error);
    return r.order_id;
  }

  std::vector<OrderId> ids(const OrderFilter& filter) const {
    std::vector<OrderUpdate> out;
    engine.open_orders(filter, out);
    std::vector<OrderId> result;
    for (const OrderUpdate& o : out) {
      EXPECT_EQ(o.account, filter.account);
      EXPECT_EQ(o.state, OrderState::open);
      result.push_back(o.order_id);
    }
    return result;
  }
  static OrderFilter of(AccountId account) {
    OrderFilter f;
    f.account = account;
    return f;
  }
};

TEST_F(OpenOrdersTest, FiltersLikeCancelAllAndKeepsPlacementOrder) {
  const OrderId perp = limit(1, Side::buy, kMid - 10, 5, kPerp, "first");
  const OrderId put = limit(1, Side::buy, 50, 3, kPut);
  const OrderId eth = limit(1, Side::sell, 70'000, 7, kEthPerp);
  const OrderId perp2 = limit(1, Side::sell, kMid + 10, 2, kPerp);
  const OrderId other = limit(2, Side::buy, kMid - 20, 4, kPerp);

  EXPECT_EQ(ids(of(1)), (std::vector<OrderId>{perp, put, eth, perp2}));
  EXPECT_EQ(ids(of(2)), std::vector<OrderId>{other});
  OrderFilter f = of(1);
  f.instrument = kPerp;
  EXPECT_EQ(ids(f), (std::vector<OrderId>{perp, perp2}));
  f = of(1);
  f.currency = Currency::BTC;
  EXPECT_EQ(ids(f), (std::vector<OrderId>{perp, put, perp2}));
  f.kind = Kind::option;
  EXPECT_EQ(ids(f), std::vector<OrderId>{put});
  f = of(1);
  f.currency = Currency::ETH;
  f.kind = Kind::future;
  EXPECT_EQ(ids(f), std::vector<OrderId>{eth});
  EXPECT_TRUE(ids(of(99)).empty());  // an account the engine never saw

  std::vector<OrderUpdate> out;
  engine.open_orders(of(1), out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].label, "first");
  EXPECT_EQ(out[0].price, kMid - 10);
  EXPECT_EQ(out[0].amount, 5);
  EXPECT_EQ(out[0].side, Side::buy);
}

TEST_F(OpenOrdersTest, FillsAndCancelsLeaveTheList) {
  const OrderId bid = limit(1, Side::buy, kMid, 5, kPerp);
  const OrderId keep = limit(1, Side::buy, kMid - 50, 5, kPerp);
  // Account 2 sells 3 into the bid: it stays open, partly filled.
  limit(2, Side::sell, kMid, 3, kPerp);
  std::vector<OrderUpdate> out;
  engine.open_orders(of(1), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].order_id, bid);
  EXPECT_EQ(out[0].filled, 3);
  EXPECT_GT(out[0].average_price, 0);
  EXPECT_TRUE(ids(of(2)).empty());  // its sell filled completely
  // The rest of the bid fills: gone.
  limit(2, Side::sell, kMid, 2, kPerp);
  EXPECT_EQ(ids(of(1)), std::vector<OrderId>{keep});
  CancelOrder c;
  c.account = 1;
  c.order_id = keep;
  c.timestamp = ++now;
  ASSERT_TRUE(engine.cancel(c).ok());
  EXPECT_TRUE(ids(of(1)).empty());
}

}  // namespace
}  // namespace gw::market
