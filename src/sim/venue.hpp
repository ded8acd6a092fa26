// The venue thread: owns the simulated market (registry, engine, simulator) and is the single
// writer of all market state. Other threads talk to it only through two kinds of queues:
//
//  - in: a bounded lock-free multi-producer command queue (place, edit, cancel, cancel_all,
//    deposit, and reads: order book snapshot, account summary, order, instruments, open
//    orders, one position, trade histories (trade_history.hpp), tickers). Each
//    command carries a completion callback that the venue thread calls with the result, in
//    the order the commands were taken, between two simulator tasks (so a book snapshot is
//    consistent with the event stream: every event before it is already in the queues, none
//    after). What the callback does is the caller's business (post to its I/O loop); it must be
//    quick and must not block.
//  - out: one lock-free SPSC queue of VenueEvents per consumer (market::SpscQueue), each
//    receiving every event in order. Full-queue policy, per consumer: the venue waits up to
//    VenueConfig::full_queue_wait (spinning, then yielding) for room; if there is still none it
//    drops events for that consumer and counts them (Consumer::dropped) until its queue is back
//    under half full, then delivers a StreamGap{dropped} before the next event, so the consumer
//    knows to resynchronise its books. A stalled consumer thus costs the market at most one wait
//    per lapse, and never blocks the other consumers for long.
//
// Time: real time by default (simulated time = start + speed × wall time elapsed); speed 0
// runs unthrottled, advancing simulated time in 10 ms chunks as fast as the core allows and
// taking commands between chunks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "market/checksum.hpp"
#include "market/registry.hpp"
#include "market/spsc_queue.hpp"
#include "sim/command_queue.hpp"
#include "sim/config.hpp"
#include "sim/mirror.hpp"
#include "sim/portfolio.hpp"
#include "sim/sim_events.hpp"
#include "sim/trade_history.hpp"

namespace gw::sim {

class Simulator;

// ---- Results ----------------------------------------------------------------------------------

struct OrderResult {
  bool executed = false;  // false: the venue stopped before taking the command
  market::Result result;  // Deribit's error code, the order id, or cancel_all's count
  std::optional<OwnedOrderUpdate> order;  // the order after the command (place/edit/cancel)
  std::vector<market::Trade> trades;      // the fills in which it was the taker
};

struct BookSnapshot {
  bool found = false;  // false: unknown or expired instrument, or the venue stopped
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
  std::uint64_t change_id = 0;  // the book's last change_id (the next change's prev_change_id)
  std::uint32_t checksum = 0;
  std::vector<market::PriceLevel> bids;  // best first
  std::vector<market::PriceLevel> asks;
  std::optional<Ticker> ticker;  // computed now
};

struct AccountSnapshot {
  bool found = false;  // false: no such account (nothing deposited or traded), or stopped
  TimestampMs timestamp = 0;
  AccountId account = 0;
  Currency currency = Currency::BTC;
  double index_price = 0;  // the currency's index as last published (0: unknown)
  market::Summary summary;
  std::vector<PositionSnapshot> positions;  // of `currency`, including flat ones
  // Of the open option positions whose instrument is active, in the positions' order.
  std::vector<OptionMarket> option_markets;
  PortfolioRisk risk;  // of `positions`, with the Greeks of `option_markets`

