#include "sim/mirror.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "pricing/ssvi.hpp"

namespace gw::sim {

namespace {

constexpr double kMsPerYear = 365.0 * 86'400'000.0;
// A slice needs this many strikes for its own SVI fit (five parameters).
constexpr std::size_t kMinPointsPerSlice = 5;

std::size_t slot(Currency c) {
  return c == Currency::BTC ? 0 : 1;
}

// Converts a feed's real-unit price or amount to the instrument's units; nullopt when it is not
// a finite, representable number (a malformed feed must not reach the book).
std::optional<Ticks> ticks_of(const market::Instrument& i, double price) {
  if (!std::isfinite(price) || std::fabs(price / i.price_unit) >= market::kMaxUnits / 2.0)
    return std::nullopt;
  return i.to_ticks(price);
}
std::optional<Lots> lots_of(const market::Instrument& i, double amount) {
  if (!std::isfinite(amount) || amount < 0 || amount / i.amount_unit >= market::kMaxUnits / 2.0)
    return std::nullopt;
  return i.to_lots(amount);
}

bool valid_levels(const market::Instrument& i, const std::vector<FeedLevel>& levels) {
  return std::all_of(levels.begin(), levels.end(), [&](const FeedLevel& l) {
    return ticks_of(i, l.price).has_value() && lots_of(i, l.amount).has_value();
  });
}

// Sets `side`'s levels from `levels` (amount 0 removes; valid_levels() must hold) and appends
// what changed to `out`.
template <class Side>
void apply_levels(const market::Instrument& i, Side& side, const std::vector<FeedLevel>& levels,
                  std::vector<market::LevelUpdate>& out) {
  for (const FeedLevel& l : levels) {
    const auto price = ticks_of(i, l.price);
    const auto amount = lots_of(i, l.amount);
    const auto it = side.find(*price);
    const Lots before = it == side.end() ? 0 : it->second;
    if (before == *amount) continue;
    if (*amount == 0) {
      side.erase(it);
      out.push_back({*price, 0, market::BookAction::remove});
    } else {
      side[*price] = *amount;
      out.push_back(
          {*price, *amount, before == 0 ? market::BookAction::add : market::BookAction::change});
    }
  }
}

// The levels that turn `from` into `to`, best first.
template <class Side>
void diff_levels(const Side& from, const Side& to, std::vector<market::LevelUpdate>& out) {
  const auto better = from.key_comp();
  auto a = from.begin();
  auto b = to.begin();
  while (a != from.end() || b != to.end()) {
    if (b == to.end() || (a != from.end() && better(a->first, b->first))) {
      out.push_back({a->first, 0, market::BookAction::remove});
      ++a;
    } else if (a == from.end() || better(b->first, a->first)) {
      out.push_back({b->first, b->second, market::BookAction::add});
      ++b;
    } else {
      if (a->second != b->second) {
        out.push_back({b->first, b->second, market::BookAction::change});
      }
      ++a;
      ++b;
    }
  }
}

template <class Side>
void top_levels(const Side& side, std::size_t depth, std::vector<market::PriceLevel>& out) {
  out.clear();
  for (const auto& [price, amount] : side) {
    if (depth > 0 && out.size() >= depth) break;
    out.push_back({price, amount});
  }
}

}  // namespace

Mirror::Mirror(const VenueConfig& config, VenueSink& out)
    : config_(config), out_(out), states_(1) {}

void Mirror::see(TimestampMs t) {
  now_ms_ = std::max(now_ms_, t);
}

Mirror::State* Mirror::find(std::string_view name) {
  const market::Instrument* i = registry_.find(name);
  if (i == nullptr || i->id >= states_.size()) return nullptr;
  State& s = states_[i->id];
  return s.active ? &s : nullptr;
}

const Mirror::State* Mirror::state(InstrumentId id) const {
  if (id == 0 || id >= states_.size()) return nullptr;
  const State& s = states_[id];
  return s.instrument != nullptr && s.active ? &s : nullptr;
}

bool Mirror::active(InstrumentId id) const {
  return state(id) != nullptr;
}

void Mirror::apply(const FeedInput& input) {
  ++counters_.inputs;
  std::visit(
      [this](const auto& in) {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, FeedInstrument>) {
          list(in);
        } else if constexpr (std::is_same_v<T, FeedBook>) {
          on_book(in);
        } else if constexpr (std::is_same_v<T, FeedTrade>) {
          on_trade(in);
        } else if constexpr (std::is_same_v<T, FeedTicker>) {
          on_ticker(in);
        } else if constexpr (std::is_same_v<T, FeedIndex>) {
          on_index(in);
        } else if constexpr (std::is_same_v<T, FeedExpired>) {
          on_expired(in);
        } else if constexpr (std::is_same_v<T, FeedLost>) {
          on_lost(in);
        } else if constexpr (std::is_same_v<T, FeedBlock>) {
          see(in.block.timestamp);
          out_.on_event(in.block);
        } else if constexpr (std::is_same_v<T, FeedTransfer>) {
          see(in.transfer.timestamp);
          out_.on_event(in.transfer);
        } else {
          on_surface(in);
        }
      },
      input);
}

