#include "gateway/publisher.hpp"

#include <charconv>
#include <chrono>
#include <span>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/protobuf_writer.hpp"
#include "codec/response.hpp"
#include "gateway/encode.hpp"
#include "gateway/protobuf_members.hpp"

namespace gw::gateway {

namespace {

constexpr std::uint64_t kWindowMs = 100;
constexpr std::size_t kMaxEventsPerPass = 4096;  // then requests and the outbox get a turn

// usIn: microseconds of the wall clock (a client compares it with its own clock).
std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

bool is_book(const ChannelSpec& spec) {
  return spec.kind == ChannelKind::book;
}

// The conflated channels a per-instrument event feeds, by interval.
constexpr std::array<Interval, 2> kConflated = {Interval::ms100, Interval::agg2};

std::string_view kind_name(market::Kind kind) {
  return kind == market::Kind::option ? "option" : "future";
}

// Index of an interval in ChannelNames' arrays.
std::size_t slot(Interval interval) {
  return static_cast<std::size_t>(interval);
}
constexpr std::array<Interval, 3> kIntervals = {Interval::raw, Interval::ms100, Interval::agg2};

// The private channels of `what` ("orders" or "trades") an event of `instrument` feeds: per
// instrument and per kind/currency with "any", in every interval.
std::vector<std::string> user_channels(std::string_view what,
                                       const market::Instrument& instrument) {
  const std::string prefix = "user." + std::string(what) + ".";
  const std::string currency(market::to_string(instrument.currency));
  const std::string kind(kind_name(instrument.kind));
  std::vector<std::string> names;
  for (Interval interval : kIntervals) {
    const std::string tail = "." + std::string(to_string(interval));
    names.push_back(prefix + instrument.name + tail);
    for (const std::string& k : {kind, std::string("any")}) {
      for (const std::string& c : {currency, std::string("any")}) {
        names.push_back(prefix + k + "." + c + tail);
      }
    }
  }
  return names;
}

// The account of a private route "<account>|<name>", nullopt for a public channel.
std::optional<market::AccountId> route_account(std::string_view route) {
  const std::size_t bar = route.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  market::AccountId account = 0;
  const auto [end, ec] = std::from_chars(route.data(), route.data() + bar, account);
  if (ec != std::errc{} || end != route.data() + bar) return std::nullopt;
  return account;
}

}  // namespace

Publisher::Publisher(sim::Venue::Consumer& events, Directory& directory, std::size_t threads,
                     Post post)
    : events_(events),
      directory_(directory),
      threads_(threads),
      post_(std::move(post)),
      outbox_(threads) {}

Publisher::~Publisher() {
  stop();
}

void Publisher::start() {
  next_flush_ms_ = steady_ms() + kWindowMs;
  thread_ = std::thread([this] { run(); });
}

void Publisher::stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

// volsurface.* too: the surface comes every 10 s, so a new subscriber gets the last one at once.
bool Publisher::starts_with_snapshot(const ChannelSpec& spec) {
  return spec.kind == ChannelKind::book || spec.kind == ChannelKind::book_grouped ||
         spec.kind == ChannelKind::volsurface;
}

void Publisher::subscribe(std::size_t thread, std::uint64_t session, const ChannelSpec& spec,
                          std::string channel, Encoding encoding, SnapshotKind snapshot) {
  std::lock_guard lock(requests_mutex_);
  requests_.push_back({true, thread, session, spec, std::move(channel), encoding, snapshot});
}

void Publisher::unsubscribe(std::size_t thread, std::string channel, Encoding encoding) {
  std::lock_guard lock(requests_mutex_);
  requests_.push_back({false, thread, 0, {}, std::move(channel), encoding});
}

// The loop: events in order, subscription changes between them, the 100 ms flush, and one post
// per I/O thread per pass. When idle it naps briefly: a raw notification waits at most that.
void Publisher::run() {
  while (!stop_.load(std::memory_order_acquire)) {
    bool busy = take_requests();
    std::size_t n = 0;
    while (n < kMaxEventsPerPass) {
      sim::VenueEvent* event = events_.queue().peek();
      if (event == nullptr) break;
      event_us_ = 0;
      on_event(*event);
      events_.queue().pop();
      ++n;
    }
    busy = busy || n > 0;
    stats_.events.fetch_add(n, std::memory_order_relaxed);
    if (steady_ms() >= next_flush_ms_) {
      event_us_ = 0;
      flush_windows();
      next_flush_ms_ += kWindowMs;
      if (next_flush_ms_ < steady_ms()) next_flush_ms_ = steady_ms() + kWindowMs;
    }
    post_outbox();
    if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

bool Publisher::take_requests() {
  {
    std::lock_guard lock(requests_mutex_);
    if (requests_.empty()) return false;
    taking_.swap(requests_);
  }
  for (Request& request : taking_) {
    event_us_ = 0;  // each request, event and window is stamped when first published (stamp())
    handle(request);
  }
  taking_.clear();
  return true;
}

void Publisher::handle(Request& request) {
  auto it = channels_.find(request.channel);
  if (!request.subscribe) {
    if (it == channels_.end()) return;
    count_private(request.channel, -1);
    Channel& state = it->second;
    --state.per_thread[request.thread];
    --state.per_encoding[static_cast<std::size_t>(request.encoding)];
    if (--state.total <= 0) channels_.erase(it);
    return;
  }
  if (it == channels_.end()) {
    Channel fresh;
    fresh.spec = request.spec;
    fresh.per_thread.assign(threads_, 0);
    it = channels_.emplace(request.channel, std::move(fresh)).first;
  }
  Channel& state = it->second;
  count_private(request.channel, +1);
  ++state.per_thread[request.thread];
  ++state.per_encoding[static_cast<std::size_t>(request.encoding)];
  ++state.total;
  if (!starts_with_snapshot(state.spec)) return;
  PendingSnapshot target{request.thread, request.session, request.channel, request.snapshot};
  if (state.spec.kind == ChannelKind::volsurface) {
    send_last_surface(target, *state.spec.currency);
    return;
  }
  // Conflated book channels take snapshots at window boundaries (see the header).
  if (is_book(state.spec) && state.spec.interval != Interval::raw) {
    pending_snapshots_.push_back(std::move(target));
  } else {
    send_snapshot(target);
  }
}

std::int64_t Publisher::stamp() {
  if (event_us_ == 0) event_us_ = wall_us();
  return event_us_;
}

void Publisher::count_private(std::string_view route, int delta) {
  const auto account = route_account(route);
  if (!account) return;
  const auto it = private_routes_.try_emplace(*account, 0).first;
  it->second += delta;
  if (it->second <= 0) private_routes_.erase(it);
}

Publisher::Channel* Publisher::find(std::string_view channel) {
  if (channels_.empty()) return nullptr;
  const auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : &it->second;
}

Publisher::Replica* Publisher::replica(market::InstrumentId id) {
  if (id >= replicas_.size()) return nullptr;
  Replica& r = replicas_[id];
  return r.instrument ? &r : nullptr;
}

// ---- events -----------------------------------------------------------------------------------

void Publisher::on_event(const sim::VenueEvent& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        // The fills' order updates come before any other event of their command.
        if constexpr (!std::is_same_v<T, market::Trade> &&
                      !std::is_same_v<T, sim::OwnedOrderUpdate>) {
          if (!pending_user_trades_.empty()) flush_user_trades();
        }
        if constexpr (std::is_same_v<T, sim::OwnedBookChange>) {
          on_book_change(e);
        } else if constexpr (std::is_same_v<T, market::Trade>) {
          on_trade(e);
        } else if constexpr (std::is_same_v<T, sim::Ticker>) {
          on_ticker(e);
        } else if constexpr (std::is_same_v<T, market::IndexPrice>) {
          directory_.set_index(e.currency, e.price, e.timestamp);
          name_scratch_ = "deribit_price_index.";
          name_scratch_ += e.currency == market::Currency::BTC ? "btc_usd" : "eth_usd";
          if (const Channel* state = find(name_scratch_)) {
            broadcast(*state,
                      make(name_scratch_, *state, [&](auto& w) { write_index_price(w, e); }));
          }
        } else if constexpr (std::is_same_v<T, sim::OwnedOrderUpdate>) {
          on_order_update(e);
        } else if constexpr (std::is_same_v<T, sim::Portfolio>) {
          on_portfolio(e);
        } else if constexpr (std::is_same_v<T, sim::SurfaceSnapshot>) {
          on_surface(e);
        } else if constexpr (std::is_same_v<T, sim::Block>) {
          name_scratch_ = "chain." + std::string(market::to_string(e.currency)) + ".blocks";
          if (const Channel* state = find(name_scratch_)) {
            broadcast(*state, make(name_scratch_, *state, [&](auto& w) { write_block(w, e); }));
          }
        } else if constexpr (std::is_same_v<T, sim::Transfer>) {
          name_scratch_ = "chain." + std::string(market::to_string(e.currency)) + ".transfers";
          if (const Channel* state = find(name_scratch_)) {
            broadcast(*state, make(name_scratch_, *state, [&](auto& w) { write_transfer(w, e); }));
          }
        } else if constexpr (std::is_same_v<T, sim::InstrumentListed>) {
          on_listed(e.instrument);
        } else if constexpr (std::is_same_v<T, sim::InstrumentClosed>) {
          directory_.close(e.instrument);
        } else if constexpr (std::is_same_v<T, sim::StreamGap>) {
          // Events were dropped: the replicas may be stale. The venue waits before it drops,
          // and this thread only encodes, so this is not expected; it is counted (metrics).
          stats_.stream_gaps.fetch_add(1, std::memory_order_relaxed);
        }
      },
      event);
}

void Publisher::on_listed(const InstrumentPtr& instrument) {
  directory_.add(instrument);
  if (replicas_.size() <= instrument->id) replicas_.resize(instrument->id + 1);
  Replica& r = replicas_[instrument->id];
  r.instrument = instrument;
  const std::string currency(market::to_string(instrument->currency));
  const std::string kind(kind_name(instrument->kind));
  const std::array<std::string, 5> trade_prefixes = {
      "trades." + instrument->name + ".", "trades." + kind + "." + currency + ".",
      "trades.any." + currency + ".", "trades." + kind + ".any.", "trades.any.any."};
  for (Interval interval : kIntervals) {
    const std::string tail(to_string(interval));
    r.names.book[slot(interval)] = "book." + instrument->name + "." + tail;
    r.names.ticker[slot(interval)] = "ticker." + instrument->name + "." + tail;
    for (std::size_t p = 0; p < trade_prefixes.size(); ++p) {
      r.names.trades[p][slot(interval)] = trade_prefixes[p] + tail;
    }
  }
  r.names.user_orders = user_channels("orders", *instrument);
  r.names.user_trades = user_channels("trades", *instrument);
}

void Publisher::on_book_change(const sim::OwnedBookChange& change) {
  Replica* r = replica(change.instrument);
  if (r == nullptr) return;
  auto apply = [](auto& side, auto& window, std::span<const market::LevelUpdate> updates) {
    for (const market::LevelUpdate& u : updates) {
      const auto level = side.find(u.price);
      window.try_emplace(u.price, level == side.end() ? 0 : level->second);
      if (u.amount == 0) {
        if (level != side.end()) side.erase(level);
      } else {
        side[u.price] = u.amount;
      }
    }
  };
  apply(r->bids, r->window_bids, change.bids.span());
  apply(r->asks, r->window_asks, change.asks.span());
  r->change_id = change.change_id;
  r->checksum = change.checksum;
  r->timestamp = change.timestamp;
  const std::string& name = r->names.book[slot(Interval::raw)];
  if (change.restart != sim::BookRestart::none) {
    restart_book(*r, change.restart);
  } else if (const Channel* state = find(name)) {
    broadcast(*state, make(name, *state,
                           [&](auto& w) { write_book_change(w, change, *r->instrument, false); }));
  }
  if (!r->awaiting.empty()) serve_awaiting(*r);
}

// A mirrored book's chain restarted: its raw subscribers get a snapshot now (flagged when the
// chain broke), its conflated ones at the next window boundary instead of the window's change.
// (The book's first data needs nothing here: every subscriber so far is awaiting it.)
void Publisher::restart_book(Replica& r, sim::BookRestart restart) {
  if (restart != sim::BookRestart::resync) return;
  const std::string& raw = r.names.book[slot(Interval::raw)];
  if (find(raw) != nullptr) send_snapshot({SIZE_MAX, 0, raw, SnapshotKind::resync});
  r.restart = restart;
}

// The book has data now: subscribers who came before it get their snapshot.
void Publisher::serve_awaiting(Replica& r) {
  std::vector<PendingSnapshot> waiting;
  waiting.swap(r.awaiting);
  for (PendingSnapshot& target : waiting) {
    const Channel* state = find(target.channel);
    if (state == nullptr) continue;
    if (state->spec.interval == Interval::raw) {
      send_snapshot(target);
    } else {
      pending_snapshots_.push_back(std::move(target));
    }
  }
}

void Publisher::on_trade(const market::Trade& trade) {
  Replica* r = replica(trade.instrument);
  if (r == nullptr) return;
  const market::Instrument& instrument = *r->instrument;
  on_user_trade(trade);
  if (channels_.empty()) return;
  for (const auto& names : r->names.trades) {
    const std::string& raw = names[slot(Interval::raw)];
    if (const Channel* state = find(raw)) {
      broadcast(*state, make(raw, *state, [&](auto& w) {
        w.begin_array(1);
        write_trade(w, trade, instrument);
        w.end_array();
      }));
    }
    for (Interval interval : kConflated) {
      if (Channel* state = find(names[slot(interval)])) state->pending_trades.push_back(trade);
    }
  }
}

void Publisher::on_surface(const sim::SurfaceSnapshot& surface) {
  const std::string prefix = "volsurface." + std::string(market::to_string(surface.currency)) + ".";
  LastSurface& last = last_surfaces_[surface.currency == market::Currency::BTC ? 0 : 1];
  last.surface = surface;
  last.view.reset();
  for (Interval interval : {Interval::raw, Interval::ms100, Interval::agg2}) {
    name_scratch_ = prefix + std::string(to_string(interval));
    const Channel* state = find(name_scratch_);
    if (state == nullptr) continue;
    if (!last.view) last.view = make_surface_view(surface);  // once, for all intervals
    broadcast(*state,
              make(name_scratch_, *state, [&](auto& w) { write_surface(w, surface, *last.view); }));
  }
  std::vector<PendingSnapshot> waiting;
  waiting.swap(last.awaiting);
  for (const PendingSnapshot& target : waiting) send_last_surface(target, surface.currency);
}

// A new volsurface subscriber gets the last surface now (and joins the broadcasts with it), or
// the next one when there is none yet.
void Publisher::send_last_surface(const PendingSnapshot& target, market::Currency currency) {
  LastSurface& last = last_surfaces_[currency == market::Currency::BTC ? 0 : 1];
  const Channel* state = find(target.channel);
  if (state == nullptr) return;  // unsubscribed meanwhile
  if (!last.surface) {
    last.awaiting.push_back(target);
    return;
  }
  if (!last.view) last.view = make_surface_view(*last.surface);
  deliver(target.thread, target.session, make(target.channel, *state, [&](auto& w) {
            write_surface(w, *last.surface, *last.view);
          }));
}

// markprice.options.{index}: every option's mark and IV, once a second (the tickers' cadence).
void Publisher::flush_markprices() {
  for (market::Currency currency : market::kCurrencies) {
    name_scratch_ = currency == market::Currency::BTC ? "markprice.options.btc_usd"
                                                      : "markprice.options.eth_usd";
    const Channel* state = find(name_scratch_);
    if (state == nullptr) continue;
    std::vector<OptionMark> marks;
    for (const Replica& r : replicas_) {
      if (!r.instrument || !r.ticker || r.instrument->kind != market::Kind::option ||
          r.instrument->currency != currency || !r.instrument->is_active)
        continue;
      marks.push_back(option_mark(*r.ticker, *r.instrument));
    }
    broadcast(*state, make(name_scratch_, *state, [&](auto& w) { write_markprices(w, marks); }));
  }
}

void Publisher::on_ticker(const sim::Ticker& ticker) {
  Replica* r = replica(ticker.instrument);
  if (r == nullptr) return;
  r->ticker = ticker;
  r->ticker_dirty = true;
  const std::string& name = r->names.ticker[slot(Interval::raw)];
  if (const Channel* state = find(name)) {
    broadcast(*state,
              make(name, *state, [&](auto& w) { write_ticker(w, ticker, *r->instrument); }));
  }
}

// ---- private channels (user.*) ------------------------------------------------------------------

namespace {

bool is_raw(std::string_view channel) {
  return channel.size() >= 4 && channel.substr(channel.size() - 4) == ".raw";
}

}  // namespace

template <class WriteData>
void Publisher::to_account(market::AccountId account, std::span<const std::string> channels,
                           WriteData&& write_data) {
  if (!private_routes_.contains(account)) return;
  const std::string prefix = std::to_string(account) + "|";
  for (const std::string& channel : channels) {
    name_scratch_ = prefix;
    name_scratch_ += channel;
    const Channel* state = find(name_scratch_);
    if (state == nullptr) continue;
    broadcast(*state, make_routed(name_scratch_, channel, *state,
                                  [&](auto& w) { write_data(w, is_raw(channel)); }));
  }
}

void Publisher::on_order_update(const sim::OwnedOrderUpdate& update) {
  if (!pending_user_trades_.empty()) release_user_trades(update);
  Replica* r = replica(update.order.instrument);
  if (r == nullptr) return;
  // .raw sends the order object; the conflated intervals an array of orders (Deribit).
  to_account(update.order.account, r->names.user_orders, [&](auto& w, bool raw) {
    if (!raw) w.begin_array(1);
    write_order(w, update, *r->instrument);
    if (!raw) w.end_array();
  });
}

// Each party's record waits for its order's update (see pending_user_trades_). The simulated
// participants' orders are not published (and nobody can subscribe to their accounts), nor
// are the trades of accounts nobody follows.
void Publisher::on_user_trade(const market::Trade& trade) {
  if (private_routes_.empty()) return;
  if (!sim::is_sim_account(trade.taker) && private_routes_.contains(trade.taker)) {
    pending_user_trades_.push_back({trade.taker_order, true, trade});
  }
  if (!sim::is_sim_account(trade.maker) && private_routes_.contains(trade.maker)) {
    pending_user_trades_.push_back({trade.maker_order, false, trade});
  }
}

void Publisher::release_user_trades(const sim::OwnedOrderUpdate& update) {
  const market::OrderId id = update.order.order_id;
  // In fill order; a taker sweeping several levels has several records waiting.
  for (const PendingUserTrade& pending : pending_user_trades_) {
    if (pending.order == id) send_user_trade(pending.trade, pending.taker, &update);
  }
  std::erase_if(pending_user_trades_, [id](const PendingUserTrade& p) { return p.order == id; });
}

void Publisher::flush_user_trades() {
  std::vector<PendingUserTrade> pending;
  pending.swap(pending_user_trades_);
  for (const PendingUserTrade& p : pending) send_user_trade(p.trade, p.taker, nullptr);
}

void Publisher::send_user_trade(const market::Trade& trade, bool taker,
                                const sim::OwnedOrderUpdate* order) {
  Replica* r = replica(trade.instrument);
  if (r == nullptr) return;
  const market::Instrument& instrument = *r->instrument;
  const TradeOrder details = order != nullptr ? trade_order(*order) : TradeOrder{};
  const Liquidity liquidity = taker ? Liquidity::taker : Liquidity::maker;
  to_account(taker ? trade.taker : trade.maker, r->names.user_trades, [&](auto& w, bool) {
    w.begin_array(1);
    write_user_trade(w, trade, instrument, liquidity, details);
    w.end_array();
  });
}

void Publisher::on_portfolio(const sim::Portfolio& portfolio) {
  if (channels_.empty()) return;
  const market::PortfolioUpdate& update = portfolio.funds;
  const std::string upper(market::to_string(update.currency));
  std::string lower = upper;
  for (char& c : lower) c = static_cast<char>(c | 0x20);
  const std::array<std::string, 2> names = {"user.portfolio." + upper, "user.portfolio." + lower};
  // The Greeks came with the event, from the venue (sim::Portfolio): nothing to price here.
  to_account(update.account, names, [&](auto& w, bool) { write_portfolio(w, portfolio); });
}

// ---- the 100 ms window
// ---------------------------------------------------------------------------

void Publisher::flush_windows() {
  for (Replica& r : replicas_) {
    if (!r.instrument) continue;
    if (!r.window_bids.empty() || !r.window_asks.empty() || r.restart != sim::BookRestart::none)
      flush_book_window(r);
    if (r.ticker_dirty) {
      r.ticker_dirty = false;
      for (Interval interval : kConflated) {
        const std::string& name = r.names.ticker[slot(interval)];
        if (const Channel* state = find(name)) {
          broadcast(*state, make(name, *state,
                                 [&](auto& w) { write_ticker(w, *r.ticker, *r.instrument); }));
        }
      }
    }
  }
  for (auto& [name, state] : channels_) {
    if (state.pending_trades.empty()) continue;
    std::vector<market::Trade> trades;
    trades.swap(state.pending_trades);
    broadcast(state, make(name, state, [&](auto& w) {
                w.begin_array(trades.size());
                for (const market::Trade& trade : trades) {
                  Replica* r = replica(trade.instrument);
                  write_trade(w, trade, *r->instrument);
                }
                w.end_array();
              }));
  }
  if (++flushes_ % 10 == 0) flush_markprices();
  // Snapshots for conflated book channels, now that every window is flushed.
  std::vector<PendingSnapshot> pending;
  pending.swap(pending_snapshots_);
  for (const PendingSnapshot& target : pending) send_snapshot(target);
}

void Publisher::flush_book_window(Replica& r) {
  // Each touched level's net change over the window; a level back where it started is left out.
  auto net = [](const auto& side, const std::map<market::Ticks, market::Lots>& window,
                std::vector<market::LevelUpdate>& out, bool best_first_descending) {
    out.clear();
    for (const auto& [price, before] : window) {
      const auto now_it = side.find(price);
      const market::Lots now = now_it == side.end() ? 0 : now_it->second;
      if (now == before) continue;
      const auto action = before == 0 ? market::BookAction::add
                          : now == 0  ? market::BookAction::remove
                                      : market::BookAction::change;
      out.push_back({price, now, action});
    }
    if (best_first_descending) std::reverse(out.begin(), out.end());
  };
  std::vector<market::LevelUpdate> bids, asks;
  net(r.bids, r.window_bids, bids,
      true);  // the window map is ascending: bids best first = reversed
  net(r.asks, r.window_asks, asks, false);
  r.window_bids.clear();
  r.window_asks.clear();
  bool changed = !bids.empty() || !asks.empty();
  if (r.restart == sim::BookRestart::resync) {
    changed = false;  // the snapshots below replace the window's change
    r.restart = sim::BookRestart::none;
    for (Interval interval : kConflated) {
      const std::string& name = r.names.book[slot(interval)];
      if (find(name) != nullptr) send_snapshot({SIZE_MAX, 0, name, SnapshotKind::resync});
    }
  }
  for (Interval interval : kConflated) {
    const std::string& name = r.names.book[slot(interval)];
    Channel* state = find(name);
    if (state == nullptr || !changed) continue;
    sim::OwnedBookChange change;
    change.timestamp = r.timestamp;
    change.instrument = r.instrument->id;
    change.change_id = r.change_id;
    change.prev_change_id = state->last_change_id;
    change.checksum = r.checksum;
    change.bids.assign(bids);
    change.asks.assign(asks);
    state->last_change_id = r.change_id;
    broadcast(*state, make(name, *state,
                           [&](auto& w) { write_book_change(w, change, *r.instrument, false); }));
  }
  // Grouped views: the whole window, re-sent when anything in the book moved.
  for (auto& [name, state] : channels_) {
    if (state.spec.kind != ChannelKind::book_grouped || state.spec.instrument != r.instrument->name)
      continue;
    PendingSnapshot all{SIZE_MAX, 0, name};
    send_snapshot(all);
  }
}

// A snapshot (book channels) or the current grouped view, to one session (or, with thread ==
// SIZE_MAX, to every subscriber of a grouped channel).
void Publisher::send_snapshot(const PendingSnapshot& target) {
  Channel* state = find(target.channel);
  if (state == nullptr) return;  // unsubscribed meanwhile
  InstrumentPtr instrument = directory_.find(state->spec.instrument);
  Replica* r = instrument ? replica(instrument->id) : nullptr;
  if (r == nullptr) return;
  NotificationPtr message;
  if (r->change_id == 0 && target.thread != SIZE_MAX) {
    r->awaiting.push_back(target);  // no data yet: served with the book's first message
    return;
  }
  if (state->spec.kind == ChannelKind::book) {
    sim::OwnedBookChange snapshot;
    snapshot.timestamp = r->timestamp;
    snapshot.instrument = r->instrument->id;
    snapshot.change_id = r->change_id;
    snapshot.checksum = r->checksum;
    std::vector<market::LevelUpdate> bids, asks;
    for (const auto& [price, amount] : r->bids)
      bids.push_back({price, amount, market::BookAction::add});
    for (const auto& [price, amount] : r->asks)
      asks.push_back({price, amount, market::BookAction::add});
    snapshot.bids.assign(bids);
    snapshot.asks.assign(asks);
    if (state->spec.interval != Interval::raw) state->last_change_id = r->change_id;
    const bool resync = target.kind == SnapshotKind::resync;
    message = make(target.channel, *state,
                   [&](auto& w) { write_book_change(w, snapshot, *r->instrument, true, resync); });
  } else {
    const market::Ticks group =
        state->spec.group <= 0
            ? 1
            : std::max<market::Ticks>(
                  1, r->instrument->to_ticks(static_cast<double>(state->spec.group)));
    const auto depth = static_cast<std::size_t>(state->spec.depth);
    std::vector<market::PriceLevel> bids, asks;
    for (const auto& [price, amount] : r->bids) {
      const market::Ticks p = price / group * group;  // bids round down
      if (!bids.empty() && bids.back().price == p) {
        bids.back().amount += amount;
      } else if (bids.size() < depth) {
        bids.push_back({p, amount});
      } else {
        break;
      }
    }
    for (const auto& [price, amount] : r->asks) {
      const market::Ticks p = (price + group - 1) / group * group;  // asks round up
      if (!asks.empty() && asks.back().price == p) {
        asks.back().amount += amount;
      } else if (asks.size() < depth) {
        asks.push_back({p, amount});
      } else {
        break;
      }
    }
    message = make(target.channel, *state, [&](auto& w) {
      write_grouped_book(w, *r->instrument, r->change_id, r->timestamp, bids, asks);
    });
  }
  if (target.thread == SIZE_MAX) {
    broadcast(*state, std::move(message));
  } else {
    deliver(target.thread, target.session, std::move(message));
  }
}

// ---- encoding and delivery ----------------------------------------------------------------------

template <class WriteData>
NotificationPtr Publisher::make_routed(std::string_view route, std::string_view channel,
                                       const Channel& state, WriteData&& write_data) {
  auto message = std::make_shared<Notification>();
  message->channel = std::string(route);
  auto bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  if (state.per_encoding[static_cast<std::size_t>(Encoding::json)] > 0) {
    json_scratch_.clear();
    codec::JsonWriter w(json_scratch_);
    write_stamped_notification(w, channel, stamp(), write_data);
    message->frames[0] =
        std::make_shared<ws::PreparedMessage>(ws::MessageType::text, bytes(json_scratch_));
  }
  if (state.per_encoding[static_cast<std::size_t>(Encoding::msgpack)] > 0) {
    msgpack_scratch_.clear();
    codec::MsgpackWriter w(msgpack_scratch_);
    write_stamped_notification(w, channel, stamp(), write_data);
    message->frames[1] =
        std::make_shared<ws::PreparedMessage>(ws::MessageType::binary, bytes(msgpack_scratch_));
  }
  if (state.per_encoding[static_cast<std::size_t>(Encoding::protobuf)] > 0) {
    protobuf_scratch_.clear();
    codec::ProtobufWriter w(protobuf_scratch_);
    w.choose(data_member(state.spec));
    write_stamped_notification(w, channel, stamp(), write_data);
    message->frames[2] =
        std::make_shared<ws::PreparedMessage>(ws::MessageType::binary, bytes(protobuf_scratch_));
  }
  stats_.notifications.fetch_add(1, std::memory_order_relaxed);
  return message;
}

void Publisher::broadcast(const Channel& state, NotificationPtr message) {
  for (std::size_t t = 0; t < threads_; ++t) {
    if (state.per_thread[t] > 0) outbox_[t].push_back({message, 0});
  }
}

void Publisher::deliver(std::size_t thread, std::uint64_t session, NotificationPtr message) {
  outbox_[thread].push_back({std::move(message), session});
}

void Publisher::post_outbox() {
  for (std::size_t t = 0; t < threads_; ++t) {
    if (!outbox_[t].empty()) post_(t, outbox_[t]);
  }
}

}  // namespace gw::gateway
