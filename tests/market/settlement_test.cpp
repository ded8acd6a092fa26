// Expiry settlement and perpetual funding in the engine:
//  - settle_instrument: futures realise q·(1/entry − 1/S) as a close at the delivery price S;
//    options are cash-settled at their intrinsic value in coin (longs receive what shorts pay);
//    every position ends flat, one Settlement per position then its PositionUpdate and
//    PortfolioUpdate; equity stays conserved across all accounts;
//  - funding: accrue_funding() books nothing until book_funding() or a fill; a long pays
//    size × accrued, a short receives it; a position pays only for what accrued while it was
//    open, at the size it had then.
#include <gtest/gtest.h>

#include <cmath>

#include "market/engine.hpp"
#include "market/reference_matcher.hpp"

namespace gw::market {
namespace {

using testing::Recorder;

constexpr InstrumentId kPerp = 1;  // BTC-PERPETUAL: tick 0.5 USD, 10 USD lots
constexpr InstrumentId kCall = 2;  // BTC call 60000: 0.1 BTC lots, ticks of 0.0001
constexpr InstrumentId kPut = 3;   // BTC put 60000
constexpr TimestampMs kT0 = 1'767'225'600'000;
constexpr double kDeposit = 100;
// Balances of 100 BTC carry about 1.4e-14 of rounding: their changes are exact to about that.
constexpr double kCoinEps = 1e-12;

class SettlementTest : public ::testing::Test {
 protected:
  Recorder ev;
  Engine engine{ev};
  TimestampMs now = kT0;

  SettlementTest() {
    engine.add_instrument(testing::make_future(kPerp, Currency::BTC));
    engine.add_instrument(testing::make_option(kCall, Currency::BTC, 60000, OptionType::call));
    engine.add_instrument(testing::make_option(kPut, Currency::BTC, 60000, OptionType::put));
    for (AccountId a = 1; a <= 4; ++a) engine.deposit(a, Currency::BTC, kDeposit, now);
  }

