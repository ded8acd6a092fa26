// The simulator's models on their own: random numbers, the index process, the SSVI surface
// (arbitrage-free over a simulated day, by the Gatheral–Jacquier conditions and by the pricing
// library's butterfly and calendar checks), quote rounding and option values.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "market/instrument.hpp"
#include "pricing/arbitrage.hpp"
#include "pricing/deribit.hpp"
#include "pricing/surface.hpp"
#include "sim/index_process.hpp"
#include "sim/market_maker.hpp"
#include "sim/rng.hpp"
#include "sim/surface_model.hpp"

namespace gw::sim {
namespace {

constexpr double kYearsPerMs = 1.0 / pricing::kDeribitMsPerYear;

TEST(Rng, SameSeedSameNumbersAndStreamsDiffer) {
  Rng a(5), b(5), c = Rng::stream(5, 1), d = Rng::stream(5, 2);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(c.next(), d.next());
  // A known value pins the generator (xoshiro256** over splitmix64): a changed generator changes
  // every market a seed names.
  Rng e(1);
  EXPECT_EQ(e.next(), 0xb3f2af6d0fc710c5ull);
}

TEST(Rng, Distributions) {
  Rng r(9);
  constexpr int kN = 200'000;
  double sum = 0, sum2 = 0, exp_sum = 0, pois = 0, lots = 0;
  for (int i = 0; i < kN; ++i) {
    const double z = r.normal();
    sum += z;
    sum2 += z * z;
    exp_sum += r.exponential(4);
    pois += r.poisson(2.5);
    lots += static_cast<double>(r.lots(10));
    const double u = r.uniform();
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
    ASSERT_LT(r.below(7), 7u);
  }
  EXPECT_NEAR(sum / kN, 0, 0.01);
  EXPECT_NEAR(sum2 / kN, 1, 0.01);
  EXPECT_NEAR(exp_sum / kN, 0.25, 0.003);
  EXPECT_NEAR(pois / kN, 2.5, 0.02);
  EXPECT_NEAR(lots / kN, 10, 0.1);
  EXPECT_NEAR(r.poisson(100), 100, 50);  // the normal branch
}

TEST(IndexProcess, MartingaleAndVarianceForBothJumpKinds) {
  for (const IndexParams& params : {default_btc_index(), default_eth_index()}) {
    // 2,000 paths of 30 days in one-hour steps: E[S_T] = S_0 (zero rates, compensated jumps),
    // and the variance of ln S_T is about the expected total variance.
    constexpr int kPaths = 2'000;
    constexpr int kSteps = 30 * 24;
    const double dt = 1.0 / (365 * 24);
    double mean = 0, log_var = 0, log_mean = 0;
    std::vector<double> logs;
    IndexProcess probe(params, Rng(1));
    const double expected_var = probe.expected_total_variance(kSteps * dt);
    for (int p = 0; p < kPaths; ++p) {
      IndexProcess x(params, Rng::stream(77, static_cast<std::uint64_t>(p)));
      for (int s = 0; s < kSteps; ++s) {
        x.step(dt);
        ASSERT_GE(x.variance(), 0);
      }
      mean += x.price() / params.initial_price;
      logs.push_back(std::log(x.price() / params.initial_price));
    }
    mean /= kPaths;
    log_mean = std::accumulate(logs.begin(), logs.end(), 0.0) / kPaths;
    for (double l : logs) log_var += (l - log_mean) * (l - log_mean);
    log_var /= kPaths - 1;
    EXPECT_NEAR(mean, 1.0, 0.01);
    EXPECT_NEAR(log_var, expected_var, 0.25 * expected_var);
    EXPECT_GT(probe.jump_variance_rate(), 0);
  }
}

TEST(SurfaceModel, ThetaIncreasesAndMatchesPricingSsvi) {
  IndexProcess index(default_btc_index(), Rng(3));
  SurfaceModel s(default_btc_surface(), index, Rng(4));
  double last = 0;
  for (double t = 1.0 / 365; t < 2; t *= 1.3) {
    const double theta = s.theta(t);
    EXPECT_GT(theta, last);
    last = theta;
    for (double k : {-1.0, -0.2, 0.0, 0.3, 1.5}) {
      EXPECT_NEAR(s.total_variance(k, t), pricing::ssvi_total_variance(s.ssvi(), theta, k), 1e-15);
    }
    EXPECT_NEAR(s.implied_vol(0, t), std::sqrt(theta / t), 1e-12);
  }
}

// Runs an index process and the surface over one simulated day in the venue's 500 ms steps and
// checks the surface at every simulated minute (conditions) and hour (density and calendar on
// a grid) for option expiries from one day to a year.
TEST(SurfaceModel, ArbitrageFreeOverASimulatedDay) {
  for (bool eth : {false, true}) {
    IndexProcess index(eth ? default_eth_index() : default_btc_index(), Rng(eth ? 5 : 6));
    SurfaceModel s(eth ? default_eth_surface() : default_btc_surface(), index, Rng(eth ? 7 : 8));
    const double step = 500 * kYearsPerMs;
    const std::vector<double> expiries{1 / 365.0,  2 / 365.0,  4 / 365.0,   11 / 365.0,
                                       25 / 365.0, 53 / 365.0, 116 / 365.0, 1.0};
    double rho_lo = 1, rho_hi = -1, theta_lo = 1e9, theta_hi = 0;
    for (int i = 1; i <= 2 * 86'400; ++i) {
      index.step(step);
      s.step(step, index);
      if (i % 120 != 0) continue;  // every simulated minute
      std::vector<double> thetas;
      for (double t : expiries) thetas.push_back(s.theta(t));
      const pricing::SsviConditions c = pricing::check_ssvi_conditions(s.ssvi(), thetas);
      ASSERT_TRUE(c.arbitrage_free()) << "minute " << i / 120;
      ASSERT_TRUE(c.eta_bound);
      rho_lo = std::min(rho_lo, s.ssvi().rho);
      rho_hi = std::max(rho_hi, s.ssvi().rho);
      theta_lo = std::min(theta_lo, thetas[3]);
      theta_hi = std::max(theta_hi, thetas[3]);
      if (i % (120 * 60) != 0) continue;  // every simulated hour: the pricing library's checks
      std::vector<pricing::SsviExpiry> xs;
      for (std::size_t j = 0; j < expiries.size(); ++j) xs.push_back({expiries[j], 1.0, thetas[j]});
      const pricing::VolSurface surface = pricing::VolSurface::from_ssvi(s.ssvi(), xs);
      const pricing::KGrid grid{-2.5, 2.5, 0.005};
      for (std::size_t j = 0; j < expiries.size(); ++j) {
        ASSERT_TRUE(surface.check_butterfly(j, grid).arbitrage_free) << "hour " << i / 7200;
      }
      ASSERT_TRUE(surface.check_calendar(grid).arbitrage_free) << "hour " << i / 7200;
    }
    // The surface drifts: ρ and the level move over the day.
    EXPECT_GT(rho_hi - rho_lo, 0.01);
    EXPECT_GT(theta_hi / theta_lo, 1.01);
  }
}

market::Instrument btc_option() {
  return market::make_instrument(market::option_name(
      market::Currency::BTC, std::chrono::year{2026} / 3 / 27, 100000, market::OptionType::call));
}

TEST(MakeQuote, StraddlesTheFairValueOnTheGrid) {
  const market::Instrument i = btc_option();
  const market::TickGrid grid = market::TickGrid::from(i);
  Rng r(3);
  for (int n = 0; n < 20'000; ++n) {
    const double fair = std::exp(r.uniform(std::log(0.5), std::log(2000.0)));  // in ticks
    const double half = r.uniform(0, 30);
    const Quote q = make_quote(grid, fair, half);
    const double tick = static_cast<double>(grid.tick_at(std::llround(std::max(fair, 1.0))));
    ASSERT_GT(q.ask, 0);
    ASSERT_TRUE(grid.on_tick(q.ask));
    ASSERT_GE(static_cast<double>(q.ask), fair + std::max(half, tick) - 1e-9);
    if (q.bid > 0) {
      ASSERT_TRUE(grid.on_tick(q.bid));
      ASSERT_LE(static_cast<double>(q.bid), fair - std::max(half, tick) + 1e-9);
      // Rounded to the nearest grid point below, not further.
      ASSERT_GT(static_cast<double>(grid.above(q.bid)), fair - std::max(half, tick) - 1e-9);
    } else {
      ASSERT_LT(fair - std::max(half, tick), 1 + 1e-9);
    }
  }
  // Across the 0.005 step (50 ticks of 0.0001): coarser ticks above it.
  // At 52.3 ticks the tick is 5: the half-spread is floored at it; the bid rounds down on the
  // fine grid below 50, the ask up on the coarse one.
  const Quote q = make_quote(grid, 52.3, 0.5);
  EXPECT_EQ(q.bid, 47);
  EXPECT_EQ(q.ask, 60);
  const Quote fine = make_quote(grid, 30.5, 2.2);
  EXPECT_EQ(fine.bid, 28);
  EXPECT_EQ(fine.ask, 33);
  EXPECT_EQ(make_quote(grid, 0.4, 0.1).bid, 0);  // nothing to bid below one tick
  EXPECT_EQ(make_quote(grid, 0.4, 0.1).ask, 2);  // floored at the tick: 0.4 + 1 → 2
}

TEST(OptionValue, MatchesThePricingLibrary) {
  for (pricing::OptionType type : {pricing::OptionType::call, pricing::OptionType::put}) {
    for (double k : {60000.0, 95000.0, 100000.0, 130000.0}) {
      for (double t : {0.5 / 365, 7 / 365.0, 0.5}) {
        const double f = 101000, vol = 0.55;
        const OptionValue v = option_value(type, f, k, t, vol);
        const pricing::DeribitGreeks g = pricing::deribit_greeks(type, f, k, t, vol);
        EXPECT_NEAR(v.price, g.mark_price_coin, 1e-15);
        EXPECT_NEAR(v.vega * f / 100, g.vega, 1e-9 * std::max(1.0, g.vega));
      }
    }
  }
}

}  // namespace
}  // namespace gw::sim
