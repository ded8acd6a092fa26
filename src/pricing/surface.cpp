#include "pricing/surface.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

namespace gw::pricing {

namespace {

template <typename T>
void sort_and_dedupe(std::vector<T>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& x, const T& y) { return x.years < y.years; });
  std::vector<T> out;
  for (const T& item : v) {
    if (!(item.years > 0) || !(item.forward > 0)) continue;
    if (!out.empty() && out.back().years == item.years) {
      out.back() = item;
    } else {
      out.push_back(item);
    }
  }
  v = std::move(out);
}

// Index i of the slice pair [T_i, T_{i+1}] bracketing T (T_0 ≤ T ≤ T_last).
std::size_t bracket(const std::vector<double>& years, double t) {
  const auto it = std::upper_bound(years.begin(), years.end(), t);
  const std::size_t i = static_cast<std::size_t>(it - years.begin());
  return std::min(i == 0 ? 0 : i - 1, years.size() - 2);
}

SmileValue scaled(const SmileValue& v, double f) {
  return {v.w * f, v.dw * f, v.d2w * f};
}

SmileValue mix(const SmileValue& x, const SmileValue& y, double u) {
  return {x.w + u * (y.w - x.w), x.dw + u * (y.dw - x.dw), x.d2w + u * (y.d2w - x.d2w)};
}

}  // namespace

VolSurface VolSurface::from_svi(std::vector<SviSlice> slices) {
  sort_and_dedupe(slices);
  VolSurface s;
  for (const SviSlice& slice : slices) {
    s.years_.push_back(slice.years);
    s.forwards_.push_back(slice.forward);
    s.svi_.push_back(slice.params);
  }
  return s;
}

VolSurface VolSurface::from_ssvi(const SsviParams& params, std::vector<SsviExpiry> expiries) {
  sort_and_dedupe(expiries);
  VolSurface s;
  s.is_ssvi_ = true;
  s.ssvi_ = params;
  for (const SsviExpiry& e : expiries) {
    s.years_.push_back(e.years);
    s.forwards_.push_back(e.forward);
    s.thetas_.push_back(e.theta);
  }
  return s;
}

double VolSurface::forward(double years) const {
  if (empty()) return 0;
  if (years <= years_.front()) return forwards_.front();
  if (years >= years_.back()) return forwards_.back();
  const std::size_t i = bracket(years_, years);
  const double u = (years - years_[i]) / (years_[i + 1] - years_[i]);
  return std::exp(std::log(forwards_[i]) + u * std::log(forwards_[i + 1] / forwards_[i]));
}

SmileValue VolSurface::slice_smile(std::size_t i, double k) const {
  if (is_ssvi_) return ssvi_smile(ssvi_, thetas_[i], k);
  const SviParams& p = svi_[i];
  return {svi_total_variance(p, k), svi_dw(p, k), svi_d2w(p, k)};
}

SmileValue VolSurface::smile(double k, double years) const {
  if (empty() || !(years > 0)) return {};
  // Flat vol at fixed k outside the slices: σ² = w/T constant, so w scales with T.
  if (years <= years_.front()) return scaled(slice_smile(0, k), years / years_.front());
  const std::size_t last = years_.size() - 1;
  if (years >= years_.back()) return scaled(slice_smile(last, k), years / years_.back());
  const std::size_t i = bracket(years_, years);
  const double u = (years - years_[i]) / (years_[i + 1] - years_[i]);
  if (is_ssvi_) return ssvi_smile(ssvi_, thetas_[i] + u * (thetas_[i + 1] - thetas_[i]), k);
  return mix(slice_smile(i, k), slice_smile(i + 1, k), u);
}

double VolSurface::implied_vol_k(double k, double years) const {
  const double w = total_variance(k, years);
  return w > 0 && years > 0 ? std::sqrt(w / years) : 0.0;
}

double VolSurface::implied_vol(double strike, double years) const {
  if (!(strike > 0) || empty()) return 0;
  return implied_vol_k(std::log(strike / forward(years)), years);
}

