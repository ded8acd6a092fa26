// Static-arbitrage checks for total-variance smiles w(k) and surfaces w(k, T).
//
// Butterfly (Gatheral & Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14
// (2014), Lemma 2.2): a smile is free of butterfly arbitrage iff the risk-neutral density
// implied by it is non-negative, i.e.
//   g(k) = (1 − k w′/(2w))² − (w′²/4)(1/w + 1/4) + w″/2 ≥ 0,
// (and d₊(k) → −∞ as k → ∞, which the checks here do not test).
// Calendar (ibid., Lemma 2.1): no calendar-spread arbitrage iff ∂_T w(k, T) ≥ 0 for every k.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "pricing/svi.hpp"

namespace gw::pricing {

// A uniform log-moneyness grid k_min, k_min + step, ..., ≤ k_max.
struct KGrid {
  double k_min = -3;
  double k_max = 3;
  double step = 1e-3;
};

// w, w′ and w″ of a smile at one k.
struct SmileValue {
  double w = 0;
  double dw = 0;
  double d2w = 0;
};
using SmileFunction = std::function<SmileValue(double k)>;

// The density factor g(k) above; −∞ where w ≤ 0 (no total variance is itself an arbitrage).
double butterfly_g(double k, const SmileValue& v);

struct KInterval {
  double lo = 0;
  double hi = 0;
};

struct ButterflyReport {
  bool arbitrage_free = true;
  double min_g = 0;                 // smallest g on the grid
  double k_at_min = 0;              // where it is attained
  std::vector<KInterval> negative;  // maximal intervals with g < 0, ends refined by bisection
};

ButterflyReport check_butterfly(const SmileFunction& smile, const KGrid& grid = {});
ButterflyReport check_butterfly(const SviParams& p, const KGrid& grid = {});

// One expiry of a surface for the calendar check: w(k) at time `years`.
struct CalendarSlice {
  double years = 0;
  std::function<double(double k)> total_variance;
};

// A k-interval on which the nearer slice has more total variance than the farther one.
struct CalendarViolation {
  double years_near = 0;
  double years_far = 0;
  double k_lo = 0;  // grid points spanned by the violation
  double k_hi = 0;
  double k_worst = 0;  // where w_near − w_far is largest
  double amount = 0;   // that largest w_near − w_far (> 0)
};

struct CalendarReport {
  bool arbitrage_free = true;
  std::vector<CalendarViolation> violations;
};

// Checks w(k, Tᵢ) ≤ w(k, Tᵢ₊₁) on the grid for consecutive slices (sorted by `years` here).
// Differences below `tolerance` in total variance are ignored.
CalendarReport check_calendar(std::span<const CalendarSlice> slices, const KGrid& grid = {},
                              double tolerance = 1e-12);

}  // namespace gw::pricing
