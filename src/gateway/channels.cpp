#include "gateway/channels.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "market/instrument.hpp"

namespace gw::gateway {

namespace {

// Splits on '.', keeping empty parts (so "book..raw" is malformed, not "book.raw").
std::vector<std::string_view> split(std::string_view name) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

std::optional<Interval> parse_interval(std::string_view text) {
  if (text == "raw") return Interval::raw;
  if (text == "100ms") return Interval::ms100;
  if (text == "agg2") return Interval::agg2;
  return std::nullopt;
}

// Currencies are upper case in instrument-style channels; user.portfolio accepts both cases
// (clients use "user.portfolio.btc" and "user.portfolio.BTC").
std::optional<market::Currency> parse_currency(std::string_view text, bool any_case) {
  for (market::Currency c : market::kCurrencies) {
    const std::string_view name = market::to_string(c);
    if (text == name) return c;
    if (any_case && text.size() == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < text.size(); ++i)
        same = same && (text[i] | 0x20) == (name[i] | 0x20);
      if (same) return c;
    }
  }
  return std::nullopt;
}

// "BTC", "ETH" or "any" (nullopt currency); false when neither.
bool parse_currency_or_any(std::string_view text, std::optional<market::Currency>& out) {
  if (text == "any") {
    out.reset();
    return true;
  }
  out = parse_currency(text, false);
  return out.has_value();
}

std::optional<KindFilter> parse_kind(std::string_view text) {
  if (text == "future") return KindFilter::future;
  if (text == "option") return KindFilter::option;
  if (text == "any") return KindFilter::any;
  return std::nullopt;
}

std::optional<market::Currency> parse_index(std::string_view text) {
  if (text == "btc_usd") return market::Currency::BTC;
  if (text == "eth_usd") return market::Currency::ETH;
  return std::nullopt;
}

bool is_instrument(std::string_view text) {
  return market::parse_instrument_name(text).ok();
}

bool parse_positive(std::string_view text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out > 0;
}

std::optional<ChannelSpec> parse_book(const std::vector<std::string_view>& p) {
  ChannelSpec spec;
  if (p.size() == 3 && is_instrument(p[1])) {
    const auto interval = parse_interval(p[2]);
    if (!interval) return std::nullopt;
    spec.kind = ChannelKind::book;
    spec.instrument = std::string(p[1]);
    spec.interval = *interval;
    return spec;
  }
  if (p.size() != 5 || !is_instrument(p[1])) return std::nullopt;
  const auto interval = parse_interval(p[4]);
  std::int64_t depth = 0;
  if (!interval || !parse_positive(p[3], depth) || (depth != 1 && depth != 10 && depth != 20))
    return std::nullopt;
  if (p[2] != "none" && !parse_positive(p[2], spec.group)) return std::nullopt;
  spec.kind = ChannelKind::book_grouped;
  spec.instrument = std::string(p[1]);
  spec.depth = static_cast<int>(depth);
  spec.interval = *interval;
  return spec;
}

// trades / user.orders / user.trades: {instrument}.{interval} or {kind}.{currency}.{interval}.
std::optional<ChannelSpec> parse_instrument_or_kind(ChannelKind kind,
                                                    const std::vector<std::string_view>& p,
                                                    std::size_t first) {
  ChannelSpec spec;
  spec.kind = kind;
  const std::size_t rest = p.size() - first;
  if (rest == 2 && is_instrument(p[first])) {
    const auto interval = parse_interval(p[first + 1]);
    if (!interval) return std::nullopt;
    spec.instrument = std::string(p[first]);
    spec.interval = *interval;
    return spec;
  }
  if (rest != 3) return std::nullopt;
  const auto filter = parse_kind(p[first]);
  const auto interval = parse_interval(p[first + 2]);
  if (!filter || !interval || !parse_currency_or_any(p[first + 1], spec.currency))
    return std::nullopt;
  if (kind == ChannelKind::trades) spec.kind = ChannelKind::trades_by_kind;
  spec.kind_filter = *filter;
  spec.interval = *interval;
  return spec;
}

std::optional<ChannelSpec> parse_user(const std::vector<std::string_view>& p) {
  if (p.size() < 3) return std::nullopt;
  if (p[1] == "portfolio") {
    if (p.size() != 3) return std::nullopt;
    ChannelSpec spec;
    spec.kind = ChannelKind::user_portfolio;
    spec.currency = parse_currency(p[2], true);
    if (!spec.currency) return std::nullopt;
    return spec;
  }
  if (p[1] == "orders") return parse_instrument_or_kind(ChannelKind::user_orders, p, 2);
  if (p[1] == "trades") return parse_instrument_or_kind(ChannelKind::user_trades, p, 2);
  return std::nullopt;
}

std::optional<ChannelSpec> parse_currency_channel(const std::vector<std::string_view>& p) {
  ChannelSpec spec;
  if (p.size() != 3) return std::nullopt;
  spec.currency = parse_currency(p[1], false);
  if (!spec.currency) return std::nullopt;
  if (p[0] == "volsurface") {
    const auto interval = parse_interval(p[2]);
    if (!interval) return std::nullopt;
    spec.kind = ChannelKind::volsurface;
    spec.interval = *interval;
    return spec;
  }
  if (p[2] == "blocks") {
    spec.kind = ChannelKind::chain_blocks;
  } else if (p[2] == "transfers") {
    spec.kind = ChannelKind::chain_transfers;
  } else {
    return std::nullopt;
  }
  return spec;
}

std::optional<ChannelSpec> parse_index_channel(const std::vector<std::string_view>& p) {
  ChannelSpec spec;
  if (p[0] == "deribit_price_index" && p.size() == 2) {
    spec.kind = ChannelKind::price_index;
    spec.currency = parse_index(p[1]);
  } else if (p[0] == "markprice" && p.size() == 3 && p[1] == "options") {
    spec.kind = ChannelKind::markprice;
    spec.currency = parse_index(p[2]);
  } else {
    return std::nullopt;
  }
  if (!spec.currency) return std::nullopt;
  return spec;
}

std::string_view kind_text(KindFilter k) {
  return k == KindFilter::future ? "future" : k == KindFilter::option ? "option" : "any";
}

std::string_view currency_text(const std::optional<market::Currency>& c) {
  return c ? market::to_string(*c) : "any";
}

std::string_view index_text(const std::optional<market::Currency>& c) {
  return c == market::Currency::ETH ? "eth_usd" : "btc_usd";
}

}  // namespace

