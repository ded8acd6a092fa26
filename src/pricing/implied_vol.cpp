// Implied volatility after P. Jäckel, "Let's Be Rational" (Wilmott, January 2015; "LBR" below),
// written from the paper and checked against the formulas of his reference implementation:
//
//  1. Normalise: x = ln(F/K), β = (undiscounted price − intrinsic)/√(F·K). By put-call symmetry
//     b_put(x, s) = b_call(−x, s), every input becomes an out-of-the-money call at x ≤ 0 with
//     0 < β < b_max = e^{x/2}; b(x, s) is the normalised Black function, s = σ√T.
//  2. Four branches, split at the inflection point s_c = √(2|x|) of s ↦ b and at the points
//     s_l = s_c − b_c/b'_c and s_u = s_c + (b_max − b_c)/b'_c where the tangent at s_c reaches 0
//     and b_max (b_c = b(s_c), b'_c = b'(s_c); b_l = b(s_l), b_u = b(s_u), LBR eqs. 4.7-4.8):
//       lowest  (β < b_l):       objective 1/ln b − 1/ln β (b ~ e^{−x²/(2s²)}: nearly linear);
//       middle  (b_l ≤ β ≤ b_u): objective b − β;
//       highest (β > b_u):       objective ln(b_max − β) − ln(b_max − b), with b_max − b
//                                evaluated as a sum (no cancellation where b saturates).
//  3. An initial guess per branch (below), then Householder steps of order 5 (four derivatives;
//     LBR uses order 4, Jäckel's 2023 code order 5 for extreme |x|): with ν = −g/g' and
//     γ_k = g⁽ᵏ⁾/g', Δs = ν·(1 + ν(γ₂ + νγ₃/6))/(1 + ν(3γ₂/2 + ν(γ₂²/4 + γ₃/3 + νγ₄/24))).
//     The derivatives of b follow from b'(s) = e^{−(h²+t²)/2}/√(2π) (h = x/s, t = s/2):
//        b''/b' = x²/s³ − s/4,   b'''/b' = (b''/b')² − 3x²/s⁴ − ¼,
//        b''''/b' = (b''/b')·(b'''/b' − ½) − 6·(b''/b' − 2/s)·x²/s⁴,
//     chained through the branch objective in ratio form, so nothing underflows. At most two
//     steps: the second only if the first moved s by more than 5e-4 (relative).
//
// Initial guesses:
//  - LBR's, for every input: rational cubic interpolation (Delbourgo & Gregory, SIAM J. Sci.
//    Stat. Comp. 6, 1985) of the "lower map" (lowest branch), of s(β) through (b_l, s_l),
//    (b_c, s_c), (b_u, s_u) (middle branches), and of the "upper map" (highest branch). They are
//    within ~1e-1 (lowest) and ~5e-3 (middle) of the root, so they mostly take two steps.
//  - For 0.0113 ≤ |x| ≤ 4.5, in the lowest and middle branches (where quoted options are):
//    tables of the converged root (implied_vol_tables.hpp), within 2e-4, so one step reaches
//    rounding; they also save the exp, cbrt and Φ⁻¹ of LBR's guesses and the evaluations of
//    b_c, b_l, b_u (the branch bounds are tabulated as well).
//
// The special function differs from Jäckel's too: instead of Cody's erfc/erfcx, b, b_max − b
// and b/b' come from Mills' ratio M(z) = N(−z)/n(z) as a table (implied_vol_tables.hpp):
// b = b'·[M(−h−t) − M(t−h)] and b_max − b = b'·[M(h+t) + M(t−h)], the difference taken inside
// the table's polynomial so that it stays accurate for small t (what LBR's small-t expansion is
// for). A step costs two table look-ups and one exp or log.
#include "pricing/implied_vol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pricing/implied_vol_tables.hpp"

