// Test support for the market tests: hand-built instruments, a sink that records events with
// owned copies, and the reference matcher of the property test.
//
// The reference is written to be obviously correct rather than fast: every resting order of
// every instrument sits in one vector; each fill scans it for the best opposite order (best
// price, then lowest arrival number); ticks are checked by brute force; a fill_or_kill order is
// matched on a copy of the whole venue and the copy is kept only if the order filled. It knows
// nothing of the engine's pools, ladders, FIFO links or dry runs.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "market/engine.hpp"
#include "market/events.hpp"
#include "market/instrument.hpp"

namespace gw::market::testing {

// ---- Instruments as Deribit lists them (built by hand: no registry needed) ---------------------

inline Instrument make_future(InstrumentId id, Currency c) {
  const bool btc = c == Currency::BTC;
  Instrument i;
  i.id = id;
  i.name = btc ? "BTC-PERPETUAL" : "ETH-PERPETUAL";
  i.currency = c;
  i.kind = Kind::future;
  i.perpetual = true;
  i.tick_size = btc ? 0.5 : 0.05;
  i.contract_size = btc ? 10 : 1;
  i.min_trade_amount = i.contract_size;
  i.maker_commission = 0;
  i.taker_commission = 0.0005;
  i.price_unit = i.tick_size;
  i.amount_unit = i.min_trade_amount;
  i.price_decimals = btc ? 1 : 2;
  i.amount_decimals = 0;
  return i;
}

inline Instrument make_option(InstrumentId id, Currency c, double strike, OptionType type) {
  const bool btc = c == Currency::BTC;
  Instrument i;
  i.id = id;
  i.name = std::string(btc ? "BTC" : "ETH") + "-27DEC26-" + std::to_string(int(strike)) +
           (type == OptionType::call ? "-C" : "-P");
  i.currency = c;
  i.kind = Kind::option;
  i.option_type = type;
  i.strike = strike;
  i.tick_size = 0.0001;
  i.tick_size_steps = {{0.005, 0.0005}};
  i.contract_size = 1;
  i.min_trade_amount = btc ? 0.1 : 1;
  i.maker_commission = 0.0003;
  i.taker_commission = 0.0003;
  i.price_unit = 0.0001;
  i.amount_unit = i.min_trade_amount;
  i.price_decimals = 4;
  i.amount_decimals = btc ? 1 : 0;
  return i;
}

// ---- Recording sink ---------------------------------------------------------------------------

struct OwnedBookChange {
  BookChange change;  // spans cleared; see bids/asks
  std::vector<LevelUpdate> bids;
  std::vector<LevelUpdate> asks;
};

// Keeps every event (with owned copies of labels and level lists) and a byte log of the whole
// stream for determinism checks.
class Recorder final : public EventSink {
 public:
  std::vector<OrderUpdate> orders;
  std::vector<std::string> order_labels;  // parallel to `orders`
  std::vector<Trade> trades;
  std::vector<OwnedBookChange> books;
  std::vector<PositionUpdate> positions;
  std::vector<PortfolioUpdate> portfolios;
  std::vector<Settlement> settlements;
  std::vector<std::size_t> kinds;  // each event's Event::index(), in order
  std::size_t events = 0;
  std::string log;

  void on_event(const Event& event) override {
    ++events;
    kinds.push_back(event.index());
    log.push_back(static_cast<char>(event.index()));
    std::visit([this](const auto& e) { record(e); }, event);
  }

  void clear() {
    orders.clear();
    order_labels.clear();
    trades.clear();
    books.clear();
    positions.clear();
    portfolios.clear();
    settlements.clear();
    kinds.clear();
  }

