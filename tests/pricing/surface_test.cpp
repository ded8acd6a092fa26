#include "pricing/surface.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pricing/black.hpp"
#include "pricing/svi_test_data.hpp"

namespace gw::pricing {
namespace {

// Two skewed (ρ < 0), calendar-free slices: the far one has more variance at every k.
VolSurface two_slices() {
  return VolSurface::from_svi({
      {1.0, 105.0, {0.08, 0.35, -0.35, 0.05, 0.25}},
      {0.25, 101.0, {0.02, 0.25, -0.4, 0.02, 0.15}},
  });
}

TEST(Surface, SortsSlicesAndInterpolatesForwards) {
  const VolSurface s = two_slices();
  ASSERT_EQ(s.expiries().size(), 2u);
  EXPECT_DOUBLE_EQ(s.expiries()[0], 0.25);
  EXPECT_DOUBLE_EQ(s.forward(0.1), 101.0);  // flat outside
  EXPECT_DOUBLE_EQ(s.forward(3.0), 105.0);
  EXPECT_NEAR(s.forward(0.625), std::sqrt(101.0 * 105.0), 1e-12);  // log-linear: midpoint
  EXPECT_TRUE(s.check_calendar().arbitrage_free);
  EXPECT_TRUE(s.check_butterfly(0).arbitrage_free);
  EXPECT_TRUE(s.check_butterfly(1).arbitrage_free);
}

TEST(Surface, AtmVolAndStrikeQueriesOnSlices) {
  const VolSurface s = two_slices();
  const SviParams near = {0.02, 0.25, -0.4, 0.02, 0.15};
  EXPECT_DOUBLE_EQ(s.atm_vol(0.25), svi_implied_vol(near, 0.0, 0.25));
  EXPECT_DOUBLE_EQ(s.implied_vol(90.0, 0.25), svi_implied_vol(near, std::log(90.0 / 101.0), 0.25));
  const auto term = s.atm_term_structure();
  ASSERT_EQ(term.size(), 2u);
  EXPECT_DOUBLE_EQ(term[0].years, 0.25);
  EXPECT_DOUBLE_EQ(term[1].atm_vol, s.atm_vol(1.0));
}

TEST(Surface, InterpolationIsLinearAndMonotoneInTotalVariance) {
  const VolSurface s = two_slices();
  for (double k = -2; k <= 2; k += 0.1) {
    const double w0 = s.total_variance(k, 0.25), w1 = s.total_variance(k, 1.0);
    EXPECT_NEAR(s.total_variance(k, 0.625), 0.5 * (w0 + w1), 1e-14);
    double prev = 0;
    for (double t = 0.01; t <= 3; t += 0.01) {
      const double w = s.total_variance(k, t);
      EXPECT_GE(w, prev) << "k=" << k << " T=" << t;
      prev = w;
    }
  }
}

TEST(Surface, FlatVolExtrapolation) {
  const VolSurface s = two_slices();
  for (double k : {-1.0, 0.0, 0.4}) {
    EXPECT_NEAR(s.implied_vol_k(k, 0.05), s.implied_vol_k(k, 0.25), 1e-15);
    EXPECT_NEAR(s.implied_vol_k(k, 5.0), s.implied_vol_k(k, 1.0), 1e-15);
  }
}

TEST(Surface, DeltaStrikesMatchTheTargetDelta) {
  const VolSurface s = two_slices();
  for (double t : {0.1, 0.25, 0.5, 1.0, 2.0}) {
    for (double d : {0.10, 0.25, 0.5}) {
      for (OptionType type : {OptionType::call, OptionType::put}) {
        const double target = type == OptionType::call ? d : -d;
        const DeltaStrike q = s.strike_at_delta(type, target, t);
        ASSERT_TRUE(q.ok) << t << " " << target;
        const double f = s.forward(t);
        EXPECT_NEAR(q.strike, f * std::exp(q.k), 1e-9 * q.strike);
        EXPECT_DOUBLE_EQ(q.vol, s.implied_vol(q.strike, t));
        EXPECT_NEAR(black_forward_delta(type, f, q.strike, q.vol * std::sqrt(t)), target, 1e-8)
            << t << " " << target;
        // Calls with smaller delta are further out of the money, puts further in.
        if (d < 0.5) {
          EXPECT_EQ(q.strike > f, type == OptionType::call);
        }
      }
    }
  }
  EXPECT_FALSE(s.strike_at_delta(OptionType::call, 1.2, 1.0).ok);
  EXPECT_FALSE(s.strike_at_delta(OptionType::put, 0.25, 1.0).ok);
}

TEST(Surface, RiskReversalAndButterflySigns) {
  const VolSurface s = two_slices();
  for (double t : {0.25, 1.0}) {
    const SmileSummary m = s.smile_summary(t);
    EXPECT_LT(m.rr25, 0) << t;  // negative skew: puts over calls
    EXPECT_GT(m.bf25, 0) << t;  // convex smile
    EXPECT_LT(m.rr10, m.rr25) << t;
    EXPECT_GT(m.bf10, m.bf25) << t;
    EXPECT_DOUBLE_EQ(m.rr25, s.risk_reversal(0.25, t));
    EXPECT_DOUBLE_EQ(m.bf25, s.butterfly(0.25, t));
    EXPECT_DOUBLE_EQ(m.atm, s.atm_vol(t));
  }
  // A positive skew flips the risk reversal.
  const VolSurface up = VolSurface::from_svi({{0.5, 1.0, {0.02, 0.3, 0.5, 0.0, 0.2}}});
  EXPECT_GT(up.risk_reversal(0.25, 0.5), 0);
}

TEST(Surface, IvGrid) {
  const VolSurface s = two_slices();
  const std::vector<double> strikes = {80, 100, 120};
  const std::vector<double> years = {0.25, 0.5, 1.0};
  const auto grid = s.iv_grid(strikes, years);
  ASSERT_EQ(grid.size(), 3u);
  for (std::size_t i = 0; i < years.size(); ++i) {
    ASSERT_EQ(grid[i].size(), 3u);
    for (std::size_t j = 0; j < strikes.size(); ++j) {
      EXPECT_DOUBLE_EQ(grid[i][j], s.implied_vol(strikes[j], years[i]));
    }
  }
}

TEST(Surface, CalendarViolationBetweenSlices) {
  const VolSurface s = VolSurface::from_svi({
      {0.5, 100.0, {0.02, 0.1, 0.0, 0.0, 0.1}},
      {1.0, 100.0, {0.03, 0.05, 0.0, 0.0, 0.1}},
  });
  const CalendarReport r = s.check_calendar();
  ASSERT_EQ(r.violations.size(), 2u);
  EXPECT_NEAR(r.violations[1].k_lo, std::sqrt(0.03), 1e-3);
}

TEST(Surface, SsviSurface) {
  const SsviParams p = {-0.3, 1.0, 0.45};
  const VolSurface s =
      VolSurface::from_ssvi(p, {{0.1, 100, 0.04}, {0.5, 101, 0.12}, {1, 102, 0.2}});
  EXPECT_NEAR(s.atm_vol(0.5), std::sqrt(0.12 / 0.5), 1e-14);
  EXPECT_NEAR(s.total_variance(0.0, 0.75), 0.16, 1e-14);  // θ interpolated linearly in T
  EXPECT_NEAR(s.total_variance(0.3, 0.75), ssvi_total_variance(p, 0.16, 0.3), 1e-14);
  EXPECT_TRUE(s.check_calendar().arbitrage_free);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(s.check_butterfly(i).arbitrage_free);
  const SmileSummary m = s.smile_summary(0.75);
  EXPECT_LT(m.rr25, 0);
  EXPECT_GT(m.bf25, 0);
  const DeltaStrike q = s.strike_at_delta(OptionType::put, -0.25, 0.75);
  ASSERT_TRUE(q.ok);
  EXPECT_NEAR(
      black_forward_delta(OptionType::put, s.forward(0.75), q.strike, q.vol * std::sqrt(0.75)),
      -0.25, 1e-8);
}

TEST(Surface, EmptyAndInvalidInputs) {
  const VolSurface empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.implied_vol(100, 1), 0);
  EXPECT_FALSE(empty.strike_at_delta(OptionType::call, 0.25, 1).ok);
  const VolSurface dropped = VolSurface::from_svi({{-1, 100, {}}, {1, 0, {}}});
  EXPECT_TRUE(dropped.empty());
}

}  // namespace
}  // namespace gw::pricing
