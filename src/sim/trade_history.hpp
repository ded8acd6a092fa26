// Bounded trade histories behind the gateway's trade queries: the last trades of every
// instrument (public/get_last_trades_by_instrument) and the last fills of every external
// account (private/get_user_trades_by_instrument).
//
// The Venue owns one, feeds it every event on its thread and answers its GetLastTrades and
// GetUserTrades commands from it. Why there and not in the gateway's publisher, which sees the
// same trades: the venue thread is the single writer of market state and the only place where a
// query is ordered with the commands, so the fills of a private/buy are in the history when its
// answer leaves (the publisher runs behind the venue, and may even lose events to a full queue);
// and it is where a fill's order (type, flags, label) is known.
//
// Memory is bounded by TradeHistoryLimits (config.hpp): an instrument keeps its last N trades (56
// bytes each), until it expires; an external account its last N fills (about 200 bytes each). With
// the defaults and the default market (~750 instruments) that is about 50 MB once every
// instrument has traded enough, plus 2 MB per active account.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "market/engine.hpp"  // kMaxLabel
#include "market/events.hpp"
#include "sim/config.hpp"
#include "sim/sim_events.hpp"

namespace gw::sim {

// Deribit's `sorting`: asc, desc, or "default".
enum class TradeSorting : std::uint8_t { unspecified, asc, desc };

// Which trades of a history a query wants: Deribit's start_seq, end_seq (both inclusive, by
// trade_seq), count and sorting.
//  - asc: the oldest `count` trades of the range, oldest first;
//  - desc: the newest `count`, newest first;
//  - unspecified: asc when only start_seq is given (paging forward from it, as in Deribit's
//    example), desc otherwise (the latest trades).
struct TradeRange {
  std::optional<std::uint64_t> start_seq;
  std::optional<std::uint64_t> end_seq;
  std::size_t count = 10;
  TradeSorting sorting = TradeSorting::unspecified;

  bool ascending() const {
    if (sorting != TradeSorting::unspecified) return sorting == TradeSorting::asc;
    return start_seq.has_value() && !end_seq.has_value();
  }
  bool contains(std::uint64_t seq) const {
    return (!start_seq || seq >= *start_seq) && (!end_seq || seq <= *end_seq);
  }
};

// One fill as an account saw it: the Trade, which side of it the account was, and what
// user.trades records of its order.
struct UserTrade {
  market::Trade trade;
  bool maker = false;  // false: the account's order was the taker
  market::OrderType order_type = market::OrderType::limit;
  bool post_only = false;
  bool reduce_only = false;
  // The order's fields arrive with its OrderUpdate, just after the trade (a taker's after all
  // its fills); a query never sees one unknown, since queries run between commands.
  bool order_known = false;
  std::uint8_t label_size = 0;
  std::array<char, market::kMaxLabel> label_data{};

  market::OrderId order_id() const { return maker ? trade.maker_order : trade.taker_order; }
  std::string_view label() const { return {label_data.data(), label_size}; }
};

// One delivery of a position at its instrument's expiry, as an account's settlement history
// keeps it: the instrument (kept alive after it expired) and the record's number in the
// account's history (1, 2, ...: what a query's continuation points at).
struct SettlementRecord {
  market::Settlement settlement;
  std::shared_ptr<const market::Instrument> instrument;
  std::uint64_t seq = 0;
};

// Which of an account's settlements a query wants, newest first: of a currency or of one
// instrument (by name: it may have expired), at or before `latest_ms` (0: any), with a seq
// below `before_seq` (0: any; a continuation), at most `count`.
struct SettlementQuery {
  AccountId account = 0;
  std::optional<Currency> currency;
  std::string instrument_name;  // empty: every instrument of the currency
  TimestampMs latest_ms = 0;
  std::uint64_t before_seq = 0;
  std::size_t count = 20;
};
struct SettlementPage {
  std::vector<SettlementRecord> settlements;  // newest first
  bool has_more = false;
};

// A page of a history; has_more: the range holds trades the page left out.
template <class T>
struct TradePage {
  std::vector<T> trades;
  bool has_more = false;
};
using PublicTradePage = TradePage<market::Trade>;
using UserTradePage = TradePage<UserTrade>;

// The last `capacity` items pushed; index 0 is the oldest. It grows to its capacity, then each
// push overwrites the oldest.
template <class T>
class Ring {
 public:
  Ring() = default;  // holds nothing
  explicit Ring(std::size_t capacity) : capacity_(capacity) {}

