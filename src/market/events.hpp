// What the venue publishes: one ordered stream of plain structs in a std::variant, delivered to
// an EventSink as they happen. The matching engine produces orders, trades, book changes,
// positions and portfolios; a market simulator adds its index and mark prices (and, as it grows,
// tickers or block trades: add the struct here and to `Event`).
//
// The fields are what the gateway needs to write Deribit's JSON (order objects, trades,
// book.* changes, user.portfolio) without asking the engine again:
//  - book prices are integer Ticks and amounts integer Lots of the instrument (Instrument
//    converts); derived values that are not on a grid (average prices, marks, index prices,
//    fees, PnL, balances) are doubles in real units: coin, USD, or the instrument's price unit;
//  - ids are numbers; Deribit prints them with the currency as prefix ("ETH-584864807");
//  - string_view and span members point into the engine and are valid only during on_event().
//
// Within one command the engine emits, in order: for each fill a Trade then the maker's
// OrderUpdate (makers cancelled by self-trade prevention or reduce-only get their OrderUpdate at
// that point); the OrderUpdate of the order the command was about; one BookChange per book that
// changed; one PositionUpdate per (account, instrument) whose position changed; one
// PortfolioUpdate per (account, currency) whose funds changed through fills, deposits, funding
// or settlement. settle_instrument() emits a Settlement per settled position first.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "market/book.hpp"
#include "market/types.hpp"

