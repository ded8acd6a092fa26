// Implied volatility: differential test against QuantLib's blackFormulaImpliedStdDev (driven to
// 1e-14), price round trips over the whole domain (random, a dense grid, deep out of the money,
// one-hour expiries, both the tabulated and Jäckel's initial guesses), the tables themselves,
// typed errors, Black-Scholes wrapper.
#include "pricing/implied_vol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ql/pricingengines/blackformula.hpp>
#include <random>

#include "pricing/implied_vol_tables.hpp"

namespace gw::pricing {
namespace {

QuantLib::Option::Type ql_type(OptionType type) {
  return type == OptionType::call ? QuantLib::Option::Call : QuantLib::Option::Put;
}

double intrinsic(OptionType type, double forward, double strike) {
  return type == OptionType::call ? std::max(forward - strike, 0.0)
                                  : std::max(strike - forward, 0.0);
}

// Prices an option, solves for its vol and prices it again. Returns the relative price error,
// or −1 where the out-of-the-money leg underflows (time value < 1e-300·√(FK)): there the price
// is the intrinsic value and the solver must return exactly 0; or where the price rounds to its
// maximum (F for a call, K for a put), which no finite vol reproduces.
double price_round_trip_error(OptionType type, double forward, double strike, double years,
                              double vol) {
  const double price = black76_price(type, forward, strike, years, vol);
  if (price >= (type == OptionType::call ? forward : strike)) return -1;
  const IvResult r = implied_vol_black76(type, price, forward, strike, years);
  EXPECT_TRUE(r.ok()) << to_string(r.error);
  if (price - intrinsic(type, forward, strike) < 1e-300 * std::sqrt(forward * strike)) {
    if (price == intrinsic(type, forward, strike)) {
      EXPECT_EQ(r.vol, 0.0);
    }
    return -1;
  }
  const double back = black76_price(type, forward, strike, years, r.vol);
  return std::fabs(back - price) / price;
}

// Moderate domain where QuantLib's Newton converges: |ln(F/K)| ≤ 1, T ∈ [1 day, 3 y],
// σ ∈ [5 %, 200 %], out-of-the-money options (in-the-money ones reduce to them by parity, and
// their time value would limit QuantLib's accuracy, not ours).
TEST(ImpliedVol, MatchesQuantLibOnRandomInputs) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int compared = 0;
  int strict = 0;  // agreeing to 1e-10 relative without the allowance for QuantLib's noise
  for (int i = 0; i < 10'000; ++i) {
    const double forward = 50 + 100 * u(rng);
    const double x = -1 + 2 * u(rng);
    const double strike = forward * std::exp(-x);
    const OptionType type = x < 0 ? OptionType::call : OptionType::put;
    const double years = std::exp(std::log(1 / 365.0) + u(rng) * std::log(3 * 365.0));
    const double vol = 0.05 + 1.95 * u(rng);
    const double rate = 0.05 * u(rng);
    const double df = std::exp(-rate * years);
    const double price = black76_price(type, forward, strike, years, vol, rate);
    // Prices below 1e-12·F carry no usable information for a 1e-14 Newton in QuantLib.
    if (price < 1e-12 * forward) continue;
    const IvResult ours = implied_vol_black76(type, price, forward, strike, years, rate);
    ASSERT_TRUE(ours.ok()) << to_string(ours.error);
    const double ql_sd = QuantLib::blackFormulaImpliedStdDev(
        ql_type(type), strike, forward, price, df, 0.0, vol * std::sqrt(years) * 1.2, 1e-14, 1000);
    const double ql_vol = ql_sd / std::sqrt(years);
    // QuantLib's N(z) = ½(1 + erf(z/√2)) has absolute (not relative) error ~1e-17 for z < 0,
    // so its out-of-the-money prices carry ~1e-15·F of noise and its σ is only determined to
    // 1e-15·F/vega: compare to 1e-10 relative plus that.
    const double vega = black76_greeks(type, forward, strike, years, vol, rate).vega;
    EXPECT_NEAR(ours.vol, ql_vol, 1e-10 * vol + 1e-14 * forward / vega) << "case " << i;
    if (std::fabs(ours.vol - ql_vol) <= 1e-10 * vol) ++strict;
    EXPECT_NEAR(ours.vol, vol, 1e-10 * vol) << "case " << i;
    ++compared;
  }
  EXPECT_GT(compared, 8'000);
  EXPECT_GT(strict, compared * 9 / 10);
  std::printf("[ info ] %d of %d agree with QuantLib to 1e-10 relative\n", strict, compared);
}

// The full domain: |ln(F/K)| ≤ 3, T from one hour to 3 years, σ from 1 % to 500 %, calls and
// puts in and out of the money. Acceptance:
//  - price round trip: |P(σ̂) − P| ≤ 1e-12·P wherever the out-of-the-money leg is representable
//    (time value ≥ 1e-300·√(FK)); where it underflows the price equals the intrinsic value and
//    the solver must return exactly 0 (no vol can be told apart);
//  - vol round trip: |σ̂ − σ| ≤ 1e-10·σ wherever the problem is conditioned for it, i.e. the
//    relative price change for a relative vol change, σ·vega/P, exceeds 1e-4 (otherwise the
//    price simply does not determine σ to 1e-10: a deep in-the-money option whose time value is
//    below the rounding of its intrinsic value).
TEST(ImpliedVol, RoundTripOverTheWholeDomain) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double log_t0 = std::log(1.0 / (365.0 * 24.0));
  const double log_t1 = std::log(3.0);
  double worst_price = 0;
  double worst_vol = 0;
  int representable = 0;
  for (int i = 0; i < 100'000; ++i) {
    const double forward = 100;
    const double x = -3 + 6 * u(rng);
    const double strike = forward * std::exp(-x);
    const OptionType type = u(rng) < 0.5 ? OptionType::call : OptionType::put;
    const double years = std::exp(log_t0 + (log_t1 - log_t0) * u(rng));
    const double vol = std::exp(std::log(0.01) + std::log(500.0) * u(rng));
    const double price = black76_price(type, forward, strike, years, vol);
    const double time_value = price - intrinsic(type, forward, strike);
    const IvResult r = implied_vol_black76(type, price, forward, strike, years);
    ASSERT_TRUE(r.ok()) << i;
    if (time_value < 1e-300 * std::sqrt(forward * strike)) {
      if (time_value == 0) {
        EXPECT_EQ(r.vol, 0.0) << i;
      }
      continue;
    }
    ++representable;
    const double back = black76_price(type, forward, strike, years, r.vol);
    const double price_error = std::fabs(back - price) / price;
    worst_price = std::max(worst_price, price_error);
    EXPECT_LE(price_error, 1e-12) << "x=" << x << " T=" << years << " vol=" << vol;
    const double elasticity = vol * black76_greeks(type, forward, strike, years, vol).vega / price;
    if (elasticity > 1e-4) {
      const double vol_error = std::fabs(r.vol - vol) / vol;
      worst_vol = std::max(worst_vol, vol_error);
      EXPECT_LE(vol_error, 1e-10) << "x=" << x << " T=" << years << " vol=" << vol;
    }
  }
  EXPECT_GT(representable, 30'000);
  std::printf("[ worst ] price round trip %.3g, vol round trip %.3g over %d representable\n",
              worst_price, worst_vol, representable);
}

// Hand-picked corners: one-hour expiries, deep wings, extreme vols.
TEST(ImpliedVol, Corners) {
  const double hour = 1.0 / (365.0 * 24.0);
  struct Case {
    double x, years, vol;
  };
  const Case cases[] = {{-0.5, hour, 5.0},    {0.5, hour, 5.0}, {-0.003, hour, 0.01},
                        {-0.001, hour, 0.01}, {0, hour, 0.01},  {0, 3, 5.0},
                        {-3, 3, 0.01 * 20},   {-3, 3, 5.0},     {3, 3, 5.0},
                        {-1e-12, 1, 0.2},     {-0.3, 1, 0.01},  {-2.9, 0.5, 0.35}};
  for (const Case& c : cases) {
    for (OptionType type : {OptionType::call, OptionType::put}) {
      const double forward = 100;
      const double strike = forward * std::exp(-c.x);
      const double price = black76_price(type, forward, strike, c.years, c.vol);
      const IvResult r = implied_vol_black76(type, price, forward, strike, c.years);
      ASSERT_TRUE(r.ok());
      const double back = black76_price(type, forward, strike, c.years, r.vol);
      EXPECT_NEAR(back / price, 1.0, 1e-12) << c.x << " " << c.years << " " << c.vol;
      // Out of the money the vol itself is recovered.
      if ((type == OptionType::call) == (c.x <= 0)) {
        EXPECT_NEAR(r.vol / c.vol, 1.0, 1e-10) << c.x << " " << c.years << " " << c.vol;
      }
    }
  }
}

// Out of the money the vol is recovered to near machine precision (well beyond the 1e-10 of
// the round-trip tests) over the benchmark's domain: |ln(F/K)| ≤ 1, T from 1 day to 2 years,
// σ from 10 % to 150 %.
TEST(ImpliedVol, OutOfTheMoneyNearMachinePrecision) {
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst = 0;
  for (int i = 0; i < 20'000; ++i) {
    const double forward = 100;
    const double x = -1 + 2 * u(rng);
    const double strike = forward * std::exp(-x);
    const OptionType type = x < 0 ? OptionType::call : OptionType::put;
    const double years = std::exp(std::log(1 / 365.0) + u(rng) * std::log(730.0));
    const double vol = 0.1 + 1.4 * u(rng);
    const double price = black76_price(type, forward, strike, years, vol);
    if (price < 1e-10 * forward) continue;
    const IvResult r = implied_vol_black76(type, price, forward, strike, years);
    ASSERT_TRUE(r.ok());
    worst = std::max(worst, std::fabs(r.vol - vol) / vol);
    EXPECT_NEAR(r.vol / vol, 1.0, 1e-13) << "x=" << x << " T=" << years << " vol=" << vol;
  }
  std::printf("[ worst ] out-of-the-money vol round trip %.3g\n", worst);
}

// Prices straddling the split between the branches below and above the inflection point
// s_c = √(2|x|) (where the solver switches objective and bracket).
TEST(ImpliedVol, AroundTheInflectionPoint) {
  for (const double x : {-1e-4, -0.01, -0.3, -1.0, -2.5}) {
    const double s_c = std::sqrt(-2.0 * x);
    for (const double offset : {-1e-3, -1e-6, -1e-9, -1e-12, 0.0, 1e-12, 1e-9, 1e-6, 1e-3}) {
      const double vol = s_c * (1.0 + offset);  // T = 1: s = σ
      const double forward = 100;
      const double strike = forward * std::exp(-x);
      const double price = black76_price(OptionType::call, forward, strike, 1.0, vol);
      const IvResult r = implied_vol_black76(OptionType::call, price, forward, strike, 1.0);
      ASSERT_TRUE(r.ok());
      EXPECT_NEAR(r.vol / vol, 1.0, 1e-13) << "x=" << x << " offset=" << offset;
    }
  }
}

// A dense grid over the domain: |ln(F/K)| ≤ 3 in steps of 1/8, T from one hour to three
// years, σ from 1 % to 500 %, calls and puts.
TEST(ImpliedVol, DenseGridRoundTrip) {
  const double hour = 1.0 / (365.0 * 24.0);
  const double expiries[] = {hour, 6 * hour, 24 * hour, 7 / 365.0, 30 / 365.0, 0.25, 1.0, 3.0};
  const double vols[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0};
  double worst = 0;
  int checked = 0;
  for (int k = -24; k <= 24; ++k) {
    const double forward = 100;
    const double strike = forward * std::exp(-k / 8.0);
    for (const double years : expiries) {
      for (const double vol : vols) {
        for (const OptionType type : {OptionType::call, OptionType::put}) {
          const double error = price_round_trip_error(type, forward, strike, years, vol);
          if (error < 0) continue;
          ++checked;
          worst = std::max(worst, error);
          EXPECT_LE(error, 1e-12) << "x=" << k / 8.0 << " T=" << years << " vol=" << vol;
        }
      }
    }
  }
  EXPECT_GT(checked, 4'500);
  std::printf("[ worst ] dense grid: price round trip %.3g over %d options\n", worst, checked);
}

// Deep out of the money and one-hour expiries: prices from 1e-300 of the forward up, where the
// lowest branch's tables and its log-price objective do the work.
TEST(ImpliedVol, DeepOutOfTheMoneyAndOneHourExpiries) {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double hour = 1.0 / (365.0 * 24.0);
  double worst = 0;
  int checked = 0;
  for (int i = 0; i < 50'000; ++i) {
    const double forward = 100;
    const double x = (i % 2 == 0 ? -1 : 1) * 3 * u(rng);
    const double strike = forward * std::exp(-x);
    const double years = i % 3 == 0 ? hour : hour * std::exp(u(rng) * std::log(24.0 * 30));
    const double vol = std::exp(std::log(0.01) + std::log(500.0) * u(rng));
    const OptionType type = x < 0 ? OptionType::call : OptionType::put;  // out of the money
    const double error = price_round_trip_error(type, forward, strike, years, vol);
    if (error < 0) continue;
    ++checked;
    worst = std::max(worst, error);
    EXPECT_LE(error, 1e-12) << "x=" << x << " T=" << years << " vol=" << vol;
  }
  EXPECT_GT(checked, 10'000);
  std::printf("[ worst ] deep OTM / short expiries: price round trip %.3g over %d\n", worst,
              checked);
}

// Outside the tables (|x| < 0.0113, |x| > 4.5, and the highest branch, β > b_u) the solver uses
// Jäckel's initial guesses and takes up to two steps.
TEST(ImpliedVol, JaeckelGuessesOutsideTheTables) {
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst = 0;
  for (int i = 0; i < 30'000; ++i) {
    const double forward = 100;
    double x;
    switch (i % 3) {
      case 0:
        x = -0.0113 * u(rng);
        break;
      case 1:
        x = -4.5 - 25.5 * u(rng);
        break;
      default:
        x = -3 * u(rng);
    }
    const double strike = forward * std::exp(-x);
    // Up to s = σ√T = 12 (the highest branch, prices near the forward; beyond, b_max − b falls
    // below the rounding of b_max and the price is at its maximum).
    const double s = std::exp(std::log(1e-4) + std::log(1.2e5) * u(rng));
    const double error = price_round_trip_error(OptionType::call, forward, strike, 1.0, s);
    if (error < 0) continue;
    worst = std::max(worst, error);
    EXPECT_LE(error, 1e-12) << "x=" << x << " s=" << s;
  }
  std::printf("[ worst ] Jäckel's guesses: price round trip %.3g\n", worst);
}

// The tables hold converged roots: solving at a node's coordinates reproduces the node.
TEST(ImpliedVolTables, NodesAreConvergedRoots) {
  using namespace iv_detail;
  double worst = 0;
  for (int i = 0; i < kLowestNc; ++i) {
    const double root_c = kRootC0 + i * kLowestRootCStep;
    const double c = root_c * root_c;
    const double x = -0.5 * c * c;
    for (int j = 1; j < kLowestNv; ++j) {
      const double v = static_cast<double>(j) / (kLowestNv - 1);
      const double lambda = 2.0 / v;
      const double beta = std::exp(0.5 * x - 0.5 * lambda * lambda);
      if (beta < 1e-290) continue;  // those nodes were solved in log space
      const double strike = std::exp(-x);
      const IvResult r =
          implied_vol_black76(OptionType::call, beta * std::sqrt(strike), 1.0, strike, 1.0);
      ASSERT_TRUE(r.ok());
      const double node = std::log(*lowest_branch_ratio(root_c, v));
      const double error = std::fabs(std::log(r.vol * lambda / -x) - node);
      worst = std::max(worst, error);
      EXPECT_LE(error, 1e-12) << "lowest node " << i << "," << j;
    }
  }
  for (int i = 0; i < kMiddleNc; ++i) {
    const double root_c = kRootC0 + i * kMiddleRootCStep;
    const double c = root_c * root_c;
    const double x = -0.5 * c * c;
    for (int j = 0; j < kMiddleNw; ++j) {
      const double w = kMiddleW0 + j * kMiddleWStep;
      const double beta = std::exp(0.5 * x) / (1.0 + std::exp(-w));
      const double strike = std::exp(-x);
      const IvResult r =
          implied_vol_black76(OptionType::call, beta * std::sqrt(strike), 1.0, strike, 1.0);
      ASSERT_TRUE(r.ok());
      const double error = std::fabs(std::log(r.vol) - *middle_branch_ln_s(root_c, w));
      worst = std::max(worst, error);
      EXPECT_LE(error, 1e-12) << "middle node " << i << "," << j;
    }
  }
  std::printf("[ worst ] table nodes vs solver: %.3g\n", worst);
}

// The branch bounds b_l/b_max and b_u/b_max at the bound table's nodes, against black.cpp's b:
// with Mills' ratio M(z) = √(π/2)·erfcx(z/√2), s_l = s_c − (M(0) − M(s_c)) and
// s_u = s_l + √(2π) (the tangent of b at s_c reaches 0 at s_l and b_max at s_u).
TEST(ImpliedVolTables, BranchBoundsMatchBlack) {
  using namespace iv_detail;
  const double sqrt_pi_over_2 = std::sqrt(std::acos(-1.0) / 2);
  for (int i = 0; i < kBoundNc; ++i) {
    const double c = kBoundC0 + i * kBoundCStep;
    const double x = -0.5 * c * c;
    const double b_max = std::exp(0.5 * x);
    const double d = sqrt_pi_over_2 * (1.0 - erfcx(c / std::sqrt(2.0)));
    const double s_l = c - d;
    const double s_u = s_l + std::sqrt(2 * std::acos(-1.0));
    const auto bounds = branch_bounds(c);
    ASSERT_TRUE(bounds.has_value());
    EXPECT_NEAR(bounds->p_l, normalised_black_otm(x, s_l) / b_max, 1e-12 * bounds->p_l) << i;
    EXPECT_NEAR(bounds->p_u, normalised_black_otm(x, s_u) / b_max, 1e-12) << i;
  }
  EXPECT_FALSE(branch_bounds(0.1).has_value());
  EXPECT_FALSE(branch_bounds(3.5).has_value());
}

// The tabulated guesses are within 2e-4 (lowest branch) and 5e-5 (middle) of the root, which is
// what lets one fifth-order step reach rounding (error ~(2e-4)⁵).
TEST(ImpliedVolTables, GuessesWithinOneStepOfTheRoot) {
  using namespace iv_detail;
  std::mt19937_64 rng(29);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst_lowest = 0;
  double worst_middle = 0;
  for (int i = 0; i < 20'000; ++i) {
    const double c = 0.15 + 2.85 * u(rng);
    const double x = -0.5 * c * c;
    const double b_max = std::exp(0.5 * x);
    const auto bounds = branch_bounds(c);
    ASSERT_TRUE(bounds.has_value());
    const double s = c * (0.02 + 2.5 * u(rng));
    const double beta = normalised_black_otm(x, s);
    const double p = beta / b_max;
    if (!(beta > 1e-300)) continue;
    if (p < bounds->p_l) {
      const double lambda = std::sqrt(-2.0 * std::log(p));
      const auto ratio = lowest_branch_ratio(std::sqrt(c), 2.0 / lambda);
      ASSERT_TRUE(ratio.has_value()) << c << " " << s;
      worst_lowest = std::max(worst_lowest, std::fabs(*ratio * -x / lambda / s - 1));
    } else if (p <= bounds->p_u) {
      const auto ln_s = middle_branch_ln_s(std::sqrt(c), std::log(beta / (b_max - beta)));
      ASSERT_TRUE(ln_s.has_value()) << c << " " << s;
      worst_middle = std::max(worst_middle, std::fabs(std::exp(*ln_s) / s - 1));
    }
  }
  EXPECT_LE(worst_lowest, 2e-4);
  EXPECT_LE(worst_middle, 5e-5);
  std::printf("[ worst ] tabulated guesses: lowest %.3g, middle %.3g\n", worst_lowest,
              worst_middle);
}

TEST(ImpliedVolTables, MillsRatio) {
  using namespace iv_detail;
  const double sqrt_pi_over_2 = std::sqrt(std::acos(-1.0) / 2);
  double worst = 0;
  for (double z = -1.0; z < 200.0; z += 0.0137) {
    const double reference = sqrt_pi_over_2 * erfcx(z / std::sqrt(2.0));
    worst = std::max(worst, std::fabs(mills_ratio(z) / reference - 1));
  }
  EXPECT_LE(worst, 3e-15);
  // Differences for tiny t: M(a − t) − M(a + t) ≈ −2t·M'(a) = 2t·(1 − a·M(a)).
  for (const double a : {0.0, 0.5, 3.0, 20.0}) {
    const double t = 1e-9;
    const double reference = 2 * t * (1 - a * sqrt_pi_over_2 * erfcx(a / std::sqrt(2.0)));
    EXPECT_NEAR(mills_ratio_difference(a, t) / reference, 1.0, 1e-6 + 1e-13 * a * a) << a;
  }
}

TEST(ImpliedVol, TypedErrors) {
  const auto call = OptionType::call;
  const auto put = OptionType::put;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(implied_vol_black76(call, 1, -100, 100, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, 0, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, 100, 0).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, 100, -1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, -1, 100, 100, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, nan, 100, 100, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, inf, 100, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, 100, 1, nan).error, IvError::bad_input);
  // Below intrinsic (discounted): call F=120, K=100, r=5%, T=1 → intrinsic 20·e^{−0.05}.
  const double df = std::exp(-0.05);
  EXPECT_EQ(implied_vol_black76(call, 20 * df - 1e-9, 120, 100, 1, 0.05).error,
            IvError::below_intrinsic);
  EXPECT_EQ(implied_vol_black76(put, 19.999, 80, 100, 1).error, IvError::below_intrinsic);
  // Exactly intrinsic → σ = 0, including a worthless out-of-the-money option.
  const IvResult at = implied_vol_black76(call, 20 * df, 120, 100, 1, 0.05);
  EXPECT_TRUE(at.ok());
  EXPECT_EQ(at.vol, 0.0);
  EXPECT_EQ(implied_vol_black76(put, 0, 120, 100, 1).vol, 0.0);
  EXPECT_TRUE(implied_vol_black76(put, 0, 120, 100, 1).ok());
  // At or above the maximum: call ≥ DF·F, put ≥ DF·K.
  EXPECT_EQ(implied_vol_black76(call, 120 * df, 120, 100, 1, 0.05).error, IvError::above_maximum);
  EXPECT_EQ(implied_vol_black76(call, 200, 120, 100, 1).error, IvError::above_maximum);
  EXPECT_EQ(implied_vol_black76(put, 100, 120, 100, 1).error, IvError::above_maximum);
  EXPECT_TRUE(implied_vol_black76(put, 99.999, 120, 100, 1).ok());
  // Discounted bounds for puts, and non-finite inputs.
  EXPECT_EQ(implied_vol_black76(put, 100 * df, 80, 100, 1, 0.05).error, IvError::above_maximum);
  EXPECT_EQ(implied_vol_black76(put, 20 * df - 1e-9, 80, 100, 1, 0.05).error,
            IvError::below_intrinsic);
  EXPECT_TRUE(implied_vol_black76(put, 20 * df + 1e-3, 80, 100, 1, 0.05).ok());
  EXPECT_EQ(implied_vol_black76(call, inf, 100, 100, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, nan, 1).error, IvError::bad_input);
  EXPECT_EQ(implied_vol_black76(call, 1, 100, 100, nan).error, IvError::bad_input);
  EXPECT_EQ(to_string(IvError::below_intrinsic), "price below intrinsic value");
  EXPECT_EQ(implied_vol_black_scholes(call, 1, 0, 100, 1).error, IvError::bad_input);
}

TEST(ImpliedVol, BlackScholesWrapper) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 2'000; ++i) {
    const double spot = 100;
    const double strike = spot * std::exp(-0.5 + u(rng));
    const double years = 0.05 + 2 * u(rng);
    const double vol = 0.1 + u(rng);
    const double rate = 0.06 * u(rng);
    const double dividend = 0.03 * u(rng);
    // The out-of-the-money side (in the money, σ is only as good as the time value allows).
    const double forward = spot * std::exp((rate - dividend) * years);
    for (OptionType type : {forward < strike ? OptionType::call : OptionType::put}) {
      const double price = black_scholes_price(type, spot, strike, years, vol, rate, dividend);
      const IvResult r =
          implied_vol_black_scholes(type, price, spot, strike, years, rate, dividend);
      ASSERT_TRUE(r.ok());
      EXPECT_NEAR(r.vol, vol, 1e-10 * vol);
    }
  }
}

}  // namespace
}  // namespace gw::pricing
