#include "pricing/svi.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "pricing/svi_nelder_mead.hpp"

namespace gw::pricing {

bool svi_is_valid(const SviParams& p, bool lee_wing_bound) {
  const bool finite = std::isfinite(p.a) && std::isfinite(p.b) && std::isfinite(p.rho) &&
                      std::isfinite(p.m) && std::isfinite(p.sigma);
  if (!finite || p.b < 0 || std::abs(p.rho) >= 1 || p.sigma <= 0) return false;
  // The minimum of w over k is a + bσ√(1−ρ²) (Gatheral 2004): it must not be negative.
  if (p.a + p.b * p.sigma * std::sqrt(1 - p.rho * p.rho) < 0) return false;
  return !lee_wing_bound || p.b * (1 + std::abs(p.rho)) <= 2;
}

double svi_total_variance(const SviParams& p, double k) {
  const double x = k - p.m;
  return p.a + p.b * (p.rho * x + std::sqrt(x * x + p.sigma * p.sigma));
}

double svi_dw(const SviParams& p, double k) {
  const double x = k - p.m;
  return p.b * (p.rho + x / std::sqrt(x * x + p.sigma * p.sigma));
}

double svi_d2w(const SviParams& p, double k) {
  // d²/dk² √(x² + σ²) = σ² / (x² + σ²)^{3/2}.
  const double x = k - p.m;
  const double r2 = x * x + p.sigma * p.sigma;
  return p.b * p.sigma * p.sigma / (r2 * std::sqrt(r2));
}

double svi_implied_vol(const SviParams& p, double k, double years) {
  const double w = svi_total_variance(p, k);
  return w > 0 ? std::sqrt(w / years) : 0.0;
}

namespace {

// ---- The inner problem (Zeliade 2009, §3) ----------------------------------------------------
// With y = (k − m)/σ the smile is w = a + d·y + c·√(y² + 1), where c = bσ and d = ρbσ. For fixed
// (m, σ) we minimise Σ ωᵢ(a + d yᵢ + c zᵢ − vᵢ)² over x = (a, d, c) on the polytope
//   0 ≤ a ≤ max v,   |d| ≤ c,   |d| ≤ S − c   (S = wing_slope·σ; this also gives 0 ≤ c ≤ S),
// a convex quadratic programme in three variables with six constraints G x ≤ h.

using Vec3 = std::array<double, 3>;
constexpr int kConstraints = 6;
constexpr std::array<Vec3, kConstraints> kG = {{
    {-1, 0, 0},   // −a ≤ 0
    {1, 0, 0},    //  a ≤ A
    {0, 1, -1},   //  d − c ≤ 0
    {0, -1, -1},  // −d − c ≤ 0
    {0, 1, 1},    //  d + c ≤ S
    {0, -1, 1},   // −d + c ≤ S
}};

// All active sets of size ≤ 3, smallest first, without pairs of parallel constraints (0/1,
// 2/5, 3/4), which cannot both be active on a non-degenerate polytope.
struct ActiveSet {
  int size = 0;
  std::array<int, 3> idx{};
};

constexpr bool parallel(int i, int j) {
  return (i == 0 && j == 1) || (i == 2 && j == 5) || (i == 3 && j == 4);
}

constexpr std::array<ActiveSet, 36> make_active_sets() {
  std::array<ActiveSet, 36> sets{};
  int n = 0;
  sets[n++] = ActiveSet{};
  for (int i = 0; i < kConstraints; ++i) sets[n++] = ActiveSet{1, {i, 0, 0}};
  for (int i = 0; i < kConstraints; ++i) {
    for (int j = i + 1; j < kConstraints; ++j) {
      if (!parallel(i, j)) sets[n++] = ActiveSet{2, {i, j, 0}};
    }
  }
  for (int i = 0; i < kConstraints; ++i) {
    for (int j = i + 1; j < kConstraints; ++j) {
      for (int l = j + 1; l < kConstraints; ++l) {
        if (!parallel(i, j) && !parallel(i, l) && !parallel(j, l)) {
          sets[n++] = ActiveSet{3, {i, j, l}};
        }
      }
    }
  }
  return sets;  // 1 + 6 + 12 + 8 = 27 sets; only the first kActiveSets are used
}

constexpr int count_active_sets() {
  int n = 1 + kConstraints;
  for (int i = 0; i < kConstraints; ++i) {
    for (int j = i + 1; j < kConstraints; ++j) {
      if (parallel(i, j)) continue;
      ++n;
      for (int l = j + 1; l < kConstraints; ++l) n += !parallel(i, l) && !parallel(j, l);
    }
  }
  return n;
}
constexpr int kActiveSets = count_active_sets();
static_assert(kActiveSets == 27);
constexpr std::array<ActiveSet, 36> kActive = make_active_sets();

// Solves the n×n system M z = r in place (Gaussian elimination, partial pivoting); false if
// (numerically) singular.
template <std::size_t N>
bool solve_linear(std::array<std::array<double, N>, N>& M, std::array<double, N>& r, int n) {
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int row = col + 1; row < n; ++row) {
      if (std::abs(M[row][col]) > std::abs(M[piv][col])) piv = row;
    }
    if (std::abs(M[piv][col]) < 1e-14) return false;
    std::swap(M[piv], M[col]);
    std::swap(r[piv], r[col]);
    for (int row = col + 1; row < n; ++row) {
      const double f = M[row][col] / M[col][col];
      for (int c = col; c < n; ++c) M[row][c] -= f * M[col][c];
      r[row] -= f * r[col];
    }
  }
  for (int row = n - 1; row >= 0; --row) {
    for (int c = row + 1; c < n; ++c) r[row] -= M[row][c] * r[c];
    r[row] /= M[row][row];
  }
  return true;
}

