// Zero-intelligence noise traders in the style of Cont, Stoikov & Talreja (2010). In every
// listed instrument, limit orders, market orders and cancellations arrive as independent
// Poisson processes:
//
//  - limit orders at distance i ∈ 1..depth ticks behind the best price of their own side
//    (1 joins the best) at λ(i) = k/i^α per side;
//  - market orders at μ per side, for at most what rests at the opposite best (so a "market
//    order" takes the best level, as in the model, instead of sweeping a thin options book);
//  - each resting noise order at distance i is cancelled at rate θ(i) (θ(10) beyond 10).
//
// All of them together are one Poisson process whose rate is the sum of the parts, so the
// venue draws one exponential waiting time for the next noise event of the whole market and
// then what it is (Gillespie's direct method): an arrival's instrument by its weight (a binary
// search in the cumulative weights of its kind), a cancellation's order uniformly among the
// resting noise orders. The distance of a resting order changes as the book moves, so
// cancellations are drawn by thinning: candidates at θ_max per order, each accepted with
// probability θ(i)/θ_max at its current distance i.
//
// Rates are per second of simulated time, scaled per kind (NoiseParams) and per instrument by a
// weight that the caller sets (activity concentrates near the money and in short expiries, as
// on real venues). Sizes are geometric with the configured mean. Each instrument's orders come
// from a few accounts of its own, drawn at random (so a market order sometimes meets its own
// account's resting order, and self-trade prevention cancels that one: the engine reports it
// like any cancel).
#pragma once

#include <vector>

#include "market/engine.hpp"
#include "sim/config.hpp"
#include "sim/rng.hpp"

namespace gw::sim {

class NoiseTraders {
 public:
  struct Order {
    market::OrderId id = 0;
    market::AccountId account = 0;
    market::InstrumentId instrument = 0;
    market::Side side = market::Side::buy;
    market::Ticks price = 0;
  };
  // One instrument as the noise traders see it.
  struct Market {
    market::InstrumentId instrument = 0;
    market::AccountId first_account = 0;
    double mean_lots = 1;        // mean order size
    double reference_ticks = 0;  // prices limit orders when the book is empty (the model)
    double weight = 1;           // arrival-rate multiplier
    double log_q = 0;            // ln(1 − 1/mean_lots), set by add(): sizes are geometric
    market::TickGrid grid;
    bool option = false;
    bool active = false;
  };

  NoiseTraders(const NoiseParams& params, Rng rng);

  // Instruments enter when listed and leave when they expire (their orders are cancelled by
  // the caller; the terminal events remove them here).
  void add(const Market& market);
  void remove(market::InstrumentId id);
  Market* market(market::InstrumentId id);
  void set_weight(market::InstrumentId id, double weight);

  // Events per second of simulated time, over the whole venue, now.
  double rate();
  // Waiting time (seconds) to the next noise event of the venue at `rate` (= rate(), > 0).
  double next_interval(double rate) { return rng_.exponential(rate); }
  // One noise event: its kind and instrument drawn by their rates.
  void act(market::Engine& engine, market::TimestampMs now);
  // An engine OrderUpdate of a noise account: forgets the order once it is terminal (and
  // notes the latest one, which tells place_limit() whether its order rests).
  void on_order(const market::OrderUpdate& update);

  std::size_t resting() const { return resting_.size(); }
  std::size_t resting(market::InstrumentId id) const;  // O(n): tests
  const NoiseParams& params() const { return params_; }

 private:
  void place_limit(market::Engine& engine, const Market& m, market::TimestampMs now);
  void place_market(market::Engine& engine, const Market& m, market::TimestampMs now);
  void maybe_cancel(market::Engine& engine, market::TimestampMs now);
  market::AccountId pick_account(const Market& m);
  double arrival_rate(bool option) const;  // limit + market, per unit of weight
  // The cumulative weights, when stale (inline: it runs twice per noise event, and they are
  // almost never stale).
  void refresh() {
    if (kinds_[0].stale || kinds_[1].stale) recompute_cumulative();
  }
  void recompute_cumulative();

  // The active instruments of a kind (0 futures, 1 options) and their cumulative weights.
  struct Kind {
    std::vector<market::InstrumentId> ids;
    std::vector<double> cumulative;
    bool stale = false;
    double total() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };

  NoiseParams params_;
  Rng rng_;
  std::vector<double> limit_cdf_;  // cumulative λ(i), i = 1..depth
  double limit_rate_ = 0;          // Σ λ(i) per side
  double theta_max_ = 0;
  std::vector<Market> markets_;  // by instrument id
  Kind kinds_[2];
  std::vector<Order> resting_;   // every resting noise order
  market::IdMap where_;          // order id → index in resting_
  market::OrderId last_id_ = 0;  // the order of the latest update, and whether it was open
  bool last_open_ = false;
};

// How many ticks behind the best price of its side an order rests (1: at the best).
int distance_from_best(const market::Book& book, const market::TickGrid& grid, market::Side side,
                       market::Ticks price);

}  // namespace gw::sim
