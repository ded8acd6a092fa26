// The simulated market, single-threaded and deterministic: the instrument registry, the
// matching engine, and the processes that drive them (index, surface, market makers, noise
// traders, chain), advanced by a discrete-event scheduler in simulated time.
//
// The Venue runs one of these on its thread; tests and benchmarks drive it directly. Nothing
// here reads a clock: time moves only through run_until()/step(), every scheduled task runs at
// its own simulated instant (ties in scheduling order), and every random draw comes from
// streams of the seed. So a seed and a sequence of run_until() calls and commands give the same
// events byte for byte, and how run_until() chunks time does not matter.
//
// Scheduled tasks (all in simulated time):
//  - per currency every index_interval_ms: index step, surface drift, perpetual premium and
//    funding (accrued to the perpetual's positions), set_index (IndexPrice), requote of every
//    instrument of the currency;
//  - every funding_interval_ms: the perpetuals' accrued funding booked to their positions;
//  - every ticker_interval_ms: for every active instrument a mark (set_mark → MarkPrice) and a
//    Ticker;
//  - every surface_interval_ms: a SurfaceSnapshot per currency;
//  - per currency, blocks at exponential intervals: Block, then its Transfers;
//  - at every roll_interval_ms boundary (08:00 UTC expiries are on one): the registry rolls;
//    new instruments are listed (InstrumentListed, accounts funded, quoted), expired ones
//    closed (every order cancelled, every position settled at the index, InstrumentClosed);
//  - the noise traders' next event (exponential with the venue's total noise rate), outside the
//    heap: at equal times heap tasks go first.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "market/engine.hpp"
#include "market/registry.hpp"
#include "sim/chain.hpp"
#include "sim/config.hpp"
#include "sim/index_process.hpp"
#include "sim/market_maker.hpp"
#include "sim/noise_traders.hpp"
#include "sim/portfolio.hpp"
#include "sim/sim_events.hpp"
#include "sim/surface_model.hpp"
#include "sim/ticker.hpp"

namespace gw::sim {

class Simulator final : private market::EventSink {
 public:
  // `config.start_ms` must be set (the Venue fills in the wall clock when it is 0).
  Simulator(const VenueConfig& config, VenueSink& out);
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Lists the instruments, funds the simulated accounts, publishes the first index prices,
  // quotes every book, and schedules everything. Call once, before anything else.
  void open();

  TimestampMs now_ms() const { return now_us_ / 1000; }
  std::int64_t now_us() const { return now_us_; }
  // The simulated time (ms, rounded down) of the next scheduled task.
  TimestampMs next_event_ms() const;
  // Runs every task scheduled at or before `t` (ms); the clock then reads max(now, t).
  // Returns the number of tasks run.
  std::size_t run_until(TimestampMs t);
  // Runs the next task only (false when nothing is scheduled).
  bool step();

  // Commands of external accounts at the current simulated time. Accounts of the simulated
  // participants (is_sim_account) are refused with invalid_arguments; an expired instrument is
  // invalid_or_unsupported_instrument. Timestamps in the commands are ignored.
  market::Result place(market::PlaceOrder order);
  market::Result edit(market::EditOrder edit);
  market::Result cancel(market::CancelOrder cancel);
  market::Result cancel_all(market::CancelAll cancel);
  bool deposit(AccountId account, Currency currency, double amount);

  // Queries (the venue thread's; nothing here is thread-safe).
  const market::Engine& engine() const { return *engine_; }
  const market::InstrumentRegistry& registry() const { return registry_; }
  const VenueConfig& config() const { return config_; }
  bool active(InstrumentId id) const;
  // The ticker of an active instrument as of now (what the next ticker batch would publish).
  std::optional<Ticker> ticker(InstrumentId id) const;
  // An active option's market as of now: the mark IV, forward and Greeks its ticker would
  // publish, without the ticker's bid/ask IVs and statistics. nullopt for anything else.
  std::optional<OptionMarket> option_market(InstrumentId id) const;
  // The closest expiry (Unix ms) of the currency's active futures and options (not the
  // perpetual's); 0 when none.
  TimestampMs closest_expiry(Currency c) const;
  // An account's positions in `currency` as of now (flat ones included), the markets of its
  // open options whose instrument is active, and their risk. Clears and refills the vectors, so
  // that a caller that keeps them allocates nothing once they are large enough.
  PortfolioRisk account_positions(AccountId account, Currency currency,
                                  std::vector<PositionSnapshot>& positions,
                                  std::vector<OptionMarket>& option_markets) const;
  bool has_currency(Currency c) const;
  double index_price(Currency c) const;  // as last published
  double forward(Currency c, TimestampMs expiry) const;
  const SurfaceModel& surface(Currency c) const;  // has_currency(c) must hold
  const MarketMaker::Book* maker_book(InstrumentId id) const;
  const NoiseTraders& noise_traders() const { return noise_; }
  // Active instruments of a currency, ascending ids.
  const std::vector<InstrumentId>& instruments(Currency c) const;

