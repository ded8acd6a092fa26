#include "sim/market_maker.hpp"

#include <algorithm>
#include <cmath>

namespace gw::sim {

Quote make_quote(const market::TickGrid& grid, double fair_ticks, double half_spread_ticks) {
  Quote q;
  if (!(fair_ticks > 0) || !std::isfinite(fair_ticks)) return q;
  const auto near = static_cast<market::Ticks>(std::llround(fair_ticks));
  const double tick = static_cast<double>(grid.tick_at(std::max<market::Ticks>(near, 1)));
  const double half = std::max(half_spread_ticks, tick);

  const double low = std::floor(fair_ticks - half);
  if (low >= 1) {
    auto bid = static_cast<market::Ticks>(low);
    if (!grid.on_tick(bid)) bid = grid.below(bid);
    q.bid = bid > 0 ? bid : 0;
  }
  auto ask = static_cast<market::Ticks>(std::max(std::ceil(fair_ticks + half), 1.0));
  if (!grid.on_tick(ask)) ask = grid.above(ask);
  q.ask = ask;
  return q;
}

OptionValue option_value(pricing::OptionType type, double forward, double strike, double years,
                         double vol) {
  OptionValue v;
  if (!(forward > 0) || !(strike > 0)) return v;
  v.price = pricing::black76_price(type, forward, strike, years, vol) / forward;
  const double s = vol * std::sqrt(years);
  if (s > 0) {
    const double d1 = (std::log(forward / strike) + 0.5 * s * s) / s;
    v.vega = pricing::norm_pdf(d1) * std::sqrt(years);
  }
  return v;
}

void MarketMaker::requote(market::Engine& engine, Book& book, const Quote& target, double size,
                          market::TimestampMs now) {
  // Move first the side that gets out of the way: a bid raised onto the maker's own old ask
  // would otherwise meet it, and self-trade prevention would cancel it.
  if (book.ask.id != 0 && target.bid >= book.ask.price) {
    quote_side(engine, book, book.ask, market::Side::sell, target.ask, size, now);
    quote_side(engine, book, book.bid, market::Side::buy, target.bid, size, now);
  } else {
    quote_side(engine, book, book.bid, market::Side::buy, target.bid, size, now);
    quote_side(engine, book, book.ask, market::Side::sell, target.ask, size, now);
  }
}

void MarketMaker::cancel(market::Engine& engine, Book& book, market::TimestampMs now) {
  for (Side* s : {&book.bid, &book.ask}) {
    if (s->id != 0) engine.cancel({book.account, s->id, now});
    *s = {};  // the sink has cleared it already unless the order was gone
  }
}

void MarketMaker::quote_side(market::Engine& engine, Book& book, Side& side, market::Side which,
                             market::Ticks price, double size, market::TimestampMs now) {
  if (price <= 0) {
    if (side.id != 0) engine.cancel({book.account, side.id, now});  // the sink clears `side`
    return;
  }
  if (side.id != 0 && side.price == price &&
      static_cast<double>(side.amount - side.filled) >= params_.refill_fraction * size) {
    return;  // in place and full enough
  }
  const double jitter = 1 + params_.size_jitter * (2 * rng_.uniform() - 1);
  const auto lots = std::max<market::Lots>(1, std::llround(size * jitter));
  if (side.id == 0) {
    market::PlaceOrder p;
    p.account = book.account;
    p.instrument = book.instrument;
    p.side = which;
    p.price = price;
    p.amount = lots;
    p.timestamp = now;
    const market::Result r = engine.place(p);
    if (!r.ok()) return;
    // The sink did not know the id yet; read what rests (nothing if it filled at once).
    if (const auto o = engine.order(r.order_id))
      side = {r.order_id, o->price, o->amount, o->filled};
    return;
  }
  market::EditOrder e;
  e.account = book.account;
  e.order_id = side.id;
  e.price = price;
  e.amount = side.filled + lots;
  e.timestamp = now;
  engine.edit(e);  // the sink follows the order (or clears `side` if it filled or failed)
}

void MarketMaker::on_order(Book& book, const market::OrderUpdate& update) {
  Side* s = update.order_id == book.bid.id   ? &book.bid
            : update.order_id == book.ask.id ? &book.ask
                                             : nullptr;
  if (s == nullptr) return;
  if (market::is_terminal(update.state)) {
    *s = {};
  } else {
    s->price = update.price;
    s->amount = update.amount;
    s->filled = update.filled;
  }
}

}  // namespace gw::sim
