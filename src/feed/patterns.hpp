// The channels a relay subscribes upstream, given as patterns: Deribit channel names whose
// instrument (or index) part may hold `*` wildcards, e.g. book.BTC-*.100ms, ticker.*.100ms,
// deribit_price_index.*. A `*` matches any run of characters of that part (instrument names
// have no dots). Patterns expand against the upstream's instrument names (index patterns
// against btc_usd and eth_usd); literal channels pass through.
//
// Only the channels a mirror rebuilds are accepted: book.{instrument}.{interval},
// ticker.{instrument}.{interval}, trades.{instrument}.{interval},
// trades.{kind}.{currency}.{interval} and deribit_price_index.{index}, intervals raw, 100ms or
// agg2. The gateway derives everything else (grouped books, markprice.*, volsurface.*, the
// slower intervals) from those.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "market/types.hpp"

namespace gw::feed {

enum class PatternKind : std::uint8_t { book, ticker, trades, price_index };

struct ChannelPattern {
  PatternKind kind = PatternKind::book;
  std::string prefix;  // "book." (or the whole "trades.future.BTC" for the kind-and-currency form)
  std::string name;    // the instrument or index part, possibly with '*'; "" for that form
  std::string suffix;  // ".100ms", or "" (price index)

  bool wildcard() const { return name.find('*') != std::string::npos; }
  bool matches(std::string_view candidate) const;
  std::string channel(std::string_view with_name) const;
  std::string text() const { return channel(name); }
};

// nullopt with `error` for something that is not a relayable channel or pattern.
std::optional<ChannelPattern> parse_pattern(std::string_view text, std::string* error);

// `*` matches any run of characters (also none); everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

// The channels the patterns stand for, given the upstream's instrument names: sorted, each once.
// Several intervals of the same instrument's book (or ticker, or trades) collapse to the finest
// (raw, then 100ms, then agg2): one upstream chain per book, whatever the patterns overlap in.
std::vector<std::string> expand(const std::vector<ChannelPattern>& patterns,
                                const std::vector<std::string>& instrument_names);

// The currencies whose instruments the patterns can name (a leading `*` names every one):
// what to ask public/get_instruments for. Index patterns name none.
std::vector<market::Currency> currencies_of(const std::vector<ChannelPattern>& patterns);

}  // namespace gw::feed
