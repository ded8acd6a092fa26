// Black-76 (on the forward) and Black-Scholes-Merton (on spot) prices and Greeks.
//
// Plain units throughout: vega and volga per 1.00 of volatility, theta per year, rho per 1.00 of
// rate, times in years (ACT/365). Deribit's units are a separate layer (deribit.hpp).
#pragma once

namespace gw::pricing {

enum class OptionType { call, put };

struct Greeks {
  double price = 0;
  double delta = 0;  // ∂V/∂F (Black-76) or ∂V/∂S (Black-Scholes)
  double gamma = 0;  // ∂²V/∂F² or ∂²V/∂S²
  double vega = 0;   // ∂V/∂σ
  double theta = 0;  // −∂V/∂T (value change per year as time passes)
  double rho = 0;    // ∂V/∂r
  double vanna = 0;  // ∂²V/∂F∂σ or ∂²V/∂S∂σ
  double volga = 0;  // ∂²V/∂σ²
};

// Black-76: an option on a forward F, discounted at rate r. Requires F > 0, K > 0, T ≥ 0, σ ≥ 0.
double black76_price(OptionType type, double forward, double strike, double years, double vol,
                     double rate = 0.0);
Greeks black76_greeks(OptionType type, double forward, double strike, double years, double vol,
                      double rate = 0.0);

// Black-Scholes-Merton on spot S with rate r and continuous dividend (or foreign rate) q.
double black_scholes_price(OptionType type, double spot, double strike, double years, double vol,
                           double rate = 0.0, double dividend = 0.0);
Greeks black_scholes_greeks(OptionType type, double spot, double strike, double years, double vol,
                            double rate = 0.0, double dividend = 0.0);

// Undiscounted Black call/put price for the forward (the normalised function the IV solver
// inverts), and the forward delta N(d1) / −N(−d1) without discounting.
double black_undiscounted(OptionType type, double forward, double strike, double total_stddev);
double black_forward_delta(OptionType type, double forward, double strike, double total_stddev);

// Building blocks shared with the implied-volatility solver.
// x = ln(F/K), as log1p((F − K)/K) near the money (F − K is exact there, while the rounding of
// F/K would cost 1e-16/|x| relative, amplified by (x/s)² in far-tail prices).
double log_moneyness(double forward, double strike);
// Scaled complementary error function erfcx(z) = e^{z²}·erfc(z), for z ≥ 0 (z < 0 is reflected:
// erfcx(z) = 2e^{z²} − erfcx(−z)). Relative accuracy a few ulp.
double erfcx(double z);
// Standard normal CDF N(z) = ½·erfc(−z/√2): accurate in both tails (no 1 − N cancellation).
double norm_cdf(double z);
double norm_pdf(double z);
// Normalised Black call b(x, s) = e^{x/2}·N(x/s + s/2) − e^{−x/2}·N(x/s − s/2) for an
// out-of-the-money call, x = ln(F/K) ≤ 0, s = σ√T ≥ 0: the call price divided by √(F·K).
// Computed without underflow of the two terms (erfcx form when both are in the lower tail).
double normalised_black_otm(double x, double s);
// The same in scaled form b = d·e^{−exponent} (exponent = (h² + t²)/2 in the lower tail, else 0),
// so that ln b and b'/b stay finite where b itself underflows.
struct ScaledBlack {
  double d = 0;
  double exponent = 0;
};
ScaledBlack normalised_black_otm_scaled(double x, double s);

}  // namespace gw::pricing
