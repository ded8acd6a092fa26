// Implied volatility by the method of P. Jäckel, "Let's Be Rational" (Wilmott, January 2015),
// written from the paper's description:
//
//  1. Normalise: x = ln(F/K), β = (undiscounted price − intrinsic)/√(F·K). By put-call symmetry
//     b_put(x, s) = b_call(−x, s), every input becomes an out-of-the-money call at x ≤ 0 with
//     0 < β < b_max = e^{x/2}, where b(x, s) is the normalised Black function (black.hpp).
//  2. Split at the inflection point s_c = √(2|x|) of s ↦ b(x, s) (b'' = 0 there), with
//     b_c = b(s_c), b'_c = e^{x/2}/√(2π), and s_l = s_c − b_c/b'_c where the tangent at s_c
//     crosses zero:
//     low branch (β < b(s_l)): objective g(s) = 1/ln b(s) − 1/ln β, which is nearly linear in s
//       for small prices because ln b ≈ −x²/(2s²); guess: the tail asymptotics
//       b ≈ b'(s)·s³/(x² − s⁴/4) inverted by fixed-point iteration;
//     middle (b(s_l) ≤ β < b_c): objective b(s) − β from the tangent guess (an upper bound, b is
//       convex there);
//     high branch (β ≥ b_c): objective g(s) = ln(b_max − b(s)) − ln(b_max − β), nearly linear
//       where b saturates; b_max − b = e^{x/2}N(−h−t) + e^{−x/2}N(h−t) is a sum, never a
//       difference; guess: the larger of the tangent at s_c (a lower bound, b is concave there)
//       and the inverted asymptotics b_max − b ≈ 2·cosh(x/2)·N(−s/2).
//  3. Householder steps of order 4 (three derivatives), kept inside the bracket that the
//     monotonicity of b provides: with ν = −g/g', γ₂ = g''/g', γ₃ = g'''/g',
//        s ← s + ν·(1 + ½γ₂ν) / (1 + ν·(γ₂ + ⅙γ₃ν)).
//     The derivatives of b follow from b'(s) = exp(−(h² + t²)/2)/√(2π) (h = x/s, t = s/2):
//        b''/b' = x²/s³ − s/4,   b'''/b' = (b''/b')² − 3x²/s⁴ − ¼,
//     and are chained through the branch transform, all in ratio form so nothing underflows.
//
// Differences from Jäckel's published algorithm: simpler initial guesses (no rational cubic
// interpolation), hence a tolerance-terminated loop (typically 2 steps, at most 4 observed)
// instead of exactly two steps.
#include "pricing/implied_vol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace gw::pricing {
namespace {

constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kLnSqrt2Pi = 0.91893853320467274178;
// Householder steps: the iteration stops after a step below 1e-4 relative (fourth-order
// convergence puts the next correction near 1e-16). Over 155,000 random inputs across the whole
// domain (tests/pricing/implied_vol_test.cpp) this takes 1.9 steps on average and at most 4.
constexpr int kMaxSteps = 6;
constexpr double kTolerance = 1e-4;

// ln b and b'/b at (x, s) for the low branch, in scaled form: when both legs are in the lower
// tail, b = ½·e^{−(h²+t²)/2}·[erfcx(−(h+t)/√2) − erfcx(−(h−t)/√2)] (see black.cpp), and
// b' = e^{−(h²+t²)/2}/√(2π), so the exponential cancels in b'/b.
struct LogPrice {
  double log_b;
  double q;  // b'/b
};
LogPrice log_black(double x, double s, double b_max) {
  const double h = x / s;
  const double t = 0.5 * s;
  ScaledBlack b;
  if (h + t >= -1.0 && t > 0.0125) {
    // The plain difference (as in normalised_black_otm_scaled) with e^{±x/2} precomputed.
    b.d = b_max * norm_cdf(h + t) - norm_cdf(h - t) / b_max;
  } else {
    b = normalised_black_otm_scaled(x, s);
  }
  // In the scaled (tail) form the exponent is exactly (h² + t²)/2 and cancels.
  const double gauss = b.exponent != 0 ? 1.0 : std::exp(-0.5 * (h * h + t * t));
  return {std::log(b.d) - b.exponent, kInvSqrt2Pi * gauss / b.d};
}

// b_max − b(x, s) = e^{x/2}·N(−h−t) + e^{−x/2}·N(h−t), and b'(s); b_max = e^{x/2}.
struct Complement {
  double c;
  double vega;  // b'(s)
};
Complement complement_black(double x, double s, double b_max) {
  const double h = x / s;
  const double t = 0.5 * s;
  return {b_max * norm_cdf(-h - t) + norm_cdf(h - t) / b_max,
          kInvSqrt2Pi * std::exp(-0.5 * (h * h + t * t))};
}

// Householder(3) update from ν = −g/g', γ₂ = g''/g', γ₃ = g'''/g'.
double householder(double nu, double g2, double g3) {
  return nu * (1.0 + 0.5 * g2 * nu) / (1.0 + nu * (g2 + g3 * nu / 6.0));
}

// Abramowitz & Stegun 26.2.23: z with N(−z) = p for 0 < p ≤ ½ (|error| < 4.5e-4).
double inverse_upper_tail(double p) {
  const double w = std::sqrt(-2.0 * std::log(p));
  return w - (2.515517 + w * (0.802853 + w * 0.010328)) /
                 (1.0 + w * (1.432788 + w * (0.189269 + w * 0.001308)));
}

// Low-branch guess: for h → −∞, b ≈ b'(s)·s³/(x² − s⁴/4) (the leading term of the Mills-ratio
// expansion of both legs), i.e. ln β ≈ −x²/(2s²) − s²/8 + ln(s³/(x² − s⁴/4)) − ln√(2π).
// Solved for s² by fixed-point iteration from s² = x²/(−2 ln β).
double low_guess(double x, double log_beta, double s_c) {
  const double x2 = x * x;
  double u = x2 / (-2.0 * log_beta);
  for (int i = 0; i < 3; ++i) {
    const double s = std::sqrt(u);
    const double denominator = x2 - 0.25 * u * u;
    if (!(denominator > 0)) break;
    const double rhs = std::log(s * u / denominator) - kLnSqrt2Pi - 0.125 * u - log_beta;
    if (!(rhs > 0)) break;
    u = x2 / (2.0 * rhs);
  }
  return std::min(std::sqrt(u), s_c);
}

// The next iterate, kept inside the bracket (lo, hi) that the monotonicity of b maintains: the
// Householder step if it lands inside, else the Newton step, else bisection.
// Steps below the tolerance are taken as they are (they end the iteration).
double safeguarded(double s, double nu, double step, double lo, double hi) {
  const double next = s + step;
  if (std::fabs(step) <= kTolerance * s) return next;
  if (std::isfinite(next) && next > lo && next < hi) return next;
  if (std::isfinite(nu) && s + nu > lo && s + nu < hi) return s + nu;
  return std::isfinite(hi) ? 0.5 * (lo + hi) : 2.0 * s;
}

// Below the inflection point s_c, b is convex, so the tangent at s_c lies below b: its root in β
// is an upper bound for s, and it crosses zero at s_l = s_c − b_c/b'_c. For roots above s_l
// the tangent itself is the guess and the objective is plain b − β (Newton from an upper bound
// of a convex function converges monotonically); below s_l the asymptotic guess and the
// 1/ln b objective are used.
double solve_low(double x, double beta, double b_max, double s_c, double b_c, double vega_c) {
  const double log_beta = std::log(beta);
  const double x2 = x * x;
  const double s_l = s_c - b_c / vega_c;
  const double tangent = s_c + (beta - b_c) / vega_c;
  const bool middle = !(s_l > 0) || log_beta >= log_black(x, s_l, b_max).log_b;
  double lo = middle ? std::max(s_l, 0.0) : 0.0;
  double hi = middle ? s_c : s_l;
  double s = middle ? tangent : low_guess(x, log_beta, s_c);
  if (!(s > lo && s < hi)) s = 0.5 * (lo + hi);
  for (int i = 0; i < kMaxSteps; ++i) {
    const auto [l, q] = log_black(x, s, b_max);
    (l < log_beta ? lo : hi) = s;
    const double inv_s2 = 1.0 / (s * s);
    const double r2 = x2 * inv_s2 / s - 0.25 * s;
    const double r3 = r2 * r2 - 3.0 * x2 * inv_s2 * inv_s2 - 0.25;
    double nu, g2, g3;
    if (middle) {
      // g = b − β: ν = −(b − β)/b' = (β/b − 1)/q.
      nu = (std::exp(log_beta - l) - 1.0) / q;
      g2 = r2;
      g3 = r3;
    } else {
      // g = 1/L − 1/L_β with L = ln b: g' = −q/L², and with G(b) = 1/ln b,
      // G''/G' = −(L+2)/(b·L), G'''/G' = 2(L²+3L+3)/(b²L²).
      const double inv_l = 1.0 / l;
      nu = (inv_l - 1.0 / log_beta) * l * l / q;
      const double a = (l + 2.0) * inv_l;
      g2 = r2 - a * q;
      g3 = r3 - 3.0 * a * q * r2 + 2.0 * (1.0 + (3.0 + 3.0 * inv_l) * inv_l) * q * q;
    }
    const double next = safeguarded(s, nu, householder(nu, g2, g3), lo, hi);
    const bool done = std::fabs(next - s) <= kTolerance * s;
    s = next;
    if (done) break;
  }
  return s;
}

double solve_high(double x, double beta, double b_max, double s_c, double b_c, double vega_c) {
  const double c_target = b_max - beta;
  const double log_target = std::log(c_target);
  // b is concave beyond s_c: the tangent at s_c lies above it, so its root in β bounds s below.
  double lo = std::max(s_c, s_c + (beta - b_c) / vega_c);
  double hi = std::numeric_limits<double>::infinity();
  // Large-s asymptotics: b_max − b ≈ 2·cosh(x/2)·N(−s/2).
  const double p = c_target / (2.0 * std::cosh(0.5 * x));
  double s = lo;
  if (p < 0.5) s = std::max(s, 2.0 * inverse_upper_tail(p));
  lo = lo * (1.0 - 1e-12);
  if (!(s > lo)) s = lo * (1.0 + 1e-3) + 1e-300;
  const double x2 = x * x;
  // Up to halfway from b_c to b_max the plain objective b − β (ln(b_max − b) would lose the
  // relative accuracy of small prices near the money, b_max − b ≈ b_max there).
  const bool saturated = c_target < 0.5 * (b_max - b_c);
  for (int i = 0; i < kMaxSteps; ++i) {
    const double inv_s2 = 1.0 / (s * s);
    const double r2 = x2 * inv_s2 / s - 0.25 * s;
    const double r3 = r2 * r2 - 3.0 * x2 * inv_s2 * inv_s2 - 0.25;
    double nu, g2, g3;
    if (saturated) {
      // g = ln(b_max − b) − ln(b_max − β): g' = −u, g''/g' = r2 + u, g'''/g' = r3 + 3·r2·u + 2u².
      const auto [c, vega] = complement_black(x, s, b_max);
      (c > c_target ? lo : hi) = s;
      const double u = vega / c;
      nu = (std::log(c) - log_target) / u;
      g2 = r2 + u;
      g3 = r3 + 3.0 * r2 * u + 2.0 * u * u;
    } else {
      const double b = normalised_black_otm(x, s);
      (b < beta ? lo : hi) = s;
      nu = (beta - b) / (kInvSqrt2Pi * std::exp(-0.5 * (x2 * inv_s2 + 0.25 * s * s)));
      g2 = r2;
      g3 = r3;
    }
    const double next = safeguarded(s, nu, householder(nu, g2, g3), lo, hi);
    const bool done = std::fabs(next - s) <= kTolerance * s;
    s = next;
    if (done) break;
  }
  return s;
}

// s = σ√T such that b(x, s) = β, for x ≤ 0 and 0 < β < e^{x/2}.
double solve_normalised(double x, double beta) {
  const double b_max = std::exp(0.5 * x);
  const double s_c = std::sqrt(-2.0 * x);
  const double vega_c = kInvSqrt2Pi * b_max;  // b'(s_c) = e^{x/2}/√(2π)
  if (s_c > 0) {
    // At s_c, h + t = 0 and h − t = −s_c: b_c = ½·e^{x/2} − e^{−x/2}·N(−s_c).
    const double b_c = 0.5 * b_max - norm_cdf(-s_c) / b_max;
    if (beta < b_c) return solve_low(x, beta, b_max, s_c, b_c, vega_c);
    return solve_high(x, beta, b_max, s_c, b_c, vega_c);
  }
  return solve_high(x, beta, b_max, 0.0, 0.0, vega_c);
}

bool finite_positive(double v) {
  return std::isfinite(v) && v > 0;
}

}  // namespace