struct InnerProblem {
  std::array<std::array<double, 3>, 3> H{};  // Σ ω φφᵀ with φ = (1, y, z)
  Vec3 g{};                                  // Σ ω v φ
  std::array<double, kConstraints> h{};      // right-hand sides of G x ≤ h
};

// KKT conditions of min xᵀHx − 2gᵀx on the active set: [2H Gₐᵀ; Gₐ 0][x; λ] = [2g; hₐ]. A
// candidate that is primal feasible with λ ≥ 0 is the global optimum (convex QP). Returns
// false if no such candidate exists (degenerate data): the caller then rejects (m, σ).
bool solve_inner(const InnerProblem& q, Vec3& x) {
  double scale = 1;
  for (double v : q.h) scale = std::max(scale, std::abs(v));
  const double tol = 1e-10 * scale;
  for (int s = 0; s < kActiveSets; ++s) {
    const ActiveSet& set = kActive[s];
    const int n = 3 + set.size;
    std::array<std::array<double, 6>, 6> M{};
    std::array<double, 6> r{};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) M[i][j] = 2 * q.H[i][j];
      r[i] = 2 * q.g[i];
    }
    for (int c = 0; c < set.size; ++c) {
      const int k = set.idx[c];
      for (int j = 0; j < 3; ++j) M[3 + c][j] = M[j][3 + c] = kG[k][j];
      r[3 + c] = q.h[k];
    }
    if (!solve_linear(M, r, n)) continue;
    bool ok = true;
    for (int c = 0; c < set.size && ok; ++c) ok = r[3 + c] >= -1e-12;
    for (int k = 0; k < kConstraints && ok; ++k) {
      ok = kG[k][0] * r[0] + kG[k][1] * r[1] + kG[k][2] * r[2] <= q.h[k] + tol;
    }
    if (ok) {
      x = {r[0], r[1], r[2]};
      return true;
    }
  }
  return false;
}

struct FitData {
  std::vector<double> k, v, omega;
  double max_v = 0;
  double k_min = 0, k_max = 0;
};

// Best (a, d, c) for fixed (m, σ) and its weighted sum of squared residuals.
double inner_objective(const FitData& data, double m, double sigma, double wing_slope, Vec3* best) {
  InnerProblem q;
  for (std::size_t i = 0; i < data.k.size(); ++i) {
    const double y = (data.k[i] - m) / sigma;
    const Vec3 phi = {1.0, y, std::sqrt(y * y + 1)};
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) q.H[r][c] += data.omega[i] * phi[r] * phi[c];
      q.g[r] += data.omega[i] * data.v[i] * phi[r];
    }
  }
  const double S = wing_slope * sigma;
  q.h = {0.0, data.max_v, 0.0, 0.0, S, S};
  Vec3 x{};
  if (!solve_inner(q, x)) return std::numeric_limits<double>::infinity();
  // Residuals recomputed directly (not from xᵀHx − 2gᵀx + Σωv²) to avoid cancellation when the
  // fit is close to exact.
  double sse = 0;
  for (std::size_t i = 0; i < data.k.size(); ++i) {
    const double y = (data.k[i] - m) / sigma;
    const double e = x[0] + x[1] * y + x[2] * std::sqrt(y * y + 1) - data.v[i];
    sse += data.omega[i] * e * e;
  }
  if (best) *best = x;
  return sse;
}

// Map (a, d, c) at (m, σ) back to raw SVI: b = c/σ, ρ = d/c (ρ = 0 for a flat smile c = 0),
// nudged inside |ρ| < 1 when the optimum sits on the |d| = c face.
SviParams to_raw(const Vec3& x, double m, double sigma) {
  SviParams p;
  p.a = x[0];
  p.b = std::max(x[2], 0.0) / sigma;
  p.rho = x[2] > 0 ? std::clamp(x[1] / x[2], -1 + 1e-12, 1 - 1e-12) : 0.0;
  p.m = m;
  p.sigma = sigma;
  return p;
}

