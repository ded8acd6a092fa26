#include "sim/venue.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "market/account.hpp"
#include "sim/simulator.hpp"

namespace gw::sim {

namespace {

using Clock = std::chrono::steady_clock;

constexpr TimestampMs kUnthrottledChunkMs = 10;  // commands are taken between chunks
constexpr TimestampMs kCatchUpChunkMs = 50;      // the same when real time runs behind
constexpr auto kMaxSleep = std::chrono::milliseconds(10);

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

TimestampMs wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---- Running commands -------------------------------------------------------------------------

struct Venue::Executor {
  Venue& venue;
  Simulator& sim;

  void begin(AccountId account) {
    venue.capture_.active = true;
    venue.capture_.account = account;
    venue.capture_.orders.clear();
    venue.capture_.trades.clear();
  }
  void finish(const market::Result& r, OrderId order_id, const OrderCallback& done) {
    Capture& c = venue.capture_;
    c.active = false;
    OrderResult out;
    out.executed = true;
    out.result = r;
    for (auto it = c.orders.rbegin(); it != c.orders.rend(); ++it) {
      if (order_id != 0 && it->order.order_id == order_id) {
        out.order = *it;
        break;
      }
    }
    for (const market::Trade& t : c.trades) {
      if (order_id != 0 && t.taker_order == order_id) out.trades.push_back(t);
    }
    if (done) done(out);
  }

  void operator()(PlaceCommand& c) {
    c.order.label = c.label;
    begin(c.order.account);
    const market::Result r = sim.place(c.order);
    finish(r, r.order_id, c.done);
  }
  void operator()(EditCommand& c) {
    begin(c.edit.account);
    const market::Result r = sim.edit(c.edit);
    finish(r, c.edit.order_id, c.done);
  }
  void operator()(CancelCommand& c) {
    begin(c.cancel.account);
    const market::Result r = sim.cancel(c.cancel);
    finish(r, c.cancel.order_id, c.done);
  }
  void operator()(CancelAllCommand& c) {
    begin(c.filter.account);
    const market::Result r = sim.cancel_all(c.filter);
    finish(r, 0, c.done);
  }
  void operator()(DepositCommand& c) {
    const bool ok = sim.deposit(c.account, c.currency, c.amount);
    AccountSnapshot s = account(c.account, c.currency);
    s.found = s.found && ok;
    if (c.done) c.done(s);
  }
  void operator()(GetBookCommand& c) {
    if (c.done) c.done(book(c.instrument, c.depth));
  }
  void operator()(GetAccountCommand& c) {
    if (c.done) c.done(account(c.account, c.currency));
  }
  void operator()(GetOrderCommand& c) {
    std::optional<OwnedOrderUpdate> out;
    if (const auto o = sim.engine().order(c.order_id)) {
      out.emplace(*o);
    } else {
      out = venue.history_.closed_order(c.order_id);  // filled or cancelled lately
    }
    if (c.done) c.done(out);
  }
  void operator()(GetInstrumentsCommand& c) {
    std::vector<market::Instrument> out;
    for (const market::Instrument* i : sim.registry().select(c.query)) {
      // Instruments of currencies this market does not simulate are never traded.
      if (sim.has_currency(i->currency) && sim.engine().book(i->id) != nullptr) out.push_back(*i);
    }
    if (c.done) c.done(out);
  }

  void operator()(GetOpenOrdersCommand& c) {
    OpenOrders out;
    out.executed = true;
    if (!is_sim_account(c.filter.account)) {
      std::vector<market::OrderUpdate> open;
      sim.engine().open_orders(c.filter, open);
      out.orders.reserve(open.size());
      for (const market::OrderUpdate& o : open) out.orders.emplace_back(o);
    }
    if (c.done) c.done(out);
  }
  void operator()(GetPositionCommand& c) {
    if (c.done) c.done(position(c.account, c.instrument));
  }
  void operator()(GetLastTradesCommand& c) {
    if (c.done) c.done(LastTrades{true, venue.history_.last_trades(c.instrument, c.range)});
  }
  void operator()(GetUserTradesCommand& c) {
    UserTrades out{true, {}};
    if (!is_sim_account(c.account)) {
      out.page = venue.history_.user_trades(c.account, c.instrument, c.range);
    }
    if (c.done) c.done(out);
  }
  void operator()(GetSettlementsCommand& c) {
    Settlements out{true, {}};
    if (!is_sim_account(c.query.account)) out.page = venue.history_.settlements(c.query);
    if (c.done) c.done(out);
  }
  void operator()(GetTickersCommand& c) {
    Tickers out;
    out.executed = true;
    for (InstrumentId id : sim.instruments(c.currency)) {
      const market::Instrument* i = sim.registry().find(id);
      if (i == nullptr || (c.kind && i->kind != *c.kind)) continue;
      if (auto t = sim.ticker(id)) out.tickers.push_back(*t);
    }
    if (c.done) c.done(out);
  }

