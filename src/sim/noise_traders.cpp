#include "sim/noise_traders.hpp"

#include <algorithm>
#include <cmath>

namespace gw::sim {

NoiseTraders::NoiseTraders(const NoiseParams& params, Rng rng)
    : params_(params), rng_(rng), where_(1 << 14) {
  params_.depth = std::clamp(params_.depth, 1, 64);
  params_.accounts_per_instrument = std::max<std::uint32_t>(params_.accounts_per_instrument, 1);
  for (int i = 1; i <= params_.depth; ++i) {
    limit_rate_ += params_.k / std::pow(static_cast<double>(i), params_.alpha);
    limit_cdf_.push_back(limit_rate_);
  }
  theta_max_ = *std::max_element(params_.theta.begin(), params_.theta.end());
}

void NoiseTraders::add(const Market& m) {
  if (markets_.size() <= m.instrument) markets_.resize(m.instrument + 1);
  Market& slot = markets_[m.instrument];
  slot = m;
  slot.active = true;
  slot.log_q = m.mean_lots > 1 ? std::log1p(-1 / m.mean_lots) : 0;
  Kind& k = kinds_[m.option ? 1 : 0];
  k.ids.insert(std::upper_bound(k.ids.begin(), k.ids.end(), m.instrument), m.instrument);
  k.stale = true;
}

void NoiseTraders::remove(market::InstrumentId id) {
  Market* m = market(id);
  if (m == nullptr || !m->active) return;
  m->active = false;
  Kind& k = kinds_[m->option ? 1 : 0];
  std::erase(k.ids, id);
  k.stale = true;
}

NoiseTraders::Market* NoiseTraders::market(market::InstrumentId id) {
  return id < markets_.size() && markets_[id].instrument == id ? &markets_[id] : nullptr;
}

void NoiseTraders::set_weight(market::InstrumentId id, double weight) {
  Market* m = market(id);
  if (m == nullptr || m->weight == weight) return;
  m->weight = std::max(weight, 0.0);
  kinds_[m->option ? 1 : 0].stale = true;
}

void NoiseTraders::recompute_cumulative() {
  for (Kind& k : kinds_) {
    if (!k.stale) continue;
    k.stale = false;
    k.cumulative.resize(k.ids.size());
    double sum = 0;
    for (std::size_t i = 0; i < k.ids.size(); ++i) {
      sum += markets_[k.ids[i]].weight;
      k.cumulative[i] = sum;
    }
  }
}

double NoiseTraders::arrival_rate(bool option) const {
  return (option ? params_.option_scale : params_.future_scale) * 2 * (limit_rate_ + params_.mu);
}

double NoiseTraders::rate() {
  refresh();
  return arrival_rate(false) * kinds_[0].total() + arrival_rate(true) * kinds_[1].total() +
         theta_max_ * static_cast<double>(resting_.size());
}

void NoiseTraders::act(market::Engine& engine, market::TimestampMs now) {
  refresh();
  const double futures = arrival_rate(false) * kinds_[0].total();
  const double options = arrival_rate(true) * kinds_[1].total();
  const double cancels = theta_max_ * static_cast<double>(resting_.size());
  const double u = rng_.uniform() * (futures + options + cancels);
  if (u >= futures + options) {
    maybe_cancel(engine, now);
    return;
  }
  const Kind& k = kinds_[u >= futures ? 1 : 0];
  if (k.ids.empty() || !(k.total() > 0)) return;
  const double at = rng_.uniform() * k.total();
  const auto i = static_cast<std::size_t>(
      std::upper_bound(k.cumulative.begin(), k.cumulative.end() - 1, at) - k.cumulative.begin());
  const Market& m = markets_[k.ids[i]];
  if (rng_.uniform() * (limit_rate_ + params_.mu) < limit_rate_) {
    place_limit(engine, m, now);
  } else {
    place_market(engine, m, now);
  }
}

market::AccountId NoiseTraders::pick_account(const Market& m) {
  return m.first_account + rng_.below(params_.accounts_per_instrument);
}

void NoiseTraders::place_limit(market::Engine& engine, const Market& m, market::TimestampMs now) {
  const market::Side side = rng_.bernoulli(0.5) ? market::Side::buy : market::Side::sell;
  const double u = rng_.uniform() * limit_rate_;
  const int distance =
      1 + static_cast<int>(std::upper_bound(limit_cdf_.begin(), limit_cdf_.end() - 1, u) -
                           limit_cdf_.begin());
  const market::Book* b = engine.book(m.instrument);
  if (b == nullptr) return;
  const market::TickGrid& grid = m.grid;
  const bool buy = side == market::Side::buy;
  const market::Side opp = market::opposite(side);
  market::Ticks price = 0;
  if (!b->empty(side)) {
    price = b->best_price(side);  // join the best, then step back
  } else if (!b->empty(opp)) {
    price = buy ? grid.below(b->best_price(opp)) : grid.above(b->best_price(opp));
  } else if (m.reference_ticks >= 1) {
    price = buy ? static_cast<market::Ticks>(std::floor(m.reference_ticks))
                : static_cast<market::Ticks>(std::ceil(m.reference_ticks));
    if (!grid.on_tick(price)) price = buy ? grid.below(price) : grid.above(price);
  }
  for (int i = 1; i < distance && price > 0; ++i)
    price = buy ? grid.below(price) : grid.above(price);
  if (price <= 0) return;

  market::PlaceOrder p;
  p.account = pick_account(m);
  p.instrument = m.instrument;
  p.side = side;
  p.price = price;
  p.amount = m.log_q < 0 ? rng_.lots_log(m.log_q) : 1;
  p.timestamp = now;
  const market::Result r = engine.place(p);
  // It rests unless it traded in full (possible when the opposite best moved onto its price):
  // the order's own update comes last in the command, so the latest update tells.
  if (r.ok() && last_id_ == r.order_id && last_open_) {
    where_.insert(r.order_id, static_cast<std::uint32_t>(resting_.size()));
    resting_.push_back({r.order_id, p.account, m.instrument, side, price});
  }
}

void NoiseTraders::place_market(market::Engine& engine, const Market& m, market::TimestampMs now) {
  const market::Side side = rng_.bernoulli(0.5) ? market::Side::buy : market::Side::sell;
  const market::Book* b = engine.book(m.instrument);
  if (b == nullptr || b->empty(market::opposite(side))) return;
  const market::Lots best = b->level(market::opposite(side), 0).amount;
  market::PlaceOrder p;
  p.account = pick_account(m);
  p.instrument = m.instrument;
  p.side = side;
  p.type = market::OrderType::market;
  p.amount = std::min(m.log_q < 0 ? rng_.lots_log(m.log_q) : 1, best);
  p.timestamp = now;
  engine.place(p);
}

void NoiseTraders::maybe_cancel(market::Engine& engine, market::TimestampMs now) {
  if (resting_.empty()) return;
  const Order o = resting_[rng_.below(static_cast<std::uint32_t>(resting_.size()))];
  const market::Book* b = engine.book(o.instrument);
  const Market* m = market(o.instrument);
  if (b == nullptr || m == nullptr) return;
  const int d = std::min(distance_from_best(*b, m->grid, o.side, o.price),
                         static_cast<int>(params_.theta.size()));
  if (rng_.uniform() * theta_max_ >= params_.theta[static_cast<std::size_t>(d - 1)]) return;
  engine.cancel({o.account, o.id, now});  // on_order() forgets it
}

void NoiseTraders::on_order(const market::OrderUpdate& update) {
  last_id_ = update.order_id;
  last_open_ = !market::is_terminal(update.state);
  if (last_open_) return;
  const std::uint32_t i = where_.find(update.order_id);
  if (i == market::IdMap::kMissing) return;  // traded in full before it could rest
  where_.erase(update.order_id);
  if (i + 1 != resting_.size()) {
    resting_[i] = resting_.back();
    where_.erase(resting_[i].id);
    where_.insert(resting_[i].id, i);
  }
  resting_.pop_back();
}

std::size_t NoiseTraders::resting(market::InstrumentId id) const {
  return static_cast<std::size_t>(std::count_if(
      resting_.begin(), resting_.end(), [id](const Order& o) { return o.instrument == id; }));
}

int distance_from_best(const market::Book& book, const market::TickGrid& grid, market::Side side,
                       market::Ticks price) {
  if (book.empty(side)) return 1;
  const market::Ticks best = book.best_price(side);
  const market::Ticks behind = side == market::Side::buy ? best - price : price - best;
  if (behind <= 0) return 1;
  const market::Ticks tick = std::max<market::Ticks>(grid.tick_at(price), 1);
  return static_cast<int>(std::min<market::Ticks>(1 + behind / tick, 1000));
}

}  // namespace gw::sim