 private:
  template <typename T>
  void put(const T& v) {
    log.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put_levels(std::span<const LevelUpdate> levels) {
    put(levels.size());
    for (const LevelUpdate& l : levels) {
      put(l.price);
      put(l.amount);
      put(l.action);
    }
  }

  void record(const OrderUpdate& e) {
    orders.push_back(e);
    order_labels.emplace_back(e.label);
    orders.back().label = {};
    put(e.timestamp), put(e.created), put(e.order_id), put(e.account), put(e.instrument);
    put(e.side), put(e.type), put(e.time_in_force), put(e.state), put(e.cancel_reason);
    put(e.post_only), put(e.reduce_only), put(e.replaced), put(e.price), put(e.amount);
    put(e.filled), put(e.average_price);
    log.append(e.label);
  }
  void record(const Trade& e) {
    trades.push_back(e);
    put(e.timestamp), put(e.trade_id), put(e.trade_seq), put(e.instrument), put(e.direction);
    put(e.tick_direction), put(e.price), put(e.amount), put(e.taker_order), put(e.maker_order);
    put(e.taker_fee), put(e.maker_fee), put(e.taker_pnl), put(e.maker_pnl);
  }
  void record(const BookChange& e) {
    OwnedBookChange o{e, {e.bids.begin(), e.bids.end()}, {e.asks.begin(), e.asks.end()}};
    o.change.bids = {};
    o.change.asks = {};
    books.push_back(std::move(o));
    put(e.timestamp), put(e.instrument), put(e.change_id), put(e.prev_change_id), put(e.checksum);
    put_levels(e.bids);
    put_levels(e.asks);
  }
  void record(const PositionUpdate& e) {
    positions.push_back(e);
    put(e.account), put(e.instrument), put(e.size), put(e.average_price), put(e.realized_pnl);
    put(e.floating_pnl), put(e.initial_margin);
  }
  void record(const PortfolioUpdate& e) {
    portfolios.push_back(e);
    put(e.account), put(e.currency), put(e.balance), put(e.equity), put(e.initial_margin);
    put(e.available_funds), put(e.session_rpl), put(e.session_upl), put(e.fees);
  }
  void record(const IndexPrice& e) { put(e.currency), put(e.price); }
  void record(const MarkPrice& e) { put(e.instrument), put(e.price); }
  void record(const Settlement& e) {
    settlements.push_back(e);
    put(e.timestamp), put(e.account), put(e.instrument), put(e.position), put(e.index_price);
    put(e.mark_price), put(e.profit_loss), put(e.cash), put(e.session_profit_loss);
  }
};

// ---- Reference matcher ------------------------------------------------------------------------

struct RefTrade {
  InstrumentId instrument = 0;
  OrderId taker = 0;
  OrderId maker = 0;
  Ticks price = 0;
  Lots amount = 0;
  Side direction = Side::buy;
  bool operator==(const RefTrade&) const = default;
};

struct RefEnd {  // an order's terminal state
  OrderId id = 0;
  OrderState state = OrderState::open;
  CancelReason reason = CancelReason::none;
  Lots filled = 0;
  bool operator==(const RefEnd&) const = default;
};

struct RefResting {  // one resting order, for comparing books
  OrderId id = 0;
  Ticks price = 0;
  Lots amount = 0;
  bool operator==(const RefResting&) const = default;
};

class ReferenceVenue {
 public:
  struct Grid {
    Ticks base = 1;
    std::vector<std::pair<Ticks, Ticks>> steps;  // (from, tick)
  };

  void add_instrument(InstrumentId id, Grid grid) { grids_[id] = std::move(grid); }
  void set_self_trade_mode(AccountId a, SelfTradeMode m) { stp_[a] = m; }

  // What the last command did.
  std::vector<RefTrade> trades;
  std::vector<RefEnd> ends;

  Result place(const PlaceOrder& c) {
    trades.clear();
    ends.clear();
    if (!grids_.count(c.instrument)) return {Error::invalid_or_unsupported_instrument};
    if (c.amount <= 0) return {Error::qty_too_low};
    if (c.label.size() > kMaxLabel) return {Error::invalid_arguments};
    Ticks price = 0;
    if (c.type == OrderType::limit) {
      if (c.price <= 0) return {Error::invalid_price};
      if (!on_tick(c.instrument, c.price)) return {Error::price_wrong_tick};
      price = c.price;
    } else if (c.post_only) {
      return {Error::invalid_arguments};
    }
    Lots amount = c.amount;
    if (c.reduce_only) {
      const Lots can = closable(c.account, c.instrument, c.side);
      if (can == 0) return {Error::invalid_arguments};
      amount = std::min(amount, can);
    }
    if (c.post_only) {
      if (const auto best = best_price(c.instrument, opposite(c.side))) {
        if (crosses(c.side, price, *best)) {
          if (c.reject_post_only) return {Error::post_only_reject};
          price = c.side == Side::buy ? below(c.instrument, *best) : above(c.instrument, *best);
          if (price <= 0) return {Error::post_only_reject};
        }
      }
    }
    Order o;
    o.id = next_id_++;
    o.seq = ++seq_;
    o.account = c.account;
    o.instrument = c.instrument;
    o.side = c.side;
    o.type = c.type;
    o.tif = c.type == OrderType::market && c.time_in_force != TimeInForce::fill_or_kill
                ? TimeInForce::immediate_or_cancel
                : c.time_in_force;
    o.price = price;
    o.amount = amount;
    o.reduce_only = c.reduce_only;
    o.post_only = c.post_only;
    o.reject_post_only = c.reject_post_only;
    if (o.tif == TimeInForce::fill_or_kill) {
      ReferenceVenue trial = *this;  // match on a copy; keep it only if the order filled
      trial.match_and_settle(o);
      if (trial.trades.empty() || trial.ends.back().state != OrderState::filled) {
        ends.push_back({o.id, OrderState::rejected, CancelReason::fill_or_kill, 0});
        return {Error::ok, o.id};
      }
      *this = std::move(trial);
      return {Error::ok, o.id};
    }
    match_and_settle(o);
    return {Error::ok, o.id};
  }

