// Settlement at expiry and perpetual funding in the simulated market (sim::Simulator):
//  - at 08:00 UTC every position in an expiring instrument is settled at the index: a user's
//    long call and short put and a dated future, each with its Settlement record, a flat
//    PositionUpdate and a PortfolioUpdate, the balance moved by exactly what the records say,
//    and every account (the simulated ones too) left flat, so positions still net to zero;
//  - funding accrues at every index step and is booked every simulated minute: a perpetual
//    position's balance moves by −size × the accrued funding per USD, with the sign of the
//    published current_funding, and at the minute boundaries only;
//  - the same seed and the same commands give the same events, settlements and funding included.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/sim_test_util.hpp"

namespace gw::sim {
namespace {

using testing::InvariantChecker;
using testing::kStart;
using testing::RecordingSink;
using testing::small_config;
using testing::tiny_config;

constexpr AccountId kUser = 7;
constexpr TimestampMs kEight = kStart + 23 * 3'600'000;  // Tuesday 08:00 UTC

// Both a daily option expiry and a daily future expire at kEight; the market opens ten seconds
// before.
VenueConfig expiry_config(std::uint64_t seed) {
  VenueConfig config = small_config(seed);
  config.option_expiries = {1, 0, 0, 0};
  config.future_expiries = {1, 0, 0, 0};
  config.start_ms = kEight - 10'000;
  return config;
}

// A sink that keeps every event and checks the stream's invariants.
struct CheckingSink : VenueSink {
  RecordingSink record;
  InvariantChecker check;
  void on_event(const VenueEvent& e) override {
    record.on_event(e);
    check.on_event(e);
  }
};

// The BTC instrument of that kind expiring at kEight; options: the strike nearest
// `moneyness` × the index.
const market::Instrument* expiring(const Simulator& sim, market::Kind kind,
                                   market::OptionType type = market::OptionType::none,
                                   double moneyness = 1) {
  const market::Instrument* best = nullptr;
  const double target = sim.index_price(Currency::BTC) * moneyness;
  for (InstrumentId id : sim.instruments(Currency::BTC)) {
    const market::Instrument* i = sim.registry().find(id);
    if (i->expiration_ms != kEight || i->kind != kind || i->option_type != type) continue;
    if (best == nullptr || std::abs(i->strike - target) < std::abs(best->strike - target)) {
      best = i;
    }
  }
  return best;
}

market::Result market_order(Simulator& sim, InstrumentId instrument, market::Side side, Lots lots) {
  market::PlaceOrder p;
  p.account = kUser;
  p.instrument = instrument;
  p.side = side;
  p.type = market::OrderType::market;
  p.amount = lots;
  return sim.place(p);
}

double balance(const Simulator& sim) {
  return sim.engine().account(kUser)->funds_in(Currency::BTC).balance;
}

TEST(SimulatorSettlement, ExpiringPositionsSettleAtTheIndex) {
  CheckingSink sink;
  Simulator sim(expiry_config(21), sink);
  sim.open();
  ASSERT_TRUE(sim.deposit(kUser, Currency::BTC, 1000));
  const market::Instrument* call = expiring(sim, market::Kind::option, market::OptionType::call);
  // In the money, so that it has a bid seconds before expiry (and is worth something after).
  const market::Instrument* put =
      expiring(sim, market::Kind::option, market::OptionType::put, 1.03);
  const market::Instrument* future = expiring(sim, market::Kind::future);
  ASSERT_NE(call, nullptr);
  ASSERT_NE(put, nullptr);
  ASSERT_NE(future, nullptr);
  ASSERT_TRUE(market_order(sim, call->id, market::Side::buy, 20).ok());     // 2 BTC long
  ASSERT_TRUE(market_order(sim, put->id, market::Side::sell, 10).ok());     // 1 BTC short
  ASSERT_TRUE(market_order(sim, future->id, market::Side::buy, 500).ok());  // 5000 USD long
  sim.run_until(kEight - 1);
  const double before = balance(sim);
  const market::Account& user = *sim.engine().account(kUser);
  ASSERT_NE(user.find(future->id), nullptr);
  ASSERT_NE(user.find(call->id), nullptr);
  ASSERT_NE(user.find(put->id), nullptr);
  ASSERT_EQ(user.find(future->id)->size, 500);
  ASSERT_EQ(user.find(call->id)->size, 20);
  ASSERT_EQ(user.find(put->id)->size, -10);
  const double future_entry = user.find(future->id)->entry;
  const double call_entry = user.find(call->id)->entry;
  const double put_entry = user.find(put->id)->entry;
  const std::size_t first_new = sink.record.events.size();

  sim.run_until(kEight + 5'000);
  sink.check.finish(sim);

  // The delivery price is the index as published at 08:00, the last one before the roll.
  double delivery = 0;
  for (std::size_t i = 0; i < first_new; ++i) {
    const auto* x = std::get_if<market::IndexPrice>(&sink.record.events[i]);
    if (x != nullptr && x->currency == Currency::BTC) delivery = x->price;
  }
  ASSERT_GT(delivery, 0);
  std::map<InstrumentId, market::Settlement> mine;
  std::map<InstrumentId, market::PositionUpdate> positions;
  bool portfolio_after = false;
  double last_portfolio_balance = 0;
  for (std::size_t i = first_new; i < sink.record.events.size(); ++i) {
    const VenueEvent& e = sink.record.events[i];
    if (const auto* s = std::get_if<market::Settlement>(&e); s && s->account == kUser) {
      EXPECT_EQ(s->timestamp, kEight);
      EXPECT_EQ(s->index_price, delivery);
      mine[s->instrument] = *s;
    }
    if (const auto* p = std::get_if<market::PositionUpdate>(&e); p && p->account == kUser) {
      positions[p->instrument] = *p;
    }
    if (const auto* p = std::get_if<Portfolio>(&e); p && p->funds.account == kUser) {
      portfolio_after = portfolio_after || !mine.empty();
      last_portfolio_balance = p->funds.balance;
    }
  }
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_TRUE(portfolio_after);
  EXPECT_EQ(last_portfolio_balance, balance(sim));
  const double call_value = std::max(delivery - call->strike, 0.0) / delivery;
  const double put_value = std::max(put->strike - delivery, 0.0) / delivery;
  EXPECT_EQ(mine[call->id].position, 20);
  EXPECT_NEAR(mine[call->id].mark_price, call_value, 1e-15);
  EXPECT_NEAR(mine[call->id].cash, 2 * call_value, 1e-15);
  EXPECT_NEAR(mine[call->id].profit_loss, 2 * call_value - call_entry, 1e-15);
  EXPECT_EQ(mine[put->id].position, -10);
  EXPECT_NEAR(mine[put->id].cash, -put_value, 1e-15);
  EXPECT_NEAR(mine[put->id].profit_loss, put_entry - put_value, 1e-15);
  const double future_pnl = future_entry - 5000 / delivery;
  EXPECT_EQ(mine[future->id].position, 500);
  EXPECT_EQ(mine[future->id].mark_price, delivery);
  EXPECT_NEAR(mine[future->id].profit_loss, future_pnl, 1e-13);
  // The balance moved by exactly the settlements' cash (nothing else trades for the user).
  EXPECT_NEAR(balance(sim) - before, 2 * call_value - put_value + future_pnl, 1e-12);
  for (const InstrumentId id : {call->id, put->id, future->id}) {
    ASSERT_EQ(positions.count(id), 1u);
    EXPECT_EQ(positions[id].size, 0);
    EXPECT_EQ(sim.engine().account(kUser)->find(id)->size, 0);
  }
  // Every account was settled: positions still net to zero and match the trades.
  EXPECT_GT(sink.check.settlements, 3u);
  EXPECT_EQ(sink.check.unbalanced_instruments, 0u);
  EXPECT_EQ(sink.check.position_mismatch, 0u);
  EXPECT_EQ(sink.check.activity_after_close, 0u);
  for (const auto& [key, size] : sink.check.positions) {
    const market::Instrument* i = sim.registry().find(key.second);
    if (i->expiration_ms == kEight) {
      EXPECT_EQ(size, 0) << i->name << " account " << key.first;
    }
  }
}

TEST(SimulatorSettlement, NothingToSettleForAccountsOfOtherInstruments) {
  RecordingSink sink;
  VenueConfig config = expiry_config(22);
  config.publish_sim_accounts = false;
  Simulator sim(config, sink);
  sim.open();
  sim.run_until(kEight + 2'000);
  // No user holds anything, and the simulated accounts' records are not published.
  for (const VenueEvent& e : sink.events) {
    EXPECT_FALSE(std::holds_alternative<market::Settlement>(e));
  }
}

VenueConfig funding_config(std::uint64_t seed) {
  VenueConfig config = tiny_config(seed);
  // A wide premium, so that funding is outside Deribit's dead band most of the time.
  config.btc.perp_premium_stdev = 0.01;
  return config;
}

TEST(SimulatorFunding, BookedToPerpetualPositionsEveryMinute) {
  RecordingSink sink;
  Simulator sim(funding_config(23), sink);
  sim.open();
  ASSERT_TRUE(sim.deposit(kUser, Currency::BTC, 1000));
  InstrumentId perp = 0;
  for (InstrumentId id : sim.instruments(Currency::BTC)) {
    if (sim.registry().find(id)->perpetual) perp = id;
  }
  ASSERT_NE(perp, 0u);
  ASSERT_TRUE(market_order(sim, perp, market::Side::buy, 10'000).ok());  // 100,000 USD long
  const double after_fill = balance(sim);
  const double accrued_at_fill = sim.engine().contract(perp)->funding;
  const std::size_t first = sink.events.size();
  // kStart is on a minute: three bookings in the next three minutes and a bit.
  sim.run_until(kStart + 3 * 60'000 + 30'000);
  const double accrued = sim.engine().contract(perp)->funding;

  const TimestampMs last_booking = kStart + 3 * 60'000;
  std::vector<TimestampMs> bookings;
  double funding_sum = 0;  // the perpetual's current_funding, sampled by its tickers
  int samples = 0;
  for (std::size_t i = first; i < sink.events.size(); ++i) {
    const VenueEvent& e = sink.events[i];
    if (const auto* p = std::get_if<Portfolio>(&e); p && p->funds.account == kUser) {
      bookings.push_back(p->funds.timestamp);
    }
    if (const auto* t = std::get_if<Ticker>(&e);
        t && t->instrument == perp && t->timestamp <= last_booking) {
      funding_sum += t->current_funding;
      ++samples;
    }
  }
  ASSERT_EQ(bookings.size(), 3u);
  for (std::size_t i = 0; i < bookings.size(); ++i) {
    EXPECT_EQ(bookings[i], kStart + static_cast<TimestampMs>(i + 1) * 60'000);
  }
  // What was booked is what accrued up to the last booking, on 100,000 USD.
  const market::Position& p = *sim.engine().account(kUser)->find(perp);
  const double booked = balance(sim) - after_fill;
  EXPECT_NEAR(booked, p.funding, 1e-12);
  EXPECT_NE(booked, 0);
  EXPECT_NEAR(booked, -100'000 * (p.funding_mark - accrued_at_fill), 1e-12);
  // Longs pay when funding is positive: the booked amount is about −(100,000 USD / index) × the
  // mean current_funding (per 8 h) × 3 minutes / 8 h, with the opposite sign of the funding.
  EXPECT_NE(accrued, accrued_at_fill);
  ASSERT_GT(samples, 150);
  const double index = sim.index_price(Currency::BTC);
  const double expected = -100'000 / index * (funding_sum / samples) * 3.0 / 480;
  EXPECT_LT(booked * funding_sum, 0);
  EXPECT_NEAR(booked, expected, std::abs(expected) * 0.25);
}

std::string digest_with_user(std::uint64_t seed) {
  RecordingSink sink;
  sink.keep = false;
  VenueConfig config = expiry_config(seed);
  config.btc.perp_premium_stdev = 0.01;
  Simulator sim(config, sink);
  sim.open();
  EXPECT_TRUE(sim.deposit(kUser, Currency::BTC, 1000));
  const market::Instrument* call = expiring(sim, market::Kind::option, market::OptionType::call);
  EXPECT_TRUE(market_order(sim, call->id, market::Side::buy, 10).ok());
  for (InstrumentId id : sim.instruments(Currency::BTC)) {
    if (sim.registry().find(id)->perpetual) {
      EXPECT_TRUE(market_order(sim, id, market::Side::sell, 1000).ok());
    }
  }
  for (TimestampMs t = kEight - 10'000; t < kEight + 70'000; t += 250) sim.run_until(t);
  return sink.digest();
}

TEST(SimulatorSettlement, SameSeedSameCommandsSameEvents) {
  EXPECT_EQ(digest_with_user(31), digest_with_user(31));
}

}  // namespace
}  // namespace gw::sim
