// What the venue thread publishes: one ordered stream of `VenueEvent`s per consumer.
//
// VenueEvent is a std::variant of
//  - the matching engine's events (market/events.hpp), made self-contained: an engine event's
//    string_view and span members point into the engine and die with on_event(), so the two
//    events that have them travel as OwnedOrderUpdate (the label copied inline) and
//    OwnedBookChange (the levels copied, inline up to four per side); the PortfolioUpdate travels
//    as Portfolio, with the Greeks of the account's positions that the engine cannot know; Trade,
//    PositionUpdate, IndexPrice, MarkPrice and Settlement are plain data and travel as they are;
//  - the simulator's own events, defined here (market/events.hpp is the engine's):
//    Ticker, Block, Transfer, SurfaceSnapshot, InstrumentListed, InstrumentClosed, StreamGap.
//
// Everything in a VenueEvent owns its data, so it can sit in a queue and be read on another
// thread. Units follow events.hpp: book and trade prices are integer Ticks and amounts integer
// Lots of the instrument (the Instrument in InstrumentListed converts); model values (marks,
// IVs, Greeks, index, funding) are doubles in real units.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "market/engine.hpp"  // kMaxLabel
#include "market/events.hpp"
#include "market/instrument.hpp"
#include "pricing/ssvi.hpp"

namespace gw::sim {

using market::AccountId;
using market::Currency;
using market::InstrumentId;
using market::Lots;
using market::OrderId;
using market::Ticks;
using market::TimestampMs;

// A vector that keeps up to N elements inline and spills to the heap beyond: book changes
// almost always touch one or two levels, and copying them must not allocate.
template <class T, std::size_t N>
class InlineVec {
 public:
  InlineVec() = default;
  explicit InlineVec(std::span<const T> items) { assign(items); }
  InlineVec(const InlineVec& o) { assign(o.span()); }
  InlineVec& operator=(const InlineVec& o) {
    if (this != &o) assign(o.span());
    return *this;
  }
  InlineVec(InlineVec&& o) noexcept { take(o); }
  InlineVec& operator=(InlineVec&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }

  void assign(std::span<const T> items) {
    size_ = static_cast<std::uint32_t>(items.size());
    if (items.size() <= N) {
      heap_.reset();
      std::copy(items.begin(), items.end(), inline_);
    } else {
      heap_.reset(new T[items.size()]);
      std::copy(items.begin(), items.end(), heap_.get());
    }
  }
  std::span<const T> span() const { return {data(), size_}; }
  const T* data() const { return heap_ ? heap_.get() : inline_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

 private:
  void take(InlineVec& o) {
    size_ = o.size_;
    heap_ = std::move(o.heap_);
    if (!heap_) std::copy(o.inline_, o.inline_ + o.size_, inline_);
    o.size_ = 0;
  }

  T inline_[N];  // the first size_ are meaningful (copies copy only those)
  std::uint32_t size_ = 0;
  std::unique_ptr<T[]> heap_;
};

// ---- The engine's events, owned ---------------------------------------------------------------

struct OwnedOrderUpdate {
  market::OrderUpdate order;  // order.label is empty: read label() instead
  std::array<char, market::kMaxLabel> label_data{};
  std::uint8_t label_size = 0;

  OwnedOrderUpdate() = default;
  explicit OwnedOrderUpdate(const market::OrderUpdate& o) : order(o) {
    label_size = static_cast<std::uint8_t>(std::min(o.label.size(), label_data.size()));
    if (label_size > 0) std::memcpy(label_data.data(), o.label.data(), label_size);
    order.label = {};
  }
  std::string_view label() const { return {label_data.data(), label_size}; }
};

// How a book message relates to what subscribers saw before (mirrored feeds only: the
// simulator's books always continue their chain).
enum class BookRestart : std::uint8_t {
  none,    // a change that continues the chain
  first,   // the book's first data: subscribers get it as their snapshot
  resync,  // the chain broke (the feed resynced or lost its source): subscribers get a
           // snapshot flagged "resync": true instead of this change
};

struct OwnedBookChange {
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
  std::uint64_t change_id = 0;
  std::uint64_t prev_change_id = 0;  // 0: the book's first message
  std::uint32_t checksum = 0;
  InlineVec<market::LevelUpdate, 4> bids;  // best first
  InlineVec<market::LevelUpdate, 4> asks;
  BookRestart restart = BookRestart::none;

