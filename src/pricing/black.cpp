// Black-76 and Black-Scholes-Merton prices and Greeks.
//
// Everything goes through the normalised Black function (Jäckel, "Let's Be Rational", 2015):
//   b(x, s) = e^{x/2}·N(h + t) − e^{−x/2}·N(h − t),   x = ln(F/K), s = σ√T, h = x/s, t = s/2,
// so that the undiscounted call is √(F·K)·b(x, s). Only out-of-the-money values are computed
// directly; in-the-money prices add the intrinsic value (put-call parity), which keeps the
// relative accuracy of the small leg in the tails.
#include "pricing/black.hpp"

#include <algorithm>
#include <cmath>

namespace gw::pricing {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Lo = -4.8336466567264565186e-17;  // 1/√2 − kInvSqrt2
constexpr double kFourOverPi = 1.27323954473516268615;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kInvSqrtPi = 0.56418958354775628695;

// e^{z²} with z² split so that the large exponent carries no rounding error: z = a + (z − a)
// with a on a 1/16 grid (a² exact), e^{z²} = e^{a²}·e^{(z − a)(z + a)}.
double exp_square(double z) {
  if (z < 4.0) return std::exp(z * z);  // rounding of z² costs at most 16 ulp here
  const double a = std::round(z * 16.0) / 16.0;
  return std::exp(a * a) * std::exp((z - a) * (z + a));
}

// e^{−z²/2} likewise (a² is exact for a on the 1/16 grid, z − a is exact).
double exp_neg_half_square(double z) {
  if (std::fabs(z) < 6.0) return std::exp(-0.5 * z * z);  // at most 18 ulp from rounding z²
  const double a = std::round(z * 16.0) / 16.0;
  return std::exp(-0.5 * a * a) * std::exp(-0.5 * (z - a) * (z + a));
}

// e^{−(h² + t²)/2} for h = x/s, t = s/2 with the exponent in double-double: h = x/s carries its
// division remainder (fma), h² and t² their product errors; e^{−h²/2} and e^{−t²/2} then have
// exact arguments. Plain evaluation would lose (h² + t²)/2·1e-16 relative: 5e-14 at h = −30.
double gaussian_factor(double x, double s) {
  const double h = x / s;
  if (!(h * h < 1500.0)) return 0.0;  // e^{−h²/2} underflows (and h² + fma would give ∞ − ∞)
  const double h_lo = std::fma(-h, s, x) / s;
  const double t = 0.5 * s;
  const double h2 = h * h;
  const double t2 = t * t;
  const double lo = std::fma(h, h, -h2) + 2.0 * h * h_lo + std::fma(t, t, -t2);
  return std::exp(-0.5 * h2) * std::exp(-0.5 * t2) * std::exp(-0.5 * lo);
}

// Asymptotic series erfcx(z) ≈ 1/(z√π)·Σ (−1)^n (2n−1)!!/(2z²)^n (A&S 7.1.23), used for z ≥ 26
// where the terms fall below 2e-17 by n = 7.
double erfcx_asymptotic(double z) {
  const double u = 1.0 / (2.0 * z * z);
  double term = 1.0;
  double sum = 1.0;
  for (int n = 1; n <= 9; ++n) {
    term *= -(2.0 * n - 1.0) * u;
    sum += term;
  }
  return kInvSqrtPi / z * sum;
}

// ∂d1 etc. for the Greeks: d1 = x/s + s/2, d2 = d1 − s.
struct D12 {
  double d1, d2;
};
D12 d12(double forward, double strike, double s) {
  const double d1 = log_moneyness(forward, strike) / s + 0.5 * s;
  return {d1, d1 - s};
}

// Forward delta for s = 0: a step at the strike (½ at the money).
double step_delta(OptionType type, double forward, double strike) {
  const double call = forward > strike ? 1.0 : (forward < strike ? 0.0 : 0.5);
  return type == OptionType::call ? call : call - 1.0;
}

// The undiscounted Black-76 Greeks (per unit of discount factor) at total stddev s = σ√T.
// Theta and rho need the rate, so the callers add those.
Greeks undiscounted(OptionType type, double forward, double strike, double years, double vol) {
  Greeks g;
  const double s = vol * std::sqrt(years);
  g.price = black_undiscounted(type, forward, strike, s);
  if (!(s > 0)) {
    g.delta = step_delta(type, forward, strike);
    // At the money the price is linear in s: vega = F·n(0)·√T even at σ = 0.
    if (forward == strike) g.vega = forward * kInvSqrt2Pi * std::sqrt(years);
    return g;
  }
  const auto [d1, d2] = d12(forward, strike, s);
  const double pdf = norm_pdf(d1);
  g.delta = type == OptionType::call ? norm_cdf(d1) : -norm_cdf(-d1);
  if (pdf == 0) return g;  // d1 = ±∞: the other Greeks vanish (avoid 0·∞)
  g.gamma = pdf / (forward * s);
  g.vega = forward * pdf * std::sqrt(years);
  g.vanna = -pdf * d2 / vol;  // ∂(N(d1))/∂σ = n(d1)·∂d1/∂σ, ∂d1/∂σ = −d2/σ
  g.volga = g.vega * d1 * d2 / vol;                           // ∂vega/∂σ = vega·d1·d2/σ
  g.theta = -forward * pdf * vol / (2.0 * std::sqrt(years));  // −∂B/∂T = −B_s·σ/(2√T)
  return g;
}

Greeks scale(Greeks g, double factor) {
  g.price *= factor;
  g.delta *= factor;
  g.gamma *= factor;
  g.vega *= factor;
  g.theta *= factor;
  g.vanna *= factor;
  g.volga *= factor;
  return g;
}

// erfcx'(z) = 2z·erfcx(z) − 2/√π for z > 0. The difference cancels by a factor ≈ 2z², so for
// z ≥ 8 the derivative of the asymptotic series is used instead:
//   erfcx'(z) = −(1/√π)·Σ (−1)^n (2n−1)!!/2^n·(2n+1)·z^{−(2n+2)}.
double erfcx_derivative(double z) {
  if (z < 8.0) return 2.0 * z * erfcx(z) - 2.0 * kInvSqrtPi;
  const double u = 1.0 / (2.0 * z * z);
  double c = 1.0;  // (−1)^n (2n−1)!!/(2z²)^n
  double sum = 1.0;
  for (int n = 1; n <= 30; ++n) {
    c *= -(2.0 * n - 1.0) * u;
    const double term = c * (2.0 * n + 1.0);
    sum += term;
    if (std::fabs(term) < 1e-17 * sum) break;
  }
  return -kInvSqrtPi / (z * z) * sum;
}

// ½·[erfcx(a − δ) − erfcx(a + δ)] for 0 ≤ δ < a. When δ ≪ a the difference cancels (by a
// factor ≈ a/(2δ)); below δ = a/256 (a loss of at most ~7 bits) it is computed as
// −½∫ erfcx'(z) dz over [a − δ, a + δ] with 5-point Gauss-Legendre quadrature, whose error
// (δ/a)^{10}·O(1e-5) is negligible there.
double erfcx_half_difference(double a, double delta) {
  if (delta * 256.0 > a) return 0.5 * (erfcx(a - delta) - erfcx(a + delta));
  constexpr double kNodes[3] = {0.0, 0.53846931010568309104, 0.90617984593866399280};
  constexpr double kWeights[3] = {0.56888888888888888889, 0.47862867049936646804,
                                  0.23692688505618908751};
  double sum = kWeights[0] * erfcx_derivative(a);
  for (int i = 1; i < 3; ++i) {
    sum += kWeights[i] *
           (erfcx_derivative(a - delta * kNodes[i]) + erfcx_derivative(a + delta * kNodes[i]));
  }
  return -0.5 * delta * sum;
}

// b(x, s) for small t = s/2 and moderate h = x/s ≥ −1 − t: with F(τ) = e^{hτ}·N(h + τ) (note
// e^{±x/2} = e^{±ht}), b = F(t) − F(−t) = ∫_{−t}^{t} e^{hτ}·[h·N(h + τ) + n(h + τ)] dτ, by
// 5-point Gauss-Legendre. This avoids the cancellation of the direct difference (a factor ~1/t,
// 2e-12 relative at the money for a one-hour 1 % option); the integrand is smooth on the scale
// of 1, so the quadrature error is far below 1e-16 for t ≤ 0.0125 (above, the direct difference
// loses at most a factor ~100).
double black_small_t(double h, double t) {
  constexpr double kNodes[3] = {0.0, 0.53846931010568309104, 0.90617984593866399280};
  constexpr double kWeights[3] = {0.56888888888888888889, 0.47862867049936646804,
                                  0.23692688505618908751};
  auto integrand = [h](double tau) {
    return std::exp(h * tau) * (h * norm_cdf(h + tau) + norm_pdf(h + tau));
  };
  double sum = kWeights[0] * integrand(0.0);
  for (int i = 1; i < 3; ++i) {
    sum += kWeights[i] * (integrand(-t * kNodes[i]) + integrand(t * kNodes[i]));
  }
  return t * sum;
}

}  // namespace

