// The simulated market makers: one two-sided quote per listed instrument, around the model.
//
//  - Options: fair = Black-76(F, K, T, σ_SSVI(ln K/F, T)) / F in coin (Deribit's convention),
//    half-spread = max(tick, c·vega) with vega per 1.00 of vol in coin, so every option's
//    spread is the same width in vol points until the tick floor takes over.
//  - Futures and perpetuals: fair = index·e^{basis·T} (perpetual: index·(1 + premium)),
//    half-spread = max(tick, c·fair).
//  - The bid is the fair value minus the half-spread rounded down onto the tick grid, the ask
//    rounded up, so bid < fair < ask always holds for the model price.
//
// Requoting edits the resting order (private/edit): a new price sends it to the back of its
// new level, the engine matches it if it now crosses (a maker taking a stale noise order), and
// a partly filled quote is topped up. Each side is touched only when its target price changed
// or too little of it rests, so most index steps move only the options whose rounded quotes
// moved.
#pragma once

#include <cstdint>

#include "market/engine.hpp"
#include "pricing/black.hpp"
#include "sim/config.hpp"
#include "sim/rng.hpp"

namespace gw::sim {

// A two-sided target: prices in ticks, 0 where that side is not quoted.
struct Quote {
  market::Ticks bid = 0;
  market::Ticks ask = 0;
};

// Rounds fair ∓ half onto the grid (down for the bid, up for the ask). Values in ticks; the
// half-spread is floored at the tick that applies at the fair price. A bid that would be ≤ 0 is
// not quoted.
Quote make_quote(const market::TickGrid& grid, double fair_ticks, double half_spread_ticks);

struct OptionValue {
  double price = 0;  // coin per coin (USD Black-76 price / F)
  double vega = 0;   // coin per 1.00 of vol
};
OptionValue option_value(pricing::OptionType type, double forward, double strike, double years,
                         double vol);

class MarketMaker {
 public:
  struct Side {
    market::OrderId id = 0;  // 0: no order
    market::Ticks price = 0;
    market::Lots amount = 0;  // total, filled included (what private/edit takes)
    market::Lots filled = 0;
  };
  // The maker's state in one instrument.
  struct Book {
    market::InstrumentId instrument = 0;
    market::AccountId account = 0;
    Side bid;
    Side ask;
  };

  MarketMaker(const MakerParams& params, Rng rng) : params_(params), rng_(rng) {}

  // Moves the book's quotes to `target` with sizes around `size` lots.
  void requote(market::Engine& engine, Book& book, const Quote& target, double size,
               market::TimestampMs now);
  void cancel(market::Engine& engine, Book& book, market::TimestampMs now);
  // The engine's OrderUpdate of one of the book's orders (from the event sink).
  static void on_order(Book& book, const market::OrderUpdate& update);

  const MakerParams& params() const { return params_; }

 private:
  void quote_side(market::Engine& engine, Book& book, Side& side, market::Side which,
                  market::Ticks price, double size, market::TimestampMs now);

  MakerParams params_;
  Rng rng_;
};

}  // namespace gw::sim