  PositionQuery position(AccountId account, InstrumentId id) const {
    PositionQuery q;
    q.executed = true;
    q.timestamp = sim.now_ms();
    const market::Contract* contract = sim.engine().contract(id);
    if (contract == nullptr) return q;
    q.found = true;
    q.index_price = sim.index_price(contract->currency);
    q.ticker = sim.ticker(id);
    // Flat unless the account holds some: at the instrument's mark, nothing realised. Before
    // the first marking pass (the venue just opened) the ticker computed now gives the mark.
    const double mark = contract->mark > 0 ? contract->mark : (q.ticker ? q.ticker->mark_price : 0);
    q.position = {id, 0, 0, mark, 0, 0};
    const market::Account* a = is_sim_account(account) ? nullptr : sim.engine().account(account);
    if (const market::Position* p = a != nullptr ? a->find(id) : nullptr) {
      q.position = {id,
                    p->size,
                    p->average_price(),
                    market::mark_or_average(*p),
                    market::floating_pnl(*p),
                    p->realized};
    }
    return q;
  }

  BookSnapshot book(InstrumentId id, std::size_t depth) const {
    BookSnapshot s;
    const market::Book* b = sim.engine().book(id);
    if (b == nullptr || !sim.active(id)) return s;
    s.found = true;
    s.timestamp = sim.now_ms();
    s.instrument = id;
    s.change_id = b->change_id();
    s.checksum = b->checksum();
    b->snapshot(s.bids, s.asks);
    if (depth > 0) {
      if (s.bids.size() > depth) s.bids.resize(depth);
      if (s.asks.size() > depth) s.asks.resize(depth);
    }
    s.ticker = sim.ticker(id);
    return s;
  }

  AccountSnapshot account(AccountId id, Currency currency) const {
    AccountSnapshot s;
    s.timestamp = sim.now_ms();
    s.account = id;
    s.currency = currency;
    s.index_price = sim.index_price(currency);
    const market::Account* a = sim.engine().account(id);
    if (a == nullptr || is_sim_account(id)) return s;
    s.found = true;
    s.summary = sim.engine().summary(id, currency);
    // The same computation as the Portfolio events' (Simulator::handle), at this instant.
    s.risk = sim.account_positions(id, currency, s.positions, s.option_markets);
    return s;
  }
};

// A mirror answers the market's queries from what the feed said; it has no accounts, so every
// order command is refused and every account query finds nothing.
struct Venue::MirrorExecutor {
  Venue& venue;
  Mirror& mirror;

  void refuse(const OrderCallback& done) const {
    OrderResult out;
    out.executed = true;
    out.result.error = market::Error::invalid_arguments;
    if (done) done(out);
  }
  void operator()(PlaceCommand& c) const { refuse(c.done); }
  void operator()(EditCommand& c) const { refuse(c.done); }
  void operator()(CancelCommand& c) const { refuse(c.done); }
  void operator()(CancelAllCommand& c) const { refuse(c.done); }
  void operator()(DepositCommand& c) const {
    if (c.done) c.done(no_account(c.account, c.currency));
  }
  void operator()(GetAccountCommand& c) const {
    if (c.done) c.done(no_account(c.account, c.currency));
  }
  void operator()(GetOrderCommand& c) const {
    if (c.done) c.done(std::nullopt);
  }
  void operator()(GetOpenOrdersCommand& c) const {
    if (c.done) c.done(OpenOrders{true, {}});
  }
  void operator()(GetUserTradesCommand& c) const {
    if (c.done) c.done(UserTrades{true, {}});
  }
  void operator()(GetSettlementsCommand& c) const {
    if (c.done) c.done(Settlements{true, {}});
  }
  void operator()(GetBookCommand& c) const {
    BookSnapshot s;
    if (const auto levels = mirror.levels(c.instrument, c.depth)) {
      s.found = true;
      s.timestamp = std::max(levels->timestamp, mirror.now_ms());
      s.instrument = c.instrument;
      s.change_id = levels->change_id;
      s.checksum = levels->checksum;
      s.bids = levels->bids;
      s.asks = levels->asks;
      s.ticker = mirror.ticker(c.instrument);
    }
    if (c.done) c.done(s);
  }
  void operator()(GetInstrumentsCommand& c) const {
    std::vector<market::Instrument> out;
    for (const market::Instrument* i : mirror.registry().select(c.query)) out.push_back(*i);
    if (c.done) c.done(out);
  }
  void operator()(GetPositionCommand& c) const {
    PositionQuery q;
    q.executed = true;
    q.timestamp = mirror.now_ms();
    const market::Instrument* i = mirror.registry().find(c.instrument);
    if (i != nullptr && mirror.active(c.instrument)) {
      q.found = true;
      q.index_price = mirror.index_price(i->currency);
      q.ticker = mirror.ticker(c.instrument);
      q.position = {c.instrument, 0, 0, q.ticker ? q.ticker->mark_price : 0, 0, 0};
    }
    if (c.done) c.done(q);
  }
  void operator()(GetLastTradesCommand& c) const {
    if (c.done) c.done(LastTrades{true, venue.history_.last_trades(c.instrument, c.range)});
  }
  void operator()(GetTickersCommand& c) const {
    Tickers out;
    out.executed = true;
    for (InstrumentId id : mirror.instruments(c.currency)) {
      const market::Instrument* i = mirror.registry().find(id);
      if (i == nullptr || (c.kind && i->kind != *c.kind)) continue;
      if (auto t = mirror.ticker(id)) out.tickers.push_back(*t);
    }
    if (c.done) c.done(out);
  }