double erfcx(double z) {
  if (z < 0) return 2.0 * exp_square(z) - erfcx(-z);
  if (z < 26.0) return exp_square(z) * std::erfc(z);
  return erfcx_asymptotic(z);
}

// In the lower tail ½·erfc(−z/√2) would inherit the rounding of u = −z/√2 amplified by 2u²
// (1e-13 at z = −37). So u is carried as u + u_lo (fma and the low part of 1/√2) and the
// first-order correction applied: erfc(u + u_lo) = erfc(u)·(1 − u_lo·(2/√π)/erfcx(u)), where
// (2/√π)/erfcx(u) ≈ u + √(u² + 4/π) (exact at 0 and ∞, within 2 % between — ample for a
// correction of at most 1e-13).
double norm_cdf(double z) {
  const double u = -z * kInvSqrt2;
  if (z >= -1.0) return 0.5 * std::erfc(u);
  const double u_lo = std::fma(-z, kInvSqrt2, -u) - z * kInvSqrt2Lo;
  return 0.5 * std::erfc(u) * (1.0 - u_lo * (u + std::sqrt(u * u + kFourOverPi)));
}
double norm_pdf(double z) {
  return kInvSqrt2Pi * exp_neg_half_square(z);
}

ScaledBlack normalised_black_otm_scaled(double x, double s) {
  if (!(s > 0)) return {0.0, 0.0};
  const double h = x / s;
  const double t = 0.5 * s;
  if (h + t < -1.0) {
    // Both legs in the lower tail: e^{x/2}·N(h+t) = ½·e^{−(h²+t²)/2}·erfcx(a − δ) with a = −h/√2,
    // δ = t/√2 (because (h+t)²/2 − x/2 = (h²+t²)/2), likewise e^{−x/2}·N(h−t) with a + δ, so
    // b = e^{−(h²+t²)/2}·½·[erfcx(a − δ) − erfcx(a + δ)].
    return {erfcx_half_difference(-h * kInvSqrt2, t * kInvSqrt2), 0.5 * (h * h + t * t)};
  }
  if (t <= 0.0125) return {black_small_t(h, t), 0.0};
  return {std::exp(0.5 * x) * norm_cdf(h + t) - std::exp(-0.5 * x) * norm_cdf(h - t), 0.0};
}

