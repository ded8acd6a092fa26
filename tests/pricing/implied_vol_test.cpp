// Implied volatility: differential test against QuantLib's blackFormulaImpliedStdDev (driven to
// 1e-14), price round trips over the whole domain, typed errors, Black-Scholes wrapper.
#include "pricing/implied_vol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ql/pricingengines/blackformula.hpp>
#include <random>

namespace gw::pricing {
namespace {

QuantLib::Option::Type ql_type(OptionType type) {
  return type == OptionType::call ? QuantLib::Option::Call : QuantLib::Option::Put;
}

double intrinsic(OptionType type, double forward, double strike) {
  return type == OptionType::call ? std::max(forward - strike, 0.0)
                                  : std::max(strike - forward, 0.0);
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
