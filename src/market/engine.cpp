#include "market/engine.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>

#include "market/instrument.hpp"

namespace gw::market {

namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr TimestampMs kDayMs = 86'400'000;
constexpr TimestampMs kExpiryOffsetMs = 8 * 3'600'000;  // Deribit's day ends at 08:00 UTC
constexpr TimestampMs kNever = std::numeric_limits<TimestampMs>::max();

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The first 08:00 UTC strictly after `t`: when a good_til_day order placed at `t` expires.
TimestampMs day_end(TimestampMs t) {
  return floor_div(t - kExpiryOffsetMs, kDayMs) * kDayMs + kExpiryOffsetMs + kDayMs;
}

// Events are built in place inside an Event: building the struct apart and copying it into the
// variant reads back just-written fields with wide loads, a store-forwarding stall per field.
template <typename T>
T& in_place(Event& e) {
  return *std::get_if<T>(&e);
}

Ticks units(double value, double unit) {
  return static_cast<Ticks>(value / unit + (value >= 0 ? 0.5 : -0.5));
}

}  // namespace

// ---- TickGrid ---------------------------------------------------------------------------------

TickGrid TickGrid::from(const Instrument& i) {
  TickGrid g;
  g.base = std::max<Ticks>(units(i.tick_size, i.price_unit), 1);
  for (const TickStep& s : i.tick_size_steps) {
    g.steps.emplace_back(units(s.above_price, i.price_unit),
                         std::max<Ticks>(units(s.tick_size, i.price_unit), 1));
  }
  std::sort(g.steps.begin(), g.steps.end());
  return g;
}

Ticks TickGrid::tick_at(Ticks price) const {
  Ticks tick = base;
  for (const auto& [from, step] : steps) {
    if (price < from) break;
    tick = step;
  }
  return tick;
}

Ticks TickGrid::below(Ticks price) const {
  const Ticks q = price - 1;
  const Ticks t = tick_at(q);
  return floor_div(q, t) * t;
}

Ticks TickGrid::above(Ticks price) const {
  const Ticks q = price + 1;
  const Ticks t = tick_at(q);
  Ticks r = -floor_div(-q, t) * t;
  const Ticks t2 = tick_at(r);  // rounding up may have entered a coarser region
  if (t2 != t) r = -floor_div(-r, t2) * t2;
  return r;
}

// ---- IdMap ------------------------------------------------------------------------------------

IdMap::IdMap(std::size_t expected) {
  std::size_t capacity = 16;
  while (capacity < expected * 2) capacity <<= 1;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
}

std::uint32_t IdMap::find(std::uint64_t key) const {
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    if (slots_[i].key == key) return slots_[i].value;
    if (slots_[i].key == 0) return kMissing;
  }
}

void IdMap::insert(std::uint64_t key, std::uint32_t value) {
  assert(key != 0);
  if ((size_ + 1) * 2 > slots_.size()) grow();
  std::size_t i = home(key);
  while (slots_[i].key != 0) i = (i + 1) & mask_;
  slots_[i] = {key, value};
  ++size_;
}

void IdMap::erase(std::uint64_t key) {
  std::size_t i = home(key);
  while (slots_[i].key != key) {
    if (slots_[i].key == 0) return;
    i = (i + 1) & mask_;
  }
  // Backward shift: pull later entries of the probe run into the hole unless their home lies
  // cyclically in (hole, j], so that no probe sequence crosses an empty slot.
  for (std::size_t j = i;;) {
    j = (j + 1) & mask_;
    if (slots_[j].key == 0) break;
    const std::size_t k = home(slots_[j].key);
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i].key = 0;
  --size_;
}

void IdMap::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.resize(old.size() * 2);
  mask_ = slots_.size() - 1;
  shift_ = 64 - std::countr_zero(slots_.size());
  size_ = 0;
  for (const Slot& s : old) {
    if (s.key != 0) insert(s.key, s.value);
  }
}

// ---- Engine state -----------------------------------------------------------------------------

struct Engine::LiveOrder {
  OrderId id = 0;  // 0: a free slot
  Market* market = nullptr;
  std::uint32_t account = 0;  // slot in accounts_
  Book::Handle handle = Book::kNone;
  std::uint32_t prev = kNone;  // the account's open orders, oldest first
  std::uint32_t next = kNone;  // (the free list's link when the slot is free)
  Ticks price = 0;
  Lots amount = 0;
  Lots filled = 0;
  double filled_value = 0;  // Σ price × qty of the fills, in ticks × lots
  double reserve = 0;       // margin held for the unfilled rest
  TimestampMs created = 0;
  TimestampMs updated = 0;
  TimestampMs expires = kNever;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::good_til_cancelled;
  bool post_only = false;
  bool reject_post_only = false;
  bool reduce_only = false;
  bool replaced = false;
  bool linked = false;  // in its account's list
  std::uint8_t label_size = 0;