FitData prepare(std::span<const SviPoint> points) {
  FitData d;
  for (const SviPoint& p : points) {
    if (!(p.weight > 0) || !std::isfinite(p.k) || !std::isfinite(p.w)) continue;
    d.k.push_back(p.k);
    d.v.push_back(p.w);
    d.omega.push_back(p.weight);
  }
  if (!d.k.empty()) {
    d.max_v = *std::max_element(d.v.begin(), d.v.end());
    d.k_min = *std::min_element(d.k.begin(), d.k.end());
    d.k_max = *std::max_element(d.k.begin(), d.k.end());
  }
  return d;
}

void fill_errors(const FitData& data, double years, SviFitResult& out) {
  double sw = 0, se_w = 0, se_vol = 0;
  for (std::size_t i = 0; i < data.k.size(); ++i) {
    const double w = svi_total_variance(out.params, data.k[i]);
    const double vol_fit = std::sqrt(std::max(w, 0.0) / years);
    const double vol_mkt = std::sqrt(std::max(data.v[i], 0.0) / years);
    sw += data.omega[i];
    se_w += data.omega[i] * (w - data.v[i]) * (w - data.v[i]);
    se_vol += data.omega[i] * (vol_fit - vol_mkt) * (vol_fit - vol_mkt);
  }
  out.rmse_total_variance = std::sqrt(se_w / sw);
  out.rmse_vol_points = 100 * std::sqrt(se_vol / sw);
}

}  // namespace

SviFitResult fit_svi(std::span<const SviPoint> points, double years, const SviFitOptions& options) {
  SviFitResult out;
  const FitData data = prepare(points);
  if (data.k.size() < 3 || !(years > 0) || !(options.min_sigma > 0)) return out;

  // Outer search over (m, ln σ), m kept within one data range of the data and σ within
  // [min_sigma, max_sigma]; the objective is continued outside by a quadratic penalty so that
  // Nelder–Mead sees no plateau.
  const double range = std::max(data.k_max - data.k_min, 0.1);
  const double m_lo = data.k_min - range, m_hi = data.k_max + range;
  const double u_lo = std::log(options.min_sigma), u_hi = std::log(options.max_sigma);
  auto objective = [&](const std::array<double, 2>& x) {
    const double m = std::clamp(x[0], m_lo, m_hi), u = std::clamp(x[1], u_lo, u_hi);
    const double out_of_box = (x[0] - m) * (x[0] - m) + (x[1] - u) * (x[1] - u);
    return inner_objective(data, m, std::exp(u), options.wing_slope, nullptr) +
           out_of_box * (1 + data.max_v);
  };

  // Coarse grid for a start that does not depend on the caller (the objective is not convex in
  // (m, σ)), then Nelder–Mead, restarted once from its own optimum to undo early collapse.
  std::array<double, 2> best = {0.5 * (data.k_min + data.k_max), std::log(0.1)};
  double best_value = std::numeric_limits<double>::infinity();
  int evaluations = 0;
  constexpr int kGridM = 7;
  constexpr std::array<double, 5> kGridSigma = {0.02, 0.05, 0.1, 0.25, 0.6};
  for (int i = 0; i < kGridM; ++i) {
    for (double s : kGridSigma) {
      const std::array<double, 2> x = {data.k_min + range * i / (kGridM - 1), std::log(s)};
      const double v = objective(x);
      ++evaluations;
      if (v < best_value) best_value = v, best = x;
    }
  }
  detail::NelderMeadOptions nm;
  nm.x_tolerance = 1e-9;
  nm.max_evaluations = std::max(options.max_evaluations - evaluations, 10);
  auto r = detail::nelder_mead<2>(objective, best, {0.1 * range, 0.3}, nm);
  evaluations += r.evaluations;
  nm.max_evaluations = std::max(options.max_evaluations - evaluations, 10);
  auto r2 = detail::nelder_mead<2>(objective, r.x, {0.01 * range, 0.05}, nm);
  evaluations += r2.evaluations;
  if (r2.value <= r.value) r = r2;

  const double m = std::clamp(r.x[0], m_lo, m_hi);
  const double sigma = std::exp(std::clamp(r.x[1], u_lo, u_hi));
  Vec3 x{};
  if (!std::isfinite(inner_objective(data, m, sigma, options.wing_slope, &x))) return out;
  out.params = to_raw(x, m, sigma);
  out.evaluations = evaluations;
  out.converged = r.converged;
  fill_errors(data, years, out);
  out.ok = std::isfinite(out.rmse_total_variance);
  return out;
}

}  // namespace gw::pricing