  AccountSnapshot no_account(AccountId account, Currency currency) const {
    AccountSnapshot s;
    s.timestamp = mirror.now_ms();
    s.account = account;
    s.currency = currency;
    s.index_price = mirror.index_price(currency);
    return s;
  }
};

// ---- Fail-safe answers when stopped -----------------------------------------------------------

void Venue::fail(Command& command) {
  std::visit(
      [](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, GetBookCommand>) {
          if (c.done) c.done(BookSnapshot{});
        } else if constexpr (std::is_same_v<T, GetAccountCommand> ||
                             std::is_same_v<T, DepositCommand>) {
          if (c.done) c.done(AccountSnapshot{});
        } else if constexpr (std::is_same_v<T, GetOrderCommand>) {
          if (c.done) c.done(std::nullopt);
        } else if constexpr (std::is_same_v<T, GetInstrumentsCommand>) {
          if (c.done) c.done({});
        } else if constexpr (std::is_same_v<T, GetOpenOrdersCommand>) {
          if (c.done) c.done(OpenOrders{});
        } else if constexpr (std::is_same_v<T, GetPositionCommand>) {
          if (c.done) c.done(PositionQuery{});
        } else if constexpr (std::is_same_v<T, GetLastTradesCommand>) {
          if (c.done) c.done(LastTrades{});
        } else if constexpr (std::is_same_v<T, GetUserTradesCommand>) {
          if (c.done) c.done(UserTrades{});
        } else if constexpr (std::is_same_v<T, GetTickersCommand>) {
          if (c.done) c.done(Tickers{});
        } else if constexpr (std::is_same_v<T, GetSettlementsCommand>) {
          if (c.done) c.done(Settlements{});
        } else {
          if (c.done) c.done(OrderResult{});
        }
      },
      command);
}

// ---- Lifecycle --------------------------------------------------------------------------------

Venue::Venue(VenueConfig config)
    : config_(std::move(config)),
      commands_(config_.command_capacity),
      history_(config_.trade_history) {}

Venue::~Venue() {
  stop();
}

Venue::Consumer& Venue::add_consumer(std::size_t capacity) {
  consumers_.push_back(
      std::make_unique<Consumer>(capacity > 0 ? capacity : config_.queue_capacity));
  return *consumers_.back();
}

void Venue::start() {
  if (started_.exchange(true)) return;
  if (config_.start_ms == 0) config_.start_ms = wall_clock_ms();
  now_ms_.store(config_.start_ms, std::memory_order_relaxed);
  running_.store(true, std::memory_order_release);
  if (config_.source == MarketSource::mirror) {
    mirror_ = std::make_unique<Mirror>(config_, static_cast<VenueSink&>(*this));
    thread_ = std::thread([this] { run_mirror(); });
    return;
  }
  sim_ = std::make_unique<Simulator>(config_, static_cast<VenueSink&>(*this));
  thread_ = std::thread([this] { run(); });
}

void Venue::stop() {
  stop_.store(true, std::memory_order_seq_cst);
  wake();
  if (thread_.joinable()) thread_.join();
  running_.store(false, std::memory_order_release);
  // Commands submitted before start() and never run, or racing with the stop.
  while (auto c = commands_.try_pop()) fail(*c);
}

// ---- Commands in ------------------------------------------------------------------------------

bool Venue::submit(Command command) {
  if (stop_.load(std::memory_order_acquire)) return false;
  if (!commands_.try_push(command)) return false;
  wake();
  return true;
}

void Venue::wake() {
  // Pairs with the fence in sleep_until(): either the venue sees the command before it waits,
  // or this thread sees it sleeping and notifies under the mutex.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_seq_cst) || stop_.load(std::memory_order_relaxed)) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_one();
  }
}