  Result edit(const EditOrder& c) {
    trades.clear();
    ends.clear();
    const auto it = find(c.order_id);
    if (it == book_.end() || it->account != c.account) return {Error::order_not_found};
    Order o = *it;
    if (c.amount <= 0) return {Error::qty_too_low};
    if (c.amount <= o.filled) return {Error::invalid_amount};
    if (c.price <= 0) return {Error::invalid_price};
    if (!on_tick(o.instrument, c.price)) return {Error::price_wrong_tick};
    const bool post_only = c.post_only.value_or(o.post_only);
    const bool reject_post_only = c.reject_post_only.value_or(o.reject_post_only);
    Lots amount = c.amount;
    if (o.reduce_only) {
      const Lots can = closable(o.account, o.instrument, o.side);
      if (can == 0) return {Error::invalid_arguments};
      amount = std::min(amount, o.filled + can);
    }
    Ticks price = c.price;
    if (post_only) {
      if (const auto best = best_price(o.instrument, opposite(o.side))) {
        if (crosses(o.side, price, *best)) {
          if (reject_post_only) {
            book_.erase(it);
            ends.push_back(
                {o.id, OrderState::cancelled, CancelReason::edit_post_only_reject, o.filled});
            return {Error::post_only_reject, o.id};
          }
          price = o.side == Side::buy ? below(o.instrument, *best) : above(o.instrument, *best);
          if (price <= 0) return {Error::post_only_reject};
        }
      }
    }
    it->post_only = post_only;
    it->reject_post_only = reject_post_only;
    if (price == o.price && amount <= o.amount) {
      it->amount = amount;  // keeps its place
      return {Error::ok, o.id};
    }
    o = *it;
    book_.erase(it);
    o.price = price;
    o.amount = amount;
    o.seq = ++seq_;  // a new arrival
    match_and_settle(o);
    return {Error::ok, o.id};
  }

  Result cancel(const CancelOrder& c) {
    trades.clear();
    ends.clear();
    const auto it = find(c.order_id);
    if (it == book_.end() || it->account != c.account) return {Error::order_not_found};
    ends.push_back({it->id, OrderState::cancelled, CancelReason::user_request, it->filled});
    book_.erase(it);
    return {Error::ok, c.order_id};
  }

  // Instrument filter only (the property test has no currency/kind mix to distinguish).
  Result cancel_all(AccountId account, std::optional<InstrumentId> instrument) {
    trades.clear();
    ends.clear();
    std::vector<Order> mine;
    for (const Order& o : book_) {
      if (o.account == account && (!instrument || o.instrument == *instrument)) mine.push_back(o);
    }
    std::sort(mine.begin(), mine.end(), [](const Order& a, const Order& b) { return a.id < b.id; });
    for (const Order& o : mine) {
      ends.push_back({o.id, OrderState::cancelled, CancelReason::user_request, o.filled});
      book_.erase(find(o.id));
    }
    Result r;
    r.count = static_cast<std::uint32_t>(mine.size());
    return r;
  }

  // Resting orders of one side, best first and oldest first within a price.
  std::vector<RefResting> resting(InstrumentId instrument, Side side) const {
    std::vector<Order> v;
    for (const Order& o : book_) {
      if (o.instrument == instrument && o.side == side) v.push_back(o);
    }
    std::sort(v.begin(), v.end(), [](const Order& a, const Order& b) { return ahead(a, b); });
    std::vector<RefResting> out;
    for (const Order& o : v) out.push_back({o.id, o.price, o.amount - o.filled});
    return out;
  }

  Lots position(AccountId a, InstrumentId i) const {
    const auto it = positions_.find({a, i});
    return it == positions_.end() ? 0 : it->second;
  }

 private:
  struct Order {
    OrderId id = 0;
    std::uint64_t seq = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Side side = Side::buy;
    OrderType type = OrderType::limit;
    TimeInForce tif = TimeInForce::good_til_cancelled;
    Ticks price = 0;
    Lots amount = 0;
    Lots filled = 0;
    bool reduce_only = false;
    bool post_only = false;
    bool reject_post_only = false;
  };

  static bool ahead(const Order& a, const Order& b) {  // a has priority over b (same side)
    if (a.price != b.price) return a.side == Side::buy ? a.price > b.price : a.price < b.price;
    return a.seq < b.seq;
  }
  static bool crosses(Side side, Ticks price, Ticks opposite_best) {
    return side == Side::buy ? price >= opposite_best : price <= opposite_best;
  }