double log_moneyness(double forward, double strike) {
  const double d = forward - strike;
  if (std::fabs(d) < 0.5 * strike) return std::log1p(d / strike);
  return std::log(forward / strike);
}

double normalised_black_otm(double x, double s) {
  const ScaledBlack b = normalised_black_otm_scaled(x, s);
  return b.exponent == 0 ? b.d : b.d * gaussian_factor(x, s);
}

double black_undiscounted(OptionType type, double forward, double strike, double total_stddev) {
  const double x = log_moneyness(forward, strike);
  const double intrinsic =
      type == OptionType::call ? std::max(forward - strike, 0.0) : std::max(strike - forward, 0.0);
  // b_call(x) = b_put(−x): the out-of-the-money leg is the call at −|x|.
  return intrinsic +
         std::sqrt(forward * strike) * normalised_black_otm(-std::fabs(x), total_stddev);
}

double black_forward_delta(OptionType type, double forward, double strike, double total_stddev) {
  if (!(total_stddev > 0)) return step_delta(type, forward, strike);
  const double d1 = d12(forward, strike, total_stddev).d1;
  return type == OptionType::call ? norm_cdf(d1) : -norm_cdf(-d1);
}

double black76_price(OptionType type, double forward, double strike, double years, double vol,
                     double rate) {
  return std::exp(-rate * years) *
         black_undiscounted(type, forward, strike, vol * std::sqrt(years));
}

// V = e^{−rT}·B(F, K, σ√T): theta = −∂V/∂T = r·V − e^{−rT}·∂B/∂T, rho = ∂V/∂r = −T·V (the
// forward is an input, so only the discount factor depends on r).
Greeks black76_greeks(OptionType type, double forward, double strike, double years, double vol,
                      double rate) {
  const double df = std::exp(-rate * years);
  Greeks g = scale(undiscounted(type, forward, strike, years, vol), df);
  g.theta += rate * g.price;
  g.rho = -years * g.price + 0.0;  // + 0.0: no "−0" for worthless options
  return g;
}

double black_scholes_price(OptionType type, double spot, double strike, double years, double vol,
                           double rate, double dividend) {
  const double forward = spot * std::exp((rate - dividend) * years);
  return black76_price(type, forward, strike, years, vol, rate);
}

// Through the forward F = S·e^{(r−q)T}, ∂F/∂S = F/S, ∂F/∂T = (r−q)·F, ∂F/∂r = T·F:
//   delta = DF·Δ_F·F/S = e^{−qT}·Δ_F, gamma = DF·Γ_F·(F/S)², vanna = DF·vanna_F·F/S,
//   theta = r·V − DF·[(r−q)·F·Δ_F + B_s·σ/(2√T)], rho = −T·V + DF·Δ_F·T·F.
Greeks black_scholes_greeks(OptionType type, double spot, double strike, double years, double vol,
                            double rate, double dividend) {
  const double forward = spot * std::exp((rate - dividend) * years);
  const double df = std::exp(-rate * years);
  const Greeks u = undiscounted(type, forward, strike, years, vol);
  const double ratio = forward / spot;
  Greeks g;
  g.price = df * u.price;
  g.delta = df * u.delta * ratio;
  g.gamma = df * u.gamma * ratio * ratio;
  g.vega = df * u.vega;
  g.vanna = df * u.vanna * ratio;
  g.volga = df * u.volga;
  g.theta = rate * g.price + df * (u.theta - (rate - dividend) * forward * u.delta);
  g.rho = years * (df * u.delta * forward - g.price);
  return g;
}

}  // namespace gw::pricing
