// Channel patterns of a relay (patterns.hpp).
#include "feed/patterns.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace gw::feed {

namespace {

constexpr std::array<std::string_view, 3> kIntervals{"raw", "100ms", "agg2"};  // finest first
constexpr std::array<std::string_view, 2> kIndexNames{"btc_usd", "eth_usd"};

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

std::size_t interval_rank(std::string_view interval) {
  return static_cast<std::size_t>(std::find(kIntervals.begin(), kIntervals.end(), interval) -
                                  kIntervals.begin());
}

bool known_interval(std::string_view interval) {
  return interval_rank(interval) < kIntervals.size();
}

bool has_wildcard(std::string_view part) {
  return part.find('*') != std::string_view::npos;
}

std::optional<ChannelPattern> fail(std::string_view text, std::string_view why,
                                   std::string* error) {
  if (error != nullptr) *error = "'" + std::string(text) + "': " + std::string(why);
  return std::nullopt;
}

// {kind}.{instrument}.{interval}
std::optional<ChannelPattern> instrument_pattern(PatternKind kind,
                                                 const std::vector<std::string_view>& parts,
                                                 std::string_view text, std::string* error) {
  if (parts[1].empty()) return fail(text, "the instrument name is empty", error);
  if (!known_interval(parts[2]))
    return fail(text, "the interval must be raw, 100ms or agg2", error);
  if (has_wildcard(parts[2])) return fail(text, "a wildcard may only stand in the name", error);
  return ChannelPattern{kind, std::string(parts[0]) + ".", std::string(parts[1]),
                        "." + std::string(parts[2])};
}

// trades.{kind}.{currency}.{interval}: literal only.
std::optional<ChannelPattern> kind_trades_pattern(const std::vector<std::string_view>& parts,
                                                  std::string_view text, std::string* error) {
  if (has_wildcard(text)) return fail(text, "a wildcard may only stand in the name", error);
  const bool kind = parts[1] == "future" || parts[1] == "option" || parts[1] == "any";
  const bool currency = parts[2] == "BTC" || parts[2] == "ETH" || parts[2] == "any";
  if (!kind || !currency || !known_interval(parts[3])) {
    return fail(text, "expected trades.{future|option|any}.{BTC|ETH|any}.{raw|100ms|agg2}", error);
  }
  const std::size_t last_dot = text.rfind('.');
  return ChannelPattern{PatternKind::trades, std::string(text.substr(0, last_dot)), "",
                        std::string(text.substr(last_dot))};
}

// The key two channels share when they carry the same data at different intervals, and the
// interval's rank.
std::pair<std::string, std::size_t> same_data_key(const ChannelPattern& p, std::string_view name) {
  std::string key = p.prefix;
  key += name;
  return {key, interval_rank(p.suffix.empty() ? std::string_view("raw") : p.suffix.substr(1))};
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative glob with one backtrack point: the last '*' seen.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ChannelPattern::matches(std::string_view candidate) const {
  return glob_match(name, candidate);
}

std::string ChannelPattern::channel(std::string_view with_name) const {
  std::string out = prefix;
  out += with_name;
  out += suffix;
  return out;
}

std::optional<ChannelPattern> parse_pattern(std::string_view text, std::string* error) {
  const std::vector<std::string_view> parts = split(text);
  const std::string_view head = parts[0];
  if (head == "deribit_price_index" && parts.size() == 2) {
    if (parts[1].empty()) return fail(text, "the index name is empty", error);
    return ChannelPattern{PatternKind::price_index, "deribit_price_index.", std::string(parts[1]),
                          ""};
  }
  if (head == "trades" && parts.size() == 4) return kind_trades_pattern(parts, text, error);
  if (parts.size() == 3) {
    if (head == "book") return instrument_pattern(PatternKind::book, parts, text, error);
    if (head == "ticker") return instrument_pattern(PatternKind::ticker, parts, text, error);
    if (head == "trades") return instrument_pattern(PatternKind::trades, parts, text, error);
  }
  return fail(text,
              "not a relayed channel (book.{instrument}.{interval}, ticker.*, trades.*, "
              "deribit_price_index.*; intervals raw, 100ms, agg2)",
              error);
}

std::vector<std::string> expand(const std::vector<ChannelPattern>& patterns,
                                const std::vector<std::string>& instrument_names) {
  // Per data key, the finest interval asked for and its channel.
  std::map<std::string, std::pair<std::size_t, std::string>> chosen;
  const auto add = [&chosen](const ChannelPattern& p, std::string_view name) {
    auto [key, rank] = same_data_key(p, name);
    const auto it = chosen.find(key);
    if (it == chosen.end() || rank < it->second.first) {
      chosen[key] = {rank, p.channel(name)};
    }
  };
  for (const ChannelPattern& p : patterns) {
    if (!p.wildcard()) {
      add(p, p.name);
    } else if (p.kind == PatternKind::price_index) {
      for (std::string_view index : kIndexNames) {
        if (p.matches(index)) add(p, index);
      }
    } else {
      for (const std::string& name : instrument_names) {
        if (p.matches(name)) add(p, name);
      }
    }
  }
  std::vector<std::string> channels;
  channels.reserve(chosen.size());
  for (auto& [key, choice] : chosen) channels.push_back(std::move(choice.second));
  std::sort(channels.begin(), channels.end());
  return channels;
}

std::vector<market::Currency> currencies_of(const std::vector<ChannelPattern>& patterns) {
  bool btc = false, eth = false;
  for (const ChannelPattern& p : patterns) {
    if (p.kind == PatternKind::price_index) continue;
    // The kind-and-currency trades form: its currency part.
    const std::string_view name = p.name.empty() ? std::string_view(p.prefix) : p.name;
    const std::string_view currency =
        p.name.empty() ? split(name).back() : name.substr(0, name.find('-'));
    const bool any = currency == "any" || has_wildcard(currency);
    btc = btc || any || currency == "BTC";
    eth = eth || any || currency == "ETH";
  }
  std::vector<market::Currency> out;
  if (btc) out.push_back(market::Currency::BTC);
  if (eth) out.push_back(market::Currency::ETH);
  return out;
}

}  // namespace gw::feed
