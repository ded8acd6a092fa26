// Tickers (ticker.{instrument}.{interval}): the book's best levels, the mark, and for options
// the bid/ask/mark implied volatilities and Greeks in Deribit's units, all from one set of
// inputs so they agree with each other:
//
//  - mark = the model's fair value clamped into [best bid, best ask] (a side that is empty
//    does not clamp). Without noise orders inside the makers' quotes the clamp does nothing; with
//    them, the mark never lies outside the market, as on Deribit's options.
//  - bid_iv, ask_iv, mark_iv = the implied vols of those coin prices on the forward
//    (pricing::deribit_implied_vol); a price below intrinsic value has no vol: its IV is 0, and
//    a mark there takes the model's vol. So bid_iv ≤ mark_iv ≤ ask_iv whenever both sides exist.
//  - Greeks = pricing::deribit_greeks at mark_iv, underlying_price = the forward.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "market/book.hpp"
#include "market/instrument.hpp"
#include "sim/sim_events.hpp"

namespace gw::sim {

// Rolling 24-hour trade statistics of one instrument, in 5-minute buckets: the window is the
// buckets that started less than 24 hours ago, so a trade counts for between 23 h 55 min and
// 24 h, never longer (a bucket leaves the window whole). Finer buckets would cost memory on
// every instrument for precision nobody reads; hourly ones made "24 h" mean up to 25 h.
class TradeStats {
 public:
  static constexpr TimestampMs kBucketMs = 5 * 60'000;
  static constexpr std::size_t kBuckets = 24 * 12;  // 24 hours

  void on_trade(TimestampMs t, Ticks price, Lots amount, double usd);
  TickerStats stats(TimestampMs now) const;
  Ticks last_price() const { return last_; }

 private:
  struct Bucket {
    std::int64_t index = -1;  // t / kBucketMs of its trades; -1: never used
    Ticks open = 0;
    Ticks high = 0;
    Ticks low = 0;
    Lots volume = 0;
    double usd = 0;
  };
  // The sums of one window: the buckets [newest − kBuckets + 1, newest].
  struct Window {
    std::int64_t newest = std::numeric_limits<std::int64_t>::min();  // min: not computed
    std::int64_t first_index = 0;  // the oldest bucket with trades (> newest: none)
    Ticks first_price = 0;         // its first trade
    double older_usd = 0;          // Σ usd of the buckets before the newest
    TickerStats sums;              // without price_change
  };

  Window sum_window(std::int64_t newest) const;
  void add_to_window(const Bucket& b, Ticks price, Lots amount);

  // A ring by bucket index, allocated at the first trade: most options trade rarely, and the
  // 13.8 KiB of a full day need not sit on every listed instrument.
  std::vector<Bucket> buckets_;
  Ticks last_ = 0;
  // The window of the last stats() call. Every instrument's ticker asks each second, so the
  // 288 buckets are summed once per bucket period, when the window moves; a trade in the
  // window's newest bucket (the usual case: trades happen now) is added to the sums, any other
  // trade drops them. volume_usd is always (Σ older buckets) + newest bucket, so that the sums
  // kept up to date and the sums computed afresh are the same doubles.
  mutable Window window_;
};

struct TickerInputs {
  double fair = 0;   // the model's price in the instrument's units
  double index = 0;  // USD
  // Options.
  double forward = 0;
  double years = 0;
  double model_vol = 0;  // σ as a fraction
  InstrumentId underlying_future = 0;
  // Perpetuals.
  double current_funding = 0;
  double funding_8h = 0;
  double interest_value = 0;
};

// What a ticker says of an instrument's value: the mark, and for options its IV (percent) and
// Greeks. make_ticker publishes exactly these; alone they cost no bid/ask IV solve and no
// statistics (the Greeks of an account's options, sim/portfolio.hpp).
struct MarkAndGreeks {
  double mark_price = 0;
  double mark_iv = 0;
  TickerGreeks greeks;
};
MarkAndGreeks mark_and_greeks(const market::Instrument& instrument, const market::Book& book,
                              const TickerInputs& in);

Ticker make_ticker(const market::Instrument& instrument, const market::Book& book,
                   const TickerInputs& in, const TradeStats& stats, Lots open_interest,
                   TimestampMs now);

}  // namespace gw::sim
