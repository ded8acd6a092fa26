// The venue's listing: rolling expiries, stable ids, look-ups (see registry.hpp).
#include "market/registry.hpp"

#include <algorithm>
#include <cmath>

#include "pricing/deribit.hpp"

namespace gw::market {

InstrumentRegistry::InstrumentRegistry(ListingRules rules) : rules_(rules) {}

RollResult InstrumentRegistry::roll(TimestampMs now, const Forwards& forwards) {
  // Listing options for an expiry that has already been expired (and dropped from
  // last_layout_) would create live instruments next to settled ones.
  latest_roll_ms_ = std::max(latest_roll_ms_, now);
  now = latest_roll_ms_;
  RollResult result;
  expire(now, result);
  for (const Currency c : kCurrencies) {
    list(perpetual_name(c), now, result);
    list_futures(c, now, result);
    list_options(c, now, forwards.of(c), result);
  }
  return result;
}

const Instrument* InstrumentRegistry::add(const InstrumentName& name, TimestampMs now) {
  now = std::max(now, latest_roll_ms_);
  if (const Instrument* existing = find(format_instrument_name(name))) return existing;
  if (name.expiration_ms() <= now) return nullptr;
  RollResult ignored;
  return &list(name, now, ignored);
}

const Instrument* InstrumentRegistry::add(Instrument instrument) {
  if (const Instrument* existing = find(instrument.name)) return existing;
  instrument.id = rules_.first_id + static_cast<InstrumentId>(instruments_.size());
  instrument.is_active = true;
  by_name_.emplace(instrument.name, instrument.id);
  active_.push_back(instrument.id);
  return &instruments_.emplace_back(std::move(instrument));
}

bool InstrumentRegistry::deactivate(InstrumentId id) {
  const auto it = std::find(active_.begin(), active_.end(), id);
  if (it == active_.end()) return false;
  active_.erase(it);
  instruments_[id - rules_.first_id].is_active = false;
  return true;
}

const Instrument* InstrumentRegistry::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : find(it->second);
}

const Instrument* InstrumentRegistry::find(InstrumentId id) const {
  if (id < rules_.first_id || id - rules_.first_id >= instruments_.size()) return nullptr;
  return &instruments_[id - rules_.first_id];
}

std::vector<const Instrument*> InstrumentRegistry::select(const InstrumentQuery& query) const {
  const auto matches = [&](const Instrument& i) {
    return (!query.currency || i.currency == *query.currency) &&
           (!query.kind || i.kind == *query.kind);
  };
  std::vector<const Instrument*> out;
  if (!query.expired) {
    for (const InstrumentId id : active_) {
      const Instrument* i = find(id);
      if (matches(*i)) out.push_back(i);
    }
    return out;
  }
  for (const Instrument& i : instruments_) {
    if (!i.is_active && matches(i)) out.push_back(&i);
  }
  return out;
}

// Creates the instrument unless its name is already listed.
const Instrument& InstrumentRegistry::list(const InstrumentName& name, TimestampMs now,
                                           RollResult& result) {
  if (const Instrument* existing = find(format_instrument_name(name))) return *existing;
  Instrument instrument = make_instrument(name);
  instrument.id = rules_.first_id + static_cast<InstrumentId>(instruments_.size());
  instrument.creation_ms = now;
  by_name_.emplace(instrument.name, instrument.id);
  active_.push_back(instrument.id);
  result.created.push_back(instrument.id);
  return instruments_.emplace_back(std::move(instrument));
}

void InstrumentRegistry::expire(TimestampMs now, RollResult& result) {
  // An instrument expiring exactly at `now` has settled: the calendar no longer lists it.
  std::vector<InstrumentId> still_active;
  still_active.reserve(active_.size());
  for (const InstrumentId id : active_) {
    Instrument& i = instruments_[id - rules_.first_id];
    if (i.expiration_ms > now) {
      still_active.push_back(id);
      continue;
    }
    i.is_active = false;
    result.expired.push_back(id);
  }
  active_.swap(still_active);
  std::erase_if(last_layout_, [&](const auto& entry) { return entry.first.second <= now; });
}

void InstrumentRegistry::list_futures(Currency c, TimestampMs now, RollResult& result) {
  for (const Expiry& e : live_expiries(now, rules_.futures)) {
    list(future_name(c, e.date), now, result);
  }
}

void InstrumentRegistry::list_options(Currency c, TimestampMs now, double forward,
                                      RollResult& result) {
  if (!(forward > 0 && std::isfinite(forward))) return;
  for (const Expiry& e : live_expiries(now, rules_.options)) {
    const double years = pricing::deribit_years_to_expiry(now, e.ms);
    std::vector<double> strikes = strike_layout(c, forward, years, rules_.strikes);
    std::vector<double>& last = last_layout_[{c, e.ms}];
    if (strikes == last) continue;
    for (const double strike : strikes) {
      list(option_name(c, e.date, strike, OptionType::call), now, result);
      list(option_name(c, e.date, strike, OptionType::put), now, result);
    }
    last = std::move(strikes);
  }
}

}  // namespace gw::market
