// The risk matrix of private/get_risk_matrix (greekwire's extension, docs/PROTOCOL.md): an
// account's positions in one currency revalued over a grid of underlying moves and volatility
// shifts, and their Greeks, with the pricing library. Pure functions of plain data, so they are
// tested without a venue or a socket.
//
// Revaluation. A move m shifts every price of the currency by the same fraction (index, forwards,
// futures' marks all × (1 + m)); a vol shift s (vol points) adds s/100 to every option's σ. PnL is
// in coin (BTC, ETH), against the positions' value now, so the cell m = 0, s = 0 is exactly 0:
//  - futures and perpetuals are inverse: q USD (signed) marked at P gain q·(1/P − 1/P′) coin at
//    P′ = P(1 + m), the account's floating PnL formula (market/account.hpp) with the mark as the
//    entry; vol shifts do not move them;
//  - options: Black-76 on the forward F′ = F(1 + m) at σ′ = max(σ + s/100, 0), σ the position's
//    mark IV, T its time to expiry, in coin (the USD price ÷ F′, pricing/deribit.hpp):
//    PnL = size · (V(F′, σ′) − V(F, σ)).
// An option without a forward (no market for it) or a future without a mark is held at its value
// (PnL 0, Greeks 0).
//
// Greeks, in Deribit's units and as private/get_positions reports them per position: delta in
// coin (futures q/P, options size·N(d1) or size·(N(d1) − 1)), gamma size·Γ per USD, vega size·USD
// per vol point, theta size·USD per day (pricing::deribit_greeks at the mark IV on the forward).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "market/types.hpp"

namespace gw::market {

struct RiskPosition {
  Kind kind = Kind::future;
  OptionType option_type = OptionType::none;
  double size = 0;     // signed: USD for futures, coin for options
  double mark = 0;     // futures: the mark price (USD)
  double strike = 0;   // options
  double forward = 0;  // options: the expiry's forward (USD); 0: unknown
  double years = 0;    // options: to expiry (ACT/365)
  double vol = 0;      // options: the mark IV as a fraction (0.55 for 55 %)
};

struct RiskGreeks {
  double delta = 0;  // coin
  double gamma = 0;  // per USD
  double vega = 0;   // USD per vol point
  double theta = 0;  // USD per day
};

// The grids a request may ask for: 1 to 41 points each; moves in (−1, 10] (a price cannot
// fall below zero; +1000 % is far beyond any stress), vol shifts in [−1000, 1000] points.
inline constexpr std::size_t kMaxRiskGridPoints = 41;
inline constexpr double kMaxUnderlyingMove = 10;
inline constexpr double kMaxVolShift = 1000;

enum class RiskGridError : std::uint8_t { none, empty, too_many, out_of_range };
RiskGridError check_underlying_moves(std::span<const double> moves);
RiskGridError check_vol_shifts(std::span<const double> vol_shifts);

// One position's PnL (coin) for one move and one vol shift.
double risk_pnl(const RiskPosition& p, double move, double vol_shift);
RiskGreeks risk_greeks(const RiskPosition& p);

// Grids are rows of vol shifts, columns of moves: cell (v, m) at [v · moves.size() + m].
struct RiskMatrix {
  std::vector<double> pnl;  // Σ over the positions
  RiskGreeks greeks;        // Σ over the positions
  // With per_position: each position's grid (positions × cells, in the positions' order) and
  // Greeks.
  std::vector<double> position_pnl;
  std::vector<RiskGreeks> position_greeks;
};

// The grids must have passed the checks above.
RiskMatrix risk_matrix(std::span<const RiskPosition> positions,
                       std::span<const double> underlying_moves, std::span<const double> vol_shifts,
                       bool per_position = false);

}  // namespace gw::market
