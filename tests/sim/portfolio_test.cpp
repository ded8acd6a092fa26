// The risk of an account's positions (sim/portfolio.hpp) as the simulator computes it:
//  - option_market() is exactly what the option's ticker publishes (mark IV, forward, Greeks),
//    and nothing for futures;
//  - a user who buys a call of the closest expiry, sells the perpetual and buys the dated
//    future: after each fill the Portfolio event carries the engine's funds and the risk that
//    account_positions() gives at that instant, and that risk is the hand sum over the
//    positions: futures' USD size / mark, options' size × (delta − mark) and size × each
//    Greek; projected_delta_total leaves the call out (it expires first);
//  - flat positions add only their realised PnL; an account that does not exist has none.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "sim/sim_test_util.hpp"

namespace gw::sim {
namespace {

using testing::kStart;
using testing::RecordingSink;
using testing::tiny_config;

constexpr AccountId kUser = 11;

struct Market {
  InstrumentId perpetual = 0;
  const market::Instrument* future = nullptr;  // dated
  const market::Instrument* call = nullptr;    // of the closest expiry, nearest the index
};

Market find_market(const Simulator& sim) {
  Market m;
  const double index = sim.index_price(Currency::BTC);
  for (InstrumentId id : sim.instruments(Currency::BTC)) {
    const market::Instrument* i = sim.registry().find(id);
    if (i->perpetual) {
      m.perpetual = id;
    } else if (i->kind == market::Kind::future) {
      m.future = i;
    } else if (i->option_type == market::OptionType::call &&
               (m.call == nullptr ||
                std::abs(i->strike - index) < std::abs(m.call->strike - index))) {
      m.call = i;
    }
  }
  return m;
}

Lots position(const Simulator& sim, InstrumentId instrument) {
  const market::Account* a = sim.engine().account(kUser);
  const market::Position* p = a != nullptr ? a->find(instrument) : nullptr;
  return p != nullptr ? p->size : 0;
}

// A market order of kUser; returns how much of it filled.
Lots filled(Simulator& sim, InstrumentId instrument, market::Side side, Lots lots) {
  const Lots before = position(sim, instrument);
  market::PlaceOrder p;
  p.account = kUser;
  p.instrument = instrument;
  p.side = side;
  p.type = market::OrderType::market;
  p.amount = lots;
  const market::Result r = sim.place(p);
  EXPECT_TRUE(r.ok()) << market::to_string(r.error);
  const Lots moved = position(sim, instrument) - before;
  return side == market::Side::buy ? moved : -moved;
}

// The last Portfolio event of kUser from `first` on.
std::optional<Portfolio> last_portfolio(const RecordingSink& sink, std::size_t first) {
  std::optional<Portfolio> out;
  for (std::size_t i = first; i < sink.events.size(); ++i) {
    if (const auto* p = std::get_if<Portfolio>(&sink.events[i]); p && p->funds.account == kUser) {
      out = *p;
    }
  }
  return out;
}

void expect_same_risk(const PortfolioRisk& a, const PortfolioRisk& b) {
  EXPECT_EQ(a.delta_total, b.delta_total);
  EXPECT_EQ(a.projected_delta_total, b.projected_delta_total);
  EXPECT_EQ(a.options_delta, b.options_delta);
  EXPECT_EQ(a.options_gamma, b.options_gamma);
  EXPECT_EQ(a.options_vega, b.options_vega);
  EXPECT_EQ(a.options_theta, b.options_theta);
  EXPECT_EQ(a.options_value, b.options_value);
  EXPECT_EQ(a.futures_session_upl, b.futures_session_upl);
  EXPECT_EQ(a.futures_session_rpl, b.futures_session_rpl);
  EXPECT_EQ(a.options_session_upl, b.options_session_upl);
  EXPECT_EQ(a.options_session_rpl, b.options_session_rpl);
  EXPECT_EQ(a.open_futures, b.open_futures);
  EXPECT_EQ(a.open_options, b.open_options);
}

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({std::abs(a), std::abs(b), 1e-300});
}

TEST(SimulatorOptionMarket, IsWhatTheTickerPublishes) {
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(tiny_config(29), sink);
  sim.open();
  sim.run_until(kStart + 3'000);
  int options = 0;
  for (Currency c : {Currency::BTC, Currency::ETH}) {
    for (InstrumentId id : sim.instruments(c)) {
      const std::optional<Ticker> t = sim.ticker(id);
      const std::optional<OptionMarket> m = sim.option_market(id);
      ASSERT_TRUE(t.has_value());
      if (t->kind != market::Kind::option) {
        EXPECT_FALSE(m.has_value());
        continue;
      }
      ++options;
      ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->instrument, id);
      EXPECT_EQ(m->mark_iv, t->mark_iv);
      EXPECT_EQ(m->underlying_price, t->underlying_price);
      EXPECT_EQ(m->greeks.delta, t->greeks.delta);
      EXPECT_EQ(m->greeks.gamma, t->greeks.gamma);
      EXPECT_EQ(m->greeks.vega, t->greeks.vega);
      EXPECT_EQ(m->greeks.theta, t->greeks.theta);
      EXPECT_EQ(m->greeks.rho, t->greeks.rho);
    }
  }
  EXPECT_GT(options, 10);
  EXPECT_FALSE(sim.option_market(999'999).has_value());
}

TEST(SimulatorPortfolio, EventsCarryTheRiskOfTheirInstant) {
  VenueConfig config = tiny_config(31);
  config.publish_sim_accounts = false;
  RecordingSink sink;
  Simulator sim(config, sink);
  sim.open();
  sim.run_until(kStart + 2'000);  // marks published
  ASSERT_TRUE(sim.deposit(kUser, Currency::BTC, 100));
  const Market m = find_market(sim);
  ASSERT_NE(m.perpetual, 0u);
  ASSERT_NE(m.future, nullptr);
  ASSERT_NE(m.call, nullptr);
  ASSERT_EQ(sim.closest_expiry(Currency::BTC), m.call->expiration_ms);
  ASSERT_LT(m.call->expiration_ms, m.future->expiration_ms);

  struct Fill {
    InstrumentId instrument;
    market::Side side;
    Lots lots;
  };
  const Fill fills[] = {{m.call->id, market::Side::buy, 5},      // 0.5 BTC
                        {m.perpetual, market::Side::sell, 300},  // 3,000 USD
                        {m.future->id, market::Side::buy, 50}};  // 500 USD
  std::vector<PositionSnapshot> positions;
  std::vector<OptionMarket> markets;
  for (const Fill& f : fills) {
    const std::size_t first = sink.events.size();
    ASSERT_EQ(filled(sim, f.instrument, f.side, f.lots), f.lots);
    const std::optional<Portfolio> event = last_portfolio(sink, first);
    ASSERT_TRUE(event.has_value());
    // Nothing ran since the event: the same instant, so the same figures exactly.
    const PortfolioRisk now = sim.account_positions(kUser, Currency::BTC, positions, markets);
    expect_same_risk(event->risk, now);
    const market::Summary funds = sim.engine().summary(kUser, Currency::BTC);
    EXPECT_EQ(event->funds.balance, funds.balance);
    EXPECT_EQ(event->funds.equity, funds.equity);
  }

  // The totals by hand, from the rows and the options' markets.
  ASSERT_EQ(markets.size(), 1u);
  const OptionMarket& call = markets.front();
  EXPECT_EQ(call.instrument, m.call->id);
  double delta = 0, projected = 0, value = 0;
  int rows = 0;
  for (const PositionSnapshot& p : positions) {
    const market::Instrument& i = *sim.registry().find(p.instrument);
    ASSERT_GT(p.mark_price, 0) << i.name;
    const double size = i.to_amount(p.size);
    ++rows;
    if (i.kind == market::Kind::future) {
      delta += size / p.mark_price;
      projected += size / p.mark_price;
    } else {
      delta += size * (call.greeks.delta - p.mark_price);
      value += size * p.mark_price;
    }
  }
  EXPECT_EQ(rows, 3);
  const PortfolioRisk risk = sim.account_positions(kUser, Currency::BTC, positions, markets);
  EXPECT_TRUE(close(risk.delta_total, delta)) << risk.delta_total << " " << delta;
  EXPECT_TRUE(close(risk.projected_delta_total, projected)) << risk.projected_delta_total;
  EXPECT_TRUE(close(risk.options_value, value));
  EXPECT_DOUBLE_EQ(risk.options_delta, 0.5 * call.greeks.delta);
  EXPECT_DOUBLE_EQ(risk.options_gamma, 0.5 * call.greeks.gamma);
  EXPECT_DOUBLE_EQ(risk.options_vega, 0.5 * call.greeks.vega);
  EXPECT_DOUBLE_EQ(risk.options_theta, 0.5 * call.greeks.theta);
  EXPECT_GT(risk.options_delta, 0);
  EXPECT_GT(risk.options_gamma, 0);
  EXPECT_GT(risk.options_vega, 0);
  EXPECT_LT(risk.options_theta, 0);
  EXPECT_LT(risk.projected_delta_total, 0);  // short 3,000 USD, long 500 USD
  EXPECT_EQ(risk.open_futures, 2u);
  EXPECT_EQ(risk.open_options, 1u);
}

TEST(SimulatorPortfolio, FlatPositionsKeepTheirRealisedPnlOnly) {
  VenueConfig config = tiny_config(37);
  config.publish_sim_accounts = false;
  RecordingSink sink;
  Simulator sim(config, sink);
  sim.open();
  sim.run_until(kStart + 2'000);
  std::vector<PositionSnapshot> positions;
  std::vector<OptionMarket> markets;
  const PortfolioRisk none = sim.account_positions(kUser, Currency::BTC, positions, markets);
  EXPECT_TRUE(positions.empty());
  EXPECT_EQ(none.delta_total, 0);
  EXPECT_EQ(none.open_futures + none.open_options, 0u);

  ASSERT_TRUE(sim.deposit(kUser, Currency::BTC, 100));
  const Market m = find_market(sim);
  ASSERT_EQ(filled(sim, m.call->id, market::Side::buy, 3), 3);
  ASSERT_EQ(filled(sim, m.call->id, market::Side::sell, 3), 3);  // across the spread: a loss
  const std::size_t first = sink.events.size();
  ASSERT_TRUE(sim.deposit(kUser, Currency::BTC, 1));  // a portfolio event without a fill
  const std::optional<Portfolio> event = last_portfolio(sink, first);
  ASSERT_TRUE(event.has_value());
  const PortfolioRisk risk = sim.account_positions(kUser, Currency::BTC, positions, markets);
  expect_same_risk(event->risk, risk);
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions.front().size, 0);
  EXPECT_TRUE(markets.empty());  // a flat option needs no market
  EXPECT_EQ(risk.open_options, 0u);
  EXPECT_EQ(risk.delta_total, 0);
  EXPECT_EQ(risk.options_delta, 0);
  EXPECT_EQ(risk.options_vega, 0);
  EXPECT_EQ(risk.options_value, 0);
  EXPECT_EQ(risk.options_session_rpl, positions.front().realized_pnl);
  EXPECT_LT(risk.options_session_rpl, 0);
}

}  // namespace
}  // namespace gw::sim