  const OptionMarket* option_market(InstrumentId instrument) const {
    for (const OptionMarket& m : option_markets) {
      if (m.instrument == instrument) return &m;
    }
    return nullptr;
  }
};

// An account's open orders (private/get_open_orders_by_*), in the order they started resting.
struct OpenOrders {
  bool executed = false;  // false: the venue stopped before taking the command
  std::vector<OwnedOrderUpdate> orders;
};

// One account's position in one instrument (private/get_position), flat when it holds none.
struct PositionQuery {
  bool executed = false;
  bool found = false;  // false: no such instrument
  TimestampMs timestamp = 0;
  PositionSnapshot position;
  double index_price = 0;        // of the instrument's currency
  std::optional<Ticker> ticker;  // computed now; none once the instrument expired
};

struct LastTrades {
  bool executed = false;
  PublicTradePage page;
};
struct UserTrades {
  bool executed = false;
  UserTradePage page;
};

struct Settlements {
  bool executed = false;
  SettlementPage page;
};

// The tickers of a currency's active instruments, computed now, ascending instrument ids.
struct Tickers {
  bool executed = false;
  std::vector<Ticker> tickers;
};

using OrderCallback = std::function<void(const OrderResult&)>;
using BookCallback = std::function<void(const BookSnapshot&)>;
using AccountCallback = std::function<void(const AccountSnapshot&)>;
using OrderQueryCallback = std::function<void(const std::optional<OwnedOrderUpdate>&)>;
using InstrumentsCallback = std::function<void(const std::vector<market::Instrument>&)>;
using OpenOrdersCallback = std::function<void(const OpenOrders&)>;
using PositionCallback = std::function<void(const PositionQuery&)>;
using LastTradesCallback = std::function<void(const LastTrades&)>;
using UserTradesCallback = std::function<void(const UserTrades&)>;
using TickersCallback = std::function<void(const Tickers&)>;
using SettlementsCallback = std::function<void(const Settlements&)>;

// ---- Commands ---------------------------------------------------------------------------------

struct PlaceCommand {
  market::PlaceOrder order;  // order.label is ignored: `label` is used (owned)
  std::string label;
  OrderCallback done;
};
struct EditCommand {
  market::EditOrder edit;
  OrderCallback done;
};
struct CancelCommand {
  market::CancelOrder cancel;
  OrderCallback done;
};
struct CancelAllCommand {
  market::CancelAll filter;
  OrderCallback done;  // result.count: how many were cancelled
};
struct DepositCommand {
  AccountId account = 0;
  Currency currency = Currency::BTC;
  double amount = 0;
  AccountCallback done;  // the account afterwards
};
struct GetBookCommand {
  InstrumentId instrument = 0;
  std::size_t depth = 0;  // levels per side; 0: all
  BookCallback done;
};
struct GetAccountCommand {
  AccountId account = 0;
  Currency currency = Currency::BTC;
  AccountCallback done;
};
struct GetOrderCommand {
  OrderId order_id = 0;
  OrderQueryCallback done;  // nullopt unless open or among the account's last closed
};
struct GetInstrumentsCommand {
  market::InstrumentQuery query;
  InstrumentsCallback done;
};

struct GetOpenOrdersCommand {
  market::OrderFilter filter;
  OpenOrdersCallback done;
};
struct GetPositionCommand {
  AccountId account = 0;
  InstrumentId instrument = 0;
  PositionCallback done;
};
struct GetLastTradesCommand {
  InstrumentId instrument = 0;
  TradeRange range;
  LastTradesCallback done;
};
struct GetUserTradesCommand {
  AccountId account = 0;
  InstrumentId instrument = 0;
  TradeRange range;
  UserTradesCallback done;
};
struct GetSettlementsCommand {
  SettlementQuery query;
  SettlementsCallback done;
};
struct GetTickersCommand {
  Currency currency = Currency::BTC;
  std::optional<market::Kind> kind;  // unset: every kind
  TickersCallback done;
};

using Command =
    std::variant<PlaceCommand, EditCommand, CancelCommand, CancelAllCommand, DepositCommand,
                 GetBookCommand, GetAccountCommand, GetOrderCommand, GetInstrumentsCommand,
                 GetOpenOrdersCommand, GetPositionCommand, GetLastTradesCommand,
                 GetUserTradesCommand, GetTickersCommand, GetSettlementsCommand>;

// ---- The venue --------------------------------------------------------------------------------

class Venue final : private VenueSink {
 public:
  // One consumer's queue and its drop counter.
  class Consumer {
   public:
    explicit Consumer(std::size_t capacity) : queue_(capacity) {}
    market::SpscQueue<VenueEvent>& queue() { return queue_; }
    // Events this consumer missed because its queue stayed full (any thread).
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

   private:
    friend class Venue;
    market::SpscQueue<VenueEvent> queue_;
    std::atomic<std::uint64_t> dropped_{0};
    std::uint64_t missed_ = 0;  // since the last delivered event (venue thread)
    bool lagging_ = false;
  };

  explicit Venue(VenueConfig config = {});
  ~Venue() override;  // stops
  Venue(const Venue&) = delete;
  Venue& operator=(const Venue&) = delete;

