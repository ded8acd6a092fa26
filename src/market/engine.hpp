// The matching engine: price-time priority books for many instruments, accounts with positions
// and margin, commands in, events out (docs/VENUE.md, "Matching engine").
//
// Deterministic by construction: one thread, no clock (every command carries its timestamp), no
// iteration over hashed containers, ids from counters. The same commands give the same events.
// Every accepted order gets exactly one terminal OrderUpdate (filled, cancelled or rejected);
// commands that fail validation return an Error and create no order and no event.
//
// Steady state allocates nothing: orders, levels, ids and per-command scratch live in pools and
// vectors that only grow to the working set. Events go synchronously to an EventSink.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "market/account.hpp"
#include "market/book.hpp"
#include "market/events.hpp"
#include "market/types.hpp"

namespace gw::market {

struct Instrument;

// Deribit's error codes for the failures the engine detects.
enum class Error : std::int32_t {
  ok = 0,
  qty_too_low = 10002,
  order_not_found = 10004,
  not_enough_funds = 10009,
  invalid_or_unsupported_instrument = 10020,
  invalid_amount = 10021,
  invalid_price = 10023,
  price_wrong_tick = 10043,
  invalid_arguments = 11029,
  post_only_reject = 11054,
};
constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::ok:
      return "ok";
    case Error::qty_too_low:
      return "qty_too_low";
    case Error::order_not_found:
      return "order_not_found";
    case Error::not_enough_funds:
      return "not_enough_funds";
    case Error::invalid_or_unsupported_instrument:
      return "invalid_or_unsupported_instrument";
    case Error::invalid_amount:
      return "invalid_amount";
    case Error::invalid_price:
      return "invalid_price";
    case Error::price_wrong_tick:
      return "price_wrong_tick";
    case Error::invalid_arguments:
      return "invalid_arguments";
    case Error::post_only_reject:
      return "post_only_reject";
  }
  return "";
}

// An instrument's price grid in Ticks: the base tick, and coarser ticks from thresholds up
// (Deribit's tick_size_steps; at a threshold the coarser tick applies).
struct TickGrid {
  Ticks base = 1;
  std::vector<std::pair<Ticks, Ticks>> steps;  // (from price, tick), ascending

  static TickGrid from(const Instrument& instrument);
  Ticks tick_at(Ticks price) const;
  bool on_tick(Ticks price) const {
    const Ticks tick = tick_at(price);
    return tick == 1 || price % tick == 0;  // most grids are the unit: skip the division
  }
  Ticks below(Ticks price) const;  // the highest price on the grid under `price`
  Ticks above(Ticks price) const;  // the lowest price on the grid over `price`
};

inline constexpr std::size_t kMaxLabel = 64;

struct PlaceOrder {
  AccountId account = 0;
  InstrumentId instrument = 0;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  Ticks price = 0;  // limit orders
  Lots amount = 0;
  TimeInForce time_in_force = TimeInForce::good_til_cancelled;
  bool post_only = false;
  bool reject_post_only = false;
  bool reduce_only = false;
  std::string_view label;
  TimestampMs timestamp = 0;
  // Who placed it, for CancelAll::origin (the gateway's connection id; 0: nobody in particular).
  std::uint64_t origin = 0;
};

// private/edit: the new price and the new total amount (filled included). A price change or an
// amount increase sends the order to the back of its new level; a decrease keeps its place.
struct EditOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  Ticks price = 0;
  Lots amount = 0;
  std::optional<bool> post_only;  // unset: keep the order's
  std::optional<bool> reject_post_only;
  TimestampMs timestamp = 0;
};

struct CancelOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  TimestampMs timestamp = 0;
};