// ---- Instruments ------------------------------------------------------------------------------

void Mirror::list(const FeedInstrument& in) {
  const market::Instrument& spec = in.instrument;
  if (spec.name.empty() || !(spec.price_unit > 0) || !(spec.amount_unit > 0)) {
    ++counters_.rejected;
    return;
  }
  if (const market::Instrument* known = registry_.find(spec.name)) {
    // Listed before: back in the feed's list after an expiry notice is not a relisting.
    (void)known;
    return;
  }
  const market::Instrument* listed = registry_.add(spec);
  if (states_.size() <= listed->id) states_.resize(listed->id + 1);
  State& s = states_[listed->id];
  s.instrument = listed;
  s.format = market::book_format(*listed);
  const TimestampMs at = std::max(now_ms_, spec.creation_ms);
  out_.on_event(InstrumentListed{at, std::make_shared<const market::Instrument>(*listed)});
}

void Mirror::on_expired(const FeedExpired& in) {
  see(in.timestamp);
  State* s = find(in.instrument);
  if (s == nullptr) return;
  s->active = false;
  registry_.deactivate(s->instrument->id);
  out_.on_event(InstrumentClosed{std::max(in.timestamp, now_ms_), s->instrument->id});
}

// ---- Books ------------------------------------------------------------------------------------

void Mirror::on_book(const FeedBook& in) {
  State* s = find(in.instrument);
  if (s == nullptr) {
    ++counters_.rejected;
    return;
  }
  ++counters_.book_messages;
  see(in.timestamp);
  const market::Instrument& i = *s->instrument;
  MirroredBook& book = s->book;
  scratch_bids_.clear();
  scratch_asks_.clear();

  if (!valid_levels(i, in.bids) || !valid_levels(i, in.asks)) {
    ++counters_.rejected;
    return;
  }
  BookRestart restart = BookRestart::none;
  if (in.snapshot) {
    // The whole book: published as the difference from what subscribers hold, so that the
    // gateway's replica becomes exactly this book.
    MirroredBook fresh;
    apply_levels(i, fresh.bids, in.bids, scratch_bids_);
    apply_levels(i, fresh.asks, in.asks, scratch_asks_);
    scratch_bids_.clear();
    scratch_asks_.clear();
    diff_levels(book.bids, fresh.bids, scratch_bids_);
    diff_levels(book.asks, fresh.asks, scratch_asks_);
    restart = book.change_id == 0 && !book.stale ? BookRestart::first : BookRestart::resync;
    book.bids.swap(fresh.bids);
    book.asks.swap(fresh.asks);
  } else {
    // A change that does not continue the chain (or comes before any snapshot) is applied all
    // the same, but subscribers are resynced: what they hold can no longer be trusted.
    if (!book.live || in.prev_change_id != book.change_id) restart = BookRestart::resync;
    apply_levels(i, book.bids, in.bids, scratch_bids_);
    apply_levels(i, book.asks, in.asks, scratch_asks_);
  }
  book.change_id = in.change_id;
  book.timestamp = in.timestamp;
  book.live = true;
  book.stale = false;
  if (restart == BookRestart::resync) ++counters_.resyncs;

  std::vector<market::PriceLevel> top_bids, top_asks;
  top_levels(book.bids, market::kChecksumDepth, top_bids);
  top_levels(book.asks, market::kChecksumDepth, top_asks);
  book.checksum = market::book_checksum(top_bids, top_asks, s->format);

  OwnedBookChange change;
  change.timestamp = in.timestamp;
  change.instrument = i.id;
  change.change_id = in.change_id;
  change.prev_change_id = in.snapshot ? 0 : in.prev_change_id;
  change.checksum = book.checksum;
  change.bids.assign(scratch_bids_);
  change.asks.assign(scratch_asks_);
  change.restart = restart;
  out_.on_event(change);
}

