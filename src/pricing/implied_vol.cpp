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
//       for small prices because ln b ≈ −x²/(2s²); guess: that asymptote inverted;
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
//  4. Two phases. The steps first run on a cheap surrogate of b: with Mills' ratio
//     M(z) = N(−z)/n(z), b = b'·[M(−h−t) − M(t−h)] and b_max − b = b'·[M(h+t) + M(t−h)]
//     exactly, and M from a degree-9 polynomial fit (4e-8 relative, no erfc), so a surrogate
//     step costs at most one exp or log. Its root is within ~1e-9 of the true one; from there
//     the same iteration on the accurate b (black.cpp) stops after its first step, whose
//     fourth-order correction takes that error to rounding. b_c and b(s_l), which only choose
//     the branch and the guess, come from the surrogate too.
//
// Differences from Jäckel's published algorithm: simpler initial guesses (no rational cubic
// interpolation) refined on the surrogate instead, and tolerance-terminated loops: over the
// benchmark inputs 1.5 surrogate steps and exactly one accurate step.
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
// convergence puts the next correction near 1e-16). From the surrogate's root this is normally
// the first accurate step.
constexpr int kMaxSteps = 6;
constexpr double kTolerance = 1e-4;
// On the surrogate the iteration stops after a step below 3e-2: fourth-order convergence puts
// the remaining error near 1e-6 at worst, and the accurate step that follows takes it (with the
// surrogate's own ~1e-9) to rounding; should it not, the accurate loop simply continues.
constexpr double kEstimateTolerance = 3e-2;

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

// Mills' ratio M(z) = N(−z)/n(z) = √(π/2)·erfcx(z/√2), for the cheap surrogate of b used to
// locate the root before the single accurate step. For z ≥ 0 the map y = (z − 4)/(z + 4) takes
// [0, ∞) onto [−1, 1), and (z + 4)·M(z) is analytic in y up to y = 1 (M ~ 1/z − 1/z³ + …), so
// a polynomial in y converges geometrically: the degree-9 Chebyshev interpolant at 200 nodes
// against erfcx (black.hpp), written in the monomial basis, is within 4.2e-8 relative over
// [0, ∞), ample for a starting point (see solve_low). For z < 0, M(z) = √(2π)·e^{z²/2} − M(−z).
constexpr double kMillsScale = 4.0;
constexpr double kMillsPoly[10] = {
    1.8932190550863288,     -1.5237703138482688,    0.97040996136406388,    -0.46755312744497385,
    0.15138855628237291,    -0.018830371587141848,  -0.0087134607327732372, 0.003919832456191763,
    0.00032417140948659551, -0.00039434418793682369};
constexpr double kSqrt2Pi = 2.50662827463100050242;

double mills_ratio(double z) {
  if (z < 0) return kSqrt2Pi * std::exp(0.5 * z * z) - mills_ratio(-z);
  const double r = 1.0 / (z + kMillsScale);
  const double y = (z - kMillsScale) * r;
  // Estrin's scheme: independent pairs, so the latency is ~4 multiply-adds, not 9.
  const double y2 = y * y;
  const double y4 = y2 * y2;
  const double p01 = kMillsPoly[0] + kMillsPoly[1] * y;
  const double p23 = kMillsPoly[2] + kMillsPoly[3] * y;
  const double p45 = kMillsPoly[4] + kMillsPoly[5] * y;
  const double p67 = kMillsPoly[6] + kMillsPoly[7] * y;
  const double p89 = kMillsPoly[8] + kMillsPoly[9] * y;
  const double p0_3 = p01 + p23 * y2;
  const double p4_7 = p45 + p67 * y2;
  return (p0_3 + (p4_7 + p89 * y4) * y4) * r;
}

// The surrogate: both legs share the density, e^{x/2}·n(h+t) = e^{−x/2}·n(h−t) = b'(s), so
//   b = b'·[M(−h−t) − M(t−h)],   b_max − b = b'·[M(h+t) + M(t−h)],
// exactly; with M from the fit above these cost no erfc and (below s_c) no exp: ln b and
// b'/b = 1/[M(−h−t) − M(t−h)] follow from ln b' = −(h² + t²)/2 − ln√(2π).
// (Given 1/s, so that the iteration's critical path holds one division fewer.)
struct LogPriceEstimate {
  double log_b;
  double q;            // b'/b
  double b_over_vega;  // b/b' = 1/q
};
LogPriceEstimate log_black_estimate(double x, double s, double inv_s) {
  const double h = x * inv_s;
  const double t = 0.5 * s;
  const double d = mills_ratio(-h - t) - mills_ratio(t - h);
  return {std::log(d) - 0.5 * (h * h + t * t) - kLnSqrt2Pi, 1.0 / d, d};
}
Complement complement_estimate(double x, double s) {
  const double h = x / s;
  const double t = 0.5 * s;
  const double vega = kInvSqrt2Pi * std::exp(-0.5 * (h * h + t * t));
  return {vega * (mills_ratio(h + t) + mills_ratio(t - h)), vega};
}

