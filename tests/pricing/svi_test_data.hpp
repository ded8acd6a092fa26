// Synthetic smiles for the SVI/SSVI/surface tests: exact or with seeded Gaussian noise in vol.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "pricing/svi.hpp"

namespace gw::pricing::testing {

// Box–Muller on std::mt19937_64 (whose output sequence is fixed by the standard, unlike
// std::normal_distribution's), so the noise is the same with every standard library.
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : rng_(seed) {}
  double operator()() {
    const double u1 = (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 rng_;
};

inline std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(lo + (hi - lo) * i / (n - 1));
  return out;
}

// n points of the smile p on k ∈ [lo, hi] at maturity T, vol perturbed by noise_vol·N(0, 1).
inline std::vector<SviPoint> svi_points(const SviParams& p, double years, int n, double lo,
                                        double hi, double noise_vol = 0, std::uint64_t seed = 1) {
  Gaussian gauss(seed);
  std::vector<SviPoint> out;
  for (double k : linspace(lo, hi, n)) {
    const double vol = svi_implied_vol(p, k, years) + noise_vol * gauss();
    out.push_back({k, vol * vol * years, 1.0});
  }
  return out;
}

}  // namespace gw::pricing::testing