namespace gw::market {

enum class OrderType : std::uint8_t { limit, market };
enum class TimeInForce : std::uint8_t {
  good_til_cancelled,
  good_til_day,
  fill_or_kill,
  immediate_or_cancel
};
enum class OrderState : std::uint8_t { open, filled, rejected, cancelled };
// Deribit's cancel_reason values where Deribit has one (user_request also covers the cancel_all
// family, edit_post_only_reject, settlement, cancel_on_disconnect); the rest are greekwire's, for
// cancels Deribit reports without a specific reason.
enum class CancelReason : std::uint8_t {
  none,
  user_request,           // private/cancel, private/cancel_all*
  edit_post_only_reject,  // an edit would have crossed with reject_post_only
  self_trade,           // self-trade prevention (maker with cancel_maker, taker with reject_taker)
  immediate_or_cancel,  // the unfilled rest of an IOC or market order
  fill_or_kill,         // a fill_or_kill order that could not fill entirely (state rejected)
  good_til_day,         // a good_til_day order at the 08:00 UTC day boundary
  reduce_only,          // a resting reduce-only order whose position is gone
  settlement,
  cancel_on_disconnect,  // the connection that placed it closed (cancel-on-disconnect)
};
// Deribit's tick_direction: 0 plus tick, 1 zero-plus tick, 2 minus tick, 3 zero-minus tick.
enum class TickDirection : std::uint8_t { plus = 0, zero_plus = 1, minus = 2, zero_minus = 3 };

constexpr std::string_view to_string(OrderType t) {
  return t == OrderType::limit ? "limit" : "market";
}
constexpr std::string_view to_string(TimeInForce t) {
  switch (t) {
    case TimeInForce::good_til_cancelled:
      return "good_til_cancelled";
    case TimeInForce::good_til_day:
      return "good_til_day";
    case TimeInForce::fill_or_kill:
      return "fill_or_kill";
    case TimeInForce::immediate_or_cancel:
      return "immediate_or_cancel";
  }
  return "";
}
constexpr std::string_view to_string(OrderState s) {
  switch (s) {
    case OrderState::open:
      return "open";
    case OrderState::filled:
      return "filled";
    case OrderState::rejected:
      return "rejected";
    case OrderState::cancelled:
      return "cancelled";
  }
  return "";
}
constexpr std::string_view to_string(CancelReason r) {
  switch (r) {
    case CancelReason::none:
      return "";
    case CancelReason::user_request:
      return "user_request";
    case CancelReason::edit_post_only_reject:
      return "edit_post_only_reject";
    case CancelReason::self_trade:
      return "self_trade";
    case CancelReason::immediate_or_cancel:
      return "immediate_or_cancel";
    case CancelReason::fill_or_kill:
      return "fill_or_kill";
    case CancelReason::good_til_day:
      return "good_til_day";
    case CancelReason::reduce_only:
      return "reduce_only";
    case CancelReason::settlement:
      return "settlement";
    case CancelReason::cancel_on_disconnect:
      return "cancel_on_disconnect";
  }
  return "";
}
constexpr bool is_terminal(OrderState s) {
  return s != OrderState::open;
}

// An order's state after a change (user.orders.*; the `order` of private/buy, sell, edit,
// cancel).
struct OrderUpdate {
  TimestampMs timestamp = 0;  // last_update_timestamp
  TimestampMs created = 0;    // creation_timestamp
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Currency currency = Currency::BTC;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::good_til_cancelled;
  OrderState state = OrderState::open;
  CancelReason cancel_reason = CancelReason::none;
  bool post_only = false;
  bool reject_post_only = false;
  bool reduce_only = false;
  bool replaced = false;     // the order was edited
  Ticks price = 0;           // limit price (after a post-only reprice); market orders: 0
  Lots amount = 0;           // total amount
  Lots filled = 0;           // filled_amount
  double average_price = 0;  // amount-weighted fill price in real units (0: no fill)
  std::string_view label;
};

// One fill. The public trades.* record and both parties' user.trades records in one event.
struct Trade {
  TimestampMs timestamp = 0;
  std::uint64_t trade_id = 0;   // per currency ("BTC-<n>")
  std::uint64_t trade_seq = 0;  // per instrument
  InstrumentId instrument = 0;
  Currency currency = Currency::BTC;
  Side direction = Side::buy;  // the taker's side
  TickDirection tick_direction = TickDirection::plus;
  Ticks price = 0;
  Lots amount = 0;
  double mark_price = 0;   // 0: none known yet
  double index_price = 0;  // 0: none known yet
  OrderId taker_order = 0;
  OrderId maker_order = 0;
  AccountId taker = 0;
  AccountId maker = 0;
  OrderState taker_state = OrderState::open;  // the order's state after this fill
  OrderState maker_state = OrderState::open;
  double taker_fee = 0;  // in `currency`; negative is a rebate
  double maker_fee = 0;
  double taker_pnl = 0;  // realised profit_loss of this fill, in `currency`
  double maker_pnl = 0;
};

// One message of book.{instrument}.{interval}, plus greekwire's checksum.
struct BookChange {
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
  std::uint64_t change_id = 0;
  std::uint64_t prev_change_id = 0;
  std::span<const LevelUpdate> bids;  // best first
  std::span<const LevelUpdate> asks;
  std::uint32_t checksum = 0;
};

// An account's position in one instrument after a fill (user.changes.*'s positions entry).
struct PositionUpdate {
  TimestampMs timestamp = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Currency currency = Currency::BTC;
  Lots size = 0;             // signed: positive long
  double average_price = 0;  // real units; 0 when flat
  double mark_price = 0;
  double realized_pnl = 0;    // session, in coin
  double floating_pnl = 0;    // at the mark, in coin
  double initial_margin = 0;  // of this position, in coin
};

// An account's funds in one currency (user.portfolio.{currency}).
struct PortfolioUpdate {
  TimestampMs timestamp = 0;
  AccountId account = 0;
  Currency currency = Currency::BTC;
  double balance = 0;
  double equity = 0;
  double initial_margin = 0;  // positions + open orders
  double maintenance_margin = 0;
  double available_funds = 0;
  double session_rpl = 0;
  double session_upl = 0;
  double fees = 0;  // paid this session
};

// Market data that the simulator feeds in and the engine republishes.
struct IndexPrice {
  TimestampMs timestamp = 0;
  Currency currency = Currency::BTC;
  double price = 0;  // USD
};
struct MarkPrice {
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
  double price = 0;  // the instrument's price units (USD for futures, coin for options)
};

// A position settled at its instrument's expiry: one per account that held one (Deribit's
// settlement history record of type "delivery"). Followed by the account's PositionUpdate (flat)
// and PortfolioUpdate.
struct Settlement {
  TimestampMs timestamp = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Currency currency = Currency::BTC;
  Lots position = 0;               // the size settled, signed
  double index_price = 0;          // the delivery price (USD)
  double mark_price = 0;           // the settlement price: futures USD, options coin (intrinsic)
  double profit_loss = 0;          // realised by the settlement, coin
  double cash = 0;                 // moved into the balance, coin (options: what longs receive)
  double session_profit_loss = 0;  // the position's session realised PnL after it, coin
};

using Event = std::variant<OrderUpdate, Trade, BookChange, PositionUpdate, PortfolioUpdate,
                           IndexPrice, MarkPrice, Settlement>;

// Receives every event in order. Called synchronously from the engine; must not call back into
// the engine.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& event) = 0;
};

// Drops everything (an engine nobody listens to).
class NullSink final : public EventSink {
 public:
  void on_event(const Event&) override {}
};

}  // namespace gw::market
