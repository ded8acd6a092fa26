#include "sim/ticker.hpp"

#include <algorithm>
#include <cmath>

#include "pricing/deribit.hpp"

namespace gw::sim {

namespace {

std::int64_t bucket_of(TimestampMs t) {
  constexpr TimestampMs w = TradeStats::kBucketMs;
  return t >= 0 ? t / w : (t - w + 1) / w;
}

std::size_t slot_of(std::int64_t bucket) {
  const auto n = static_cast<std::int64_t>(TradeStats::kBuckets);
  return static_cast<std::size_t>(((bucket % n) + n) % n);
}

pricing::OptionType pricing_type(market::OptionType t) {
  return t == market::OptionType::put ? pricing::OptionType::put : pricing::OptionType::call;
}

double iv_percent(pricing::OptionType type, double price, const TickerInputs& in, double strike) {
  if (!(price > 0) || !(in.years > 0)) return 0;
  const pricing::DeribitIv iv =
      pricing::deribit_implied_vol(type, price, in.forward, strike, in.years);
  return iv.ok() ? iv.iv_percent : 0;
}

}  // namespace

void TradeStats::on_trade(TimestampMs t, Ticks price, Lots amount, double usd) {
  if (buckets_.empty()) buckets_.resize(kBuckets);
  const std::int64_t index = bucket_of(t);
  Bucket& b = buckets_[slot_of(index)];
  if (b.index != index) b = Bucket{index, price, price, price, 0, 0};
  b.high = std::max(b.high, price);
  b.low = std::min(b.low, price);
  b.volume += amount;
  b.usd += usd;
  last_ = price;
  if (index == window_.newest) {
    add_to_window(b, price, amount);
  } else {
    window_ = Window{};
  }
}

// The trade is in the window's newest bucket `b`, which it has updated already.
void TradeStats::add_to_window(const Bucket& b, Ticks price, Lots amount) {
  TickerStats& s = window_.sums;
  s.high = s.volume == 0 ? price : std::max(s.high, price);
  s.low = s.volume == 0 ? price : std::min(s.low, price);
  s.volume += amount;
  s.volume_usd = window_.older_usd + b.usd;
  if (b.index < window_.first_index) {
    window_.first_index = b.index;
    window_.first_price = b.open;
  }
}

TradeStats::Window TradeStats::sum_window(std::int64_t newest) const {
  Window w;
  w.newest = newest;
  w.first_index = newest + 1;
  TickerStats& s = w.sums;
  const std::int64_t oldest = newest - static_cast<std::int64_t>(kBuckets) + 1;
  for (const Bucket& b : buckets_) {
    if (b.index < oldest || b.index > newest) continue;
    s.high = s.volume == 0 ? b.high : std::max(s.high, b.high);
    s.low = s.volume == 0 ? b.low : std::min(s.low, b.low);
    s.volume += b.volume;
    if (b.index != newest) w.older_usd += b.usd;
    if (b.index < w.first_index) {
      w.first_index = b.index;
      w.first_price = b.open;
    }
  }
  double newest_usd = 0;
  if (!buckets_.empty() && buckets_[slot_of(newest)].index == newest) {
    newest_usd = buckets_[slot_of(newest)].usd;
  }
  s.volume_usd = w.older_usd + newest_usd;
  return w;
}

TickerStats TradeStats::stats(TimestampMs now) const {
  const std::int64_t newest = bucket_of(now);
  if (window_.newest != newest) window_ = sum_window(newest);
  TickerStats s = window_.sums;
  if (window_.first_price > 0 && last_ > 0) {
    s.price_change =
        (static_cast<double>(last_) / static_cast<double>(window_.first_price) - 1) * 100;
  }
  return s;
}

namespace {

// The best prices of a book in the instrument's units; an empty side is 0 and does not count.
struct BestPrices {
  bool has_bid = false;
  bool has_ask = false;
  double bid = 0;
  double ask = 0;
};

BestPrices best_prices(const market::Instrument& instrument, const market::Book& book) {
  BestPrices p;
  p.has_bid = !book.empty(market::Side::buy);
  p.has_ask = !book.empty(market::Side::sell);
  if (p.has_bid) p.bid = instrument.to_price(book.best_price(market::Side::buy));
  if (p.has_ask) p.ask = instrument.to_price(book.best_price(market::Side::sell));
  return p;
}

MarkAndGreeks value_at(const market::Instrument& instrument, const BestPrices& best,
                       const TickerInputs& in) {
  MarkAndGreeks out;
  double mark = in.fair;
  if (best.has_bid) mark = std::max(mark, best.bid);
  if (best.has_ask) mark = std::min(mark, best.ask);
  out.mark_price = mark;
  if (instrument.kind != market::Kind::option) return out;
  const pricing::OptionType type = pricing_type(instrument.option_type);
  // The model's own price needs no solve; a clamped mark does.
  double mark_iv =
      mark == in.fair ? in.model_vol * 100 : iv_percent(type, mark, in, instrument.strike);
  if (!(mark_iv > 0)) mark_iv = in.model_vol * 100;
  out.mark_iv = mark_iv;
  if (in.years > 0 && in.forward > 0) {
    const pricing::DeribitGreeks g =
        pricing::deribit_greeks(type, in.forward, instrument.strike, in.years, mark_iv / 100);
    out.greeks = {g.delta, g.gamma, g.vega, g.theta, g.rho};
  }
  return out;
}

}  // namespace

MarkAndGreeks mark_and_greeks(const market::Instrument& instrument, const market::Book& book,
                              const TickerInputs& in) {
  return value_at(instrument, best_prices(instrument, book), in);
}

Ticker make_ticker(const market::Instrument& instrument, const market::Book& book,
                   const TickerInputs& in, const TradeStats& stats, Lots open_interest,
                   TimestampMs now) {
  Ticker t;
  t.timestamp = now;
  t.instrument = instrument.id;
  t.currency = instrument.currency;
  t.kind = instrument.kind;
  const bool has_bid = !book.empty(market::Side::buy);
  const bool has_ask = !book.empty(market::Side::sell);
  if (has_bid) {
    const market::PriceLevel l = book.level(market::Side::buy, 0);
    t.best_bid_price = l.price;
    t.best_bid_amount = l.amount;
  }
  if (has_ask) {
    const market::PriceLevel l = book.level(market::Side::sell, 0);
    t.best_ask_price = l.price;
    t.best_ask_amount = l.amount;
  }
  const BestPrices best = best_prices(instrument, book);
  const MarkAndGreeks value = value_at(instrument, best, in);
  t.mark_price = value.mark_price;
  t.index_price = in.index;
  t.estimated_delivery_price = in.index;
  t.last_price = stats.last_price();
  t.open_interest = open_interest;
  t.stats = stats.stats(now);

  if (instrument.kind == market::Kind::option) {
    const pricing::OptionType type = pricing_type(instrument.option_type);
    const double k = instrument.strike;
    t.underlying_price = in.forward;
    t.underlying_future = in.underlying_future;
    t.bid_iv = has_bid ? iv_percent(type, best.bid, in, k) : 0;
    t.ask_iv = has_ask ? iv_percent(type, best.ask, in, k) : 0;
    t.mark_iv = value.mark_iv;
    t.greeks = value.greeks;
  } else if (instrument.perpetual) {
    t.current_funding = in.current_funding;
    t.funding_8h = in.funding_8h;
    t.interest_value = in.interest_value;
  }
  return t;
}

}  // namespace gw::sim