  Lots remaining() const { return amount - filled; }
};

struct Engine::Market {
  explicit Market(const Instrument& i)
      : book(book_format(i), 1024), contract(make_contract(i)), grid(TickGrid::from(i)) {}

  Book book;
  Contract contract;
  TickGrid grid;
  Ticks last_price = 0;
  TickDirection last_direction = TickDirection::plus;
  std::uint64_t trade_seq = 0;
  std::uint64_t touched = 0;  // the command that last touched the book
};

struct Engine::AccountState {
  // Room for a few positions up front, so that a first trade does not allocate.
  explicit AccountState(AccountId id) : account(id) { account.positions.reserve(4); }
  Account account;
  std::uint32_t head = kNone;  // open orders, oldest first
  std::uint32_t tail = kNone;
};

Engine::Engine(EventSink& sink, EngineConfig config)
    : sink_(sink),
      config_(config),
      account_ids_(256),
      free_orders_(kNone),
      order_ids_(config.expected_orders),
      next_expiry_(kNever) {
  orders_.reserve(config.expected_orders);
  labels_.reserve(config.expected_orders);
  origins_.reserve(config.expected_orders);
  touched_books_.reserve(64);
  touched_positions_.reserve(64);
  touched_funds_.reserve(64);
  scratch_.reserve(16);
}

Engine::~Engine() = default;

bool Engine::add_instrument(const Instrument& instrument) {
  if (!(instrument.price_unit > 0) || !(instrument.amount_unit > 0)) return false;
  if (instrument.id < markets_.size() && markets_[instrument.id]) return false;
  if (instrument.id >= markets_.size()) markets_.resize(instrument.id + 1);
  markets_[instrument.id] = std::make_unique<Market>(instrument);
  return true;
}

Engine::Market* Engine::market(InstrumentId id) {
  return id < markets_.size() ? markets_[id].get() : nullptr;
}

std::uint32_t Engine::account_slot(AccountId id) {
  // Account ids are stored +1 so that id 0 is a valid account.
  std::uint32_t slot = account_ids_.find(std::uint64_t{id} + 1);
  if (slot != IdMap::kMissing) return slot;
  slot = static_cast<std::uint32_t>(accounts_.size());
  accounts_.emplace_back(id);
  account_ids_.insert(std::uint64_t{id} + 1, slot);
  return slot;
}

// ---- Command framing --------------------------------------------------------------------------

void Engine::begin(TimestampMs timestamp) {
  now_ = timestamp;
  if (timestamp >= next_expiry_) {
    ++command_;
    expire_day_orders(timestamp);
    finish();
  }
  ++command_;
}

void Engine::finish() {
  for (Market* m : touched_books_) {
    if (const BookDelta* d = m->book.publish(next_change_id_)) {
      ++next_change_id_;
      Event e{std::in_place_type<BookChange>};
      BookChange& b = in_place<BookChange>(e);
      b.timestamp = now_;
      b.instrument = m->contract.id;
      b.change_id = d->change_id;
      b.prev_change_id = d->prev_change_id;
      b.bids = d->bids;
      b.asks = d->asks;
      b.checksum = d->checksum;
      sink_.on_event(e);
    }
  }
  touched_books_.clear();
  for (const auto& [slot, m] : touched_positions_) {
    const Account& a = accounts_[slot].account;
    const Position* p = a.find(m->contract.id);
    Event event{std::in_place_type<PositionUpdate>};
    PositionUpdate& e = in_place<PositionUpdate>(event);
    e.timestamp = now_;
    e.account = a.id;
    e.instrument = m->contract.id;
    e.currency = m->contract.currency;
    e.size = p->size;
    e.average_price = p->average_price();
    e.mark_price = m->contract.mark;
    e.realized_pnl = p->realized;
    e.floating_pnl = floating_pnl(*p);
    e.initial_margin = position_initial_margin(*p, config_.margin);
    sink_.on_event(event);
  }
  touched_positions_.clear();
  for (const auto& [slot, currency] : touched_funds_) {
    const Account& a = accounts_[slot].account;
    const Summary s = summarize(a, currency, config_.margin);
    sink_.on_event(PortfolioUpdate{now_, a.id, currency, s.balance, s.equity, s.initial_margin,
                                   s.maintenance_margin, s.available_funds, s.session_rpl,
                                   s.session_upl, s.fees});
  }
  touched_funds_.clear();
}

