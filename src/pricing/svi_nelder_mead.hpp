// Internal: a small fixed-dimension Nelder–Mead minimiser shared by the SVI and SSVI fits.
//
// Standard coefficients (reflection 1, expansion 2, contraction ½, shrink ½) as in Nelder & Mead,
// "A simplex method for function minimization", Computer Journal 7 (1965), with the
// inside/outside contraction variants of Lagarias et al., SIAM J. Optim. 9 (1998). Constraints
// are the caller's business (clamp or reparametrise inside the objective).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace gw::pricing::detail {

template <std::size_t N>
struct NelderMeadResult {
  std::array<double, N> x{};
  double value = 0;
  int evaluations = 0;
  bool converged = false;
};

struct NelderMeadOptions {
  double x_tolerance = 1e-10;  // stop when every vertex is this close to the best (max norm)
  double f_tolerance = 0;      // ... or the values differ by at most this (absolute)
  int max_evaluations = 2000;
};

// Minimises f from `start`, with an initial simplex of `start` plus start + step[i]·e_i.
template <std::size_t N, typename F>
NelderMeadResult<N> nelder_mead(F&& f, const std::array<double, N>& start,
                                const std::array<double, N>& step,
                                const NelderMeadOptions& options = {}) {
  using Point = std::array<double, N>;
  std::array<Point, N + 1> p{};
  std::array<double, N + 1> v{};
  int evaluations = 0;
  auto eval = [&](const Point& x) {
    ++evaluations;
    return f(x);
  };
  p[0] = start;
  for (std::size_t i = 0; i < N; ++i) {
    p[i + 1] = start;
    p[i + 1][i] += step[i];
  }
  for (std::size_t i = 0; i <= N; ++i) v[i] = eval(p[i]);

  // x_c + t·(x_c − x_worst), the basic move along the line through the worst vertex.
  auto along = [](const Point& centroid, const Point& worst, double t) {
    Point out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = centroid[i] + t * (centroid[i] - worst[i]);
    return out;
  };

  bool converged = false;
  while (evaluations < options.max_evaluations) {
    // Order the vertices: insertion sort on N+1 ≤ 4 elements.
    for (std::size_t i = 1; i <= N; ++i) {
      for (std::size_t j = i; j > 0 && v[j] < v[j - 1]; --j) {
        std::swap(v[j], v[j - 1]);
        std::swap(p[j], p[j - 1]);
      }
    }
    double size = 0;
    for (std::size_t i = 1; i <= N; ++i) {
      for (std::size_t j = 0; j < N; ++j) size = std::max(size, std::abs(p[i][j] - p[0][j]));
    }
    if (size <= options.x_tolerance || v[N] - v[0] <= options.f_tolerance) {
      converged = true;
      break;
    }
    Point centroid{};
    for (std::size_t i = 0; i < N; ++i) {
      for (std::size_t j = 0; j < N; ++j) centroid[j] += p[i][j] / static_cast<double>(N);
    }
    const Point reflected = along(centroid, p[N], 1.0);
    const double fr = eval(reflected);
    if (fr < v[0]) {
      const Point expanded = along(centroid, p[N], 2.0);
      const double fe = eval(expanded);
      if (fe < fr) {
        p[N] = expanded, v[N] = fe;
      } else {
        p[N] = reflected, v[N] = fr;
      }
      continue;
    }
    if (fr < v[N - 1]) {
      p[N] = reflected, v[N] = fr;
      continue;
    }
    // Contraction: outside if the reflection improved on the worst, inside otherwise.
    const bool outside = fr < v[N];
    const Point contracted = along(centroid, p[N], outside ? 0.5 : -0.5);
    const double fc = eval(contracted);
    if (fc < (outside ? fr : v[N])) {
      p[N] = contracted, v[N] = fc;
      continue;
    }
    for (std::size_t i = 1; i <= N; ++i) {  // shrink towards the best vertex
      for (std::size_t j = 0; j < N; ++j) p[i][j] = p[0][j] + 0.5 * (p[i][j] - p[0][j]);
      v[i] = eval(p[i]);
    }
  }
  const std::size_t best =
      static_cast<std::size_t>(std::min_element(v.begin(), v.end()) - v.begin());
  return {p[best], v[best], evaluations, converged};
}

}  // namespace gw::pricing::detail
