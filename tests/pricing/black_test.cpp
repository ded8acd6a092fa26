// Black-76 / Black-Scholes-Merton prices and Greeks: differential tests against QuantLib 1.29
// (blackFormula, BlackCalculator) on seeded random inputs, finite differences for vanna and
// volga (QuantLib has neither), tail accuracy against 60-digit references, and the degenerate
// cases T = 0 and σ = 0.
#include "pricing/black.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <ql/pricingengines/blackcalculator.hpp>
#include <ql/pricingengines/blackformula.hpp>
#include <random>

namespace gw::pricing {
namespace {

QuantLib::Option::Type ql_type(OptionType type) {
  return type == OptionType::call ? QuantLib::Option::Call : QuantLib::Option::Put;
}

// |a − b| ≤ rel·max(|a|, |b|) + abs.
::testing::AssertionResult Near(const char* what, double a, double b, double rel, double abs) {
  const double tol = rel * std::max(std::fabs(a), std::fabs(b)) + abs;
  if (std::isfinite(a) && std::isfinite(b) && std::fabs(a - b) <= tol) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << what << ": " << a << " vs " << b << " (diff "
                                       << std::fabs(a - b) << ", tol " << tol << ")";
}

struct Inputs {
  OptionType type;
  double forward, strike, years, vol, rate, dividend;
};

Inputs random_inputs(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Inputs in;
  in.type = u(rng) < 0.5 ? OptionType::call : OptionType::put;
  in.forward = 50.0 + 100.0 * u(rng);
  in.strike = in.forward * std::exp(-1.0 + 2.0 * u(rng));  // |ln(F/K)| ≤ 1
  in.years = std::exp(std::log(1.0 / 365.0) + u(rng) * std::log(3.0 * 365.0));
  in.vol = 0.05 + 1.95 * u(rng);
  in.rate = -0.02 + 0.12 * u(rng);
  in.dividend = 0.05 * u(rng);
  return in;
}

constexpr int kRandomCases = 10'000;
constexpr double kRel = 1e-10;

TEST(Black76, MatchesQuantLibOnRandomInputs) {
  std::mt19937_64 rng(20260101);
  for (int i = 0; i < kRandomCases; ++i) {
    const Inputs in = random_inputs(rng);
    const double sd = in.vol * std::sqrt(in.years);
    const double df = std::exp(-in.rate * in.years);
    const Greeks g = black76_greeks(in.type, in.forward, in.strike, in.years, in.vol, in.rate);
    // The forward as "spot" with q = r makes BlackCalculator's spot Greeks the forward Greeks.
    const QuantLib::BlackCalculator ql(ql_type(in.type), in.strike, in.forward, sd, df);
    const double abs = 1e-13 * in.forward;
    SCOPED_TRACE(::testing::Message() << "case " << i << " F=" << in.forward << " K=" << in.strike
                                      << " T=" << in.years << " vol=" << in.vol);
    EXPECT_TRUE(Near("price", g.price, ql.value(), kRel, abs));
    EXPECT_TRUE(Near("price fn",
                     black76_price(in.type, in.forward, in.strike, in.years, in.vol, in.rate),
                     g.price, 1e-15, 0));
    EXPECT_TRUE(Near("delta", g.delta, ql.deltaForward(), kRel, 1e-14));
    EXPECT_TRUE(Near("gamma", g.gamma, ql.gammaForward(), kRel, 1e-14 / in.forward));
    EXPECT_TRUE(Near("vega", g.vega, ql.vega(in.years), kRel, abs));
    EXPECT_TRUE(Near(
        "vega (stddev derivative)", g.vega,
        QuantLib::blackFormulaStdDevDerivative(in.strike, in.forward, sd, df) * std::sqrt(in.years),
        kRel, abs));
    EXPECT_TRUE(Near("theta", g.theta, ql.theta(in.forward, in.years), kRel, abs));
    EXPECT_TRUE(Near("rho", g.rho, -in.years * ql.value(), kRel, abs));
  }
}

TEST(BlackScholes, MatchesQuantLibOnRandomInputs) {
  std::mt19937_64 rng(20260102);
  for (int i = 0; i < kRandomCases; ++i) {
    const Inputs in = random_inputs(rng);
    const double spot = in.forward;
    const double sd = in.vol * std::sqrt(in.years);
    const double df = std::exp(-in.rate * in.years);
    const double forward = spot * std::exp((in.rate - in.dividend) * in.years);
    const Greeks g =
        black_scholes_greeks(in.type, spot, in.strike, in.years, in.vol, in.rate, in.dividend);
    const QuantLib::BlackCalculator ql(ql_type(in.type), in.strike, forward, sd, df);
    const double abs = 1e-13 * spot;
    SCOPED_TRACE(::testing::Message() << "case " << i);
    EXPECT_TRUE(Near("price", g.price, ql.value(), kRel, abs));
    EXPECT_TRUE(
        Near("price fn",
             black_scholes_price(in.type, spot, in.strike, in.years, in.vol, in.rate, in.dividend),
             g.price, 1e-15, 0));
    EXPECT_TRUE(Near("delta", g.delta, ql.delta(spot), kRel, 1e-14));
    EXPECT_TRUE(Near("gamma", g.gamma, ql.gamma(spot), kRel, 1e-14 / spot));
    EXPECT_TRUE(Near("vega", g.vega, ql.vega(in.years), kRel, abs));
    EXPECT_TRUE(Near("theta", g.theta, ql.theta(spot, in.years), kRel, abs));
    EXPECT_TRUE(Near("rho", g.rho, ql.rho(in.years), kRel, abs));
  }
}

// Vanna = ∂delta/∂σ = ∂vega/∂S and volga = ∂vega/∂σ by central differences of our own analytic
// first-order Greeks (step 1e-5·σ: truncation ~1e-10, rounding ~1e-11).
TEST(Black, VannaVolgaMatchFiniteDifferences) {
  std::mt19937_64 rng(20260103);
  for (int i = 0; i < 2'000; ++i) {
    const Inputs in = random_inputs(rng);
    // Steps scaled by s = σ√T: the Greeks vary on the scale of s in ln S and ln σ.
    const double s = in.vol * std::sqrt(in.years);
    const double hv = 1e-5 * in.vol * std::min(1.0, s);
    const double hs = 1e-5 * in.forward * std::min(1.0, s);
    auto bs = [&](double spot, double vol) {
      return black_scholes_greeks(in.type, spot, in.strike, in.years, vol, in.rate, in.dividend);
    };
    const Greeks g = bs(in.forward, in.vol);
    const Greeks up = bs(in.forward, in.vol + hv);
    const Greeks down = bs(in.forward, in.vol - hv);
    const double scale = in.forward * std::sqrt(in.years);
    EXPECT_TRUE(Near("vanna dσ", g.vanna, (up.delta - down.delta) / (2 * hv), 1e-6, 1e-8));
    EXPECT_TRUE(
        Near("vanna dS", g.vanna,
             (bs(in.forward + hs, in.vol).vega - bs(in.forward - hs, in.vol).vega) / (2 * hs), 1e-6,
             1e-8));
    EXPECT_TRUE(Near("volga", g.volga, (up.vega - down.vega) / (2 * hv), 1e-6, 1e-8 * scale));
    const Greeks b = black76_greeks(in.type, in.forward, in.strike, in.years, in.vol, in.rate);
    const Greeks bu =
        black76_greeks(in.type, in.forward, in.strike, in.years, in.vol + hv, in.rate);
    const Greeks bd =
        black76_greeks(in.type, in.forward, in.strike, in.years, in.vol - hv, in.rate);
    EXPECT_TRUE(Near("b76 vanna", b.vanna, (bu.delta - bd.delta) / (2 * hv), 1e-6, 1e-8));
    EXPECT_TRUE(Near("b76 volga", b.volga, (bu.vega - bd.vega) / (2 * hv), 1e-6, 1e-8 * scale));
  }
}

TEST(Black, PutCallParity) {
  std::mt19937_64 rng(20260104);
  for (int i = 0; i < kRandomCases; ++i) {
    const Inputs in = random_inputs(rng);
    const double df = std::exp(-in.rate * in.years);
    const double c =
        black76_price(OptionType::call, in.forward, in.strike, in.years, in.vol, in.rate);
    const double p =
        black76_price(OptionType::put, in.forward, in.strike, in.years, in.vol, in.rate);
    EXPECT_NEAR(c - p, df * (in.forward - in.strike), 1e-13 * in.forward);
    const double cs = black_scholes_price(OptionType::call, in.forward, in.strike, in.years, in.vol,
                                          in.rate, in.dividend);
    const double ps = black_scholes_price(OptionType::put, in.forward, in.strike, in.years, in.vol,
                                          in.rate, in.dividend);
    EXPECT_NEAR(cs - ps, in.forward * std::exp(-in.dividend * in.years) - in.strike * df,
                1e-13 * in.forward);
    const Greeks gc = black_scholes_greeks(OptionType::call, in.forward, in.strike, in.years,
                                           in.vol, in.rate, in.dividend);
    const Greeks gp = black_scholes_greeks(OptionType::put, in.forward, in.strike, in.years, in.vol,
                                           in.rate, in.dividend);
    EXPECT_NEAR(gc.delta - gp.delta, std::exp(-in.dividend * in.years), 1e-14);
    EXPECT_NEAR(gc.gamma, gp.gamma, 1e-15 * std::max(1.0, gc.gamma));
    EXPECT_NEAR(gc.vega, gp.vega, 1e-13 * in.forward);
  }
}

// Relative accuracy in the tails, against 60-digit mpmath values of F·N(d1) − K·N(d2) at the
// same double inputs. QuantLib itself loses these (1 − N cancellation), so fixed references.
TEST(Black, TailAccuracyAgainstHighPrecision) {
  struct Case {
    OptionType type;
    double forward, strike, years, vol, expected;
  };
  const Case cases[] = {
      {OptionType::call, 100, 300, 1, 0.2, 1.1685827631371398183e-7},
      {OptionType::call, 1, 1.3498588075760032, 1, 0.01, 1.8960395679385847094e-201},  // h = −30
      {OptionType::call, 1, 1.0050125208594010, 0.00023131, 0.015, 9.2892652567255665303e-112},
      {OptionType::put, 100, 50, 0.5, 0.3, 0.0021479746440457537081},
      {OptionType::put, 100, 1.0e-3, 1, 5, 0.00049993345666457415613},
      {OptionType::call, 100, 100, 0.000114155, 0.01, 0.0042624326987498498803},
  };
  for (const Case& c : cases) {
    const double price = black76_price(c.type, c.forward, c.strike, c.years, c.vol);
    // The inputs' own rounding (s = σ·√T to 1 ulp) moves the price by up to h²·1e-16 relative
    // (h = ln(F/K)/s): 1e-13 at h = −30.
    EXPECT_NEAR(price / c.expected - 1.0, 0.0, 2e-13) << c.strike;
  }
}

TEST(Black, NormalCdfTails) {
  EXPECT_DOUBLE_EQ(norm_cdf(0), 0.5);
  EXPECT_NEAR(norm_cdf(-10) / 7.6198530241605260660e-24 - 1, 0, 2e-15);
  EXPECT_NEAR(norm_cdf(-37) / 5.7255712225245768227e-300 - 1, 0, 2e-15);
  EXPECT_EQ(norm_cdf(40), 1.0);
  // erfcx against e^{z²}·erfc(z) where both are representable, and its asymptotics beyond.
  for (double z = 0; z < 26; z += 0.37) {
    EXPECT_NEAR(erfcx(z) / (std::exp(z * z) * std::erfc(z)), 1.0, 2e-13) << z;
  }
  EXPECT_NEAR(erfcx(30) * 30 * std::sqrt(std::numbers::pi), 0.99944536780830648771,
              1e-15);  // mpmath
  EXPECT_NEAR(erfcx(-1), 2 * std::exp(1.0) - erfcx(1), 1e-15);
}

TEST(Black, ZeroTimeAndZeroVolGiveIntrinsic) {
  for (double years : {0.0, 1.0}) {
    for (double vol : {0.0, 0.3}) {
      if (years > 0 && vol > 0) continue;
      for (double strike : {80.0, 100.0, 120.0}) {
        for (OptionType type : {OptionType::call, OptionType::put}) {
          const Greeks g = black76_greeks(type, 100, strike, years, vol, 0.05);
          const double df = std::exp(-0.05 * years);
          const double intrinsic =
              type == OptionType::call ? std::max(100 - strike, 0.0) : std::max(strike - 100, 0.0);
          EXPECT_DOUBLE_EQ(g.price, df * intrinsic);
          for (double v : {g.delta, g.gamma, g.vega, g.theta, g.rho, g.vanna, g.volga}) {
            EXPECT_TRUE(std::isfinite(v));
          }
          EXPECT_EQ(g.gamma, 0);
          const double call_delta = strike < 100 ? 1.0 : (strike > 100 ? 0.0 : 0.5);
          EXPECT_DOUBLE_EQ(g.delta, df * (type == OptionType::call ? call_delta : call_delta - 1));
          const Greeks s = black_scholes_greeks(type, 100, strike, years, vol, 0.05, 0.01);
          for (double v : {s.price, s.delta, s.gamma, s.vega, s.theta, s.rho, s.vanna, s.volga}) {
            EXPECT_TRUE(std::isfinite(v));
          }
        }
      }
    }
  }
  // At the money with σ = 0 and T > 0 the price is linear in σ: vega = F·n(0)·√T.
  EXPECT_NEAR(black76_greeks(OptionType::call, 100, 100, 1, 0).vega, 100 * 0.3989422804014327,
              1e-12);
  // Tiny s: far strikes must not produce 0·∞.
  const Greeks tiny = black76_greeks(OptionType::call, 100, 101, 1e-300, 0.2);
  for (double v :
       {tiny.price, tiny.delta, tiny.gamma, tiny.vega, tiny.theta, tiny.vanna, tiny.volga}) {
    EXPECT_TRUE(std::isfinite(v));
  }
}

}  // namespace
}  // namespace gw::pricing