void Engine::touch_book(Market& m) {
  if (m.touched == command_) return;
  m.touched = command_;
  touched_books_.push_back(&m);
}

void Engine::touch_position(std::uint32_t account, Market& m) {
  for (const auto& t : touched_positions_) {
    if (t.first == account && t.second == &m) return;
  }
  touched_positions_.emplace_back(account, &m);
}

void Engine::touch_funds(std::uint32_t account, Currency c) {
  for (const auto& t : touched_funds_) {
    if (t.first == account && t.second == c) return;
  }
  touched_funds_.emplace_back(account, c);
}

// ---- Orders -----------------------------------------------------------------------------------

std::uint32_t Engine::new_order(const PlaceOrder& c, std::uint32_t account, Market& m, Lots amount,
                                Ticks price) {
  std::uint32_t slot = free_orders_;
  if (slot != kNone) {
    free_orders_ = orders_[slot].next;
  } else {
    slot = static_cast<std::uint32_t>(orders_.size());
    orders_.emplace_back();
    labels_.emplace_back();
    origins_.emplace_back();
  }
  LiveOrder& o = orders_[slot];
  o = LiveOrder{};
  o.id = next_order_id_++;
  o.market = &m;
  o.account = account;
  o.price = price;
  o.amount = amount;
  o.created = now_;
  o.updated = now_;
  o.side = c.side;
  o.type = c.type;
  o.tif = c.type == OrderType::market && c.time_in_force != TimeInForce::fill_or_kill
              ? TimeInForce::immediate_or_cancel  // a market order never rests
              : c.time_in_force;
  o.post_only = c.post_only;
  o.reject_post_only = c.reject_post_only;
  o.reduce_only = c.reduce_only;
  o.label_size = static_cast<std::uint8_t>(c.label.size());
  if (!c.label.empty()) std::memcpy(labels_[slot].data(), c.label.data(), c.label.size());
  origins_[slot] = c.origin;
  order_ids_.insert(o.id, slot);
  return slot;
}

void Engine::free_order(std::uint32_t slot) {
  LiveOrder& o = orders_[slot];
  order_ids_.erase(o.id);
  o.id = 0;
  o.next = free_orders_;
  free_orders_ = slot;
}

void Engine::link_to_account(std::uint32_t slot) {
  LiveOrder& o = orders_[slot];
  AccountState& a = accounts_[o.account];
  o.prev = a.tail;
  o.next = kNone;
  if (a.tail != kNone) {
    orders_[a.tail].next = slot;
  } else {
    a.head = slot;
  }
  a.tail = slot;
  o.linked = true;
}

void Engine::emit_order(const LiveOrder& o, OrderState state, CancelReason reason) {
  Event e{std::in_place_type<OrderUpdate>};
  fill_update(o, state, reason, in_place<OrderUpdate>(e));
  sink_.on_event(e);
}

void Engine::fill_update(const LiveOrder& o, OrderState state, CancelReason reason,
                         OrderUpdate& e) const {
  const std::size_t slot = static_cast<std::size_t>(&o - orders_.data());
  const Contract& c = o.market->contract;
  e.timestamp = o.updated;
  e.created = o.created;
  e.order_id = o.id;
  e.account = accounts_[o.account].account.id;
  e.instrument = c.id;
  e.currency = c.currency;
  e.side = o.side;
  e.type = o.type;
  e.time_in_force = o.tif;
  e.state = state;
  e.cancel_reason = reason;
  e.post_only = o.post_only;
  e.reject_post_only = o.reject_post_only;
  e.reduce_only = o.reduce_only;
  e.replaced = o.replaced;
  e.price = o.price;
  e.amount = o.amount;
  e.filled = o.filled;
  e.average_price =
      o.filled > 0 ? o.filled_value / static_cast<double>(o.filled) * c.price_unit : 0;
  e.label = std::string_view(labels_[slot].data(), o.label_size);
}