  OwnedBookChange() = default;
  explicit OwnedBookChange(const market::BookChange& b)
      : timestamp(b.timestamp),
        instrument(b.instrument),
        change_id(b.change_id),
        prev_change_id(b.prev_change_id),
        checksum(b.checksum),
        bids(b.bids),
        asks(b.asks) {}
};

// ---- The simulator's events -------------------------------------------------------------------

// What Deribit's account summary and user.portfolio sum over an account's positions in one
// currency, beyond the engine's funds (sim/portfolio.hpp: add_position_risk). Coin unless
// said otherwise; the options' Greeks in Deribit's units (ticker Greeks times the size).
struct PortfolioRisk {
  // Futures' size in coin + options' size × (delta − mark price): Deribit's "net transaction
  // delta" of an option, whose premium is paid in coin (equity + delta_total is the account's
  // exposure to the index).
  double delta_total = 0;
  double projected_delta_total = 0;  // delta_total without the positions of the closest expiry
  double options_delta = 0;          // Σ size × delta
  double options_gamma = 0;          // Σ size × gamma (per USD)
  double options_vega = 0;           // Σ size × vega (USD per vol point)
  double options_theta = 0;          // Σ size × theta (USD per day)
  double options_value = 0;          // Σ size × mark price
  double futures_session_upl = 0;    // floating PnL of the futures' positions
  double futures_session_rpl = 0;    // realised this session
  double options_session_upl = 0;
  double options_session_rpl = 0;
  std::uint32_t open_futures = 0;  // positions with a size, by kind
  std::uint32_t open_options = 0;
};

// Deribit's ticker Greeks: delta, gamma per 1 USD, vega USD per vol point, theta USD per day,
// rho USD per 1 % (pricing/deribit.hpp).
struct TickerGreeks {
  double delta = 0;
  double gamma = 0;
  double vega = 0;
  double theta = 0;
  double rho = 0;
};

// 24-hour statistics (TradeStats: 5-minute buckets that started less than 24 hours ago).
struct TickerStats {
  Ticks high = 0;  // 0: no trade in the window
  Ticks low = 0;
  Lots volume = 0;
  double volume_usd = 0;
  double price_change = 0;  // percent, last price against the window's first trade
};

// One ticker.{instrument}.{interval} record (Deribit's field names in the comments).
struct Ticker {
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
  Currency currency = Currency::BTC;
  market::Kind kind = market::Kind::future;
  // best_bid_price / best_bid_amount / best_ask_*: 0 when the side is empty.
  Ticks best_bid_price = 0;
  Lots best_bid_amount = 0;
  Ticks best_ask_price = 0;
  Lots best_ask_amount = 0;
  Ticks last_price = 0;    // 0: no trade yet
  double mark_price = 0;   // instrument price units (coin for options, USD for futures)
  double index_price = 0;  // USD
  double estimated_delivery_price = 0;
  Lots open_interest = 0;  // Σ of the long positions
  TickerStats stats;
  // Options only.
  double underlying_price = 0;  // the forward of the expiry (USD)
  // underlying_index: the future of the same expiry, or 0 when none is listed (Deribit then
  // names a synthetic future, "SYN.BTC-27DEC26").
  InstrumentId underlying_future = 0;
  double interest_rate = 0;
  double bid_iv = 0;  // percent; 0 without a bid (or a bid below intrinsic value)
  double ask_iv = 0;
  double mark_iv = 0;
  TickerGreeks greeks;
  // Perpetuals only.
  double current_funding = 0;  // the funding rate now (fraction per 8 hours)
  double funding_8h = 0;       // average of the last 8 hours
  double interest_value = 0;   // current_funding accrued since the last 8-hour boundary
};

using Hash = std::array<std::uint8_t, 32>;
using Address = std::array<std::uint8_t, 20>;

std::string to_hex(std::span<const std::uint8_t> bytes);

// A block of the simulated chain of one currency (chain.* channels). The hash is SHA-256 of the
// header serialisation documented in chain.hpp, so each block commits to the previous one.
struct Block {
  TimestampMs timestamp = 0;  // when the venue saw it (= block_time)
  Currency currency = Currency::BTC;
  std::uint64_t height = 0;
  Hash hash{};
  Hash prev_hash{};
  TimestampMs block_time = 0;
  std::uint32_t tx_count = 0;
  // Fee level in thousandths of the chain's unit: sat/vB for BTC, gwei (base fee) for ETH.
  std::uint64_t fee_rate_milli = 0;
  std::uint64_t nonce = 0;
  Hash transfers_root{};  // SHA-256 of the large transfers' tx hashes in order (zeros: none)
  std::uint32_t transfer_count = 0;
  double fee_rate() const { return static_cast<double>(fee_rate_milli) / 1000.0; }
};

// A large transfer confirmed in a block (published right after its block).
struct Transfer {
  TimestampMs timestamp = 0;
  Currency currency = Currency::BTC;
  std::uint64_t block_height = 0;
  std::uint32_t index = 0;  // within the block
  Hash tx_hash{};
  Address from{};
  Address to{};
  std::uint64_t amount_units = 0;  // satoshi (BTC), gwei (ETH)
  double amount = 0;               // coin
  double usd_value = 0;            // at the index when confirmed
};

struct SurfaceExpiry {
  TimestampMs expiry = 0;
  double years = 0;
  double forward = 0;
  double theta = 0;    // ATM total variance
  double atm_vol = 0;  // √(θ/T)
};

// The model surface of one currency: SSVI parameters and its expiries.
struct SurfaceSnapshot {
  TimestampMs timestamp = 0;
  Currency currency = Currency::BTC;
  double index_price = 0;
  pricing::SsviParams params;
  std::vector<SurfaceExpiry> expiries;  // in expiry order
};

// A new instrument (a copy: consumers keep their own table; the registry is the venue thread's).
struct InstrumentListed {
  TimestampMs timestamp = 0;
  std::shared_ptr<const market::Instrument> instrument;
};

// An instrument reached its expiry: trading stopped, the simulator's orders were cancelled.
struct InstrumentClosed {
  TimestampMs timestamp = 0;
  InstrumentId instrument = 0;
};

// An account's funds changed (the engine's PortfolioUpdate: fills, deposits, funding,
// settlement), with the risk of its positions in that currency at the same instant, from the
// options' markets as get_account would report them then.
struct Portfolio {
  market::PortfolioUpdate funds;
  PortfolioRisk risk;
};

// `dropped` events were not delivered to this consumer because its queue stayed full (see
// Venue): its books must be re-snapshotted. Only ever seen by a consumer that fell behind.
struct StreamGap {
  std::uint64_t dropped = 0;
};

using VenueEvent = std::variant<OwnedOrderUpdate, market::Trade, OwnedBookChange,
                                market::PositionUpdate, Portfolio, market::IndexPrice,
                                market::MarkPrice, Ticker, Block, Transfer, SurfaceSnapshot,
                                InstrumentListed, InstrumentClosed, StreamGap, market::Settlement>;

// Every queued event is as large as the largest kind: the risk a portfolio carries must not
// make all of them larger.
static_assert(sizeof(Portfolio) <= sizeof(Ticker), "Portfolio would grow every VenueEvent");

// Receives the simulator's events in order (the Venue pushes them into its queues).
class VenueSink {
 public:
  virtual ~VenueSink() = default;
  virtual void on_event(const VenueEvent& event) = 0;
};

// A canonical one-line text form of an event (every field, doubles with 17 significant
// digits): for determinism tests, recorders and debugging. Appends to `out` with a newline.
void append_canonical(const VenueEvent& event, std::string& out);
std::string_view event_name(const VenueEvent& event);

}  // namespace gw::sim