// private/cancel_all (no filter), cancel_all_by_currency (currency, optionally kind) and
// cancel_all_by_instrument; with `origin`, only the orders placed with that PlaceOrder::origin
// (cancel-on-disconnect: the orders of one connection).
struct CancelAll {
  AccountId account = 0;
  std::optional<Currency> currency;
  std::optional<Kind> kind;
  std::optional<InstrumentId> instrument;
  TimestampMs timestamp = 0;
  std::optional<std::uint64_t> origin;
  CancelReason reason = CancelReason::user_request;
};

// The open orders a query asks for: one account's, with the same optional filters as
// CancelAll (unset: any).
struct OrderFilter {
  AccountId account = 0;
  std::optional<Currency> currency;
  std::optional<Kind> kind;
  std::optional<InstrumentId> instrument;
};

struct Result {
  Error error = Error::ok;
  OrderId order_id = 0;     // the order placed, edited or cancelled
  std::uint32_t count = 0;  // orders cancelled by cancel_all
  bool ok() const { return error == Error::ok; }
};

struct EngineConfig {
  MarginParams margin;
  std::size_t expected_orders = 4096;  // pools are reserved for this many open orders
};

// Open-addressing hash map from a nonzero 64-bit id to a 32-bit slot (linear probing, load
// ≤ 1/2, backward-shift deletion: no tombstones, so lookups stay short under churn).
class IdMap {
 public:
  static constexpr std::uint32_t kMissing = 0xFFFFFFFFu;
  explicit IdMap(std::size_t expected = 1024);
  std::uint32_t find(std::uint64_t key) const;
  void insert(std::uint64_t key, std::uint32_t value);  // key must be absent
  void erase(std::uint64_t key);
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty
    std::uint32_t value = 0;
  };
  std::size_t home(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

class Engine {
 public:
  explicit Engine(EventSink& sink, EngineConfig config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Lists an instrument (ids should be dense: they index a vector). False when the id is taken
  // or its units are unusable.
  bool add_instrument(const Instrument& instrument);

  // Funds and settings (accounts are created on first use, with nothing).
  void deposit(AccountId account, Currency currency, double amount, TimestampMs timestamp);
  void set_self_trade_mode(AccountId account, SelfTradeMode mode);
  // Market data for margin and PnL; republished as IndexPrice / MarkPrice events.
  void set_index(Currency currency, double price, TimestampMs timestamp);
  void set_mark(InstrumentId instrument, double price, TimestampMs timestamp);
  // Expires good_til_day orders once `timestamp` passes their day's 08:00 UTC. Every command
  // does this first, so it is only needed when no command comes.
  void advance_time(TimestampMs timestamp);

  Result place(const PlaceOrder& command);
  Result edit(const EditOrder& command);
  Result cancel(const CancelOrder& command);
  Result cancel_all(const CancelAll& command);
  // The instrument expired: every order resting on it, whatever its account, is cancelled with
  // reason `settlement` (one terminal OrderUpdate each). Returns how many.
  std::uint32_t close_instrument(InstrumentId instrument, TimestampMs timestamp);
  // The expired instrument's positions are settled at `delivery_price` (USD; see
  // settle_position): a Settlement per position (accounts in the order they were created), then
  // each account's PositionUpdate (flat) and PortfolioUpdate. Returns how many were settled.
  std::uint32_t settle_instrument(InstrumentId instrument, double delivery_price,
                                  TimestampMs timestamp);

  // Perpetual funding. accrue_funding() adds to the instrument's accrued funding what a long of
  // 1 USD pays (coin; negative: longs are paid) over the time just passed; no event. Positions
  // book what they accrued when they next trade, settle, or at book_funding(), which books every
  // position of the instrument (PositionUpdate and PortfolioUpdate for each that paid or
  // received) and returns how many did.
  void accrue_funding(InstrumentId instrument, double coin_per_usd);
  std::uint32_t book_funding(InstrumentId instrument, TimestampMs timestamp);

  // Queries (no events). An order's label points into the engine until the next command.
  const Book* book(InstrumentId instrument) const;
  const Contract* contract(InstrumentId instrument) const;
  const Account* account(AccountId account) const;
  std::optional<OrderUpdate> order(OrderId order_id) const;
  // Appends the account's open orders that pass `filter` (state open), in the order they
  // started resting. Labels point into the engine until the next command.
  void open_orders(const OrderFilter& filter, std::vector<OrderUpdate>& out) const;
  Summary summary(AccountId account, Currency currency) const;
  std::size_t open_orders() const { return order_ids_.size(); }
  std::uint64_t last_change_id() const { return next_change_id_ - 1; }

 private:
  struct LiveOrder;
  struct Market;
  struct AccountState;

  // Command framing: expiry, then the command, then the per-command events.
  void begin(TimestampMs timestamp);
  void finish();
  Result place_order(const PlaceOrder& command);
  Result edit_order(const EditOrder& command);

  Market* market(InstrumentId id);
  std::uint32_t account_slot(AccountId id);  // found or created
  std::uint32_t new_order(const PlaceOrder& c, std::uint32_t account, Market& m, Lots amount,
                          Ticks price);
  void free_order(std::uint32_t slot);
  void link_to_account(std::uint32_t slot);

  bool crosses(Side side, Ticks price, Ticks opposite_best) const {
    return side == Side::buy ? price >= opposite_best : price <= opposite_best;
  }
  Lots position_closable(std::uint32_t account, const Market& m, Side side) const;
  double available(std::uint32_t account, Currency c) const;
  double reserve_for(std::uint32_t account, const Market& m, Side side, Ticks price,
                     Lots amount) const;
  Ticks estimate_market_price(const Market& m, Side side, Lots amount) const;
  bool fillable(const Market& m, const LiveOrder& taker) const;

  // Matching: fills `taker` against the opposite side; false when self-trade prevention
  // (reject_taker) stopped it.
  bool match(Market& m, std::uint32_t taker);
  void execute(Market& m, std::uint32_t taker, std::uint32_t maker, Ticks price, Lots qty);
  // After matching: rests the rest, or ends the order; emits its OrderUpdate.
  void settle_taker(Market& m, std::uint32_t taker, bool stopped_by_stp);
  void cancel_order(std::uint32_t slot, CancelReason reason, OrderState state);
  void release_reserve(LiveOrder& o, Lots filled_now);
  void fill_update(const LiveOrder& o, OrderState state, CancelReason reason, OrderUpdate& e) const;
  void emit_order(const LiveOrder& o, OrderState state, CancelReason reason);
  void expire_day_orders(TimestampMs timestamp);

  void touch_book(Market& m);
  void touch_position(std::uint32_t account, Market& m);
  void touch_funds(std::uint32_t account, Currency c);

  EventSink& sink_;
  EngineConfig config_;
  TimestampMs now_ = 0;

  std::vector<std::unique_ptr<Market>> markets_;  // by InstrumentId
  std::vector<AccountState> accounts_;
  IdMap account_ids_;

  std::vector<LiveOrder> orders_;
  std::vector<std::array<char, kMaxLabel>> labels_;  // by order slot (cold)
  std::vector<std::uint64_t> origins_;               // by order slot (cold): PlaceOrder::origin
  std::uint32_t free_orders_;
  IdMap order_ids_;

  OrderId next_order_id_ = 1;
  std::uint64_t next_change_id_ = 1;
  std::uint64_t next_trade_id_[2] = {1, 1};
  TimestampMs next_expiry_;  // the earliest good_til_day expiry of an open order

  // Per command: what changed, for the events at its end.
  std::uint64_t command_ = 0;
  std::vector<Market*> touched_books_;
  std::vector<std::pair<std::uint32_t, Market*>> touched_positions_;
  std::vector<std::pair<std::uint32_t, Currency>> touched_funds_;
  mutable std::vector<std::pair<std::uint32_t, Lots>> scratch_;  // fillable()'s per-account use
};

}  // namespace gw::market
