#include "sim/portfolio.hpp"

namespace gw::sim {

double size_in_currency(const market::Instrument& instrument, const PositionSnapshot& p) {
  const double size = instrument.to_amount(p.size);
  if (instrument.kind == market::Kind::option) return size;
  const double price = p.mark_price > 0 ? p.mark_price : p.average_price;
  return price > 0 ? size / price : 0.0;
}

double position_delta(const market::Instrument& instrument, const PositionSnapshot& p,
                      const TickerGreeks& greeks) {
  if (instrument.kind == market::Kind::future) return size_in_currency(instrument, p);
  return instrument.to_amount(p.size) * greeks.delta;
}

void add_position_risk(PortfolioRisk& risk, const market::Instrument& instrument,
                       const PositionSnapshot& p, const TickerGreeks* greeks, bool expires_first) {
  const TickerGreeks g = greeks != nullptr ? *greeks : TickerGreeks{};
  const double delta = position_delta(instrument, p, g);
  if (instrument.kind == market::Kind::future) {
    risk.delta_total += delta;
    if (!expires_first) risk.projected_delta_total += delta;
    risk.futures_session_upl += p.floating_pnl;
    risk.futures_session_rpl += p.realized_pnl;
    if (p.size != 0) ++risk.open_futures;
    return;
  }
  const double size = instrument.to_amount(p.size);
  const double value = size * p.mark_price;
  // The premium is coin: holding the option is its delta less the coin it is worth.
  const double net_delta = delta - value;
  risk.delta_total += net_delta;
  if (!expires_first) risk.projected_delta_total += net_delta;
  risk.options_delta += delta;
  risk.options_gamma += size * g.gamma;
  risk.options_vega += size * g.vega;
  risk.options_theta += size * g.theta;
  risk.options_value += value;
  risk.options_session_upl += p.floating_pnl;
  risk.options_session_rpl += p.realized_pnl;
  if (p.size != 0) ++risk.open_options;
}

}  // namespace gw::sim
