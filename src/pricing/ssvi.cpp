#include "pricing/ssvi.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>

#include "pricing/svi_nelder_mead.hpp"

namespace gw::pricing {

double ssvi_phi(const SsviParams& p, double theta) {
  return p.eta / (std::pow(theta, p.gamma) * std::pow(1 + theta, 1 - p.gamma));
}

namespace {

double total_variance_at_phi(double rho, double theta, double phi, double k) {
  const double x = phi * k + rho;
  return 0.5 * theta * (1 + rho * phi * k + std::sqrt(x * x + 1 - rho * rho));
}

}  // namespace

double ssvi_total_variance(const SsviParams& p, double theta, double k) {
  return total_variance_at_phi(p.rho, theta, ssvi_phi(p, theta), k);
}

SmileValue ssvi_smile(const SsviParams& p, double theta, double k) {
  // With x = φk + ρ and R = √(x² + 1 − ρ²): w′ = (θφ/2)(ρ + x/R), w″ = (θφ²/2)(1 − ρ²)/R³.
  const double phi = ssvi_phi(p, theta);
  const double x = phi * k + p.rho;
  const double r2 = x * x + 1 - p.rho * p.rho;
  const double r = std::sqrt(r2);
  return {0.5 * theta * (1 + p.rho * phi * k + r), 0.5 * theta * phi * (p.rho + x / r),
          0.5 * theta * phi * phi * (1 - p.rho * p.rho) / (r2 * r)};
}

SviParams ssvi_to_svi(const SsviParams& p, double theta) {
  const double phi = ssvi_phi(p, theta);
  return {0.5 * theta * (1 - p.rho * p.rho), 0.5 * theta * phi, p.rho, -p.rho / phi,
          std::sqrt(1 - p.rho * p.rho) / phi};
}

SsviConditions check_ssvi_conditions(const SsviParams& p, std::span<const double> thetas) {
  SsviConditions c;
  c.params_valid = std::abs(p.rho) < 1 && p.eta > 0 && p.gamma > 0 && p.gamma < 1;
  c.eta_bound = p.eta * (1 + std::abs(p.rho)) <= 2;
  c.theta_non_decreasing = std::is_sorted(thetas.begin(), thetas.end());
  bool positive = true;
  for (double theta : thetas) {
    positive = positive && theta > 0;
    if (!(theta > 0)) continue;
    const double phi = ssvi_phi(p, theta);
    c.max_theta_phi = std::max(c.max_theta_phi, theta * phi * (1 + std::abs(p.rho)));
    c.max_theta_phi2 = std::max(c.max_theta_phi2, theta * phi * phi * (1 + std::abs(p.rho)));
  }
  c.butterfly_free = positive && c.max_theta_phi < 4 && c.max_theta_phi2 <= 4;
  // Theorem 4.1 also needs 0 ≤ ∂_θ(θφ) ≤ (1+√(1−ρ²))φ/ρ²; it holds for any valid power law
  // (see the header), so calendar freedom is the monotonicity of θ.
  c.calendar_free = positive && c.theta_non_decreasing;
  return c;
}

namespace {

double logistic(double x) {
  return 1 / (1 + std::exp(-x));
}
double logit(double p) {
  return std::log(p / (1 - p));
}

// Unconstrained search coordinates ↔ (ρ, η, γ): ρ = ρ_max·tanh(x₀), η = η_max(ρ)·logistic(x₁)
// with η_max = 2/(1+|ρ|) (the η-bound of Gatheral–Jacquier §4.4), γ = γ_max·logistic(x₂).
constexpr double kRhoMax = 0.999;

SsviParams from_search(const std::array<double, 3>& x, double gamma_max) {
  SsviParams p;
  p.rho = kRhoMax * std::tanh(x[0]);
  p.eta = 2 / (1 + std::abs(p.rho)) * logistic(x[1]);
  p.gamma = gamma_max * logistic(x[2]);
  return p;
}

std::array<double, 3> to_search(const SsviParams& p, double gamma_max) {
  return {std::atanh(p.rho / kRhoMax), logit(p.eta * (1 + std::abs(p.rho)) / 2),
          logit(p.gamma / gamma_max)};
}

struct Sorted {
  std::vector<const SsviSliceData*> slices;
  std::vector<double> thetas;
};

double sse(const SsviParams& p, const Sorted& s) {
  double total = 0;
  for (std::size_t i = 0; i < s.slices.size(); ++i) {
    const double phi = ssvi_phi(p, s.thetas[i]);  // once per slice: two pow() calls
    for (const SviPoint& q : s.slices[i]->points) {
      if (!(q.weight > 0)) continue;
      const double e = total_variance_at_phi(p.rho, s.thetas[i], phi, q.k) - q.w;
      total += q.weight * e * e;
    }
  }
  return total;
}

void fill_errors(const Sorted& s, SsviFitResult& out) {
  double sw = 0, se_w = 0, se_vol = 0;
  for (std::size_t i = 0; i < s.slices.size(); ++i) {
    const double t = s.slices[i]->years;
    for (const SviPoint& q : s.slices[i]->points) {
      if (!(q.weight > 0)) continue;
      const double w = ssvi_total_variance(out.params, s.thetas[i], q.k);
      const double dv = std::sqrt(std::max(w, 0.0) / t) - std::sqrt(std::max(q.w, 0.0) / t);
      sw += q.weight;
      se_w += q.weight * (w - q.w) * (w - q.w);
      se_vol += q.weight * dv * dv;
    }
  }
  out.rmse_total_variance = std::sqrt(se_w / sw);
  out.rmse_vol_points = 100 * std::sqrt(se_vol / sw);
}

// Grid of starts in (ρ, η-fraction, γ-fraction), then Nelder–Mead, restarted once.
SsviParams search(const Sorted& s, const SsviFitOptions& options, int& evaluations) {
  const double gmax = options.gamma_max;
  auto objective = [&](const std::array<double, 3>& x) { return sse(from_search(x, gmax), s); };
  std::array<double, 3> best{};
  double best_value = std::numeric_limits<double>::infinity();
  for (double rho : {-0.6, -0.3, 0.0, 0.3, 0.6}) {
    for (double eta_fraction : {0.15, 0.4, 0.8}) {
      for (double gamma_fraction : {0.25, 0.5, 0.75}) {
        const SsviParams start = {rho, eta_fraction * 2 / (1 + std::abs(rho)),
                                  gamma_fraction * gmax};
        const std::array<double, 3> x = to_search(start, gmax);
        const double v = objective(x);
        ++evaluations;
        if (v < best_value) best_value = v, best = x;
      }
    }
  }
  detail::NelderMeadOptions nm;
  nm.x_tolerance = 1e-10;
  nm.max_evaluations = std::max(options.max_evaluations - evaluations, 10);
  auto r = detail::nelder_mead<3>(objective, best, {0.3, 0.5, 0.5}, nm);
  evaluations += r.evaluations;
  nm.max_evaluations = std::max(options.max_evaluations - evaluations, 10);
  auto r2 = detail::nelder_mead<3>(objective, r.x, {0.02, 0.05, 0.05}, nm);
  evaluations += r2.evaluations;
  return from_search(r2.value <= r.value ? r2.x : r.x, gmax);
}

}  // namespace

SsviFitResult fit_ssvi(std::span<const SsviSliceData> slices, std::span<const double> thetas,
                       const SsviFitOptions& options) {
  SsviFitResult out;
  if (slices.empty() || thetas.size() != slices.size() || !(options.gamma_max > 0) ||
      options.gamma_max > 1) {
    return out;
  }
  std::vector<std::size_t> order(slices.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return slices[i].years < slices[j].years; });
  Sorted s;
  for (std::size_t i : order) {
    if (!(slices[i].years > 0) || !(thetas[i] > 0)) return out;
    s.slices.push_back(&slices[i]);
    out.years.push_back(slices[i].years);
    out.raw_thetas.push_back(thetas[i]);
    // Calendar: θ must not decrease with T; the running maximum is the smallest fix.
    s.thetas.push_back(s.thetas.empty() ? thetas[i] : std::max(thetas[i], s.thetas.back()));
  }
  out.thetas = s.thetas;
  out.params = search(s, options, out.evaluations);
  out.conditions = check_ssvi_conditions(out.params, out.thetas);
  fill_errors(s, out);
  out.ok = std::isfinite(out.rmse_total_variance);
  return out;
}

SsviFitResult fit_ssvi(std::span<const SsviSliceData> slices, const SsviFitOptions& options) {
  std::vector<double> thetas;
  for (const SsviSliceData& slice : slices) {
    const SviFitResult fit = fit_svi(slice.points, slice.years, options.svi);
    if (!fit.ok) return {};
    thetas.push_back(svi_total_variance(fit.params, 0.0));
  }
  return fit_ssvi(slices, thetas, options);
}

}  // namespace gw::pricing