// Householder(3) update from ν = −g/g', γ₂ = g''/g', γ₃ = g'''/g'.
double householder(double nu, double g2, double g3) {
  return nu * (1.0 + 0.5 * g2 * nu) / (1.0 + nu * (g2 + g3 * nu * (1.0 / 6.0)));
}

// Abramowitz & Stegun 26.2.23: z with N(−z) = p for 0 < p ≤ ½ (|error| < 4.5e-4).
double inverse_upper_tail(double p) {
  const double w = std::sqrt(-2.0 * std::log(p));
  return w - (2.515517 + w * (0.802853 + w * 0.010328)) /
                 (1.0 + w * (1.432788 + w * (0.189269 + w * 0.001308)));
}

// Low-branch guess: for h → −∞, ln b ≈ −x²/(2s²) (the Gaussian factor dominates the Mills-ratio
// terms), so s ≈ |x|/√(−2 ln β). Refining it through the next asymptotic terms costs a log per
// round, more than the surrogate Householder step that it would save.
double low_guess(double x, double log_beta, double s_c) {
  return std::min(std::sqrt(x * x / (-2.0 * log_beta)), s_c);
}

// The next iterate, kept inside the bracket (lo, hi) that the monotonicity of b maintains: the
// Householder step if it lands inside, else the Newton step, else bisection.
// Steps below the tolerance are taken as they are (they end the iteration).
double safeguarded(double s, double nu, double step, double lo, double hi, double tolerance) {
  const double next = s + step;
  if (std::fabs(step) <= tolerance * s) return next;
  if (std::isfinite(next) && next > lo && next < hi) return next;
  if (std::isfinite(nu) && s + nu > lo && s + nu < hi) return s + nu;
  return std::isfinite(hi) ? 0.5 * (lo + hi) : 2.0 * s;
}

// One safeguarded Householder step from s (updated in place); true once it has converged.
bool householder_step(double& s, double nu, double g2, double g3, double lo, double hi,
                      double tolerance) {
  const double next = safeguarded(s, nu, householder(nu, g2, g3), lo, hi, tolerance);
  const bool done = std::fabs(next - s) <= tolerance * s;
  s = next;
  return done;
}

// Householder iterations for s < s_c from s in the bracket (lo, hi), on ln b and b'/b from the
// surrogate (estimate = true) or from the accurate b (black.cpp). The objective is b − β in the
// middle region (a zero-free convex stretch where it is nearly linear) and 1/ln b − 1/ln β in
// the lower tail (where ln b ≈ −x²/(2s²), so 1/ln b is nearly linear in s).
template <bool estimate>
double iterate_low(double x, double beta, double log_beta, double b_max, bool middle, double s,
                   double lo, double hi) {
  const double x2 = x * x;
  constexpr double tolerance = estimate ? kEstimateTolerance : kTolerance;
  const double inv_log_beta = 1.0 / log_beta;
  if (!(s > lo && s < hi)) s = std::isfinite(hi) ? 0.5 * (lo + hi) : std::max(2.0 * lo, 1.0);
  for (int i = 0; i < kMaxSteps; ++i) {
    const double inv_s = 1.0 / s;
    const double inv_s2 = inv_s * inv_s;
    const double r2 = x2 * inv_s2 * inv_s - 0.25 * s;
    const double r3 = r2 * r2 - 3.0 * x2 * inv_s2 * inv_s2 - 0.25;
    double nu, g2, g3;
    if (middle) {
      // g = b − β: ν = −(b − β)/b'. Where b is a plain difference (no scaling needed) it is
      // used directly; otherwise ν = (β/b − 1)/q from ln b and q = b'/b.
      const double h = estimate ? x * inv_s : x / s;
      const double t = 0.5 * s;
      if constexpr (estimate) {
        // Surrogate: b/b' = M(−h−t) − M(t−h) (see complement_estimate), and 1/b' directly.
        const double inv_vega = kSqrt2Pi * std::exp(0.5 * (h * h + t * t));
        nu = beta * inv_vega - (mills_ratio(-h - t) - mills_ratio(t - h));
      } else if (h + t >= -1.0 && t > 0.0125) {
        const double vega = kInvSqrt2Pi * std::exp(-0.5 * (h * h + t * t));
        nu = (beta - (b_max * norm_cdf(h + t) - norm_cdf(h - t) / b_max)) / vega;
      } else {
        const auto [l, q] = log_black(x, s, b_max);
        nu = (std::exp(log_beta - l) - 1.0) / q;
      }
      (nu > 0 ? lo : hi) = s;
      g2 = r2;
      g3 = r3;
    } else {
      double l, q, inv_q;
      if constexpr (estimate) {
        const LogPriceEstimate e = log_black_estimate(x, s, inv_s);
        l = e.log_b;
        q = e.q;
        inv_q = e.b_over_vega;
      } else {
        const LogPrice e = log_black(x, s, b_max);
        l = e.log_b;
        q = e.q;
        inv_q = 1.0 / q;
      }
      (l < log_beta ? lo : hi) = s;
      // g = 1/L − 1/L_β with L = ln b: g' = −q/L², so ν = (1/L − 1/L_β)·L²/q
      // = (L_β − L)·L/(L_β·q); and with G(b) = 1/ln b,
      // G''/G' = −(L+2)/(b·L), G'''/G' = 2(L²+3L+3)/(b²L²).
      const double inv_l = 1.0 / l;
      nu = (log_beta - l) * l * inv_log_beta * inv_q;
      const double a = (l + 2.0) * inv_l;
      g2 = r2 - a * q;
      g3 = r3 - 3.0 * a * q * r2 + 2.0 * (1.0 + (3.0 + 3.0 * inv_l) * inv_l) * q * q;
    }
    if (householder_step(s, nu, g2, g3, lo, hi, tolerance)) break;
  }
  return s;
}