DeltaStrike VolSurface::strike_at_delta(OptionType type, double delta, double years) const {
  DeltaStrike out;
  const bool call = type == OptionType::call;
  if (empty() || !(years > 0) || (call ? !(delta > 0 && delta < 1) : !(delta > -1 && delta < 0))) {
    return out;
  }
  const double f = forward(years);
  // Δ(k) − target, with Δ the forward delta at the smile's own vol: both N(d1) and N(d1) − 1
  // decrease in k for any smile whose d1(k) = −k/√w + √w/2 is decreasing (true for the
  // usual smiles; a bracketing search still finds a root otherwise).
  auto excess = [&](double k) {
    const double w = std::max(total_variance(k, years), 0.0);
    return black_forward_delta(type, f, f * std::exp(k), std::sqrt(w)) - delta;
  };
  // dΔ/dk = n(d1)·d1′(k), d1′ = −1/s + k s′/s² + s′/2 with s = √w and s′ = w′/(2s).
  auto slope = [&](double k) {
    const SmileValue v = smile(k, years);
    const double s = std::sqrt(std::max(v.w, 1e-300));
    const double ds = v.dw / (2 * s);
    const double d1 = -k / s + s / 2;
    return std::exp(-0.5 * d1 * d1) / std::sqrt(2 * std::numbers::pi) *
           (-1 / s + k * ds / (s * s) + ds / 2);
  };
  // Bracket [lo, hi] with excess(lo) > 0 > excess(hi), expanding from the money.
  double lo = 0, hi = 0;
  double step = std::max(0.1 * std::sqrt(std::max(total_variance(0, years), 1e-8)), 1e-3);
  const bool root_above = excess(0) > 0;
  for (int i = 0; i < 60; ++i, step *= 2) {
    if (root_above) {
      lo = hi, hi = step;
      if (excess(hi) <= 0) break;
    } else {
      hi = lo, lo = -step;
      if (excess(lo) >= 0) break;
    }
    if (i == 59) return out;
  }
  // Safeguarded Newton: a Newton step that leaves the bracket (or a bad slope) is replaced by
  // bisection; the bracket shrinks at every step.
  double k = 0.5 * (lo + hi);
  for (int i = 0; i < 200; ++i) {
    const double e = excess(k);
    if (e == 0) break;
    (e > 0 ? lo : hi) = k;
    const double d = slope(k);
    double next = d < 0 ? k - e / d : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - k) <= 1e-15 * (1 + std::abs(k))) {
      k = next;
      break;
    }
    k = next;
  }
  out.k = k;
  out.strike = f * std::exp(k);
  out.vol = implied_vol_k(k, years);
  out.ok = std::abs(excess(k)) < 1e-9;
  return out;
}

double VolSurface::risk_reversal(double delta, double years) const {
  return strike_at_delta(OptionType::call, delta, years).vol -
         strike_at_delta(OptionType::put, -delta, years).vol;
}

double VolSurface::butterfly(double delta, double years) const {
  return 0.5 * (strike_at_delta(OptionType::call, delta, years).vol +
                strike_at_delta(OptionType::put, -delta, years).vol) -
         atm_vol(years);
}

SmileSummary VolSurface::smile_summary(double years) const {
  SmileSummary s;
  s.atm = atm_vol(years);
  s.call25 = strike_at_delta(OptionType::call, 0.25, years).vol;
  s.put25 = strike_at_delta(OptionType::put, -0.25, years).vol;
  s.call10 = strike_at_delta(OptionType::call, 0.10, years).vol;
  s.put10 = strike_at_delta(OptionType::put, -0.10, years).vol;
  s.rr25 = s.call25 - s.put25;
  s.bf25 = 0.5 * (s.call25 + s.put25) - s.atm;
  s.rr10 = s.call10 - s.put10;
  s.bf10 = 0.5 * (s.call10 + s.put10) - s.atm;
  return s;
}

std::vector<TermPoint> VolSurface::atm_term_structure() const {
  return atm_term_structure(years_);
}

std::vector<TermPoint> VolSurface::atm_term_structure(std::span<const double> years) const {
  std::vector<TermPoint> out;
  out.reserve(years.size());
  for (double t : years) out.push_back({t, atm_vol(t)});
  return out;
}

std::vector<std::vector<double>> VolSurface::iv_grid(std::span<const double> strikes,
                                                     std::span<const double> years) const {
  std::vector<std::vector<double>> out;
  out.reserve(years.size());
  for (double t : years) {
    std::vector<double>& row = out.emplace_back();
    row.reserve(strikes.size());
    for (double strike : strikes) row.push_back(implied_vol(strike, t));
  }
  return out;
}

ButterflyReport VolSurface::check_butterfly(std::size_t slice, const KGrid& grid) const {
  if (slice >= years_.size()) return {};
  return pricing::check_butterfly([this, slice](double k) { return slice_smile(slice, k); }, grid);
}

CalendarReport VolSurface::check_calendar(const KGrid& grid) const {
  std::vector<CalendarSlice> slices;
  for (std::size_t i = 0; i < years_.size(); ++i) {
    slices.push_back({years_[i], [this, i](double k) { return slice_smile(i, k).w; }});
  }
  return pricing::check_calendar(slices, grid);
}

}  // namespace gw::pricing