void Mirror::on_lost(const FeedLost& in) {
  see(in.timestamp);
  feed_surface_ms_ = {};
  for (State& s : states_) {
    if (s.instrument == nullptr || !s.book.live) continue;
    s.book.live = false;
    s.book.stale = true;
  }
}

std::optional<Mirror::Levels> Mirror::levels(InstrumentId id, std::size_t depth) const {
  const State* s = state(id);
  if (s == nullptr) return std::nullopt;
  Levels out;
  out.change_id = s->book.change_id;
  out.checksum = s->book.checksum;
  out.timestamp = s->book.timestamp;
  top_levels(s->book.bids, depth, out.bids);
  top_levels(s->book.asks, depth, out.asks);
  return out;
}

// ---- Trades, tickers, index -------------------------------------------------------------------

void Mirror::on_trade(const FeedTrade& in) {
  State* s = find(in.instrument);
  const market::Instrument* i = s != nullptr ? s->instrument : nullptr;
  const auto price = i != nullptr ? ticks_of(*i, in.price) : std::nullopt;
  const auto amount = i != nullptr ? lots_of(*i, in.amount) : std::nullopt;
  if (!price || !amount) {
    ++counters_.rejected;
    return;
  }
  see(in.timestamp);
  market::Trade t;
  t.timestamp = in.timestamp;
  t.trade_id = in.trade_id;
  t.trade_seq = in.trade_seq;
  t.instrument = i->id;
  t.currency = i->currency;
  t.direction = in.direction;
  t.tick_direction = in.tick_direction;
  t.price = *price;
  t.amount = *amount;
  t.mark_price = in.mark_price;
  t.index_price = in.index_price;
  out_.on_event(t);
}

void Mirror::on_ticker(const FeedTicker& in) {
  State* s = find(in.instrument);
  if (s == nullptr) {
    ++counters_.rejected;
    return;
  }
  const market::Instrument& i = *s->instrument;
  Ticker t = in.values;
  const auto bid = ticks_of(i, in.best_bid_price);
  const auto bid_amount = lots_of(i, in.best_bid_amount);
  const auto ask = ticks_of(i, in.best_ask_price);
  const auto ask_amount = lots_of(i, in.best_ask_amount);
  const auto last = ticks_of(i, in.last_price);
  const auto open_interest = lots_of(i, in.open_interest);
  const auto high = ticks_of(i, in.high);
  const auto low = ticks_of(i, in.low);
  const auto volume = lots_of(i, in.volume);
  if (!bid || !bid_amount || !ask || !ask_amount || !last || !open_interest || !high || !low ||
      !volume) {
    ++counters_.rejected;
    return;
  }
  see(t.timestamp);
  t.instrument = i.id;
  t.currency = i.currency;
  t.kind = i.kind;
  t.best_bid_price = *bid;
  t.best_bid_amount = *bid_amount;
  t.best_ask_price = *ask;
  t.best_ask_amount = *ask_amount;
  t.last_price = *last;
  t.open_interest = *open_interest;
  t.stats.high = *high;
  t.stats.low = *low;
  t.stats.volume = *volume;
  const market::Instrument* future =
      in.underlying_index.empty() ? nullptr : registry_.find(in.underlying_index);
  t.underlying_future = future != nullptr ? future->id : 0;
  s->ticker = t;
  out_.on_event(t);
}

void Mirror::on_index(const FeedIndex& in) {
  if (!std::isfinite(in.price) || in.price <= 0) {
    ++counters_.rejected;
    return;
  }
  see(in.timestamp);
  index_[slot(in.currency)] = in.price;
  out_.on_event(market::IndexPrice{in.timestamp, in.currency, in.price});
}