namespace gw::pricing {
namespace {

using iv_detail::mills_ratio;
using iv_detail::mills_ratio_difference;

constexpr double kSqrt2Pi = 2.50662827463100050242;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kLnSqrt2Pi = 0.91893853320467274178;
constexpr double kSqrtPiOver2 = 1.25331413731550025121;  // M(0)
constexpr double kSqrt3 = 1.73205080756887729353;
constexpr double kSqrt27 = 5.19615242270663188058;
constexpr double kLnSqrt3OverCbrt2Pi = -0.06331954446906031;  // ln(√3/∛(2π))
constexpr double kLnAcklamTail = -3.719338661598645;          // ln 0.02425
constexpr double kPiOver6 = 0.52359877559829887308;
constexpr double kSecondStepThreshold = 5e-4;

// ---------------------------------------------------------------------------------------------
// The normalised Black function at one point (x < 0 or x = 0, s > 0), through Mills' ratio.

// a = −h = −x/s, t = s/2, and the exponent (h² + t²)/2 of b'(s) = e^{−(h²+t²)/2}/√(2π). Its
// rounding (≲ ε·exponent, relative, in b') is below the attainable accuracy of b at a rounded s,
// (1 + s·b'/b)·ε with s·b'/b ≈ h² in the tails (Jäckel 2024, "BlackAccuracyFactor").
struct Point {
  double a, t, exponent;
  double inv_s;
};
Point point(double x, double s) {
  const double inv_s = 1.0 / s;
  const double h = x * inv_s;
  const double t = 0.5 * s;
  return {-h, t, 0.5 * (h * h + t * t), inv_s};
}
double ln_vega(const Point& p) {
  return -kLnSqrt2Pi - p.exponent;
}
double vega(const Point& p) {
  return kInvSqrt2Pi * std::exp(-p.exponent);
}
double inverse_vega(const Point& p) {
  return kSqrt2Pi * std::exp(p.exponent);
}

// b/b' = M(a − t) − M(a + t) below s_c (a > t). Above, with a − t < −1, the reflection
// M(z) = √(2π)e^{z²/2} − M(−z) turns it into (b_max − b̄)/b' and the caller uses that form.
double black_over_vega(const Point& p) {
  return mills_ratio_difference(p.a, p.t);
}
// (b_max − b)/b' = M(t − a) + M(t + a): two positive terms.
double complement_over_vega(const Point& p) {
  return mills_ratio(p.t - p.a) + mills_ratio(p.t + p.a);
}
// ---------------------------------------------------------------------------------------------
// Householder steps. The ratios b⁽ᵏ⁾/b' depend on x and s only.

struct VegaRatios {
  double r2;  // b''/b'
  double r3;  // b'''/b'
  double r4;  // b''''/b'
};
VegaRatios vega_ratios(double x, double s, double inv_s) {
  const double x2_s3 = x * x * inv_s * inv_s * inv_s;
  const double x2_s4 = x2_s3 * inv_s;
  const double r2 = x2_s3 - 0.25 * s;
  const double r3 = r2 * r2 - 3.0 * x2_s4 - 0.25;
  return {r2, r3, r2 * (r3 - 0.5) - (r2 - 2.0 * inv_s) * 6.0 * x2_s4};
}

// The Householder(4) step (fifth-order convergence) Δs from ν = −g/g' and γ_k = g⁽ᵏ⁾/g'.
double householder4(double nu, double g2, double g3, double g4) {
  return nu * (1.0 + nu * (g2 + nu * g3 * (1.0 / 6.0))) /
         (1.0 +
          nu * (1.5 * g2 + nu * (0.25 * g2 * g2 + g3 * (1.0 / 3.0) + nu * g4 * (1.0 / 24.0))));
}

// Lowest branch: g = 1/L − 1/L_β with L = ln b. With q = b'/b and λ = 1/L: g' = −q/L², so
// ν = (L_β − L)·L/(L_β·q), and
//   γ₂ = b''/b' − q·(1 + 2λ),   γ₃ = b'''/b' + q²·(2 + 6λ(1 + λ)) − 3q·(b''/b')·(1 + 2λ),
//   γ₄ = b''''/b' − q·[q²·(6 + λ(22 + λ(36 + 24λ))) − q·(b''/b')·(12 + 36λ(1 + λ))]
//        − 3q·(b''/b')²·(1 + 2λ) − 4q·(b'''/b')·(1 + 2λ).
// Each step function returns the step Δs.
double lowest_step(double x, double s, double inv_ln_beta) {
  const Point p = point(x, s);
  const double bx = black_over_vega(p);  // b/b' = 1/q
  const double ln_b = std::log(bx) + ln_vega(p);
  const double q = 1.0 / bx;
  const double lambda = 1.0 / ln_b;
  const double one_2l = 1.0 + 2.0 * lambda;
  const double mu = 6.0 * lambda * (1.0 + lambda);
  const auto [r2, r3, r4] = vega_ratios(x, s, p.inv_s);
  const double nu = (1.0 - ln_b * inv_ln_beta) * ln_b * bx;  // (L_β − L)·L/(L_β·q)
  const double q_r2 = q * r2;                                // b''/b
  const double g2 = r2 - q * one_2l;
  const double g3 = r3 + q * q * (2.0 + mu) - 3.0 * q_r2 * one_2l;
  const double g4 = r4 -
                    q * (q * q * (6.0 + lambda * (22.0 + lambda * (36.0 + 24.0 * lambda))) -
                         q_r2 * (12.0 + 6.0 * mu)) -
                    3.0 * q_r2 * r2 * one_2l - 4.0 * q * r3 * one_2l;
  return householder4(nu, g2, g3, g4);
}

// Middle branches: g = b − β, so ν = (β − b)/b' and γ_k = b⁽ᵏ⁾/b'.
double middle_step(double x, double s, double beta, double b_max) {
  const Point p = point(x, s);
  const double inv_vega = inverse_vega(p);
  const double nu = p.a - p.t >= -1.0 ? beta * inv_vega - black_over_vega(p)
                                      : (beta - b_max) * inv_vega + complement_over_vega(p);
  const auto [r2, r3, r4] = vega_ratios(x, s, p.inv_s);
  return householder4(nu, r2, r3, r4);
}

// Highest branch: g = ln b̄ − ln β̄ with b̄ = b_max − b, β̄ = b_max − β. With u = b'/b̄: g' = −u,
// ν = (ln b̄ − ln β̄)/u, γ₂ = b''/b' + u, γ₃ = b'''/b' + u·(2u + 3b''/b'),
// γ₄ = b''''/b' + u·(6u·(u + 2b''/b') + 3(b''/b')² + 4b'''/b').
double highest_step(double x, double s, double ln_beta_bar) {
  const Point p = point(x, s);
  const double cx = complement_over_vega(p);  // b̄/b' = 1/u
  const double ln_b_bar = std::log(cx) + ln_vega(p);
  const double u = 1.0 / cx;
  const auto [r2, r3, r4] = vega_ratios(x, s, p.inv_s);
  const double nu = (ln_b_bar - ln_beta_bar) * cx;
  return householder4(nu, r2 + u, r3 + u * (2.0 * u + 3.0 * r2),
                      r4 + u * (6.0 * u * (u + 2.0 * r2) + 3.0 * r2 * r2 + 4.0 * r3));
}

// One Householder(4) step from the guess, and a second one unless the first moved s by less
// than kSecondStepThreshold (relative): the error left after a step is ~(size of the step)⁵,
// so below the threshold it is at rounding level. (Calibrated over the domain: with
// thresholds up to 1e-3 the round-trip errors are those of always taking two steps; at 3e-3
// the 99th percentile of the price error doubles.)
template <class Step>
double refine(double s, Step step) {
  const double first = step(s);
  s += first;
  if (!(std::fabs(first) <= kSecondStepThreshold * s)) s += step(s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Rational cubic interpolation (Delbourgo & Gregory 1985, eqs. 2.4-2.5): on [x_l, x_r]
// with values y and slopes d at both ends and control parameter r (r = 3 is the cubic Hermite
// interpolant, r → ∞ the straight line).

struct Hermite {
  double x_l, x_r, y_l, y_r, d_l, d_r;
  double width() const { return x_r - x_l; }
  double secant() const { return (y_r - y_l) / width(); }
};

constexpr double kMinControl = -(1.0 - 1.4901161193847656e-8);  // −(1 − √ε)
constexpr double kMaxControl = 2.0 / (2.220446049250313e-16 * 2.220446049250313e-16);

double rational_cubic(const Hermite& c, double r, double x) {
  const double h = c.width();
  const double t = (x - c.x_l) / h;
  if (!(r < kMaxControl)) return c.y_r * t + c.y_l * (1.0 - t);
  const double omt = 1.0 - t;
  const double t2 = t * t;
  const double omt2 = omt * omt;
  return (c.y_r * t2 * t + (r * c.y_r - h * c.d_r) * t2 * omt + (r * c.y_l + h * c.d_l) * t * omt2 +
          c.y_l * omt2 * omt) /
         (1.0 + (r - 3.0) * t * omt);
}

double safe_ratio(double numerator, double denominator) {
  if (std::fabs(denominator) >= std::numeric_limits<double>::min()) return numerator / denominator;
  return numerator > 0 ? kMaxControl : kMinControl;
}

// The smallest r that keeps the interpolant monotone (D&G eq. 3.8) and convex or concave
// (eq. 3.18) where the data are. With prefer_shape, data that rule a condition out (a zero
// secant, a slope equal to the secant) give the straight line instead of a cubic.
double minimum_shape_preserving_control(const Hermite& c, bool prefer_shape) {
  const double s = c.secant();
  const bool monotone = c.d_l * s >= 0 && c.d_r * s >= 0;
  const bool convex = c.d_l <= s && s <= c.d_r;
  const bool concave = c.d_l >= s && s >= c.d_r;
  if (!monotone && !convex && !concave) return kMinControl;
  double r1 = -std::numeric_limits<double>::max();
  double r2 = r1;
  const auto tiny = [](double v) { return std::fabs(v) < std::numeric_limits<double>::min(); };
  if (monotone) {
    if (!tiny(s))
      r1 = (c.d_r + c.d_l) / s;
    else if (prefer_shape)
      r1 = kMaxControl;
  }
  if (convex || concave) {
    const double spread = c.d_r - c.d_l;
    if (!tiny(s - c.d_l) && !tiny(c.d_r - s)) {
      r2 = std::max(std::fabs(spread / (c.d_r - s)), std::fabs(spread / (s - c.d_l)));
    } else if (prefer_shape) {
      r2 = kMaxControl;
    }
  } else if (monotone && prefer_shape) {
    r2 = kMaxControl;
  }
  return std::max(kMinControl, std::max(r1, r2));
}

// r such that the interpolant's second derivative at x_l (or x_r) is the given one, raised to
// the shape-preserving minimum.
double control_for_left_curvature(const Hermite& c, double second_derivative, bool prefer_shape) {
  const double r =
      safe_ratio(0.5 * c.width() * second_derivative + (c.d_r - c.d_l), c.secant() - c.d_l);
  return std::max(r, minimum_shape_preserving_control(c, prefer_shape));
}
double control_for_right_curvature(const Hermite& c, double second_derivative, bool prefer_shape) {
  const double r =
      safe_ratio(0.5 * c.width() * second_derivative + (c.d_r - c.d_l), c.d_r - c.secant());
  return std::max(r, minimum_shape_preserving_control(c, prefer_shape));
}

// ---------------------------------------------------------------------------------------------
// LBR's initial guesses.

// Φ⁻¹(p) for 0 < p ≤ ½ by P. J. Acklam's rational approximation (relative error < 1.2e-9),
// ample for a starting point that the Householder steps refine. The lower tail (p < 0.02425)
// is a rational function of √(−2 ln p), so it is also offered from ln p.
constexpr double kAcklamTail = 0.02425;
double inverse_norm_cdf_tail(double ln_p) {
  const double q = std::sqrt(-2.0 * ln_p);
  return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q -
            2.549732539343734e+00) *
               q +
           4.374664141464968e+00) *
              q +
          2.938163982698783e+00) /
         ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q +
           3.754408661907416e+00) *
              q +
          1.0);
}
double inverse_norm_cdf(double p) {
  if (p < kAcklamTail) return inverse_norm_cdf_tail(std::log(p));
  const double q = p - 0.5;
  const double r = q * q;
  return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r +
            1.383577518672690e+02) *
               r -
           3.066479806614716e+01) *
              r +
          2.506628277459239e+00) *
         q /
         (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r +
            6.680131188771972e+01) *
               r -
           1.328068155288572e+01) *
              r +
          1.0);
}

