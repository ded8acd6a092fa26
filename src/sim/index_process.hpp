// The index price of one currency: a Heston diffusion with compound-Poisson jumps in the log
// price, i.e. Bates (normal jumps) or a Kou double-exponential jump diffusion with stochastic
// variance. Kończal 2025 (arXiv 2506.14614) finds Kou the best fit for BTC and Bates for ETH,
// which is what the defaults use.
//
//   d ln S = (−v/2 − λ·E[e^J − 1]) dt + √v dW₁ + J dN,
//   dv     = κ(v̄ − v) dt + ξ √v dW₂,        d⟨W₁, W₂⟩ = ρ dt,
//
// with N a Poisson process of intensity λ per year. The drift compensates the jumps, so at zero
// rates the index is a martingale (the forward curve adds the basis separately). The variance
// is stepped by full-truncation Euler (Lord, Koekkoek & van Dijk 2010): the drift and diffusion
// use max(v, 0), so a negative excursion heals instead of producing NaN.
#pragma once

#include "sim/rng.hpp"

namespace gw::sim {

enum class JumpKind { none, kou, normal };

struct IndexParams {
  double initial_price = 100'000;  // USD
  double v0 = 0.25;                // initial instantaneous variance (0.25: 50% vol)
  double kappa = 4.0;              // variance mean reversion per year
  double long_variance = 0.25;     // v̄
  double vol_of_variance = 0.8;    // ξ
  double correlation = -0.2;       // ρ between price and variance
  JumpKind jumps = JumpKind::kou;
  double jump_intensity = 25;  // λ, jumps per year
  // Kou: an up jump with probability p, sizes exponential with means 1/η₊ and 1/η₋ (η₊ > 1).
  double kou_up_probability = 0.45;
  double kou_eta_up = 30;
  double kou_eta_down = 25;
  // Bates: normal jump sizes in log price.
  double jump_mean = -0.01;
  double jump_stdev = 0.03;
};

// Defaults per currency: BTC Kou, ETH Bates, at round initial prices.
IndexParams default_btc_index();
IndexParams default_eth_index();

class IndexProcess {
 public:
  IndexProcess(const IndexParams& params, Rng rng);

  // Advances by `years` (> 0).
  void step(double years);

  double price() const { return price_; }
  double variance() const { return variance_ > 0 ? variance_ : 0; }  // instantaneous, diffusive
  const IndexParams& params() const { return params_; }
  // λ·E[J²] per year: what the jumps add to the variance of the log price.
  double jump_variance_rate() const { return jump_variance_rate_; }
  // E[∫_t^{t+T} v ds] under the Heston dynamics, plus the jumps' share: the expected total
  // variance of ln S over the next T years (the ATM total variance a fair surface starts from).
  double expected_total_variance(double years) const;

 private:
  double jump();  // one jump size in log price

  IndexParams params_;
  Rng rng_;
  double price_;
  double variance_;
  double compensator_;  // λ·E[e^J − 1] per year
  double jump_variance_rate_;
};

}  // namespace gw::sim