  std::vector<Order>::iterator find(OrderId id) {
    return std::find_if(book_.begin(), book_.end(), [&](const Order& o) { return o.id == id; });
  }

  Ticks tick_at(InstrumentId i, Ticks p) const {
    const Grid& g = grids_.at(i);
    Ticks t = g.base;
    for (const auto& [from, tick] : g.steps) {
      if (p >= from) t = tick;
    }
    return t;
  }
  bool on_tick(InstrumentId i, Ticks p) const { return p % tick_at(i, p) == 0; }
  Ticks below(InstrumentId i, Ticks p) const {
    for (Ticks q = p - 1; q > 0; --q) {
      if (on_tick(i, q)) return q;
    }
    return 0;
  }
  Ticks above(InstrumentId i, Ticks p) const {
    for (Ticks q = p + 1;; ++q) {
      if (on_tick(i, q)) return q;
    }
  }

  std::optional<Ticks> best_price(InstrumentId instrument, Side side) const {
    std::optional<Ticks> best;
    for (const Order& o : book_) {
      if (o.instrument != instrument || o.side != side) continue;
      if (!best || (side == Side::buy ? o.price > *best : o.price < *best)) best = o.price;
    }
    return best;
  }

  Lots closable(AccountId a, InstrumentId i, Side side) const {
    const Lots p = position(a, i);
    return side == Side::buy ? std::max<Lots>(-p, 0) : std::max<Lots>(p, 0);
  }

  SelfTradeMode stp(AccountId a) const {
    const auto it = stp_.find(a);
    return it == stp_.end() ? SelfTradeMode::cancel_maker : it->second;
  }

  void match_and_settle(Order& taker) {
    bool stopped = false;
    while (taker.filled < taker.amount) {
      // The best opposite order that crosses.
      auto best = book_.end();
      for (auto it = book_.begin(); it != book_.end(); ++it) {
        if (it->instrument != taker.instrument || it->side == taker.side) continue;
        if (taker.type == OrderType::limit && !crosses(taker.side, taker.price, it->price))
          continue;
        if (best == book_.end() || ahead(*it, *best)) best = it;
      }
      if (best == book_.end()) break;
      if (best->account == taker.account) {
        if (stp(taker.account) == SelfTradeMode::reject_taker) {
          stopped = true;
          break;
        }
        ends.push_back({best->id, OrderState::cancelled, CancelReason::self_trade, best->filled});
        book_.erase(best);
        continue;
      }
      Lots qty = std::min(taker.amount - taker.filled, best->amount - best->filled);
      bool clamped = false;
      if (best->reduce_only) {
        const Lots can = closable(best->account, best->instrument, best->side);
        if (can == 0) {
          ends.push_back(
              {best->id, OrderState::cancelled, CancelReason::reduce_only, best->filled});
          book_.erase(best);
          continue;
        }
        clamped = can < qty;
        qty = std::min(qty, can);
      }
      trades.push_back({taker.instrument, taker.id, best->id, best->price, qty, taker.side});
      const Lots signed_qty = taker.side == Side::buy ? qty : -qty;
      positions_[{taker.account, taker.instrument}] += signed_qty;
      positions_[{best->account, best->instrument}] -= signed_qty;
      taker.filled += qty;
      best->filled += qty;
      if (best->filled == best->amount) {
        ends.push_back({best->id, OrderState::filled, CancelReason::none, best->filled});
        book_.erase(best);
      } else if (clamped) {
        ends.push_back({best->id, OrderState::cancelled, CancelReason::reduce_only, best->filled});
        book_.erase(best);
      }
    }
    if (taker.filled == taker.amount) {
      ends.push_back({taker.id, OrderState::filled, CancelReason::none, taker.filled});
    } else if (stopped) {
      ends.push_back({taker.id, OrderState::cancelled, CancelReason::self_trade, taker.filled});
    } else if (taker.type == OrderType::limit && (taker.tif == TimeInForce::good_til_cancelled ||
                                                  taker.tif == TimeInForce::good_til_day)) {
      book_.push_back(taker);
    } else {
      ends.push_back(
          {taker.id, OrderState::cancelled, CancelReason::immediate_or_cancel, taker.filled});
    }
  }

  std::map<InstrumentId, Grid> grids_;
  std::map<AccountId, SelfTradeMode> stp_;
  std::vector<Order> book_;
  std::map<std::pair<AccountId, InstrumentId>, Lots> positions_;
  OrderId next_id_ = 1;
  std::uint64_t seq_ = 0;
};

}  // namespace gw::market::testing