  void push(const T& item) {
    if (capacity_ == 0) return;
    if (items_.size() < capacity_) {
      items_.push_back(item);
      return;
    }
    items_[start_] = item;
    start_ = start_ + 1 == capacity_ ? 0 : start_ + 1;
  }
  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }
  T& operator[](std::size_t i) { return items_[slot(i)]; }
  const T& operator[](std::size_t i) const { return items_[slot(i)]; }

 private:
  std::size_t slot(std::size_t i) const {
    const std::size_t s = start_ + i;
    return s < items_.size() ? s : s - items_.size();
  }

  std::vector<T> items_;
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;  // the oldest item's slot once full
};

class TradeHistory {
 public:
  explicit TradeHistory(TradeHistoryLimits limits = {}) : limits_(limits) {}

  // Every event of the venue, in order (venue thread). Instruments are followed from
  // InstrumentListed to InstrumentClosed; fills of the simulated participants' accounts are
  // not kept per account (nobody can ask for them).
  void on_event(const VenueEvent& event);

  // The instrument's trades in `range` (empty for an instrument not listed or expired).
  PublicTradePage last_trades(InstrumentId instrument, const TradeRange& range) const;
  // The account's fills in `instrument` within `range`.
  UserTradePage user_trades(AccountId account, InstrumentId instrument,
                            const TradeRange& range) const;

  // One of the last closed orders of an external account (the newest state), or nullopt.
  std::optional<OwnedOrderUpdate> closed_order(OrderId order_id) const;
  // An external account's settlements the query asks for.
  SettlementPage settlements(const SettlementQuery& query) const;

  // How many trades are kept (tests).
  std::size_t instrument_size(InstrumentId instrument) const;
  std::size_t account_size(AccountId account) const;

 private:
  // A public trade as kept: its trade_seq is its place in the instrument's history, since an
  // instrument's trade_seq counts up by one (56 bytes instead of a Trade's 128).
  struct PublicTrade {
    TimestampMs timestamp = 0;
    std::uint64_t trade_id = 0;
    Ticks price = 0;
    Lots amount = 0;
    double mark_price = 0;
    double index_price = 0;
    market::Side direction = market::Side::buy;
    market::TickDirection tick_direction = market::TickDirection::plus;
  };
  struct InstrumentTrades {
    bool listed = false;  // false: never listed, or expired (its history is dropped)
    std::shared_ptr<const market::Instrument> instrument;
    Currency currency = Currency::BTC;
    Ring<PublicTrade> trades;
    std::uint64_t last_seq = 0;  // of trades[size − 1]
  };

  void on_listed(const InstrumentListed& listed);
  void on_closed(InstrumentId instrument);
  void on_trade(const market::Trade& trade);
  void on_order(const OwnedOrderUpdate& update);
  void remember_closed(const OwnedOrderUpdate& update);
  void add_user_trade(AccountId account, const market::Trade& trade, bool maker);
  void on_settlement(const market::Settlement& settlement);
  static market::Trade to_trade(InstrumentId id, const InstrumentTrades& history, std::size_t i);

  TradeHistoryLimits limits_;
  std::vector<InstrumentTrades> instruments_;                // by InstrumentId
  std::unordered_map<AccountId, Ring<UserTrade>> accounts_;  // looked up, never iterated
  // Closed orders by id; each account's ids oldest first, so that the oldest is forgotten once
  // the account has more than limits_.account_closed_orders.
  std::unordered_map<OrderId, OwnedOrderUpdate> closed_orders_;
  std::unordered_map<AccountId, std::deque<OrderId>> closed_by_account_;
  struct AccountSettlements {
    Ring<SettlementRecord> records;
    std::uint64_t last_seq = 0;
  };
  std::unordered_map<AccountId, AccountSettlements> settlements_;
};

}  // namespace gw::sim
