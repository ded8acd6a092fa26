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
  const auto n = static_cast<std::int64_t>(kBuckets);
  Bucket& b = buckets_[static_cast<std::size_t>(((index % n) + n) % n)];
  if (b.index != index) b = Bucket{index, price, price, price, 0, 0};
  b.high = std::max(b.high, price);
  b.low = std::min(b.low, price);
  b.volume += amount;
  b.usd += usd;
  last_ = price;
}

TickerStats TradeStats::stats(TimestampMs now) const {
  TickerStats s;
  const std::int64_t newest = bucket_of(now);
  const std::int64_t oldest = newest - static_cast<std::int64_t>(kBuckets) + 1;
  std::int64_t first_index = newest + 1;
  Ticks first_price = 0;
  for (const Bucket& b : buckets_) {
    if (b.index < oldest || b.index > newest) continue;
    s.high = s.volume == 0 ? b.high : std::max(s.high, b.high);
    s.low = s.volume == 0 ? b.low : std::min(s.low, b.low);
    s.volume += b.volume;
    s.volume_usd += b.usd;
    if (b.index < first_index) {
      first_index = b.index;
      first_price = b.open;
    }
  }
  if (first_price > 0 && last_ > 0) {
    s.price_change = (static_cast<double>(last_) / static_cast<double>(first_price) - 1) * 100;
  }
  return s;
}

MarkAndGreeks mark_and_greeks(const market::Instrument& instrument, const market::Book& book,
                              const TickerInputs& in) {
  MarkAndGreeks out;
  double mark = in.fair;
  if (!book.empty(market::Side::buy)) {
    mark = std::max(mark, instrument.to_price(book.level(market::Side::buy, 0).price));
  }
  if (!book.empty(market::Side::sell)) {
    mark = std::min(mark, instrument.to_price(book.level(market::Side::sell, 0).price));
  }
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
  const double bid = instrument.to_price(t.best_bid_price);
  const double ask = instrument.to_price(t.best_ask_price);
  const MarkAndGreeks value = mark_and_greeks(instrument, book, in);
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
    t.bid_iv = has_bid ? iv_percent(type, bid, in, k) : 0;
    t.ask_iv = has_ask ? iv_percent(type, ask, in, k) : 0;
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
