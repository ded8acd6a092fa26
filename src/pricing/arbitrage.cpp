#include "pricing/arbitrage.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace gw::pricing {

double butterfly_g(double k, const SmileValue& v) {
  if (!(v.w > 0)) return -std::numeric_limits<double>::infinity();
  const double t = 1 - k * v.dw / (2 * v.w);
  return t * t - 0.25 * v.dw * v.dw * (1 / v.w + 0.25) + 0.5 * v.d2w;
}

namespace {

std::size_t grid_size(const KGrid& grid) {
  if (!(grid.step > 0) || !(grid.k_max >= grid.k_min)) return 0;
  return static_cast<std::size_t>(std::floor((grid.k_max - grid.k_min) / grid.step + 1e-9)) + 1;
}

double grid_k(const KGrid& grid, std::size_t i) {
  return grid.k_min + static_cast<double>(i) * grid.step;
}

// The sign change of g between lo (sign of g(lo) given) and hi, to near machine precision.
double refine_root(const SmileFunction& smile, double lo, double hi, bool lo_negative) {
  for (int i = 0; i < 60 && hi - lo > 1e-15 * (1 + std::abs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    if ((butterfly_g(mid, smile(mid)) < 0) == lo_negative) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

}  // namespace

ButterflyReport check_butterfly(const SmileFunction& smile, const KGrid& grid) {
  ButterflyReport report;
  report.min_g = std::numeric_limits<double>::infinity();
  const std::size_t n = grid_size(grid);
  bool prev_negative = false;
  double prev_k = grid.k_min;
  for (std::size_t i = 0; i < n; ++i) {
    const double k = grid_k(grid, i);
    const double g = butterfly_g(k, smile(k));
    if (g < report.min_g) report.min_g = g, report.k_at_min = k;
    const bool negative = !(g >= 0);  // NaN counts as a violation
    if (negative && !prev_negative) {
      const double lo = i == 0 ? k : refine_root(smile, prev_k, k, false);
      report.negative.push_back({lo, k});
    }
    if (!negative && prev_negative) report.negative.back().hi = refine_root(smile, prev_k, k, true);
    if (negative && i + 1 == n) report.negative.back().hi = k;
    prev_negative = negative;
    prev_k = k;
  }
  report.arbitrage_free = report.negative.empty();
  return report;
}

ButterflyReport check_butterfly(const SviParams& p, const KGrid& grid) {
  return check_butterfly(
      [&p](double k) {
        return SmileValue{svi_total_variance(p, k), svi_dw(p, k), svi_d2w(p, k)};
      },
      grid);
}

CalendarReport check_calendar(std::span<const CalendarSlice> slices, const KGrid& grid,
                              double tolerance) {
  CalendarReport report;
  std::vector<const CalendarSlice*> sorted;
  for (const CalendarSlice& s : slices) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [](const CalendarSlice* x, const CalendarSlice* y) { return x->years < y->years; });
  const std::size_t n = grid_size(grid);
  for (std::size_t s = 0; s + 1 < sorted.size(); ++s) {
    const CalendarSlice& near = *sorted[s];
    const CalendarSlice& far = *sorted[s + 1];
    bool open = false;
    for (std::size_t i = 0; i < n; ++i) {
      const double k = grid_k(grid, i);
      const double excess = near.total_variance(k) - far.total_variance(k);
      if (!(excess <= tolerance)) {
        if (!open) report.violations.push_back({near.years, far.years, k, k, k, excess});
        CalendarViolation& v = report.violations.back();
        v.k_hi = k;
        if (excess > v.amount) v.amount = excess, v.k_worst = k;
      }
      open = !(excess <= tolerance);
    }
  }
  report.arbitrage_free = report.violations.empty();
  return report;
}

}  // namespace gw::pricing