static std::optional<ChannelSpec> parse_any_spelling(std::string_view name) {
  if (name.empty() || name.size() > 128) return std::nullopt;
  const std::vector<std::string_view> p = split(name);
  const std::string_view head = p[0];
  if (head == "book") return parse_book(p);
  if (head == "ticker") {
    if (p.size() != 3 || !is_instrument(p[1])) return std::nullopt;
    const auto interval = parse_interval(p[2]);
    if (!interval) return std::nullopt;
    ChannelSpec spec;
    spec.kind = ChannelKind::ticker;
    spec.instrument = std::string(p[1]);
    spec.interval = *interval;
    return spec;
  }
  if (head == "trades") return parse_instrument_or_kind(ChannelKind::trades, p, 1);
  if (head == "user") return parse_user(p);
  if (head == "volsurface" || head == "chain") return parse_currency_channel(p);
  if (head == "deribit_price_index" || head == "markprice") return parse_index_channel(p);
  return std::nullopt;
}

std::optional<ChannelSpec> parse_channel(std::string_view name) {
  std::optional<ChannelSpec> spec = parse_any_spelling(name);
  // One spelling per channel ("book.X.05.10.100ms" is not "book.X.5.10.100ms"), so that equal
  // channels have equal names; user.portfolio takes the currency in either case, as Deribit.
  if (spec && spec->kind != ChannelKind::user_portfolio && channel_name(*spec) != name)
    return std::nullopt;
  return spec;
}

std::string_view to_string(Interval interval) {
  switch (interval) {
    case Interval::raw:
      return "raw";
    case Interval::ms100:
      return "100ms";
    case Interval::agg2:
      return "agg2";
    case Interval::none:
      break;
  }
  return "";
}

std::string channel_name(const ChannelSpec& s) {
  std::string name;
  auto add = [&name](std::string_view part) {
    if (!name.empty()) name += '.';
    name += part;
  };
  auto instrument_or_kind = [&] {
    if (s.per_instrument()) {
      add(s.instrument);
    } else {
      add(kind_text(s.kind_filter));
      add(currency_text(s.currency));
    }
    add(to_string(s.interval));
  };
  switch (s.kind) {
    case ChannelKind::book:
      add("book");
      add(s.instrument);
      add(to_string(s.interval));
      break;
    case ChannelKind::book_grouped:
      add("book");
      add(s.instrument);
      add(s.group == 0 ? std::string("none") : std::to_string(s.group));
      add(std::to_string(s.depth));
      add(to_string(s.interval));
      break;
    case ChannelKind::ticker:
      add("ticker");
      add(s.instrument);
      add(to_string(s.interval));
      break;
    case ChannelKind::trades:
    case ChannelKind::trades_by_kind:
      add("trades");
      instrument_or_kind();
      break;
    case ChannelKind::price_index:
      add("deribit_price_index");
      add(index_text(s.currency));
      break;
    case ChannelKind::markprice:
      add("markprice.options");
      add(index_text(s.currency));
      break;
    case ChannelKind::user_orders:
      add("user.orders");
      instrument_or_kind();
      break;
    case ChannelKind::user_trades:
      add("user.trades");
      instrument_or_kind();
      break;
    case ChannelKind::user_portfolio:
      add("user.portfolio");
      add(currency_text(s.currency));
      break;
    case ChannelKind::volsurface:
      add("volsurface");
      add(currency_text(s.currency));
      add(to_string(s.interval));
      break;
    case ChannelKind::chain_blocks:
      add("chain");
      add(currency_text(s.currency));
      add("blocks");
      break;
    case ChannelKind::chain_transfers:
      add("chain");
      add(currency_text(s.currency));
      add("transfers");
      break;
  }
  return name;
}

}  // namespace gw::gateway
