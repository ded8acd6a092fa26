#include "market/risk_matrix.hpp"

#include <algorithm>
#include <cmath>

#include "pricing/deribit.hpp"

namespace gw::market {

namespace {

pricing::OptionType pricing_type(OptionType t) {
  return t == OptionType::put ? pricing::OptionType::put : pricing::OptionType::call;
}

bool has_market(const RiskPosition& p) {
  return p.kind == Kind::future ? p.mark > 0 : p.forward > 0 && p.strike > 0;
}

RiskGridError check_grid(std::span<const double> grid, double low, bool low_inclusive,
                         double high) {
  if (grid.empty()) return RiskGridError::empty;
  if (grid.size() > kMaxRiskGridPoints) return RiskGridError::too_many;
  for (double x : grid) {
    const bool above_low = low_inclusive ? x >= low : x > low;
    if (!std::isfinite(x) || !above_low || x > high) return RiskGridError::out_of_range;
  }
  return RiskGridError::none;
}

// An option's value in coin on `forward` at `vol` (its price is USD per coin of underlying, paid
// in coin: ÷ the forward).
double option_value(const RiskPosition& p, double forward, double vol) {
  return pricing::black76_price(pricing_type(p.option_type), forward, p.strike, p.years, vol) /
         forward;
}

double shifted_vol(const RiskPosition& p, double vol_shift) {
  return std::max(p.vol + vol_shift / 100, 0.0);
}

// One position's grid, added into `out` (rows of vol shifts). Options price the centre once
// and each shifted vol once per move.
void add_position(const RiskPosition& p, std::span<const double> moves,
                  std::span<const double> shifts, std::span<double> out) {
  if (!has_market(p) || p.size == 0) return;
  const std::size_t columns = moves.size();
  if (p.kind == Kind::future) {
    for (std::size_t m = 0; m < columns; ++m) {
      const double pnl = p.size * (1 / p.mark - 1 / (p.mark * (1 + moves[m])));
      for (std::size_t v = 0; v < shifts.size(); ++v) out[v * columns + m] += pnl;
    }
    return;
  }
  const double now = option_value(p, p.forward, p.vol);
  for (std::size_t v = 0; v < shifts.size(); ++v) {
    const double vol = shifted_vol(p, shifts[v]);
    for (std::size_t m = 0; m < columns; ++m) {
      const double forward = p.forward * (1 + moves[m]);
      out[v * columns + m] += p.size * (option_value(p, forward, vol) - now);
    }
  }
}

void add(RiskGreeks& total, const RiskGreeks& g) {
  total.delta += g.delta;
  total.gamma += g.gamma;
  total.vega += g.vega;
  total.theta += g.theta;
}

}  // namespace

RiskGridError check_underlying_moves(std::span<const double> moves) {
  return check_grid(moves, -1, false, kMaxUnderlyingMove);
}

RiskGridError check_vol_shifts(std::span<const double> vol_shifts) {
  return check_grid(vol_shifts, -kMaxVolShift, true, kMaxVolShift);
}

double risk_pnl(const RiskPosition& p, double move, double vol_shift) {
  double out = 0;
  add_position(p, {&move, 1}, {&vol_shift, 1}, {&out, 1});
  return out;
}

RiskGreeks risk_greeks(const RiskPosition& p) {
  RiskGreeks g;
  if (!has_market(p)) return g;
  if (p.kind == Kind::future) {
    g.delta = p.size / p.mark;  // the position's size in coin
    return g;
  }
  // As the option's ticker: no Greeks once expired (Deribit's Greeks are per contract × size).
  if (!(p.years > 0)) return g;
  const pricing::DeribitGreeks d =
      pricing::deribit_greeks(pricing_type(p.option_type), p.forward, p.strike, p.years, p.vol);
  g.delta = p.size * d.delta;
  g.gamma = p.size * d.gamma;
  g.vega = p.size * d.vega;
  g.theta = p.size * d.theta;
  return g;
}

RiskMatrix risk_matrix(std::span<const RiskPosition> positions,
                       std::span<const double> underlying_moves, std::span<const double> vol_shifts,
                       bool per_position) {
  const std::size_t cells = underlying_moves.size() * vol_shifts.size();
  RiskMatrix r;
  r.pnl.assign(cells, 0.0);
  if (per_position) {
    r.position_pnl.assign(cells * positions.size(), 0.0);
    r.position_greeks.reserve(positions.size());
  }
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const RiskPosition& p = positions[i];
    const RiskGreeks g = risk_greeks(p);
    add(r.greeks, g);
    if (!per_position) {
      add_position(p, underlying_moves, vol_shifts, r.pnl);
      continue;
    }
    const std::span<double> own(r.position_pnl.data() + i * cells, cells);
    add_position(p, underlying_moves, vol_shifts, own);
    for (std::size_t c = 0; c < cells; ++c) r.pnl[c] += own[c];
    r.position_greeks.push_back(g);
  }
  return r;
}

}  // namespace gw::market
