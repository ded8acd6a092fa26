// An account's positions as the venue reports them (get_account, get_position) and the totals
// Deribit sums from them (PortfolioRisk, sim_events.hpp): one definition, used by the venue for
// both private/get_account_summary's snapshot and the Portfolio events of user.portfolio, so
// that the two agree with each other and with get_positions' rows.
#pragma once

#include "market/instrument.hpp"
#include "sim/sim_events.hpp"

namespace gw::sim {

struct PositionSnapshot {
  InstrumentId instrument = 0;
  Lots size = 0;
  double average_price = 0;
  double mark_price = 0;
  double floating_pnl = 0;
  double realized_pnl = 0;
};

// The market of an option an account holds, computed at the snapshot's instant with its
// ticker's inputs (what its next ticker would publish), so that Greeks and revaluations agree
// with the positions.
struct OptionMarket {
  InstrumentId instrument = 0;
  double mark_iv = 0;           // percent
  double underlying_price = 0;  // the expiry's forward (USD)
  TickerGreeks greeks;          // per contract
};

// size_currency: futures' USD size in coin at the mark (the average price while no mark is
// known), options' size itself. Signed like size.
double size_in_currency(const market::Instrument& instrument, const PositionSnapshot& p);
// delta: size_currency for futures, size × the option's delta for options (coin).
double position_delta(const market::Instrument& instrument, const PositionSnapshot& p,
                      const TickerGreeks& greeks);

// Adds one position (flat ones count for realised PnL) to `risk`. `greeks`: the option's, per
// contract (null for futures, and for an option without a market: no Greeks, still its value);
// `expires_first`: the instrument expires at its currency's closest expiry, so it is left out of
// projected_delta_total.
void add_position_risk(PortfolioRisk& risk, const market::Instrument& instrument,
                       const PositionSnapshot& p, const TickerGreeks* greeks, bool expires_first);

}  // namespace gw::sim