// The fixed points of the branch structure for one x ≤ 0. With
// D = M(0) − M(s_c) (b_c = b_max·D/√(2π) because h + t = 0 at s_c, and b'_c = b_max/√(2π)):
//   s_l = s_c − D,   s_u = s_c + √(2π) − D.
struct Frame {
  double x, b_max;
  double s_c, b_c, inv_vega_c;
  double s_l, s_u;
};
Frame frame(double x, double b_max) {
  const double s_c = std::sqrt(-2.0 * x);
  const double d = mills_ratio_difference(0.5 * s_c, 0.5 * s_c);
  return {x, b_max, s_c, b_max * kInvSqrt2Pi * d, kSqrt2Pi / b_max, s_c - d, s_c + kSqrt2Pi - d};
}

// Lowest branch: the lower map f(s) = (2π/√27)·|x|·Φ(−z)³ with z = |x|/(√3·s) is
// nearly linear in β = b(s) for small β (both behave like e^{−x²/(2s²)} times powers); it is
// interpolated on [0, b_l] by a rational cubic with f(0) = 0, f'(0) = 1 and f, f', f'' matched
// at b_l, then inverted in closed form (LBR eq. 4.38). With Φ(−z) = n(z)·M(z) and y = z²
// (written so that no e^{±y} appears alone):
//   f = |x|·M³·e^{−3y/2}/(√27·√(2π)),   f' = y·M²·e^{s²/8},
//   f'' = (π/6)/√(2π)·(y/s³)·M·(8√3·s·|x| + (3s²(s² − 8) − 8x²)·M)·e^{3y/2 + s²/4}.
double lowest_guess(const Frame& fr, double b_l, double beta) {
  const double ax = -fr.x;
  const double s = fr.s_l;
  const double z = ax / (kSqrt3 * s);
  const double y = z * z;
  const double m = mills_ratio(z);
  const double e_s = std::exp(0.125 * s * s);
  const double e_y = std::exp(1.5 * y);
  const double f_l = ax * m * m * m / (kSqrt27 * kSqrt2Pi * e_y);
  const double fp_l = y * m * m * e_s;
  const double fpp_l = kPiOver6 * kInvSqrt2Pi * y / (s * s * s) * m *
                       (8.0 * kSqrt3 * s * ax + (3.0 * s * s * (s * s - 8.0) - 8.0 * ax * ax) * m) *
                       e_y * e_s * e_s;
  const Hermite c{0.0, b_l, 0.0, f_l, 1.0, fp_l};
  double f = rational_cubic(c, control_for_right_curvature(c, fpp_l, true), beta);
  if (!(f > 0)) {  // rounding at extreme |x|: the quadratic with f(0) = 0, f'(0) = 1, f(b_l)
    const double t = beta / b_l;
    f = (f_l * t + b_l * (1.0 - t)) * t;
  }
  // f = (2π/√27)·|x|·Φ(−z)³  ⇒  ln Φ(−z) = ln(√3/∛(2π)) + ⅓·ln(f/|x|),  s = |x|/(√3·z).
  const double ln_phi = kLnSqrt3OverCbrt2Pi + std::log(f / ax) * (1.0 / 3.0);
  const double z_neg =
      ln_phi < kLnAcklamTail ? inverse_norm_cdf_tail(ln_phi) : inverse_norm_cdf(std::exp(ln_phi));
  return ax / (kSqrt3 * std::fabs(z_neg));
}

