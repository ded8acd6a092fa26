// A market sourced from outside: instead of simulating, the venue thread rebuilds the public
// state of a Deribit-compatible feed (relay: a live upstream connection; replay: a recording)
// from FeedInputs and publishes it as the same VenueEvent stream the simulator produces, so that
// the gateway serves it unchanged: books with their change_id chains, tickers, trades, index
// prices, and a volatility surface fitted to the option tickers' mark IVs — or, from a feed that
// carries them (a greekwire venue's stream, docs/SCALE-OUT.md), the feed's own surfaces, blocks
// and transfers, passed through.
//
// What it keeps (venue thread only): the instruments (a registry of the feed's own contract
// specifications, ids assigned in listing order), an L2 book per instrument, the last ticker,
// the index prices. The change_ids are the feed's: a change is published with the feed's
// change_id and prev_change_id, and the book checksum (greekwire's extension) is recomputed
// over the mirrored levels. A mirror has no accounts and takes no orders (the gateway answers
// trading methods with 13021 "forbidden"; the venue refuses them as invalid_arguments).
//
// Integrity: a change whose prev_change_id does not continue the book's chain, a change before
// the book's first snapshot, or a snapshot of a book that was already live (the feed resynced
// it) is applied and published with `resync` set, so that every subscriber of the book gets a
// fresh snapshot instead of a gap. FeedLost (the upstream dropped) marks every book stale; each
// is published as a resync when its next snapshot arrives, never as a silent continuation.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "market/checksum.hpp"
#include "market/registry.hpp"
#include "sim/config.hpp"
#include "sim/sim_events.hpp"

namespace gw::sim {

// ---- What a feed tells the mirror (feed/translate.hpp makes these from Deribit messages) ----

// An instrument with the feed's specification. Its id is ignored (the mirror assigns one); an
// instrument already listed under that name is kept as it is.
struct FeedInstrument {
  market::Instrument instrument;
};

// One level of a book message in real units: amount 0 removes the level.
struct FeedLevel {
  double price = 0;
  double amount = 0;
};

// One book.{instrument}.{interval} message.
struct FeedBook {
  std::string instrument;
  TimestampMs timestamp = 0;
  bool snapshot = false;             // Deribit's type "snapshot": every level; else "change"
  std::uint64_t change_id = 0;       //
  std::uint64_t prev_change_id = 0;  // changes only
  std::vector<FeedLevel> bids;
  std::vector<FeedLevel> asks;
};

struct FeedTrade {
  std::string instrument;
  TimestampMs timestamp = 0;
  std::uint64_t trade_id = 0;  // the number of Deribit's "BTC-123" (or the whole id)
  std::uint64_t trade_seq = 0;
  market::Side direction = market::Side::buy;
  market::TickDirection tick_direction = market::TickDirection::plus;
  double price = 0;
  double amount = 0;
  double mark_price = 0;
  double index_price = 0;
};

// One ticker. `values` carries every model field as published (mark, index, IVs, Greeks,
// funding, open interest...); its Ticks/Lots fields and its instrument, currency, kind and
// underlying_future are ignored: the mirror fills them from the real-unit fields here.
struct FeedTicker {
  std::string instrument;
  std::string underlying_index;  // options: the future named as underlying ("" or SYN.*: none)
  Ticker values;
  double best_bid_price = 0;  // 0: the side is empty
  double best_bid_amount = 0;
  double best_ask_price = 0;
  double best_ask_amount = 0;
  double last_price = 0;  // 0: no trade yet
  double open_interest = 0;
  double high = 0;  // stats (24 h)
  double low = 0;
  double volume = 0;
};

struct FeedIndex {
  Currency currency = Currency::BTC;
  TimestampMs timestamp = 0;
  double price = 0;
};

// The feed says an instrument stopped trading (expired, or gone from the upstream's list).
struct FeedExpired {
  std::string instrument;
  TimestampMs timestamp = 0;
};

// The feed lost its source: every book is stale until its next snapshot (published as resync).
struct FeedLost {
  TimestampMs timestamp = 0;
};

// What a greekwire venue's stream carries whole (docs/SCALE-OUT.md): published as it is.
struct FeedBlock {
  Block block;
};
struct FeedTransfer {
  Transfer transfer;
};
// The feed's own volatility surface of a currency: published as it is (unless older than the
// last one published), and from then on the mirror stops fitting that currency's surface to
// the tickers: the venue's model wins over a fit to its quotes.
struct FeedSurface {
  SurfaceSnapshot surface;
};

using FeedInput = std::variant<FeedInstrument, FeedBook, FeedTrade, FeedTicker, FeedIndex,
                               FeedExpired, FeedLost, FeedBlock, FeedTransfer, FeedSurface>;

// ---- The mirror (venue thread) ----------------------------------------------------------------

class Mirror {
 public:
  struct Counters {
    std::uint64_t inputs = 0;
    std::uint64_t book_messages = 0;
    std::uint64_t resyncs = 0;   // books published as resync
    std::uint64_t rejected = 0;  // inputs naming an unknown instrument, or malformed
    std::uint64_t surfaces = 0;
  };

