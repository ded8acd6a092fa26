// Tables of the implied-volatility solver (implied_vol.cpp):
//  - Mills' ratio M(z) = N(−z)/n(z) to a few ulp, and differences M(z₁) − M(z₂) without
//    cancellation: the solver's one special function;
//  - initial guesses for Jäckel's lowest and middle branches, and the bounds between the
//    branches, tabulated over (|x|, β) for 0.0113 ≤ |x| ≤ 4.5.
//
// Both legs of the normalised Black function share the density b'(s) (Jäckel, "Let's Be
// Rational": e^{x/2}·n(h+t) = e^{−x/2}·n(h−t) = b'(s) with h = x/s, t = s/2), so
//   b(x, s) = b'(s)·[M(−h−t) − M(t−h)],   b_max − b(x, s) = b'(s)·[M(h+t) + M(t−h)],
// and with M tabulated no erfc, and no exp beyond the one in b', is needed. The difference
// form keeps b accurate where its two legs nearly cancel (small s, Jäckel's "small-t" region),
// which the plain difference of two M values would not.
#pragma once

#include <optional>

namespace gw::pricing::iv_detail {

// M(z) = N(−z)/n(z) = √(π/2)·erfcx(z/√2) for any z (relative error below 7e-16 for z ≥ −1;
// below, the reflection M(z) = √(2π)·e^{z²/2} − M(−z) loses at most a bit).
double mills_ratio(double z);

// M(a − t) − M(a + t) for t ≥ 0 and a − t ≥ −1, to ~5e-15 relative however small t is.
double mills_ratio_difference(double a, double t);

// Tabulated initial guesses, for 0.0113 ≤ |x| ≤ 4.5 (c = √(2|x|) = s_c from 0.15 to 3). Each
// returns nothing outside its table, and the solver then falls back to Jäckel's guess.
//
// Jäckel's branch bounds b_l/b_max and b_u/b_max (relative error ~1e-8) as functions of c, on
// kBoundNc nodes c_i = kBoundC0 + i·kBoundCStep.
struct BranchBounds {
  double p_l, p_u;
};
std::optional<BranchBounds> branch_bounds(double c);
inline constexpr int kBoundNc = 41;
inline constexpr double kBoundC0 = 0.15;
inline constexpr double kBoundCStep = 0.07125;  // 2.85/40

// Lowest branch (β < b_l), with λ = √(−2·ln(β/b_max)): the ratio s/s_asym of the implied
// s = σ√T to its small-price limit s_asym = |x|/λ (from ln b ≈ −x²/(2s²)), as a function of √c
// and v = 2/λ ∈ [0, 1]; relative error below 2e-4. Nodes: √c_i = kRootC0 + i·kLowestRootCStep,
// v_j = j/(kLowestNv − 1), holding ln(s/s_asym).
std::optional<double> lowest_branch_ratio(double root_c, double v);
inline constexpr double kRootC0 = 0.3872983346207417;  // √0.15
inline constexpr int kLowestNc = 41;
inline constexpr double kLowestRootCStep = 0.03361881182370339;  // (√3 − √0.15)/40
inline constexpr int kLowestNv = 33;

// Middle branches (b_l ≤ β ≤ b_u): ln s as a function of √c and the logit
// w = ln(β/(b_max − β)) ∈ [−7.5, 2.3]; relative error of s below 5e-5. Nodes:
// √c_i = kRootC0 + i·kMiddleRootCStep, w_j = kMiddleW0 + j·kMiddleWStep.
std::optional<double> middle_branch_ln_s(double root_c, double w);
inline constexpr int kMiddleNc = 41;
inline constexpr double kMiddleRootCStep = kLowestRootCStep;
inline constexpr int kMiddleNw = 31;
inline constexpr double kMiddleW0 = -7.5;
inline constexpr double kMiddleWStep = 9.8 / 30;

}  // namespace gw::pricing::iv_detail