  // `buyer` takes `lots` at `price` ticks from `seller`'s resting order.
  void trade(AccountId buyer, AccountId seller, InstrumentId i, Ticks price, Lots lots) {
    PlaceOrder p;
    p.account = seller;
    p.instrument = i;
    p.side = Side::sell;
    p.price = price;
    p.amount = lots;
    p.timestamp = ++now;
    ASSERT_TRUE(engine.place(p).ok());
    p.account = buyer;
    p.side = Side::buy;
    p.timestamp = ++now;
    ASSERT_TRUE(engine.place(p).ok());
  }
  double balance(AccountId a) const { return engine.account(a)->funds_in(Currency::BTC).balance; }
  Lots size(AccountId a, InstrumentId i) const {
    const Position* p = engine.account(a)->find(i);
    return p == nullptr ? 0 : p->size;
  }
  double total_equity() const {
    double equity = 0;
    for (AccountId a = 1; a <= 4; ++a) equity += engine.summary(a, Currency::BTC).equity;
    return equity;
  }
  double total_fees() const {
    double fees = 0;
    for (AccountId a = 1; a <= 4; ++a) fees += engine.account(a)->funds_in(Currency::BTC).fees;
    return fees;
  }
};

TEST_F(SettlementTest, FutureSettlesAsACloseAtTheDeliveryPrice) {
  trade(1, 2, kPerp, 100'000, 100);  // 1000 USD at 50000 (1 long, 2 short)
  const double b1 = balance(1), b2 = balance(2);
  ev.clear();
  EXPECT_EQ(engine.settle_instrument(kPerp, 55000, ++now), 2u);
  const double pnl = 1000.0 * (1.0 / 50000 - 1.0 / 55000);
  EXPECT_NEAR(balance(1) - b1, pnl, kCoinEps);
  EXPECT_NEAR(balance(2) - b2, -pnl, kCoinEps);
  EXPECT_EQ(size(1, kPerp), 0);
  EXPECT_EQ(size(2, kPerp), 0);
  ASSERT_EQ(ev.settlements.size(), 2u);
  const Settlement& s = ev.settlements[0];
  EXPECT_EQ(s.account, 1u);
  EXPECT_EQ(s.instrument, kPerp);
  EXPECT_EQ(s.position, 100);
  EXPECT_EQ(s.index_price, 55000);
  EXPECT_EQ(s.mark_price, 55000);
  EXPECT_NEAR(s.profit_loss, pnl, 1e-15);
  EXPECT_NEAR(s.cash, pnl, 1e-15);
  EXPECT_EQ(ev.settlements[1].position, -100);
  // Then each account's position, flat, and its funds.
  ASSERT_EQ(ev.positions.size(), 2u);
  for (const PositionUpdate& p : ev.positions) {
    EXPECT_EQ(p.size, 0);
    EXPECT_EQ(p.mark_price, 55000);
  }
  EXPECT_NEAR(ev.positions[0].realized_pnl, pnl, 1e-15);
  ASSERT_EQ(ev.portfolios.size(), 2u);
  EXPECT_NEAR(ev.portfolios[0].balance, balance(1), 0);
  EXPECT_NEAR(ev.portfolios[0].session_rpl, pnl, 1e-15);
  EXPECT_NEAR(ev.portfolios[1].session_rpl, -pnl, 1e-15);
  // The event order: settlements, then positions, then portfolios.
  const std::size_t settlement = Event(Settlement{}).index();
  const std::size_t position = Event(PositionUpdate{}).index();
  const std::size_t portfolio = Event(PortfolioUpdate{}).index();
  EXPECT_EQ(ev.kinds, (std::vector<std::size_t>{settlement, settlement, position, position,
                                                portfolio, portfolio}));
  // Nothing is left to settle.
  ev.clear();
  EXPECT_EQ(engine.settle_instrument(kPerp, 55000, ++now), 0u);
  EXPECT_TRUE(ev.settlements.empty());
  EXPECT_TRUE(ev.portfolios.empty());
}

TEST_F(SettlementTest, OptionsSettleAtIntrinsicValueInCoin) {
  trade(1, 2, kCall, 500, 20);  // 2 BTC of the 60000 call at 0.05
  trade(3, 4, kPut, 300, 10);   // 1 BTC of the 60000 put at 0.03
  const double b[5] = {0, balance(1), balance(2), balance(3), balance(4)};
  ev.clear();
  EXPECT_EQ(engine.settle_instrument(kCall, 75000, ++now), 2u);
  EXPECT_EQ(engine.settle_instrument(kPut, 75000, ++now), 2u);
  // The call is worth (75000 − 60000)/75000 = 0.2 BTC per BTC: the long gets 0.4, the short
  // pays it; the put expires worthless.
  EXPECT_NEAR(balance(1) - b[1], 0.4, kCoinEps);
  EXPECT_NEAR(balance(2) - b[2], -0.4, kCoinEps);
  EXPECT_EQ(balance(3), b[3]);
  EXPECT_EQ(balance(4), b[4]);
  ASSERT_EQ(ev.settlements.size(), 4u);
  EXPECT_NEAR(ev.settlements[0].mark_price, 0.2, 1e-15);
  EXPECT_NEAR(ev.settlements[0].profit_loss, 0.4 - 0.1, 1e-15);  // value − premium paid
  EXPECT_NEAR(ev.settlements[1].profit_loss, 0.1 - 0.4, 1e-15);
  EXPECT_NEAR(ev.settlements[2].profit_loss, -0.03, 1e-15);  // the put's premium is lost
  EXPECT_NEAR(ev.settlements[3].profit_loss, 0.03, 1e-15);
  EXPECT_EQ(ev.settlements[2].mark_price, 0);
  for (AccountId a = 1; a <= 4; ++a) {
    EXPECT_EQ(size(a, kCall), 0);
    EXPECT_EQ(size(a, kPut), 0);
    // Flat: equity is the balance.
    EXPECT_NEAR(engine.summary(a, Currency::BTC).equity, balance(a), 1e-15);
  }
  EXPECT_NEAR(total_equity(), 4 * kDeposit - total_fees(), 1e-12);
}

TEST_F(SettlementTest, SettlementPriceOfEachKind) {
  const Contract& call = *engine.contract(kCall);
  const Contract& put = *engine.contract(kPut);
  const Contract& perp = *engine.contract(kPerp);
  EXPECT_NEAR(settlement_price(call, 80000), 0.25, 1e-15);
  EXPECT_EQ(settlement_price(call, 50000), 0);
  EXPECT_NEAR(settlement_price(put, 50000), 0.2, 1e-15);
  EXPECT_EQ(settlement_price(put, 60000), 0);
  EXPECT_EQ(settlement_price(perp, 61234.5), 61234.5);
  EXPECT_EQ(settlement_price(call, 0), 0);  // no index: no value (and no division by zero)
}

TEST_F(SettlementTest, EquityIsConservedAcrossSettlementAtAnyMarks) {
  trade(1, 2, kPerp, 130'000, 300);
  trade(3, 1, kPerp, 131'000, 100);
  trade(2, 4, kCall, 420, 15);
  trade(4, 3, kPut, 250, 7);
  engine.set_mark(kPerp, 64000, ++now);
  engine.set_mark(kCall, 0.05, ++now);
  engine.set_mark(kPut, 0.02, ++now);
  const double before = total_equity();
  EXPECT_NEAR(before, 4 * kDeposit - total_fees(), 1e-12);
  for (const InstrumentId i : {kPerp, kCall, kPut}) engine.settle_instrument(i, 58000, ++now);
  EXPECT_NEAR(total_equity(), 4 * kDeposit - total_fees(), 1e-12);
  double session_rpl = 0;
  for (AccountId a = 1; a <= 4; ++a) {
    for (const InstrumentId i : {kPerp, kCall, kPut}) EXPECT_EQ(size(a, i), 0);
    session_rpl += engine.summary(a, Currency::BTC).session_rpl;
  }
  EXPECT_NEAR(session_rpl, 0, 1e-12);  // what one side realised the other lost
}

TEST_F(SettlementTest, FundingIsBookedToLongsAndShorts) {
  trade(1, 2, kPerp, 130'000, 200);  // 2000 USD: 1 long, 2 short
  const double b1 = balance(1), b2 = balance(2);
  engine.accrue_funding(kPerp, 1e-9);  // a long pays 1e-9 BTC per USD
  engine.accrue_funding(kPerp, 2e-9);
  EXPECT_EQ(balance(1), b1);  // accrued, not yet booked
  ev.clear();
  EXPECT_EQ(engine.book_funding(kPerp, ++now), 2u);
  EXPECT_NEAR(balance(1) - b1, -2000 * 3e-9, kCoinEps);
  EXPECT_NEAR(balance(2) - b2, 2000 * 3e-9, kCoinEps);
  const Position& p1 = *engine.account(1)->find(kPerp);
  EXPECT_NEAR(p1.funding, -2000 * 3e-9, 1e-18);
  EXPECT_NEAR(engine.summary(1, Currency::BTC).session_rpl, -2000 * 3e-9, 1e-18);
  ASSERT_EQ(ev.positions.size(), 2u);
  ASSERT_EQ(ev.portfolios.size(), 2u);
  EXPECT_NEAR(ev.portfolios[0].balance, balance(1), 0);
  // Booked once: nothing more until more accrues.
  ev.clear();
  EXPECT_EQ(engine.book_funding(kPerp, ++now), 0u);
  EXPECT_TRUE(ev.portfolios.empty());
  // Negative funding: longs are paid.
  engine.accrue_funding(kPerp, -5e-9);
  EXPECT_EQ(engine.book_funding(kPerp, ++now), 2u);
  EXPECT_NEAR(balance(1) - b1, 2000 * 2e-9, kCoinEps);
  EXPECT_NEAR(balance(2) - b2, -2000 * 2e-9, kCoinEps);
}

TEST_F(SettlementTest, APositionPaysOnlyWhatAccruedWhileItWasOpenAtItsSize) {
  engine.accrue_funding(kPerp, 7e-9);  // before anyone holds a position: nobody pays
  trade(1, 2, kPerp, 130'000, 100);    // 1000 USD
  const double b1 = balance(1), b3 = balance(3);
  engine.accrue_funding(kPerp, 1e-9);
  // 1 doubles its position: the fill books the first 1e-9 at the old size first.
  trade(1, 3, kPerp, 130'000, 100);
  const double fee = 1000.0 / 65000 * 0.0005;  // 1 is the taker
  EXPECT_NEAR(balance(1) - b1, -1000 * 1e-9 - fee, kCoinEps);
  engine.accrue_funding(kPerp, 1e-9);
  engine.book_funding(kPerp, ++now);
  EXPECT_NEAR(balance(1) - b1, -1000 * 1e-9 - 2000 * 1e-9 - fee, kCoinEps);
  EXPECT_NEAR(balance(3) - b3, 1000 * 1e-9, kCoinEps);  // short only for the second accrual
  // Funding is zero-sum once everyone has booked.
  EXPECT_NEAR(total_equity(), 4 * kDeposit - total_fees(), 1e-12);
}

TEST_F(SettlementTest, SettlementBooksTheAccruedFundingFirst) {
  trade(1, 2, kPerp, 100'000, 100);  // 1000 USD at 50000
  engine.accrue_funding(kPerp, 4e-9);
  const double b1 = balance(1);
  engine.settle_instrument(kPerp, 50000, ++now);
  EXPECT_NEAR(balance(1) - b1, -1000 * 4e-9, kCoinEps);  // no PnL at the entry price
  EXPECT_NEAR(engine.account(1)->find(kPerp)->funding, -1000 * 4e-9, 1e-18);
}

}  // namespace
}  // namespace gw::market