  Mirror(const VenueConfig& config, VenueSink& out);

  // Applies one input, publishing what it changes.
  void apply(const FeedInput& input);
  // Periodic work at `now_ms` (feed time): the surfaces every config.surface_interval_ms.
  void advance(TimestampMs now_ms);

  // The feed's time: the latest timestamp it carried (0 before any).
  TimestampMs now_ms() const { return now_ms_; }

  // Queries.
  const market::InstrumentRegistry& registry() const { return registry_; }
  bool active(InstrumentId id) const;
  // Levels best first (all when depth is 0); nullopt for an unknown or inactive instrument.
  struct Levels {
    std::uint64_t change_id = 0;
    std::uint32_t checksum = 0;
    TimestampMs timestamp = 0;
    std::vector<market::PriceLevel> bids;
    std::vector<market::PriceLevel> asks;
  };
  std::optional<Levels> levels(InstrumentId id, std::size_t depth) const;
  std::optional<Ticker> ticker(InstrumentId id) const;      // the last one received
  std::vector<InstrumentId> instruments(Currency c) const;  // active, ascending ids
  double index_price(Currency c) const;                     // 0: none yet
  const Counters& counters() const { return counters_; }

 private:
  struct MirroredBook {
    std::map<Ticks, Lots, std::greater<>> bids;  // best first
    std::map<Ticks, Lots> asks;
    std::uint64_t change_id = 0;
    std::uint32_t checksum = 0;
    TimestampMs timestamp = 0;
    bool live = false;   // a snapshot arrived and the chain holds since
    bool stale = false;  // FeedLost since: the next snapshot is a resync
  };
  struct State {
    const market::Instrument* instrument = nullptr;
    bool active = true;
    market::BookFormat format;
    MirroredBook book;
    std::optional<Ticker> ticker;
  };

  void list(const FeedInstrument& in);
  void on_book(const FeedBook& in);
  void on_trade(const FeedTrade& in);
  void on_ticker(const FeedTicker& in);
  void on_index(const FeedIndex& in);
  void on_expired(const FeedExpired& in);
  void on_lost(const FeedLost& in);
  void on_surface(const FeedSurface& in);
  void publish_surfaces();
  State* find(std::string_view name);
  const State* state(InstrumentId id) const;
  void see(TimestampMs t);

  VenueConfig config_;
  VenueSink& out_;
  market::InstrumentRegistry registry_;
  std::vector<State> states_;  // by instrument id
  std::array<double, 2> index_{};
  TimestampMs now_ms_ = 0;
  TimestampMs next_surface_ms_ = 0;
  // Per currency: whether the feed carries surfaces (then the mirror fits none), and the
  // timestamp of the last one published since the feed was lost (0: none).
  std::array<bool, 2> feed_surfaces_{};
  std::array<TimestampMs, 2> feed_surface_ms_{};
  Counters counters_;
  std::vector<market::LevelUpdate> scratch_bids_;
  std::vector<market::LevelUpdate> scratch_asks_;
};

}  // namespace gw::sim