  struct Counters {
    std::uint64_t published = 0;      // events handed to the sink
    std::uint64_t engine_events = 0;  // events of the engine, published or not
    std::uint64_t book_changes = 0;   // BookChange events
    std::uint64_t trades = 0;
    std::uint64_t order_updates = 0;  // published or not
    std::uint64_t tickers = 0;
    std::uint64_t blocks = 0;
    std::uint64_t tasks = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  // At equal times tasks run in this order (then in scheduling order): listings first, then
  // the index step, so that tickers see the step's model (and share its computations).
  enum class Task : std::uint8_t { roll, index, funding, ticker, surface, block };
  struct Scheduled {
    std::int64_t at_us = 0;
    std::uint64_t seq = 0;
    Task task = Task::index;
    std::uint32_t arg = 0;
    bool operator>(const Scheduled& o) const {
      if (at_us != o.at_us) return at_us > o.at_us;
      if (task != o.task) return task > o.task;
      return seq > o.seq;
    }
  };
  struct ExpiryModel {
    TimestampMs expiry = 0;
    std::int64_t at_us = -1;    // when computed: recomputed when time moved
    std::uint64_t version = 0;  // or the model changed (CurrencyState::version)
    double years = 0;
    double forward = 0;
    SurfaceModel::Slice slice;
  };
  struct CurrencyState;
  struct InstrumentState {
    const market::Instrument* instrument = nullptr;
    bool active = false;
    market::TickGrid grid;
    MarketMaker::Book maker;
    TradeStats stats;
    Lots open_interest = 0;
    double quote_size = 0;  // the makers' size in lots
    // The model's values at model_at_us (requotes and tickers at the same instant share them).
    mutable std::int64_t model_at_us = -1;
    mutable std::uint64_t model_version = 0;
    mutable double fair = 0;  // instrument units
    mutable double vol = 0;   // options: σ
    mutable double vega = 0;  // options: coin per 1.00 of vol
  };

  // market::EventSink: every engine event, synchronously.
  void on_event(const market::Event& event) override;
  void handle(const market::OrderUpdate& e);
  void handle(const market::Trade& e);
  void handle(const market::BookChange& e);
  void handle(const market::PositionUpdate& e);
  void handle(const market::PortfolioUpdate& e);
  void handle(const market::IndexPrice& e);
  void handle(const market::MarkPrice& e);
  void handle(const market::Settlement& e);
  template <class T, class... Args>
  void emit(Args&&... args);

  void schedule(std::int64_t at_us, Task task, std::uint32_t arg);
  void run(const Scheduled& s);
  void index_step(CurrencyState& cs);
  void accrue_funding(const CurrencyState& cs);
  void book_funding();
  void publish_tickers();
  void publish_surface(CurrencyState& cs);
  void mine_block(CurrencyState& cs);
  void roll(bool quote_new);
  void list_instrument(InstrumentId id);
  void close_instrument(InstrumentId id);
  void requote(CurrencyState& cs, InstrumentState& s);
  void update_noise_weights(const CurrencyState& cs);
  void noise_event();
  void schedule_noise();

  CurrencyState* currency_state(Currency c);
  const CurrencyState* currency_state(Currency c) const;
  InstrumentState* state(InstrumentId id);
  const InstrumentState* state(InstrumentId id) const;
  const ExpiryModel& expiry_model(const CurrencyState& cs, TimestampMs expiry) const;
  double fair_value(const CurrencyState& cs, const market::Instrument& i) const;
  const InstrumentState& model(const CurrencyState& cs, const InstrumentState& s) const;
  TickerInputs ticker_inputs(const CurrencyState& cs, const InstrumentState& s) const;
  bool allowed(AccountId account) const { return !is_sim_account(account); }

  VenueConfig config_;
  VenueSink& out_;
  market::InstrumentRegistry registry_;
  std::unique_ptr<market::Engine> engine_;
  MarketMaker maker_;
  NoiseTraders noise_;
  std::vector<std::unique_ptr<CurrencyState>> currencies_;
  std::vector<InstrumentState> states_;  // by InstrumentId
  // Every (account, instrument)'s position size, for open interest: (account << 32 |
  // instrument) + 1 → index in position_sizes_.
  market::IdMap position_index_{1 << 14};
  std::vector<Lots> position_sizes_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
  std::uint64_t next_seq_ = 0;
  // The noise traders' next event: one Poisson process for the whole venue, kept out of the
  // heap (it is most of the events) and redrawn whenever its rate changes.
  std::int64_t next_noise_us_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t now_us_ = 0;
  bool open_ = false;
  Counters counters_;
  // Scratch of the Portfolio events (account_positions).
  std::vector<PositionSnapshot> portfolio_positions_;
  std::vector<OptionMarket> portfolio_markets_;
};

}  // namespace gw::sim
