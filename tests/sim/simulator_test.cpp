// The simulated market as a whole (sim::Simulator, single-threaded):
//  - determinism: the same seed gives a byte-identical event stream (SHA-256 of the canonical
//    serialisation), however run_until() chunks time; another seed gives another stream;
//  - invariants over a long unthrottled run with market makers and noise traders: books never
//    crossed after matching and replaying the changes gives the engine's books; prev_change_id
//    chains unbroken; quantity conserved (each order's trades add up to its filled amount);
//    positions net to zero per instrument and match the trades; every order has exactly one
//    terminal event and nothing after it, and open orders are exactly the engine's;
//  - quotes consistent: for each option ticker bid ≤ mark ≤ ask, bid_iv ≤ mark_iv ≤ ask_iv,
//    the IVs reprice their prices through the pricing library, Greeks at the mark IV, and
//    put–call parity of the marks within the spreads; the makers straddle the model;
//  - listing and expiry across 08:00 UTC.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "pricing/deribit.hpp"
#include "sim/sim_test_util.hpp"

namespace gw::sim {
namespace {

using testing::InvariantChecker;
using testing::kStart;
using testing::RecordingSink;
using testing::small_config;
using testing::tiny_config;

pricing::OptionType type_of(const market::Instrument& i) {
  return i.option_type == market::OptionType::put ? pricing::OptionType::put
                                                  : pricing::OptionType::call;
}

std::string run_digest(const VenueConfig& config, TimestampMs duration_ms, TimestampMs chunk_ms,
                       std::uint64_t* events = nullptr) {
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(config, sink);
  sim.open();
  for (TimestampMs t = kStart; t < kStart + duration_ms; t += chunk_ms) sim.run_until(t);
  sim.run_until(kStart + duration_ms);
  if (events != nullptr) *events = sink.count;
  return sink.digest();
}

TEST(SimulatorDeterminism, SameSeedSameBytes) {
  std::uint64_t n1 = 0, n2 = 0;
  const std::string a = run_digest(tiny_config(7), 8'000, 100, &n1);
  const std::string b = run_digest(tiny_config(7), 8'000, 100, &n2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(n1, n2);
  EXPECT_GT(n1, 10'000u);
}

TEST(SimulatorDeterminism, ChunkingDoesNotMatter) {
  const std::string a = run_digest(tiny_config(7), 5'000, 100);
  const std::string b = run_digest(tiny_config(7), 5'000, 7);
  EXPECT_EQ(a, b);
  // step() one task at a time gives the same stream too.
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(tiny_config(7), sink);
  sim.open();
  while (sim.next_event_ms() <= kStart + 5'000) ASSERT_TRUE(sim.step());
  sim.run_until(kStart + 5'000);
  EXPECT_EQ(sink.digest(), a);
}

TEST(SimulatorDeterminism, DifferentSeedsDiffer) {
  EXPECT_NE(run_digest(tiny_config(7), 5'000, 100), run_digest(small_config(8), 5'000, 100));
}

TEST(SimulatorInvariants, LongUnthrottledRun) {
  // Few instruments (one option expiry and one future per currency) with busy noise traders:
  // a run that is long in events (some 250,000) but short in simulated time.
  VenueConfig config = tiny_config(11);
  config.noise.option_scale = 3.0;
  config.noise.future_scale = 5.0;
  InvariantChecker check;
  Simulator sim(config, check);
  sim.open();
  sim.run_until(kStart + 12'000);
  check.finish(sim);

  EXPECT_GT(check.book_changes, 50'000u);
  EXPECT_GT(check.trades, 3'000u);
  EXPECT_GT(check.terminal_events, 30'000u);
  EXPECT_EQ(check.broken_chains, 0u);
  EXPECT_EQ(check.crossed, 0u);
  EXPECT_EQ(check.bad_level_actions, 0u);
  EXPECT_EQ(check.filled_mismatch, 0u);
  EXPECT_EQ(check.multiple_terminals, 0u);
  EXPECT_EQ(check.lost_orders, 0u);
  EXPECT_EQ(check.zombie_orders, 0u);
  EXPECT_EQ(check.unbalanced_instruments, 0u);
  EXPECT_EQ(check.position_mismatch, 0u);
  EXPECT_EQ(check.book_mismatch, 0u);
  EXPECT_EQ(check.bad_trades, 0u);
  // The engine's counters agree with what was published.
  EXPECT_EQ(sim.counters().book_changes, check.book_changes);
  EXPECT_EQ(sim.counters().trades, check.trades);
  // The noise traders' book-keeping matches the engine's resting orders.
  std::size_t noise_open = 0;
  for (const auto& [id, s] : check.orders) {
    if (s.terminal == 0) {
      const auto o = sim.engine().order(id);
      ASSERT_TRUE(o.has_value());
      noise_open += o->account >= kNoiseAccountBase;
    }
  }
  EXPECT_EQ(noise_open, sim.noise_traders().resting());
}

// Every option's ticker, taken at one instant.
std::vector<Ticker> option_tickers(const Simulator& sim) {
  std::vector<Ticker> out;
  for (Currency c : market::kCurrencies) {
    for (InstrumentId id : sim.instruments(c)) {
      if (sim.registry().find(id)->kind != market::Kind::option) continue;
      const auto t = sim.ticker(id);
      if (t) out.push_back(*t);
    }
  }
  return out;
}

TEST(SimulatorQuotes, TickersAreConsistent) {
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(small_config(3), sink);
  sim.open();
  sim.run_until(kStart + 10'000);
  const std::vector<Ticker> tickers = option_tickers(sim);
  ASSERT_GT(tickers.size(), 300u);
  int both_sides = 0, round_trips = 0;
  for (const Ticker& t : tickers) {
    const market::Instrument& i = *sim.registry().find(t.instrument);
    const double years = pricing::deribit_years_to_expiry(t.timestamp, i.expiration_ms);
    const double f = t.underlying_price;
    ASSERT_GT(f, 0);
    EXPECT_NEAR(f, sim.forward(i.currency, i.expiration_ms), 1e-9 * f);
    const double bid = i.to_price(t.best_bid_price);
    const double ask = i.to_price(t.best_ask_price);
    SCOPED_TRACE(i.name);
    if (t.best_bid_price > 0) {
      EXPECT_LE(bid, t.mark_price);
    }
    if (t.best_ask_price > 0) {
      EXPECT_LE(t.mark_price, ask);
    }
    if (t.best_bid_price > 0 && t.best_ask_price > 0) {
      ++both_sides;
      EXPECT_LT(t.best_bid_price, t.best_ask_price);
      if (t.bid_iv > 0) {
        EXPECT_LE(t.bid_iv, t.mark_iv + 1e-9);
      }
      EXPECT_LE(t.mark_iv, t.ask_iv + 1e-9);
    }
    // IV round trips through the pricing library: each IV reprices its coin price.
    const auto coin = [&](double iv_percent) {
      return pricing::black76_price(type_of(i), f, i.strike, years, iv_percent / 100) / f;
    };
    const double intrinsic =
        std::max(i.option_type == market::OptionType::call ? f - i.strike : i.strike - f, 0.0) / f;
    if (t.mark_price > intrinsic + 1e-12) {
      EXPECT_NEAR(coin(t.mark_iv), t.mark_price, 1e-10);
      ++round_trips;
    }
    if (t.bid_iv > 0) {
      EXPECT_NEAR(coin(t.bid_iv), bid, 1e-10);
    }
    if (t.ask_iv > 0) {
      EXPECT_NEAR(coin(t.ask_iv), ask, 1e-10);
    }
    // Greeks in Deribit's units at the mark IV.
    const pricing::DeribitGreeks g =
        pricing::deribit_greeks(type_of(i), f, i.strike, years, t.mark_iv / 100);
    EXPECT_DOUBLE_EQ(t.greeks.delta, g.delta);
    EXPECT_DOUBLE_EQ(t.greeks.vega, g.vega);
    EXPECT_DOUBLE_EQ(t.greeks.theta, g.theta);
    EXPECT_DOUBLE_EQ(t.index_price, sim.index_price(i.currency));
  }
  EXPECT_GT(both_sides, 200);
  EXPECT_GT(round_trips, 300);

  // Put–call parity of the marks: C − P = (F − K)/F in coin at r = 0, within the spreads.
  std::map<std::pair<TimestampMs, double>, std::pair<const Ticker*, const Ticker*>> pairs;
  for (const Ticker& t : tickers) {
    const market::Instrument& i = *sim.registry().find(t.instrument);
    auto& p = pairs[{i.expiration_ms, i.strike}];
    (i.option_type == market::OptionType::call ? p.first : p.second) = &t;
  }
  int checked = 0;
  for (const auto& [key, p] : pairs) {
    if (p.first == nullptr || p.second == nullptr) continue;
    const Ticker& c = *p.first;
    const Ticker& q = *p.second;
    if (c.best_bid_price == 0 || c.best_ask_price == 0 || q.best_bid_price == 0 ||
        q.best_ask_price == 0) {
      continue;
    }
    const market::Instrument& ci = *sim.registry().find(c.instrument);
    const double spread = ci.to_price(c.best_ask_price - c.best_bid_price) +
                          ci.to_price(q.best_ask_price - q.best_bid_price);
    const double f = c.underlying_price;
    EXPECT_NEAR(c.mark_price - q.mark_price, (f - key.second) / f, spread) << ci.name;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(SimulatorQuotes, MakersStraddleTheModel) {
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(small_config(5), sink);
  sim.open();
  sim.run_until(kStart + 5'000);  // an index step: every quote is on the current model
  int quoted = 0;
  for (Currency c : market::kCurrencies) {
    for (InstrumentId id : sim.instruments(c)) {
      const market::Instrument& i = *sim.registry().find(id);
      if (i.perpetual) continue;
      const MarketMaker::Book* m = sim.maker_book(id);
      ASSERT_NE(m, nullptr);
      // The model price, recomputed here from the forward and the surface.
      const double f = sim.forward(c, i.expiration_ms);
      double fair = f;
      if (i.kind == market::Kind::option) {
        const double years = pricing::deribit_years_to_expiry(sim.now_ms(), i.expiration_ms);
        const double vol = sim.surface(c).implied_vol(std::log(i.strike / f), years);
        fair = option_value(type_of(i), f, i.strike, years, vol).price;
      }
      SCOPED_TRACE(i.name);
      if (m->bid.id != 0) {
        EXPECT_LT(i.to_price(m->bid.price), fair);
      }
      if (m->ask.id != 0) {
        EXPECT_GT(i.to_price(m->ask.price), fair);
      }
      quoted += m->bid.id != 0 && m->ask.id != 0;
    }
  }
  EXPECT_GT(quoted, 200);  // far out-of-the-money options have no bid
}

TEST(SimulatorListing, ExpiryAtEightUtc) {
  VenueConfig config = small_config(9);
  config.option_expiries = {1, 0, 0, 0};               // the next daily only
  config.start_ms = kStart + 23 * 3'600'000 - 10'000;  // Tuesday 07:59:50 UTC
  InvariantChecker check;
  Simulator sim(config, check);
  sim.open();
  // The daily expiring today at 08:00 is listed.
  const TimestampMs eight = kStart + 23 * 3'600'000;
  std::vector<InstrumentId> expiring;
  for (Currency c : market::kCurrencies) {
    for (InstrumentId id : sim.instruments(c)) {
      if (sim.registry().find(id)->expiration_ms == eight) expiring.push_back(id);
    }
  }
  ASSERT_FALSE(expiring.empty());
  sim.run_until(eight - 1);
  for (InstrumentId id : expiring) EXPECT_TRUE(sim.active(id));
  sim.run_until(eight + 10'000);
  check.finish(sim);
  for (InstrumentId id : expiring) {
    EXPECT_FALSE(sim.active(id));
    EXPECT_EQ(check.closed.count(id), 1u);
    // Nothing of the simulator rests on an expired book.
    const market::Book* b = sim.engine().book(id);
    EXPECT_EQ(b->order_count(), 0u);
  }
  EXPECT_EQ(check.activity_after_close, 0u);
  EXPECT_EQ(check.broken_chains, 0u);
  EXPECT_EQ(check.crossed, 0u);
  EXPECT_EQ(check.multiple_terminals, 0u);
  EXPECT_EQ(check.lost_orders, 0u);
  // The next daily was listed in its place, and is quoted.
  int next_daily = 0;
  for (InstrumentId id : sim.instruments(Currency::BTC)) {
    const market::Instrument& i = *sim.registry().find(id);
    if (i.kind == market::Kind::option && i.expiration_ms == eight + 86'400'000) {
      ++next_daily;
      EXPECT_NE(sim.maker_book(id)->ask.id, 0u) << i.name;
    }
  }
  EXPECT_GE(next_daily, 40);
}

TEST(SimulatorEvents, StreamHasEveryKind) {
  VenueConfig config = tiny_config(13);
  config.chain_speedup = 200;  // a BTC block every 3 s
  RecordingSink sink;
  Simulator sim(config, sink);
  sim.open();
  sim.run_until(kStart + 15'000);
  std::map<std::string_view, int> kinds;
  for (const VenueEvent& e : sink.events) ++kinds[event_name(e)];
  for (const char* k : {"listed", "book", "trade", "order", "position", "portfolio", "index",
                        "mark", "ticker", "block", "surface"}) {
    EXPECT_GT(kinds[k], 0) << k;
  }
  // Index prices arrive every index interval per currency.
  EXPECT_NEAR(kinds["index"], 2 * 15'000 / 500, 2);
}

TEST(SimulatorEvents, SimulatedAccountsAreNotPublishedByDefault) {
  VenueConfig config = tiny_config(13);
  config.publish_sim_accounts = false;
  RecordingSink sink;
  Simulator sim(config, sink);
  sim.open();
  sim.run_until(kStart + 3'000);
  for (const VenueEvent& e : sink.events) {
    EXPECT_FALSE(std::holds_alternative<OwnedOrderUpdate>(e));
    EXPECT_FALSE(std::holds_alternative<market::PositionUpdate>(e));
    EXPECT_FALSE(std::holds_alternative<Portfolio>(e));
  }
  // A user's are.
  ASSERT_TRUE(sim.deposit(7, Currency::BTC, 10));
  market::PlaceOrder p;
  p.account = 7;
  p.instrument = sim.instruments(Currency::BTC).front();
  p.side = market::Side::buy;
  p.price = 2;
  p.amount = 1;
  const market::Result r = sim.place(p);
  ASSERT_TRUE(r.ok()) << market::to_string(r.error);
  const auto* last = std::get_if<OwnedOrderUpdate>(&sink.events.back());
  bool seen = false;
  for (const VenueEvent& e : sink.events) {
    if (const auto* o = std::get_if<OwnedOrderUpdate>(&e)) seen = seen || o->order.account == 7;
  }
  EXPECT_TRUE(seen);
  (void)last;
  // The simulated participants' accounts are not for commands.
  p.account = kMakerAccountBase + 1;
  EXPECT_EQ(sim.place(p).error, market::Error::invalid_arguments);
}

}  // namespace
}  // namespace gw::sim