void Engine::release_reserve(LiveOrder& o, Lots filled_now) {
  if (o.reserve == 0) return;
  const Lots rest = o.remaining();
  const double part = filled_now >= rest
                          ? o.reserve
                          : o.reserve * static_cast<double>(filled_now) / static_cast<double>(rest);
  o.reserve -= part;
  Funds& f = accounts_[o.account].account.funds_in(o.market->contract.currency);
  f.order_margin -= part;
  if (f.order_margin < 0) f.order_margin = 0;  // rounding
}

// Ends an order: out of the book and its account's list, margin released, terminal event.
void Engine::cancel_order(std::uint32_t slot, CancelReason reason, OrderState state) {
  LiveOrder& o = orders_[slot];
  if (o.handle != Book::kNone) {
    o.market->book.remove(o.handle);
    o.handle = Book::kNone;
    touch_book(*o.market);
  }
  if (o.linked) {
    AccountState& a = accounts_[o.account];
    if (o.prev != kNone) {
      orders_[o.prev].next = o.next;
    } else {
      a.head = o.next;
    }
    if (o.next != kNone) {
      orders_[o.next].prev = o.prev;
    } else {
      a.tail = o.prev;
    }
    o.linked = false;
  }
  if (o.remaining() > 0) release_reserve(o, o.remaining());
  o.updated = now_;
  emit_order(o, state, reason);
  free_order(slot);
}

// ---- Margin -----------------------------------------------------------------------------------

Lots Engine::position_closable(std::uint32_t account, const Market& m, Side side) const {
  return closable(accounts_[account].account.find(m.contract.id), side);
}

double Engine::available(std::uint32_t account, Currency c) const {
  return available_funds(accounts_[account].account, c, config_.margin);
}

double Engine::reserve_for(std::uint32_t account, const Market& m, Side side, Ticks price,
                           Lots amount) const {
  // The part that closes an existing position needs no margin.
  const Lots opening = amount - std::min(amount, position_closable(account, m, side));
  return order_margin(m.contract, side, price, opening, config_.margin);
}

// The worst price a market order of `amount` would reach (0 on an empty book).
Ticks Engine::estimate_market_price(const Market& m, Side side, Lots amount) const {
  const Side opp = opposite(side);
  Ticks price = 0;
  Lots sum = 0;
  for (std::size_t r = 0; r < m.book.level_count(opp) && sum < amount; ++r) {
    const PriceLevel l = m.book.level(opp, r);
    price = l.price;
    sum += l.amount;
  }
  return price;
}

// Whether a fill_or_kill order would fill entirely: a dry run of match() over the book, with
// the same self-trade and reduce-only rules.
bool Engine::fillable(const Market& m, const LiveOrder& taker) const {
  const Side opp = opposite(taker.side);
  const bool reject_taker =
      accounts_[taker.account].account.self_trade == SelfTradeMode::reject_taker;
  Lots sum = 0;
  // What each maker account has traded so far in the run: it shrinks the position that its
  // reduce-only orders may still close.
  scratch_.clear();
  for (std::size_t r = 0; r < m.book.level_count(opp); ++r) {
    const Ticks price = m.book.level(opp, r).price;
    if (taker.type == OrderType::limit && !crosses(taker.side, taker.price, price)) break;
    for (Book::Handle h = m.book.level_front(opp, price); h != Book::kNone; h = m.book.next(h)) {
      const Book::Order& bo = m.book.order(h);
      const LiveOrder& maker = orders_[bo.tag];
      if (maker.account == taker.account) {
        if (reject_taker) return false;
        continue;
      }
      auto it = std::find_if(scratch_.begin(), scratch_.end(),
                             [&](const auto& s) { return s.first == maker.account; });
      if (it == scratch_.end()) {
        scratch_.emplace_back(maker.account, 0);
        it = scratch_.end() - 1;
      }
      Lots can = std::min(bo.amount, taker.remaining() - sum);
      if (maker.reduce_only) {
        const Lots left = position_closable(maker.account, m, maker.side) - it->second;
        can = std::clamp<Lots>(left, 0, can);
      }
      it->second += can;
      sum += can;
      if (sum >= taker.remaining()) return true;
    }
  }
  return false;
}

// ---- Matching ---------------------------------------------------------------------------------

