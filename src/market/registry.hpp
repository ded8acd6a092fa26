// Every instrument the venue has listed, live or expired.
//
// Plain data owned by the venue thread: no threads, no I/O, no clock (time is passed in).
// Instruments are never removed or moved, so references and pointers to them stay valid, and
// ids are handed out in increasing order and never reused. An expired instrument is kept with
// is_active = false for get_instruments(expired = true).
#pragma once

#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "market/calendar.hpp"
#include "market/instrument.hpp"

namespace gw::market {

// The price each currency's option strikes are laid out around. One price serves every expiry:
// the strike ladders are far coarser than the basis between the index and a future. A currency
// without a positive finite price gets futures but no options.
struct Forwards {
  double btc = 0;
  double eth = 0;
  double of(Currency c) const { return c == Currency::BTC ? btc : eth; }
};

struct ListingRules {
  ExpiryCounts futures = kFutureExpiries;
  ExpiryCounts options = kOptionExpiries;
  StrikeParams strikes{};
  InstrumentId first_id = 1;
};

struct RollResult {
  std::vector<InstrumentId> created;  // in id order
  std::vector<InstrumentId> expired;  // were active, now inactive, in id order
};

// The filters of public/get_instruments: nullopt matches any currency or kind.
struct InstrumentQuery {
  std::optional<Currency> currency;
  std::optional<Kind> kind;
  bool expired = false;  // false: the active instruments; true: the expired ones
};

class InstrumentRegistry {
 public:
  explicit InstrumentRegistry(ListingRules rules = {});

  // Brings the listing up to date at `now`: instruments whose expiry is at or before `now`
  // become inactive; the perpetuals, the futures of the live future expiries and, for each
  // live option expiry, calls and puts at every strike of strike_layout() around the
  // currency's forward are listed if not already. Strikes listed earlier stay until expiry, so
  // a chain grows as the forward moves and fills in with finer steps as its expiry nears, as
  // Deribit's does. Calling it again at the same time with the same forwards changes nothing.
  // Time does not run backwards here: an earlier `now` counts as the latest one seen.
  RollResult roll(TimestampMs now, const Forwards& forwards);

  // Lists one instrument (tests, configured extras). Returns the existing instrument if the
  // name is already listed, nullptr if it expires at or before `now` (or the latest roll).
  const Instrument* add(const InstrumentName& name, TimestampMs now);

  // Lists an instrument as given, with its own specification (a mirrored feed's); the id is
  // assigned here. Returns the existing instrument if the name is already listed.
  const Instrument* add(Instrument instrument);
  // Takes a listed instrument off the active list (a mirrored feed's instrument stopped
  // trading). False if it is unknown or already inactive.
  bool deactivate(InstrumentId id);

  const Instrument* find(std::string_view name) const;
  const Instrument* find(InstrumentId id) const;

  // What public/get_instruments returns, in id order.
  std::vector<const Instrument*> select(const InstrumentQuery& query) const;

  // Every instrument ever listed, in id order.
  const std::deque<Instrument>& all() const { return instruments_; }
  std::size_t size() const { return instruments_.size(); }
  std::size_t active_count() const { return active_.size(); }

 private:
  const Instrument& list(const InstrumentName& name, TimestampMs now, RollResult& result);
  void expire(TimestampMs now, RollResult& result);
  void list_futures(Currency c, TimestampMs now, RollResult& result);
  void list_options(Currency c, TimestampMs now, double forward, RollResult& result);

  ListingRules rules_;
  TimestampMs latest_roll_ms_ = std::numeric_limits<TimestampMs>::min();
  std::deque<Instrument> instruments_;  // index = id - rules_.first_id
  std::vector<InstrumentId> active_;    // ascending
  std::map<std::string, InstrumentId, std::less<>> by_name_;
  // The strikes last listed per (currency, option expiry). Most rolls produce the same layout
  // again, and then every one of its instruments exists already: skipping them saves
  // formatting and looking up some two thousand names per roll.
  std::map<std::pair<Currency, TimestampMs>, std::vector<double>> last_layout_;
};

}  // namespace gw::market
