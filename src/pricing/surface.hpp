// A volatility surface built from per-expiry raw SVI slices or from an SSVI, and the usual
// queries on it: IV by strike or by delta, ATM vol, 25Δ/10Δ risk reversals and butterflies, the
// ATM term structure and strike × expiry grids.
//
// Interpolation in T (at fixed log-moneyness k = ln(K/F(T))):
//  - SVI slices: total variance linear in T between consecutive slices,
//      w(k, T) = w_i(k) + (T − T_i)/(T_{i+1} − T_i)·(w_{i+1}(k) − w_i(k)),
//    which keeps ∂_T w ≥ 0 wherever the slices themselves are calendar-free.
//  - SSVI: θ(T) linear in T between slices, then the SSVI formula at θ(T) (calendar- and
//    butterfly-free whenever the fitted SSVI satisfies its conditions).
//  - Outside [T_first, T_last]: flat in implied vol at fixed k,
//      w(k, T) = w(k, T_edge)·T/T_edge   (T_edge = T_first before, T_last after).
// The forward F(T) is log-linear in T between slices and flat outside.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pricing/arbitrage.hpp"
#include "pricing/black.hpp"
#include "pricing/ssvi.hpp"
#include "pricing/svi.hpp"

namespace gw::pricing {

struct SviSlice {
  double years = 0;
  double forward = 0;
  SviParams params;
};

struct SsviExpiry {
  double years = 0;
  double forward = 0;
  double theta = 0;  // ATM total variance (non-decreasing in years for an arbitrage-free SSVI)
};

// The strike with a given forward delta (undiscounted Black-76: N(d1) for calls, −N(−d1) for
// puts, as black_forward_delta; no premium adjustment).
struct DeltaStrike {
  double k = 0;  // ln(K/F)
  double strike = 0;
  double vol = 0;   // σ_imp at that strike
  bool ok = false;  // false if the target is outside (0, 1) / (−1, 0) or no root was found
};

struct SmileSummary {
  double atm = 0;  // σ(k = 0): ATM-forward vol
  double call25 = 0, put25 = 0, call10 = 0, put10 = 0;
  double rr25 = 0, bf25 = 0;  // RR = σ_C − σ_P, BF = ½(σ_C + σ_P) − σ_ATM
  double rr10 = 0, bf10 = 0;
};

struct TermPoint {
  double years = 0;
  double atm_vol = 0;
};

class VolSurface {
 public:
  VolSurface() = default;
  // Slices with years > 0 and forward > 0, in any order (sorted here; duplicates: last wins).
  static VolSurface from_svi(std::vector<SviSlice> slices);
  static VolSurface from_ssvi(const SsviParams& params, std::vector<SsviExpiry> expiries);

  bool empty() const { return years_.empty(); }
  std::span<const double> expiries() const { return years_; }

  double forward(double years) const;
  SmileValue smile(double k, double years) const;  // w, ∂_k w, ∂²_k w at T
  double total_variance(double k, double years) const { return smile(k, years).w; }
  double implied_vol_k(double k, double years) const;
  double implied_vol(double strike, double years) const;
  double atm_vol(double years) const { return implied_vol_k(0.0, years); }

  // Target delta: in (0, 1) for calls, (−1, 0) for puts (e.g. 0.25 and −0.25).
  DeltaStrike strike_at_delta(OptionType type, double delta, double years) const;
  double risk_reversal(double delta, double years) const;  // σ(+δ call) − σ(−δ put)
  double butterfly(double delta, double years) const;      // ½(σ_C + σ_P) − σ_ATM
  SmileSummary smile_summary(double years) const;

  std::vector<TermPoint> atm_term_structure() const;  // at the slice expiries
  std::vector<TermPoint> atm_term_structure(std::span<const double> years) const;
  // IVs for every (expiry, strike): result[i][j] = σ(strikes[j], years[i]).
  std::vector<std::vector<double>> iv_grid(std::span<const double> strikes,
                                           std::span<const double> years) const;

  ButterflyReport check_butterfly(std::size_t slice, const KGrid& grid = {}) const;
  CalendarReport check_calendar(const KGrid& grid = {}) const;

 private:
  SmileValue slice_smile(std::size_t i, double k) const;

  std::vector<double> years_;
  std::vector<double> forwards_;
  std::vector<SviParams> svi_;  // SVI mode
  std::vector<double> thetas_;  // SSVI mode
  SsviParams ssvi_;
  bool is_ssvi_ = false;
};

}  // namespace gw::pricing