bool Engine::match(Market& m, std::uint32_t t) {
  LiveOrder& taker = orders_[t];  // no order is created while matching: the reference holds
  Book& book = m.book;
  const Side opp = opposite(taker.side);
  const SelfTradeMode stp = accounts_[taker.account].account.self_trade;
  while (taker.remaining() > 0 && !book.empty(opp)) {
    const Ticks best = book.best_price(opp);
    if (taker.type == OrderType::limit && !crosses(taker.side, taker.price, best)) break;
    for (Book::Handle h = book.front(opp); h != Book::kNone && taker.remaining() > 0;) {
      const Book::Order& bo = book.order(h);
      const Book::Handle next = bo.next;
      const std::uint32_t mk = bo.tag;
      LiveOrder& maker = orders_[mk];
      if (maker.account == taker.account) {
        if (stp == SelfTradeMode::reject_taker) return false;
        cancel_order(mk, CancelReason::self_trade, OrderState::cancelled);
        h = next;
        continue;
      }
      Lots qty = std::min(taker.remaining(), bo.amount);
      bool clamped = false;  // a reduce-only maker limited by its position
      if (maker.reduce_only) {
        const Lots can = position_closable(maker.account, m, maker.side);
        if (can == 0) {
          cancel_order(mk, CancelReason::reduce_only, OrderState::cancelled);
          h = next;
          continue;
        }
        clamped = can < qty;
        qty = std::min(qty, can);
      }
      execute(m, t, mk, best, qty);
      // Its position is closed now, so the rest could only open one: it goes.
      if (clamped) cancel_order(mk, CancelReason::reduce_only, OrderState::cancelled);
      h = next;
    }
  }
  return true;
}

void Engine::execute(Market& m, std::uint32_t t, std::uint32_t mk, Ticks price, Lots qty) {
  LiveOrder& taker = orders_[t];
  LiveOrder& maker = orders_[mk];
  Contract& c = m.contract;
  Account& ta = accounts_[taker.account].account;
  Account& ma = accounts_[maker.account].account;
  const FillResult tf = apply_fill(ta, ta.position(c), taker.side, price, qty, false);
  const FillResult mf = apply_fill(ma, ma.position(c), maker.side, price, qty, true);
  release_reserve(taker, qty);
  release_reserve(maker, qty);
  const double value = static_cast<double>(price) * static_cast<double>(qty);
  taker.filled += qty;
  taker.filled_value += value;
  maker.filled += qty;
  maker.filled_value += value;
  maker.updated = now_;
  const bool maker_done = m.book.reduce(maker.handle, qty);
  if (maker_done) maker.handle = Book::kNone;
  touch_book(m);

  // Deribit's tick direction compares with the previous trade of the instrument.
  TickDirection dir = TickDirection::plus;
  if (m.trade_seq > 0) {
    if (price > m.last_price) {
      dir = TickDirection::plus;
    } else if (price < m.last_price) {
      dir = TickDirection::minus;
    } else {
      const bool up =
          m.last_direction == TickDirection::plus || m.last_direction == TickDirection::zero_plus;
      dir = up ? TickDirection::zero_plus : TickDirection::zero_minus;
    }
  }
  m.last_price = price;
  m.last_direction = dir;

  Event event{std::in_place_type<Trade>};
  Trade& e = in_place<Trade>(event);
  e.timestamp = now_;
  e.trade_id = next_trade_id_[static_cast<std::size_t>(c.currency)]++;
  e.trade_seq = ++m.trade_seq;
  e.instrument = c.id;
  e.currency = c.currency;
  e.direction = taker.side;
  e.tick_direction = dir;
  e.price = price;
  e.amount = qty;
  e.mark_price = c.mark;
  e.index_price = c.index;
  e.taker_order = taker.id;
  e.maker_order = maker.id;
  e.taker = ta.id;
  e.maker = ma.id;
  e.taker_state = taker.remaining() == 0 ? OrderState::filled : OrderState::open;
  e.maker_state = maker_done ? OrderState::filled : OrderState::open;
  e.taker_fee = tf.fee;
  e.maker_fee = mf.fee;
  e.taker_pnl = tf.pnl;
  e.maker_pnl = mf.pnl;
  sink_.on_event(event);

  touch_position(taker.account, m);
  touch_position(maker.account, m);
  touch_funds(taker.account, c.currency);
  touch_funds(maker.account, c.currency);
  if (maker_done) {
    cancel_order(mk, CancelReason::none, OrderState::filled);
  } else {
    emit_order(maker, OrderState::open, CancelReason::none);
  }
}