// Middle branches: s(β) between (b_l, s_l) and (b_c, s_c), or (b_c, s_c) and
// (b_u, s_u), with slopes ds/dβ = 1/b'; s''(β) = 0 at b_c (b'' = 0 at the inflection point).
double lower_middle_guess(const Frame& fr, double b_l, double inv_vega_l, double beta) {
  const Hermite c{b_l, fr.b_c, fr.s_l, fr.s_c, inv_vega_l, fr.inv_vega_c};
  return rational_cubic(c, control_for_right_curvature(c, 0.0, false), beta);
}
double upper_middle_guess(const Frame& fr, double b_u, double inv_vega_u, double beta) {
  const Hermite c{fr.b_c, b_u, fr.s_c, fr.s_u, fr.inv_vega_c, inv_vega_u};
  return rational_cubic(c, control_for_left_curvature(c, 0.0, false), beta);
}

// Highest branch: the upper map f(s) = Φ(−s/2) (b_max − b ≈ 2·cosh(x/2)·Φ(−s/2) for
// large s) interpolated on [b_u, b_max] with f(b_max) = 0, f'(b_max) = −½ and f, f', f''
// matched at b_u (f' = −½e^{w/2}, f'' = √(π/2)·e^{w + s²/8}·w/s with
// w = (x/s)²); then s = −2Φ⁻¹(f).
double highest_guess(const Frame& fr, double b_u, double beta) {
  const double s = fr.s_u;
  const double w = fr.x * fr.x / (s * s);
  const double e_w = std::exp(0.5 * w);
  const double e_s = std::exp(0.125 * s * s);
  const double f_u = mills_ratio(0.5 * s) * kInvSqrt2Pi / e_s;  // Φ(−s/2) = n(s/2)·M(s/2)
  const double fp_u = -0.5 * e_w;
  const double fpp_u = kSqrtPiOver2 * e_w * e_w * e_s * w / s;
  const Hermite c{b_u, fr.b_max, f_u, 0.0, fp_u, -0.5};
  double f = -1.0;
  if (std::isfinite(fpp_u)) f = rational_cubic(c, control_for_left_curvature(c, fpp_u, true), beta);
  if (!(f > 0)) {  // the quadratic with f(b_u), f(b_max) = 0, f'(b_max) = −½
    const double h = fr.b_max - b_u;
    const double t = (beta - b_u) / h;
    f = (f_u * (1.0 - t) + 0.5 * h * t) * (1.0 - t);
  }
  return -2.0 * inverse_norm_cdf(f);
}

