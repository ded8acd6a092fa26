// Raw SVI ("stochastic volatility inspired", Gatheral 2004) smiles and their per-expiry fit.
//
//   w(k) = a + b·{ρ(k − m) + √((k − m)² + σ²)},   k = ln(K/F),   w = σ_imp²·T (total variance).
//
// The fit is the quasi-explicit method of Zeliade Systems ("Quasi-explicit calibration of
// Gatheral's SVI model", Zeliade white paper 2009; De Marco & Martini): for fixed (m, σ) the
// smile is linear in three parameters, so only a 2-D search over (m, σ) is non-linear.
#pragma once

#include <span>

namespace gw::pricing {

struct SviParams {
  double a = 0;      // vertical level of the total variance
  double b = 0;      // wing slope scale (≥ 0)
  double rho = 0;    // skew, |ρ| < 1
  double m = 0;      // horizontal shift of the vertex
  double sigma = 0;  // curvature at the vertex (> 0)
};

// b ≥ 0, |ρ| < 1, σ > 0 and min_k w = a + bσ√(1−ρ²) ≥ 0; with `lee_wing_bound` also
// b(1+|ρ|) ≤ 2 (Lee's moment formula: the total-variance wings grow at most like 2|k|).
bool svi_is_valid(const SviParams& p, bool lee_wing_bound = false);

double svi_total_variance(const SviParams& p, double k);  // w(k)
double svi_dw(const SviParams& p, double k);              // w′(k)
double svi_d2w(const SviParams& p, double k);             // w″(k)
// σ_imp(k) = √(w(k)/T); 0 where w ≤ 0. Requires years > 0.
double svi_implied_vol(const SviParams& p, double k, double years);

// One market observation: log-moneyness, total variance and a non-negative weight.
struct SviPoint {
  double k = 0;
  double w = 0;
  double weight = 1;
};

struct SviFitOptions {
  // Inner-problem slope bound c + |d| ≤ wing_slope·σ, i.e. b(1+|ρ|) ≤ wing_slope. Zeliade's
  // paper uses 4; set 2 to impose Lee's bound exactly.
  double wing_slope = 4;
  double min_sigma = 1e-3;  // σ is searched in [min_sigma, max_sigma]
  double max_sigma = 5;
  int max_evaluations = 1500;  // of the inner problem, by the outer Nelder–Mead
};

struct SviFitResult {
  SviParams params;
  double rmse_total_variance = 0;  // weighted RMSE of w
  double rmse_vol_points = 0;      // weighted RMSE of σ_imp, in vol points (1 = 1%)
  int evaluations = 0;             // inner (m, σ) problems solved
  bool converged = false;          // the outer search met its tolerance
  bool ok = false;                 // enough usable points (≥ 3 with weight > 0) and finite output
};

// Fits a raw SVI smile to one expiry by weighted least squares in total variance (`years` > 0
// only matters for the vol RMSE). Zeliade's domain is imposed: 0 ≤ a ≤ max w, so smiles with
// a < 0 (e.g. Vogt's) are approximated, not reproduced. σ is kept in [min_sigma, max_sigma] and
// m within one data range of the data.
SviFitResult fit_svi(std::span<const SviPoint> points, double years,
                     const SviFitOptions& options = {});

}  // namespace gw::pricing