void Engine::settle_taker(Market& m, std::uint32_t t, bool stopped_by_stp) {
  LiveOrder& o = orders_[t];
  if (o.remaining() == 0) {
    cancel_order(t, CancelReason::none, OrderState::filled);
    return;
  }
  const bool rests = o.type == OrderType::limit && (o.tif == TimeInForce::good_til_cancelled ||
                                                    o.tif == TimeInForce::good_til_day);
  if (stopped_by_stp || !rests) {
    cancel_order(t, stopped_by_stp ? CancelReason::self_trade : CancelReason::immediate_or_cancel,
                 OrderState::cancelled);
    return;
  }
  o.handle = m.book.add(o.id, o.side, o.price, o.remaining(), t);
  touch_book(m);
  if (!o.linked) link_to_account(t);
  if (o.tif == TimeInForce::good_til_day && o.expires == kNever) {
    o.expires = day_end(o.created);
    next_expiry_ = std::min(next_expiry_, o.expires);
  }
  emit_order(o, OrderState::open, CancelReason::none);
}

void Engine::expire_day_orders(TimestampMs timestamp) {
  next_expiry_ = kNever;
  for (std::uint32_t slot = 0; slot < orders_.size(); ++slot) {
    const LiveOrder& o = orders_[slot];
    if (o.id == 0 || o.tif != TimeInForce::good_til_day) continue;
    if (o.expires <= timestamp) {
      cancel_order(slot, CancelReason::good_til_day, OrderState::cancelled);
    } else {
      next_expiry_ = std::min(next_expiry_, o.expires);
    }
  }
}

// ---- Commands ---------------------------------------------------------------------------------

Result Engine::place(const PlaceOrder& c) {
  begin(c.timestamp);
  const Result r = place_order(c);
  finish();
  return r;
}

Result Engine::place_order(const PlaceOrder& c) {
  Market* m = market(c.instrument);
  if (m == nullptr) return {Error::invalid_or_unsupported_instrument};
  if (c.amount <= 0) return {Error::qty_too_low};
  if (c.label.size() > kMaxLabel) return {Error::invalid_arguments};
  Ticks price = 0;
  if (c.type == OrderType::limit) {
    if (c.price <= 0) return {Error::invalid_price};
    if (!m->grid.on_tick(c.price)) return {Error::price_wrong_tick};
    price = c.price;
  } else if (c.post_only) {
    return {Error::invalid_arguments};
  }
  const std::uint32_t a = account_slot(c.account);
  Lots amount = c.amount;
  if (c.reduce_only) {
    const Lots can = position_closable(a, *m, c.side);
    if (can == 0) return {Error::invalid_arguments};
    amount = std::min(amount, can);
  }
  const Side opp = opposite(c.side);
  if (c.post_only && !m->book.empty(opp) && crosses(c.side, price, m->book.best_price(opp))) {
    if (c.reject_post_only) return {Error::post_only_reject};
    // Deribit moves a crossing post-only order to one tick inside the spread.
    const Ticks best = m->book.best_price(opp);
    price = c.side == Side::buy ? m->grid.below(best) : m->grid.above(best);
    if (price <= 0) return {Error::post_only_reject};
  }
  const Ticks margin_price =
      c.type == OrderType::limit ? price : estimate_market_price(*m, c.side, amount);
  const double reserve = margin_price > 0 ? reserve_for(a, *m, c.side, margin_price, amount) : 0;
  if (reserve > 0 && reserve > available(a, m->contract.currency)) {
    return {Error::not_enough_funds};
  }

  const std::uint32_t t = new_order(c, a, *m, amount, price);
  LiveOrder& o = orders_[t];
  o.reserve = reserve;
  accounts_[a].account.funds_in(m->contract.currency).order_margin += reserve;
  const Result r{Error::ok, o.id};
  if (o.tif == TimeInForce::fill_or_kill && !fillable(*m, o)) {
    cancel_order(t, CancelReason::fill_or_kill, OrderState::rejected);
    return r;
  }
  const bool stopped = !match(*m, t);
  settle_taker(*m, t, stopped);
  return r;
}

Result Engine::edit(const EditOrder& c) {
  begin(c.timestamp);
  const Result r = edit_order(c);
  finish();
  return r;
}