// ---------------------------------------------------------------------------------------------

// The three objectives, each refined from a guess s (see refine()).
double refine_lowest(double x, double s, double ln_beta) {
  const double inv_ln_beta = 1.0 / ln_beta;
  return refine(s, [&](double at) { return lowest_step(x, at, inv_ln_beta); });
}
double refine_middle(double x, double s, double beta, double b_max) {
  return refine(s, [&](double at) { return middle_step(x, at, beta, b_max); });
}
double refine_highest(double x, double s, double beta, double b_max) {
  const double ln_beta_bar = std::log(b_max - beta);
  return refine(s, [&](double at) { return highest_step(x, at, ln_beta_bar); });
}

// s = σ√T such that b(x, s) = β, for x ≤ 0 and 0 < β < b_max = e^{x/2}, from LBR's guesses.
double solve_lbr(double x, double beta, double b_max) {
  const Frame fr = frame(x, b_max);
  if (beta < fr.b_c) {
    const Point at_l = point(x, fr.s_l);
    const double vega_l = vega(at_l);
    const double b_l = vega_l * black_over_vega(at_l);
    if (beta < b_l) return refine_lowest(x, lowest_guess(fr, b_l, beta), std::log(beta));
    return refine_middle(x, lower_middle_guess(fr, b_l, 1.0 / vega_l, beta), beta, b_max);
  }
  const Point at_u = point(x, fr.s_u);
  const double vega_u = vega(at_u);  // t > a at s_u: b_u = b_max − b'·(b̄/b')
  const double b_u = b_max - vega_u * complement_over_vega(at_u);
  if (beta > b_u && beta > 0.5 * b_max) {
    return refine_highest(x, highest_guess(fr, b_u, beta), beta, b_max);
  }
  return refine_middle(x, upper_middle_guess(fr, b_u, 1.0 / vega_u, beta), beta, b_max);
}

