#include "sim/surface_model.hpp"

#include <algorithm>
#include <cmath>

namespace gw::sim {

namespace {

constexpr double kYearsPerDay = 1.0 / 365.0;

// One exact Ornstein–Uhlenbeck step towards `mean` with stationary stdev `stdev`.
double ou_step(double x, double mean, double stdev, double rate, double years, Rng& rng) {
  const double decay = std::exp(-rate * years);
  return mean + (x - mean) * decay + stdev * std::sqrt(1 - decay * decay) * rng.normal();
}

}  // namespace

SurfaceParams default_btc_surface() {
  return SurfaceParams{};
}

SurfaceParams default_eth_surface() {
  SurfaceParams p;
  p.rho_mean = -0.15;
  p.eta_mean = 1.1;
  return p;
}

SurfaceModel::SurfaceModel(const SurfaceParams& params, const IndexProcess& index, Rng rng)
    : params_(params), rng_(rng) {
  rho_x_ = std::atanh(std::clamp(params.rho_mean / params.max_abs_rho, -0.999, 0.999));
  log_eta_ = std::log(params.eta_mean);
  step(0, index);
}

void SurfaceModel::step(double years, const IndexProcess& index) {
  if (years > 0) {
    const double rate = std::log(2.0) / (params_.half_life_days * kYearsPerDay);
    const double rho_mean =
        std::atanh(std::clamp(params_.rho_mean / params_.max_abs_rho, -0.999, 0.999));
    rho_x_ = ou_step(rho_x_, rho_mean, params_.rho_stdev, rate, years, rng_);
    log_eta_ =
        ou_step(log_eta_, std::log(params_.eta_mean), params_.eta_log_stdev, rate, years, rng_);
  }
  ssvi_.rho = params_.max_abs_rho * std::tanh(rho_x_);
  ssvi_.gamma = params_.gamma;
  const double eta_max = 2 * params_.eta_margin / (1 + std::abs(ssvi_.rho));
  ssvi_.eta = std::min(std::exp(log_eta_), eta_max);

  const IndexParams& ip = index.params();
  variance_ = std::max(index.variance(), params_.min_variance);
  long_variance_ = std::max(ip.long_variance, params_.min_variance);
  kappa_ = ip.kappa;
  jump_variance_rate_ = index.jump_variance_rate();
}

double SurfaceModel::theta(double years) const {
  if (!(years > 0)) return 0;
  const double decay = kappa_ > 0 ? -std::expm1(-kappa_ * years) / kappa_ : years;
  const double expected =
      long_variance_ * years + (variance_ - long_variance_) * decay + jump_variance_rate_ * years;
  return params_.variance_premium * expected;
}

SurfaceModel::Slice SurfaceModel::slice(double years) const {
  Slice s;
  s.years = years;
  s.theta = theta(years);
  s.phi = s.theta > 0 ? pricing::ssvi_phi(ssvi_, s.theta) : 0;
  s.rho = ssvi_.rho;
  return s;
}

double SurfaceModel::Slice::total_variance(double k) const {
  // The SSVI formula at a given φ, as pricing::ssvi_total_variance evaluates it.
  const double x = phi * k + rho;
  return 0.5 * theta * (1 + rho * phi * k + std::sqrt(x * x + 1 - rho * rho));
}

double SurfaceModel::Slice::implied_vol(double k) const {
  return years > 0 ? std::sqrt(total_variance(k) / years) : 0;
}

double SurfaceModel::total_variance(double k, double years) const {
  return slice(years).total_variance(k);
}

double SurfaceModel::implied_vol(double k, double years) const {
  return slice(years).implied_vol(k);
}

}  // namespace gw::sim