std::string_view to_string(IvError error) {
  switch (error) {
    case IvError::none:
      return "none";
    case IvError::bad_input:
      return "bad input";
    case IvError::below_intrinsic:
      return "price below intrinsic value";
    case IvError::above_maximum:
      return "price at or above the maximum (forward or strike)";
  }
  return "unknown";
}

IvResult implied_vol_black76(OptionType type, double price, double forward, double strike,
                             double years, double rate) {
  if (!finite_positive(forward) || !finite_positive(strike) || !finite_positive(years) ||
      !std::isfinite(rate) || !std::isfinite(price) || price < 0) {
    return {0, IvError::bad_input};
  }
  // Bounds on the discounted price: DF·intrinsic ≤ price < DF·(F for a call, K for a put).
  const double df = std::exp(-rate * years);
  const bool call = type == OptionType::call;
  const double intrinsic = call ? std::max(forward - strike, 0.0) : std::max(strike - forward, 0.0);
  if (price >= df * (call ? forward : strike)) return {0, IvError::above_maximum};
  if (price < df * intrinsic) return {0, IvError::below_intrinsic};
  if (price == df * intrinsic) return {0, IvError::none};
  // The out-of-the-money leg as a call at x = −|ln(F/K)| (put-call symmetry).
  const double x = -std::fabs(log_moneyness(forward, strike));
  const double beta = (price / df - intrinsic) / std::sqrt(forward * strike);
  if (!(beta > 0)) return {0, IvError::none};  // time value below the rounding of intrinsic
  if (!(beta < std::exp(0.5 * x))) return {0, IvError::above_maximum};
  return {solve_normalised(x, beta) / std::sqrt(years), IvError::none};
}

IvResult implied_vol_black_scholes(OptionType type, double price, double spot, double strike,
                                   double years, double rate, double dividend) {
  if (!finite_positive(spot) || !std::isfinite(dividend)) return {0, IvError::bad_input};
  return implied_vol_black76(type, price, spot * std::exp((rate - dividend) * years), strike, years,
                             rate);
}

}  // namespace gw::pricing