Result Engine::edit_order(const EditOrder& c) {
  const std::uint32_t s = order_ids_.find(c.order_id);
  if (s == IdMap::kMissing || accounts_[orders_[s].account].account.id != c.account) {
    return {Error::order_not_found};
  }
  LiveOrder& o = orders_[s];
  Market& m = *o.market;
  if (c.amount <= 0) return {Error::qty_too_low};
  if (c.amount <= o.filled) return {Error::invalid_amount};
  if (c.price <= 0) return {Error::invalid_price};
  if (!m.grid.on_tick(c.price)) return {Error::price_wrong_tick};
  const bool post_only = c.post_only.value_or(o.post_only);
  const bool reject_post_only = c.reject_post_only.value_or(o.reject_post_only);
  Lots amount = c.amount;
  if (o.reduce_only) {
    const Lots can = position_closable(o.account, m, o.side);
    if (can == 0) return {Error::invalid_arguments};
    amount = std::min(amount, o.filled + can);
  }
  Ticks price = c.price;
  const Side opp = opposite(o.side);
  if (post_only && !m.book.empty(opp) && crosses(o.side, price, m.book.best_price(opp))) {
    if (reject_post_only) {
      cancel_order(s, CancelReason::edit_post_only_reject, OrderState::cancelled);
      return {Error::post_only_reject, c.order_id};
    }
    const Ticks best = m.book.best_price(opp);
    price = o.side == Side::buy ? m.grid.below(best) : m.grid.above(best);
    if (price <= 0) return {Error::post_only_reject};
  }
  const Currency currency = m.contract.currency;
  const double reserve = reserve_for(o.account, m, o.side, price, amount - o.filled);
  if (reserve > o.reserve && reserve - o.reserve > available(o.account, currency)) {
    return {Error::not_enough_funds};
  }

  accounts_[o.account].account.funds_in(currency).order_margin += reserve - o.reserve;
  o.reserve = reserve;
  o.post_only = post_only;
  o.reject_post_only = reject_post_only;
  o.replaced = true;
  o.updated = now_;
  const Lots rest = amount - o.filled;
  if (price == o.price && amount <= o.amount) {
    // A decrease at the same price keeps the order's place in the queue.
    if (rest < o.remaining()) {
      m.book.reduce(o.handle, o.remaining() - rest);
      touch_book(m);
    }
    o.amount = amount;
    emit_order(o, OrderState::open, CancelReason::none);
    return {Error::ok, o.id};
  }
  // Anything else re-enters the book as a new arrival (and may trade).
  m.book.remove(o.handle);
  o.handle = Book::kNone;
  touch_book(m);
  o.price = price;
  o.amount = amount;
  const OrderId id = o.id;
  const bool stopped = !match(m, s);
  settle_taker(m, s, stopped);
  return {Error::ok, id};
}

Result Engine::cancel(const CancelOrder& c) {
  begin(c.timestamp);
  Result r{Error::order_not_found};
  const std::uint32_t s = order_ids_.find(c.order_id);
  if (s != IdMap::kMissing && accounts_[orders_[s].account].account.id == c.account) {
    cancel_order(s, CancelReason::user_request, OrderState::cancelled);
    r = {Error::ok, c.order_id};
  }
  finish();
  return r;
}

Result Engine::cancel_all(const CancelAll& c) {
  begin(c.timestamp);
  Result r;
  const std::uint32_t a = account_ids_.find(std::uint64_t{c.account} + 1);
  for (std::uint32_t s = a == IdMap::kMissing ? kNone : accounts_[a].head; s != kNone;) {
    const LiveOrder& o = orders_[s];
    const std::uint32_t next = o.next;
    const Contract& k = o.market->contract;
    if ((!c.instrument || k.id == *c.instrument) && (!c.currency || k.currency == *c.currency) &&
        (!c.kind || k.kind == *c.kind) && (!c.origin || origins_[s] == *c.origin)) {
      cancel_order(s, c.reason, OrderState::cancelled);
      ++r.count;
    }
    s = next;
  }
  finish();
  return r;
}

std::uint32_t Engine::close_instrument(InstrumentId instrument, TimestampMs timestamp) {
  begin(timestamp);
  std::uint32_t count = 0;
  if (Market* m = market(instrument)) {
    for (Side side : {Side::buy, Side::sell}) {
      while (!m->book.empty(side)) {
        // The book's tag is the engine's order slot.
        cancel_order(m->book.order(m->book.front(side)).tag, CancelReason::settlement,
                     OrderState::cancelled);
        ++count;
      }
    }
  }
  finish();
  return count;
}