std::optional<Ticker> Mirror::ticker(InstrumentId id) const {
  const State* s = state(id);
  return s != nullptr ? s->ticker : std::nullopt;
}

std::vector<InstrumentId> Mirror::instruments(Currency c) const {
  std::vector<InstrumentId> out;
  for (const market::Instrument* i : registry_.select({c, std::nullopt, false})) {
    out.push_back(i->id);
  }
  return out;
}

double Mirror::index_price(Currency c) const {
  return index_[slot(c)];
}

// ---- The surface ------------------------------------------------------------------------------

void Mirror::on_surface(const FeedSurface& in) {
  const std::size_t c = slot(in.surface.currency);
  // A bootstrap may hand over a surface the stream then repeats, or one older than it. (After
  // a loss anything goes: a restarted source's clock may be behind the old one's.)
  if (feed_surface_ms_[c] != 0 && in.surface.timestamp <= feed_surface_ms_[c]) return;
  feed_surfaces_[c] = true;
  feed_surface_ms_[c] = in.surface.timestamp;
  see(in.surface.timestamp);
  ++counters_.surfaces;
  out_.on_event(in.surface);
}

void Mirror::advance(TimestampMs now_ms) {
  see(now_ms);
  if (now_ms_ < next_surface_ms_) return;
  const std::uint64_t before = counters_.surfaces;
  publish_surfaces();
  // Until the option tickers are in, try again every second rather than every interval.
  const TimestampMs wait = counters_.surfaces > before
                               ? std::max<TimestampMs>(config_.surface_interval_ms, 1)
                               : std::min<TimestampMs>(config_.surface_interval_ms, 1000);
  next_surface_ms_ = now_ms_ + std::max<TimestampMs>(wait, 1);
}

// Fits SSVI to the option tickers' mark IVs: per expiry the out-of-the-money strikes (calls at
// and above the forward, puts below), k = ln(K/F), w = σ²T; expiries with fewer than five such
// strikes are left out (a raw SVI slice has five parameters).
void Mirror::publish_surfaces() {
  for (Currency c : market::kCurrencies) {
    if (feed_surfaces_[slot(c)]) continue;  // the feed's own surfaces are published instead
    struct Slice {
      TimestampMs expiry = 0;
      double forward = 0;
      pricing::SsviSliceData data;
    };
    std::map<TimestampMs, Slice> slices;
    for (InstrumentId id : instruments(c)) {
      const State& s = states_[id];
      const market::Instrument& i = *s.instrument;
      if (i.kind != market::Kind::option || !s.ticker) continue;
      const Ticker& t = *s.ticker;
      const double years = static_cast<double>(i.expiration_ms - now_ms_) / kMsPerYear;
      const double vol = t.mark_iv / 100.0;
      const double forward = t.underlying_price;
      if (!(years > 0) || !(vol > 0) || !(forward > 0) || !std::isfinite(vol)) continue;
      const double k = std::log(i.strike / forward);
      const bool otm = i.option_type == market::OptionType::call ? k >= 0 : k < 0;
      if (!otm) continue;
      Slice& slice = slices[i.expiration_ms];
      slice.expiry = i.expiration_ms;
      slice.forward = forward;
      slice.data.years = years;
      slice.data.points.push_back({k, vol * vol * years, 1.0});
    }
    std::vector<pricing::SsviSliceData> data;
    std::vector<const Slice*> used;
    for (const auto& [expiry, slice] : slices) {
      if (slice.data.points.size() < kMinPointsPerSlice) continue;
      data.push_back(slice.data);
      used.push_back(&slice);
    }
    if (data.empty()) continue;
    const pricing::SsviFitResult fit = pricing::fit_ssvi(data);
    if (!fit.ok) continue;
    SurfaceSnapshot snap;
    snap.timestamp = now_ms_;
    snap.currency = c;
    snap.index_price = index_price(c);
    snap.params = fit.params;
    for (std::size_t n = 0; n < used.size(); ++n) {
      const double years = used[n]->data.years;
      const double theta = fit.thetas[n];
      snap.expiries.push_back(
          {used[n]->expiry, years, used[n]->forward, theta, std::sqrt(theta / years)});
    }
    ++counters_.surfaces;
    out_.on_event(snap);
  }
}

}  // namespace gw::sim
