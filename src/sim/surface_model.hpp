// The implied-volatility surface the simulated market makers quote around: an SSVI (Gatheral &
// Jacquier 2014) with the power-law φ of pricing/ssvi.hpp, whose parameters drift over time and
// stay arbitrage-free by construction:
//
//  - θ(T), the ATM total variance, is the expected total variance of the index process over T
//    (Heston's E[∫v] from the current variance, plus the jumps' λ·E[J²]·T), times a variance
//    premium. Its derivative in T is premium·(v̄ + (v − v̄)e^{−κT} + λE[J²]) > 0 for v > 0, so
//    θ is strictly increasing in T: with the power law that is calendar freedom (Thm 4.1).
//    The variance v comes from the index process (floored), so the surface level moves with
//    the realised variance, and spot-vol correlation carries over to implied vols.
//  - ρ = ρ_max·tanh(x) and ln η follow Ornstein–Uhlenbeck processes (exact discretisation), and
//    η is capped so that η(1+|ρ|) ≤ 2·margin < 2: that bound implies butterfly freedom for
//    every θ (§4.4).
//  - γ is fixed.
#pragma once

#include <vector>

#include "pricing/ssvi.hpp"
#include "sim/index_process.hpp"
#include "sim/rng.hpp"

namespace gw::sim {

struct SurfaceParams {
  double variance_premium = 1.10;  // implied over expected variance
  double min_variance = 0.0225;    // floor of the index variance used for θ (15% vol)
  double gamma = 0.5;
  double max_abs_rho = 0.9;
  double rho_mean = -0.10;
  double rho_stdev = 0.15;  // stationary stdev of atanh(ρ/ρ_max)
  double eta_mean = 1.0;
  double eta_log_stdev = 0.15;  // stationary stdev of ln η
  double half_life_days = 0.5;  // of both OU processes
  double eta_margin = 0.98;     // η(1+|ρ|) ≤ 2·margin
};

SurfaceParams default_btc_surface();
SurfaceParams default_eth_surface();

class SurfaceModel {
 public:
  SurfaceModel(const SurfaceParams& params, const IndexProcess& index, Rng rng);

  // Drifts ρ and η over `years` and takes the index's current variance.
  void step(double years, const IndexProcess& index);

  // ATM total variance T years out (> 0 for T > 0).
  double theta(double years) const;
  pricing::SsviParams ssvi() const { return ssvi_; }
  double total_variance(double k, double years) const;
  double implied_vol(double k, double years) const;  // √(w/T); 0 at T = 0

  // One expiry, with θ and φ evaluated once: many strikes of a chain cost one sqrt each.
  struct Slice {
    double years = 0;
    double theta = 0;
    double phi = 0;
    double rho = 0;
    double total_variance(double k) const;
    double implied_vol(double k) const;
  };
  Slice slice(double years) const;

 private:
  SurfaceParams params_;
  Rng rng_;
  pricing::SsviParams ssvi_;
  double rho_x_ = 0;    // the OU coordinate of ρ
  double log_eta_ = 0;  // the OU coordinate of η
  // The index state θ is computed from (copied at each step).
  double variance_ = 0;
  double long_variance_ = 0;
  double kappa_ = 0;
  double jump_variance_rate_ = 0;
};

}  // namespace gw::sim