  // Before start(): a consumer queue (capacity 0: the configured one). The reference stays
  // valid for the venue's lifetime.
  Consumer& add_consumer(std::size_t capacity = 0);

  // Starts the venue thread (once). It opens the market (every instrument is announced by an
  // InstrumentListed event first) and runs until stop().
  void start();
  // Stops and joins the thread. Commands still queued are answered as not executed.
  void stop();
  bool running() const { return running_.load(std::memory_order_acquire); }

  // Any thread. False when the command queue is full or the venue has stopped: the command
  // (and its callback) is then dropped without a call.
  bool submit(Command command);
  bool place(const market::PlaceOrder& order, std::string label, OrderCallback done);
  bool edit(const market::EditOrder& edit, OrderCallback done);
  bool cancel(const market::CancelOrder& cancel, OrderCallback done);
  bool cancel_all(const market::CancelAll& filter, OrderCallback done);
  bool deposit(AccountId account, Currency currency, double amount, AccountCallback done);
  bool get_book(InstrumentId instrument, std::size_t depth, BookCallback done);
  bool get_account(AccountId account, Currency currency, AccountCallback done);
  bool get_order(OrderId order_id, OrderQueryCallback done);  // open or lately closed
  bool get_instruments(const market::InstrumentQuery& query, InstrumentsCallback done);
  bool get_open_orders(const market::OrderFilter& filter, OpenOrdersCallback done);
  bool get_position(AccountId account, InstrumentId instrument, PositionCallback done);
  bool get_last_trades(InstrumentId instrument, const TradeRange& range, LastTradesCallback done);
  bool get_user_trades(AccountId account, InstrumentId instrument, const TradeRange& range,
                       UserTradesCallback done);
  bool get_tickers(Currency currency, std::optional<market::Kind> kind, TickersCallback done);
  bool get_settlements(const SettlementQuery& query, SettlementsCallback done);

  // Any thread, MarketSource::mirror only: inputs for the mirror, applied on the venue thread
  // in the order given (before or after start(); never dropped: the inbox grows). False when
  // the venue is not a mirror or has stopped.
  bool feed(FeedInput input);
  bool feed(std::vector<FeedInput>& batch);  // moves the inputs out, leaves `batch` empty

  // Any thread: the simulated time (unix ms) as of the venue thread's last step.
  TimestampMs now_ms() const { return now_ms_.load(std::memory_order_relaxed); }
  // Any thread: events published so far (to each consumer, delivered or dropped).
  std::uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  const VenueConfig& config() const { return config_; }

 private:
  void on_event(const VenueEvent& event) override;  // VenueSink, venue thread
  void deliver(Consumer& c, const VenueEvent& event);
  void run();
  void run_mirror();
  bool take_commands();  // true when any were taken
  bool take_inbox();     // mirror: applies the fed inputs; true when any were
  void execute(Command& command);
  void fail(Command& command);  // answers "not executed"
  void sleep_until(std::chrono::steady_clock::time_point deadline);
  void wake();

  struct Executor;        // runs one command against the simulator (venue.cpp)
  struct MirrorExecutor;  // ... or against the mirror

  VenueConfig config_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  CommandQueue<Command> commands_;
  std::unique_ptr<Simulator> sim_;  // MarketSource::simulator
  std::unique_ptr<Mirror> mirror_;  // MarketSource::mirror
  // The mirror's inputs: producers append under the mutex, the venue thread swaps them out.
  std::mutex inbox_mutex_;
  std::vector<FeedInput> inbox_;
  std::vector<FeedInput> inbox_taken_;
  std::atomic<bool> inbox_ready_{false};
  TradeHistory history_;  // venue thread, fed by on_event()
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::atomic<TimestampMs> now_ms_{0};
  std::atomic<std::uint64_t> published_{0};

  // Sleeping: the venue thread waits on `wake_` while `sleeping_`; producers notify only then.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> sleeping_{false};

  // What the command being executed produced (venue thread).
  struct Capture {
    bool active = false;
    AccountId account = 0;
    std::vector<OwnedOrderUpdate> orders;
    std::vector<market::Trade> trades;
  } capture_;
};

}  // namespace gw::sim
