// Configuration of the simulated market and of the venue thread, with defaults that give a
// plausible BTC and ETH market (docs/VENUE.md, "Simulated market").
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "market/account.hpp"
#include "market/calendar.hpp"
#include "market/types.hpp"
#include "sim/chain.hpp"
#include "sim/index_process.hpp"
#include "sim/surface_model.hpp"

namespace gw::sim {

// The simulated participants trade through accounts of their own, one per instrument (so that
// the engine's per-account margin work, which walks an account's positions, stays O(1) per
// order). External accounts (the gateway's users) must be below kMakerAccountBase.
inline constexpr market::AccountId kMakerAccountBase = 0x4000'0000u;
inline constexpr market::AccountId kNoiseAccountBase = 0x6000'0000u;
constexpr bool is_sim_account(market::AccountId a) {
  return a >= kMakerAccountBase;
}

struct CurrencyConfig {
  IndexParams index;
  SurfaceParams surface;
  ChainParams chain;
  double basis_rate = 0.06;  // annualised futures basis: F(T) = index·e^{basis·T}
  // The perpetual's premium over the index: an OU process (fraction of the index).
  double perp_premium_stdev = 0.0008;
  double perp_premium_half_life_hours = 2;
  // Market makers' quote sizes (the instrument's amount units: coin for options, USD for
  // futures), jittered ±50% per placement.
  double option_quote_amount = 5;
  double future_quote_amount = 200'000;
  // Noise traders' mean order sizes (geometric), same units.
  double option_order_amount = 1;
  double future_order_amount = 20'000;
};

CurrencyConfig default_currency_config(market::Currency c);

struct MakerParams {
  // Options: half-spread = max(tick, option_half_spread_vol × vega), vega per 1.00 of vol in
  // coin (0.005: half a vol point each side).
  double option_half_spread_vol = 0.005;
  // Futures: half-spread = max(tick, future_half_spread × fair price).
  double future_half_spread = 0.00002;
  // A partly filled quote is topped up once less than this fraction of its size rests.
  double refill_fraction = 0.5;
  double size_jitter = 0.5;
  double deposit = 1e9;  // coin per account: the simulated participants never run out of margin
};

// Cont, Stoikov & Talreja (Operations Research 2010): limit orders at distance i arrive at
// λ(i) = k/i^α per side, market orders at μ per side, each resting order at distance i is
// cancelled at rate θ(i) (per second). Distances count ticks behind the best price of the
// order's own side (1: at the best), see docs/VENUE.md for why not from the opposite best.
struct NoiseParams {
  double k = 1.92;
  double alpha = 0.52;
  double mu = 0.94;
  std::array<double, 10> theta{0.71, 0.81, 0.68, 0.56, 0.47, 0.47, 0.37, 0.30, 0.26, 0.19};
  int depth = 5;               // limit orders at distances 1..depth
  double future_scale = 1.0;   // rate multiplier for futures and perpetuals
  double option_scale = 0.25;  // for options (thinner books than futures)
  // How the activity of a kind spreads over its instruments (weights, mean 1 per currency and
  // kind): the perpetual counts this many dated futures; an option weighs
  // (floor + e^{−d²/2}) / (1 + expiry_decay·T), d = ln(K/F)/(σ_ATM·√T), so the flow concentrates
  // near the money and in short expiries.
  double perpetual_weight = 3;
  double option_weight_floor = 0.05;
  double option_expiry_decay = 4;
  std::uint32_t accounts_per_instrument = 4;
};

// How many trades the venue keeps for the trade queries (trade_history.hpp): the last N of
// each instrument (until it expires) and of each external account.
struct TradeHistoryLimits {
  std::size_t future_trades = 10'000;  // per future or perpetual
  std::size_t option_trades = 1'000;   // per option: there are hundreds of them
  std::size_t account_trades = 10'000;
  // Closed (filled, cancelled, rejected) orders kept per account for private/get_order_state.
  std::size_t account_closed_orders = 1'000;
  // Settlements (deliveries at expiry) kept per account for private/get_settlement_history_*.
  std::size_t account_settlements = 1'000;
};

// Where the venue's market comes from: the simulator (the default), or an outside feed that
// the venue mirrors (sim/mirror.hpp: relay and replay push FeedInputs through Venue::feed).
enum class MarketSource : std::uint8_t { simulator, mirror };

struct VenueConfig {
  MarketSource source = MarketSource::simulator;
  std::uint64_t seed = 1;
  // Simulated time at the start (unix ms); 0: the wall clock when the venue starts.
  market::TimestampMs start_ms = 0;
  // Simulated seconds per wall-clock second; 0 runs unthrottled (as fast as the core allows).
  double speed = 1.0;
  std::vector<market::Currency> currencies{market::Currency::BTC, market::Currency::ETH};
  // About 6–8 option expiries and 20–40 strikes per expiry.
  market::ExpiryCounts option_expiries{2, 2, 3, 3};
  market::ExpiryCounts future_expiries = market::kFutureExpiries;
  market::StrikeParams strikes{};
  CurrencyConfig btc = default_currency_config(market::Currency::BTC);
  CurrencyConfig eth = default_currency_config(market::Currency::ETH);
  MakerParams maker;
  NoiseParams noise;
  market::MarginParams margin;

  // Cadences in simulated time.
  market::TimestampMs index_interval_ms = 500;    // index step, surface drift, requotes
  market::TimestampMs ticker_interval_ms = 1000;  // tickers and mark prices
  market::TimestampMs surface_interval_ms = 10'000;
  market::TimestampMs roll_interval_ms = 60'000;  // listing and expiry (aligned to the minute)
  // Perpetual funding accrues at every index step and is booked to the accounts this often
  // (aligned like the rolls); 0: never booked (it is still booked when positions trade).
  market::TimestampMs funding_interval_ms = 60'000;
  double chain_speedup = 1;  // blocks arrive this many times faster than on the real chains

  // Publish the order, position and portfolio events of the simulated participants too (tests);
  // by default only those of external accounts are published.
  bool publish_sim_accounts = false;

  TradeHistoryLimits trade_history;

  // Venue thread.
  std::size_t queue_capacity = 1 << 16;    // events per consumer queue
  std::size_t command_capacity = 1 << 12;  // pending commands
  // A full consumer queue: wait at most this long for room, then drop for that consumer (it
  // gets a StreamGap when there is room again) instead of stalling the market.
  std::chrono::microseconds full_queue_wait{20'000};

  const CurrencyConfig& currency(market::Currency c) const {
    return c == market::Currency::BTC ? btc : eth;
  }
};

}  // namespace gw::sim
