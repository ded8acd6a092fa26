#include "sim/index_process.hpp"

#include <algorithm>
#include <cmath>

namespace gw::sim {

IndexParams default_btc_index() {
  return IndexParams{};
}

IndexParams default_eth_index() {
  IndexParams p;
  p.initial_price = 3'500;
  p.v0 = 0.36;
  p.long_variance = 0.36;
  p.kappa = 5.0;
  p.vol_of_variance = 1.0;
  p.correlation = -0.3;
  p.jumps = JumpKind::normal;
  p.jump_intensity = 30;
  p.jump_mean = -0.01;
  p.jump_stdev = 0.04;
  return p;
}

IndexProcess::IndexProcess(const IndexParams& params, Rng rng)
    : params_(params), rng_(rng), price_(params.initial_price), variance_(params.v0) {
  const double lambda = params.jump_intensity;
  double mean_exp = 0;  // E[e^J − 1]
  double mean_sq = 0;   // E[J²]
  switch (params.jumps) {
    case JumpKind::none:
      break;
    case JumpKind::kou: {
      const double p = params.kou_up_probability;
      const double up = params.kou_eta_up;
      const double down = params.kou_eta_down;
      mean_exp = p * up / (up - 1) + (1 - p) * down / (down + 1) - 1;
      mean_sq = p * 2 / (up * up) + (1 - p) * 2 / (down * down);
      break;
    }
    case JumpKind::normal: {
      const double m = params.jump_mean;
      const double s = params.jump_stdev;
      mean_exp = std::exp(m + 0.5 * s * s) - 1;
      mean_sq = m * m + s * s;
      break;
    }
  }
  const bool jumps = params.jumps != JumpKind::none && lambda > 0;
  compensator_ = jumps ? lambda * mean_exp : 0;
  jump_variance_rate_ = jumps ? lambda * mean_sq : 0;
}

double IndexProcess::jump() {
  if (params_.jumps == JumpKind::kou) {
    if (rng_.bernoulli(params_.kou_up_probability)) return rng_.exponential(params_.kou_eta_up);
    return -rng_.exponential(params_.kou_eta_down);
  }
  return params_.jump_mean + params_.jump_stdev * rng_.normal();
}

void IndexProcess::step(double years) {
  const double v = variance();
  const double sq = std::sqrt(v * years);
  const double z1 = rng_.normal();
  const double rho = params_.correlation;
  const double z2 = rho * z1 + std::sqrt(1 - rho * rho) * rng_.normal();
  double log_return = (-0.5 * v - compensator_) * years + sq * z1;
  if (compensator_ != 0 || jump_variance_rate_ != 0) {
    for (std::uint32_t n = rng_.poisson(params_.jump_intensity * years); n > 0; --n) {
      log_return += jump();
    }
  }
  price_ *= std::exp(log_return);
  variance_ +=
      params_.kappa * (params_.long_variance - v) * years + params_.vol_of_variance * sq * z2;
}

double IndexProcess::expected_total_variance(double years) const {
  // E[v_s] = v̄ + (v_t − v̄)e^{−κs}, integrated over [0, T].
  const double kappa = params_.kappa;
  const double decay = kappa > 0 ? -std::expm1(-kappa * years) / kappa : years;
  const double diffusive =
      params_.long_variance * years + (variance() - params_.long_variance) * decay;
  return std::max(diffusive, 0.0) + jump_variance_rate_ * years;
}

}  // namespace gw::sim