std::uint32_t Engine::settle_instrument(InstrumentId instrument, double delivery_price,
                                        TimestampMs timestamp) {
  begin(timestamp);
  std::uint32_t count = 0;
  if (Market* m = market(instrument)) {
    Contract& c = m->contract;
    // Accounts in creation order: deterministic, and no position list to keep per instrument
    // for an event that happens once.
    for (std::uint32_t slot = 0; slot < accounts_.size(); ++slot) {
      Account& a = accounts_[slot].account;
      const Position* found = a.find(instrument);
      if (found == nullptr || found->size == 0) continue;
      Position& p = a.position(c);
      const SettlementResult r = settle_position(a, p, delivery_price);
      sink_.on_event(Settlement{now_, a.id, instrument, c.currency, r.size, delivery_price, r.price,
                                r.pnl, r.cash, p.realized});
      touch_position(slot, *m);
      touch_funds(slot, c.currency);
      ++count;
    }
    // The instrument is worth its settlement value from now on (flat positions report it).
    c.mark = settlement_price(c, delivery_price);
  }
  finish();
  return count;
}

void Engine::accrue_funding(InstrumentId instrument, double coin_per_usd) {
  if (Market* m = market(instrument)) m->contract.funding += coin_per_usd;
}

std::uint32_t Engine::book_funding(InstrumentId instrument, TimestampMs timestamp) {
  begin(timestamp);
  std::uint32_t count = 0;
  if (Market* m = market(instrument)) {
    for (std::uint32_t slot = 0; slot < accounts_.size(); ++slot) {
      Account& a = accounts_[slot].account;
      const Position* found = a.find(instrument);
      if (found == nullptr) continue;
      Position& p = a.position(m->contract);
      if (market::book_funding(a, p) == 0) continue;
      touch_position(slot, *m);
      touch_funds(slot, m->contract.currency);
      ++count;
    }
  }
  finish();
  return count;
}

void Engine::deposit(AccountId account, Currency currency, double amount, TimestampMs timestamp) {
  begin(timestamp);
  const std::uint32_t a = account_slot(account);
  accounts_[a].account.funds_in(currency).balance += amount;
  touch_funds(a, currency);
  finish();
}

void Engine::set_self_trade_mode(AccountId account, SelfTradeMode mode) {
  accounts_[account_slot(account)].account.self_trade = mode;
}

void Engine::set_index(Currency currency, double price, TimestampMs timestamp) {
  begin(timestamp);
  for (const auto& m : markets_) {
    if (m && m->contract.currency == currency) m->contract.index = price;
  }
  sink_.on_event(IndexPrice{now_, currency, price});
  finish();
}

void Engine::set_mark(InstrumentId instrument, double price, TimestampMs timestamp) {
  begin(timestamp);
  if (Market* m = market(instrument)) {
    m->contract.mark = price;
    sink_.on_event(MarkPrice{now_, instrument, price});
  }
  finish();
}

void Engine::advance_time(TimestampMs timestamp) {
  begin(timestamp);
  finish();
}

// ---- Queries ----------------------------------------------------------------------------------

const Book* Engine::book(InstrumentId instrument) const {
  return instrument < markets_.size() && markets_[instrument] ? &markets_[instrument]->book
                                                              : nullptr;
}

const Contract* Engine::contract(InstrumentId instrument) const {
  return instrument < markets_.size() && markets_[instrument] ? &markets_[instrument]->contract
                                                              : nullptr;
}

const Account* Engine::account(AccountId account) const {
  const std::uint32_t a = account_ids_.find(std::uint64_t{account} + 1);
  return a == IdMap::kMissing ? nullptr : &accounts_[a].account;
}

std::optional<OrderUpdate> Engine::order(OrderId order_id) const {
  const std::uint32_t s = order_ids_.find(order_id);
  if (s == IdMap::kMissing) return std::nullopt;
  OrderUpdate e;
  fill_update(orders_[s], OrderState::open, CancelReason::none, e);
  return e;
}

void Engine::open_orders(const OrderFilter& filter, std::vector<OrderUpdate>& out) const {
  const std::uint32_t a = account_ids_.find(std::uint64_t{filter.account} + 1);
  // Resting orders are linked to their account (link_to_account), oldest first.
  for (std::uint32_t s = a == IdMap::kMissing ? kNone : accounts_[a].head; s != kNone;
       s = orders_[s].next) {
    const Contract& k = orders_[s].market->contract;
    if ((filter.instrument && k.id != *filter.instrument) ||
        (filter.currency && k.currency != *filter.currency) ||
        (filter.kind && k.kind != *filter.kind)) {
      continue;
    }
    fill_update(orders_[s], OrderState::open, CancelReason::none, out.emplace_back());
  }
}

Summary Engine::summary(AccountId account, Currency currency) const {
  const Account* a = this->account(account);
  return a == nullptr ? Summary{} : summarize(*a, currency, config_.margin);
}

}  // namespace gw::market