// The same, with the tabulated guesses where they apply (0.0113 ≤ |x| ≤ 4.5, lowest and middle
// branches): p_l = b_l/b_max and p_u = b_u/b_max choose the branch, λ = √(−2 ln(β/b_max)) and
// w = ln(β/(b_max − β)) locate β in the lowest and middle tables.
double solve_normalised(double x, double beta, double b_max) {
  const double c = std::sqrt(-2.0 * x);  // s_c
  const auto bounds = iv_detail::branch_bounds(c);
  if (!bounds) return solve_lbr(x, beta, b_max);
  const double root_c = std::sqrt(c);
  const double p = beta / b_max;
  if (p < bounds->p_l) {
    const double ln_beta = std::log(beta);
    const double lambda = std::sqrt(-2.0 * (ln_beta - 0.5 * x));  // √(−2 ln p)
    const auto ratio = iv_detail::lowest_branch_ratio(root_c, 2.0 / lambda);
    if (ratio) return refine_lowest(x, *ratio * -x / lambda, ln_beta);
  } else if (p <= bounds->p_u) {
    const auto ln_s = iv_detail::middle_branch_ln_s(root_c, std::log(beta / (b_max - beta)));
    if (ln_s) return refine_middle(x, std::exp(*ln_s), beta, b_max);
  }
  return solve_lbr(x, beta, b_max);
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