// Below the inflection point s_c, b is convex, so the tangent at s_c lies below b: its root in β
// is an upper bound for s, and it crosses zero at s_l = s_c − b_c/b'_c. For roots above s_l
// the tangent itself is the guess and the objective is plain b − β (Newton from an upper bound
// of a convex function converges monotonically); below s_l the asymptotic guess and the
// 1/ln b objective are used. The branch is chosen by the surrogate's b(s_l), so the bracket is
// the whole of (0, s_c).
//
// Two phases: the iteration first runs to convergence on the surrogate (whose root lies within
// ~1e-10 relative of the true one), then continues on the accurate b from there, with a fresh
// bracket. The first accurate step is then below the tolerance, so it is the only one: its
// fourth-order correction takes the ~1e-10 error to rounding. Should the surrogate be poor (a
// strongly cancelling difference at tiny s near the money), the accurate phase simply takes
// more steps, exactly as it would from any other guess.
double solve_low(double x, double beta, double b_max, double s_c, double b_c, double vega_c) {
  const double log_beta = std::log(beta);
  const double s_l = s_c - b_c / vega_c;
  const bool middle = !(s_l > 0) || log_beta >= log_black_estimate(x, s_l, 1.0 / s_l).log_b;
  const double guess = middle ? s_c + (beta - b_c) / vega_c : low_guess(x, log_beta, s_c);
  const double s = iterate_low<true>(x, beta, log_beta, b_max, middle, guess, 0.0, s_c);
  return iterate_low<false>(x, beta, log_beta, b_max, middle, s, 0.0,
                            std::numeric_limits<double>::infinity());
}

// Householder iterations for s > s_c, on the surrogate (estimate = true) or the accurate b.
// Beyond halfway from b_c to b_max (saturated) the objective is ln(b_max − b) − ln(b_max − β),
// nearly linear where b saturates; below, the plain b − β (ln(b_max − b) would lose the
// relative accuracy of small prices near the money, b_max − b ≈ b_max there).
template <bool estimate>
double iterate_high(double x, double beta, double b_max, bool saturated, double log_target,
                    double s, double lo) {
  const double c_target = b_max - beta;
  const double x2 = x * x;
  constexpr double tolerance = estimate ? kEstimateTolerance : kTolerance;
  double hi = std::numeric_limits<double>::infinity();
  if (!(s > lo)) s = lo * (1.0 + 1e-3) + 1e-300;
  for (int i = 0; i < kMaxSteps; ++i) {
    const double inv_s = 1.0 / s;
    const double inv_s2 = inv_s * inv_s;
    const double r2 = x2 * inv_s2 * inv_s - 0.25 * s;
    const double r3 = r2 * r2 - 3.0 * x2 * inv_s2 * inv_s2 - 0.25;
    double nu, g2, g3;
    if (saturated) {
      // g = ln(b_max − b) − ln(b_max − β): g' = −u, g''/g' = r2 + u, g'''/g' = r3 + 3·r2·u + 2u².
      const auto [c, vega] = estimate ? complement_estimate(x, s) : complement_black(x, s, b_max);
      (c > c_target ? lo : hi) = s;
      const double u = vega / c;
      nu = (std::log(c) - log_target) / u;
      g2 = r2 + u;
      g3 = r3 + 3.0 * r2 * u + 2.0 * u * u;
    } else {
      double b, vega;
      if constexpr (estimate) {
        const Complement c = complement_estimate(x, s);
        b = b_max - c.c;
        vega = c.vega;
      } else {
        b = normalised_black_otm(x, s);
        vega = kInvSqrt2Pi * std::exp(-0.5 * (x2 * inv_s2 + 0.25 * s * s));
      }
      (b < beta ? lo : hi) = s;
      nu = (beta - b) / vega;
      g2 = r2;
      g3 = r3;
    }
    if (householder_step(s, nu, g2, g3, lo, hi, tolerance)) break;
  }
  return s;
}

