// Surface SVI (Gatheral & Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14
// (2014) 59–71, arXiv:1204.0646), with the power-law curvature of their §4.4:
//
//   w(k, θ_t) = (θ_t/2)·{1 + ρφk + √((φk + ρ)² + 1 − ρ²)},   φ(θ) = η / (θ^γ (1 + θ)^{1−γ}),
//
// where θ_t is the ATM total variance of expiry t. Each slice is a raw SVI with
// a = θ(1−ρ²)/2, b = θφ/2, m = −ρ/φ, σ = √(1−ρ²)/φ (and the same ρ).
#pragma once

#include <span>
#include <vector>

#include "pricing/arbitrage.hpp"
#include "pricing/svi.hpp"

namespace gw::pricing {

struct SsviParams {
  double rho = 0;    // |ρ| < 1
  double eta = 0;    // η > 0
  double gamma = 0;  // 0 < γ < 1
};

double ssvi_phi(const SsviParams& p, double theta);
double ssvi_total_variance(const SsviParams& p, double theta, double k);
SmileValue ssvi_smile(const SsviParams& p, double theta, double k);  // w, ∂_k w, ∂²_k w
SviParams ssvi_to_svi(const SsviParams& p, double theta);            // the equivalent raw slice

// Gatheral–Jacquier sufficient conditions, evaluated at the given θ's (non-negative, in
// expiry order). For the power law θφ(θ) = η(θ/(1+θ))^{1−γ} is increasing and
// ∂_θ(θφ) = (1−γ)φ/(1+θ) ≤ φ ≤ (1+√(1−ρ²))φ/ρ², so calendar freedom (Thm 4.1) reduces to θ
// non-decreasing in T; butterfly freedom (Thm 4.2) needs θφ(1+|ρ|) < 4 and θφ²(1+|ρ|) ≤ 4.
struct SsviConditions {
  bool params_valid = false;  // |ρ| < 1, η > 0, 0 < γ < 1
  bool eta_bound = false;     // η(1+|ρ|) ≤ 2, which implies the butterfly conditions ∀θ
  bool theta_non_decreasing = false;
  double max_theta_phi = 0;   // max over θ of θφ(1+|ρ|)   (must be < 4)
  double max_theta_phi2 = 0;  // max over θ of θφ²(1+|ρ|)  (must be ≤ 4)
  bool butterfly_free = false;
  bool calendar_free = false;
  bool arbitrage_free() const { return params_valid && butterfly_free && calendar_free; }
};
SsviConditions check_ssvi_conditions(const SsviParams& p, std::span<const double> thetas);

// Market data of one expiry.
struct SsviSliceData {
  double years = 0;
  std::vector<SviPoint> points;
};

struct SsviFitOptions {
  double gamma_max = 1;  // γ is searched in (0, gamma_max); 0.5 is the other common choice
  SviFitOptions svi;     // for the per-slice fits that provide θ
  int max_evaluations = 4000;
};

struct SsviFitResult {
  SsviParams params;
  std::vector<double> years;       // slices in expiry order
  std::vector<double> raw_thetas;  // ATM total variance of each slice's own fit (or as given)
  std::vector<double> thetas;      // the same made non-decreasing (running maximum) and used
  double rmse_total_variance = 0;  // weighted, over all points
  double rmse_vol_points = 0;
  SsviConditions conditions;
  int evaluations = 0;
  bool ok = false;
};

// θ_t = w_SVI(0) of a raw SVI fit per slice, made non-decreasing; then (ρ, η, γ) by Nelder–Mead
// on the weighted squared total-variance error of all points, under |ρ| < 1, η(1+|ρ|) ≤ 2 and
// 0 < γ < gamma_max (by reparametrisation).
SsviFitResult fit_ssvi(std::span<const SsviSliceData> slices, const SsviFitOptions& options = {});
// The same with the ATM total variances given (one per slice, in the order of `slices`).
SsviFitResult fit_ssvi(std::span<const SsviSliceData> slices, std::span<const double> thetas,
                       const SsviFitOptions& options = {});

}  // namespace gw::pricing