bool Venue::place(const market::PlaceOrder& order, std::string label, OrderCallback done) {
  return submit(PlaceCommand{order, std::move(label), std::move(done)});
}
bool Venue::edit(const market::EditOrder& e, OrderCallback done) {
  return submit(EditCommand{e, std::move(done)});
}
bool Venue::cancel(const market::CancelOrder& c, OrderCallback done) {
  return submit(CancelCommand{c, std::move(done)});
}
bool Venue::cancel_all(const market::CancelAll& filter, OrderCallback done) {
  return submit(CancelAllCommand{filter, std::move(done)});
}
bool Venue::deposit(AccountId account, Currency currency, double amount, AccountCallback done) {
  return submit(DepositCommand{account, currency, amount, std::move(done)});
}
bool Venue::get_book(InstrumentId instrument, std::size_t depth, BookCallback done) {
  return submit(GetBookCommand{instrument, depth, std::move(done)});
}
bool Venue::get_account(AccountId account, Currency currency, AccountCallback done) {
  return submit(GetAccountCommand{account, currency, std::move(done)});
}
bool Venue::get_order(OrderId order_id, OrderQueryCallback done) {
  return submit(GetOrderCommand{order_id, std::move(done)});
}
bool Venue::get_instruments(const market::InstrumentQuery& query, InstrumentsCallback done) {
  return submit(GetInstrumentsCommand{query, std::move(done)});
}

bool Venue::get_open_orders(const market::OrderFilter& filter, OpenOrdersCallback done) {
  return submit(GetOpenOrdersCommand{filter, std::move(done)});
}
bool Venue::get_position(AccountId account, InstrumentId instrument, PositionCallback done) {
  return submit(GetPositionCommand{account, instrument, std::move(done)});
}
bool Venue::get_last_trades(InstrumentId instrument, const TradeRange& range,
                            LastTradesCallback done) {
  return submit(GetLastTradesCommand{instrument, range, std::move(done)});
}
bool Venue::get_user_trades(AccountId account, InstrumentId instrument, const TradeRange& range,
                            UserTradesCallback done) {
  return submit(GetUserTradesCommand{account, instrument, range, std::move(done)});
}
bool Venue::get_tickers(Currency currency, std::optional<market::Kind> kind, TickersCallback done) {
  return submit(GetTickersCommand{currency, kind, std::move(done)});
}

bool Venue::get_settlements(const SettlementQuery& query, SettlementsCallback done) {
  return submit(GetSettlementsCommand{query, std::move(done)});
}

bool Venue::feed(FeedInput input) {
  if (config_.source != MarketSource::mirror || stop_.load(std::memory_order_acquire)) return false;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(input));
  }
  inbox_ready_.store(true, std::memory_order_seq_cst);
  wake();
  return true;
}

bool Venue::feed(std::vector<FeedInput>& batch) {
  if (config_.source != MarketSource::mirror || stop_.load(std::memory_order_acquire)) return false;
  {
    std::lock_guard lock(inbox_mutex_);
    if (inbox_.empty()) {
      inbox_.swap(batch);
    } else {
      std::move(batch.begin(), batch.end(), std::back_inserter(inbox_));
    }
  }
  batch.clear();
  inbox_ready_.store(true, std::memory_order_seq_cst);
  wake();
  return true;
}

bool Venue::take_commands() {
  bool any = false;
  while (auto c = commands_.try_pop()) {
    if (mirror_) {
      // Inputs fed before the command was submitted are applied before it runs.
      take_inbox();
      std::visit(MirrorExecutor{*this, *mirror_}, *c);
    } else {
      std::visit(Executor{*this, *sim_}, *c);
    }
    any = true;
  }
  return any;
}