// Above s_c, in two phases as in solve_low: surrogate, then accurate b.
double solve_high(double x, double beta, double b_max, double s_c, double b_c, double vega_c) {
  const double c_target = b_max - beta;
  // b is concave beyond s_c: the tangent at s_c lies above it, so its root in β bounds s below.
  const double tangent_root = std::max(s_c, s_c + (beta - b_c) / vega_c);
  // Large-s asymptotics: b_max − b ≈ 2·cosh(x/2)·N(−s/2), with 2·cosh(x/2) = b_max + 1/b_max.
  const double p = c_target / (b_max + 1.0 / b_max);
  double s = tangent_root;
  if (p < 0.5) s = std::max(s, 2.0 * inverse_upper_tail(p));
  const double lo = tangent_root * (1.0 - 1e-12);
  const bool saturated = c_target < 0.5 * (b_max - b_c);
  const double log_target = saturated ? std::log(c_target) : 0.0;
  s = iterate_high<true>(x, beta, b_max, saturated, log_target, s, lo);
  return iterate_high<false>(x, beta, b_max, saturated, log_target, s, 0.0);
}

// s = σ√T such that b(x, s) = β, for x ≤ 0 and 0 < β < b_max = e^{x/2}.
double solve_normalised(double x, double beta, double b_max) {
  const double s_c = std::sqrt(-2.0 * x);
  const double vega_c = kInvSqrt2Pi * b_max;  // b'(s_c) = e^{x/2}/√(2π)
  if (s_c > 0) {
    // At s_c, h + t = 0 and h − t = −s_c: b_c = ½·e^{x/2} − e^{−x/2}·N(−s_c), and with
    // N(−s_c) = n(s_c)·M(s_c), n(s_c) = e^{x}/√(2π): b_c = e^{x/2}·(½ − M(s_c)/√(2π)). From the
    // surrogate M this only places the branch split and the guesses: the accurate phase
    // brackets the root by (0, ∞), so a split a hair off the true b_c costs nothing.
    const double b_c = b_max * (0.5 - kInvSqrt2Pi * mills_ratio(s_c));
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
  const double df = rate == 0 ? 1.0 : std::exp(-rate * years);
  const bool call = type == OptionType::call;
  const double intrinsic = call ? std::max(forward - strike, 0.0) : std::max(strike - forward, 0.0);
  if (price >= df * (call ? forward : strike)) return {0, IvError::above_maximum};
  if (price < df * intrinsic) return {0, IvError::below_intrinsic};
  if (price == df * intrinsic) return {0, IvError::none};
  // The out-of-the-money leg as a call at x = −|ln(F/K)| (put-call symmetry).
  const double x = -std::fabs(log_moneyness(forward, strike));
  const double beta = (price / df - intrinsic) / std::sqrt(forward * strike);
  if (!(beta > 0)) return {0, IvError::none};  // time value below the rounding of intrinsic
  const double b_max = std::exp(0.5 * x);
  if (!(beta < b_max)) return {0, IvError::above_maximum};
  return {solve_normalised(x, beta, b_max) / std::sqrt(years), IvError::none};
}

IvResult implied_vol_black_scholes(OptionType type, double price, double spot, double strike,
                                   double years, double rate, double dividend) {
  if (!finite_positive(spot) || !std::isfinite(dividend)) return {0, IvError::bad_input};
  return implied_vol_black76(type, price, spot * std::exp((rate - dividend) * years), strike, years,
                             rate);
}

}  // namespace gw::pricing