bool Venue::take_inbox() {
  if (!inbox_ready_.exchange(false, std::memory_order_acq_rel)) return false;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_taken_.swap(inbox_);
  }
  for (const FeedInput& input : inbox_taken_) mirror_->apply(input);
  inbox_taken_.clear();
  now_ms_.store(mirror_->now_ms() > 0 ? mirror_->now_ms() : wall_clock_ms(),
                std::memory_order_relaxed);
  return true;
}

// ---- Events out -------------------------------------------------------------------------------

void Venue::on_event(const VenueEvent& event) {
  history_.on_event(event);
  if (capture_.active) {
    if (const auto* o = std::get_if<OwnedOrderUpdate>(&event)) {
      if (o->order.account == capture_.account) capture_.orders.push_back(*o);
    } else if (const auto* t = std::get_if<market::Trade>(&event)) {
      if (t->taker == capture_.account) capture_.trades.push_back(*t);
    }
  }
  for (auto& c : consumers_) deliver(*c, event);
  published_.store(published_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Venue::deliver(Consumer& c, const VenueEvent& event) {
  auto& q = c.queue_;
  if (c.lagging_) {
    // Resume only with room to spare, so that a consumer just keeping up does not get a gap
    // every few events.
    if (q.size_approx() > q.capacity() / 2 || !q.try_push(VenueEvent{StreamGap{c.missed_}})) {
      ++c.missed_;
      c.dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    c.lagging_ = false;
    c.missed_ = 0;
  }
  if (q.try_push(event)) return;
  const auto deadline = Clock::now() + config_.full_queue_wait;
  for (int spin = 0; !stop_.load(std::memory_order_relaxed); ++spin) {
    if (spin < 256) {
      cpu_relax();
    } else {
      if (Clock::now() >= deadline) break;
      std::this_thread::yield();
    }
    if (q.try_push(event)) return;
  }
  c.lagging_ = true;
  c.missed_ = 1;
  c.dropped_.fetch_add(1, std::memory_order_relaxed);
}

// ---- The thread -------------------------------------------------------------------------------

void Venue::sleep_until(Clock::time_point deadline) {
  sleeping_.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!commands_.ready() && !inbox_ready_.load(std::memory_order_seq_cst) &&
      !stop_.load(std::memory_order_seq_cst)) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_until(lock, deadline, [this] {
      return stop_.load(std::memory_order_relaxed) || commands_.ready() ||
             inbox_ready_.load(std::memory_order_relaxed);
    });
  }
  sleeping_.store(false, std::memory_order_relaxed);
}

void Venue::run() {
  Simulator& sim = *sim_;
  sim.open();
  now_ms_.store(sim.now_ms(), std::memory_order_relaxed);
  const auto wall0 = Clock::now();
  const TimestampMs sim0 = sim.now_ms();
  const double speed = config_.speed;
  while (!stop_.load(std::memory_order_acquire)) {
    take_commands();
    if (!(speed > 0)) {
      sim.run_until(sim.now_ms() + kUnthrottledChunkMs);
      now_ms_.store(sim.now_ms(), std::memory_order_relaxed);
      continue;
    }
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - wall0).count();
    const auto target = sim0 + static_cast<TimestampMs>(elapsed_ms * speed);
    // Catch up in chunks, taking commands in between.
    while (sim.now_ms() < target && !stop_.load(std::memory_order_relaxed)) {
      sim.run_until(std::min(target, sim.now_ms() + kCatchUpChunkMs));
      now_ms_.store(sim.now_ms(), std::memory_order_relaxed);
      take_commands();
    }
    // Sleep until the next task is due (simulated → wall time), a command comes, or 10 ms.
    const TimestampMs next = sim.next_event_ms();
    auto deadline = Clock::now() + kMaxSleep;
    if (next < target + 1'000'000) {
      const auto due =
          wall0 +
          std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double, std::milli>(static_cast<double>(next - sim0) / speed));
      deadline = std::min(deadline, due);
    }
    sleep_until(deadline);
  }
  while (auto c = commands_.try_pop()) fail(*c);
}

// The mirror's loop: inputs first (so that a command sees every input fed before it), then
// commands; the feed's time drives the surfaces. Between inputs it sleeps until woken.
void Venue::run_mirror() {
  Mirror& mirror = *mirror_;
  while (!stop_.load(std::memory_order_acquire)) {
    const bool fed = take_inbox();
    const bool commanded = take_commands();
    const TimestampMs feed_now = mirror.now_ms();
    if (feed_now > 0) mirror.advance(feed_now);
    if (!fed && !commanded) sleep_until(Clock::now() + kMaxSleep);
  }
  while (auto c = commands_.try_pop()) fail(*c);
}

}  // namespace gw::sim
