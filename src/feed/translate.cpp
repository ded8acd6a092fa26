// Deribit messages to the mirror's inputs (translate.hpp).
#include "feed/translate.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "feed/reader.hpp"
#include "greekwire/channels.hpp"

namespace gw::feed {

using greekwire::Value;

using detail::Reader;
using detail::set_error;

namespace {

// ---- Books ------------------------------------------------------------------------------------

// [["new"|"change"|"delete", price, amount], ...] into levels; false at the first bad entry.
bool read_levels(const Value& side, std::vector<sim::FeedLevel>& out, std::string_view name,
                 std::string* error) {
  out.reserve(side.size());
  for (const Value& entry : side.array()) {
    const std::string_view action = entry[0].as_string();
    const bool known = action == "new" || action == "change" || action == "delete";
    const Value& price = entry[1];
    const Value& amount = entry[2];
    if (!entry.is_array() || entry.size() != 3 || !known || !price.is_number() ||
        !amount.is_number() || !std::isfinite(price.as_double()) ||
        !std::isfinite(amount.as_double()) || amount.as_double() < 0) {
      set_error(error, "book: each of '" + std::string(name) +
                           "' must be [\"new\"|\"change\"|\"delete\", price, amount >= 0]");
      return false;
    }
    out.push_back({price.as_double(), action == "delete" ? 0.0 : amount.as_double()});
  }
  return true;
}

// ---- Tickers ----------------------------------------------------------------------------------

void read_greeks(Reader& r, const Value* greeks, sim::TickerGreeks& out, std::string* error) {
  if (greeks == nullptr) return;
  Reader g(*greeks, "ticker greeks", error);
  out.delta = g.number("delta");
  out.gamma = g.number("gamma");
  out.vega = g.number("vega");
  out.theta = g.number("theta");
  out.rho = g.number("rho");
  if (!g.ok()) r.fail_nested();
}

// The 24-hour volume in the instrument's amount units, as the mirror counts it: Deribit's
// `volume` is coin for every kind, but a future's amounts are USD, which is its `volume_usd`.
void read_stats(Reader& r, const Value* stats, sim::FeedTicker& out, std::string* error) {
  if (stats == nullptr) return;
  Reader s(*stats, "ticker stats", error);
  const double coin_volume = s.number("volume");
  out.values.stats.volume_usd = s.number("volume_usd");
  out.values.stats.price_change = s.number("price_change");
  out.low = s.number("low");
  out.high = s.number("high");
  if (!s.ok()) {
    r.fail_nested();
    return;
  }
  const market::ParsedName name = market::parse_instrument_name(out.instrument);
  const bool future = name.ok() && name.name.kind == market::Kind::future;
  out.volume = future ? out.values.stats.volume_usd : coin_volume;
}

std::optional<market::Currency> index_currency(std::string_view index_name) {
  if (index_name == "btc_usd") return market::Currency::BTC;
  if (index_name == "eth_usd") return market::Currency::ETH;
  return std::nullopt;
}

// ---- Instruments ------------------------------------------------------------------------------

double smallest_tick(const market::Instrument& i) {
  double unit = i.tick_size;
  for (const market::TickStep& s : i.tick_size_steps) unit = std::min(unit, s.tick_size);
  return unit;
}

void read_tick_steps(Reader& r, const Value* steps, market::Instrument& i, std::string* error) {
  if (steps == nullptr) return;
  i.tick_size_steps.clear();
  for (const Value& step : steps->array()) {
    Reader s(step, "instrument tick_size_steps", error);
    const double above = s.number("above_price", true, false);
    const double tick = s.number("tick_size", true, false);
    if (s.ok() && (above < 0 || !(tick > 0))) {
      s.fail("", "{above_price >= 0, tick_size > 0}");
    }
    if (!s.ok()) {
      r.fail_nested();
      return;
    }
    i.tick_size_steps.push_back({above, tick});
  }
}

// The row's kind, strike and option type, where it has them, must be the name's.
bool agrees_with_name(Reader& r, const Value& row, const market::Instrument& i) {
  if (const Value* kind = row.find("kind")) {
    if (kind->as_string() != market::to_string(i.kind)) {
      r.fail("kind", "the kind the instrument_name names");
      return false;
    }
  }
  if (i.kind != market::Kind::option) return true;
  if (const Value* strike = row.find("strike"); strike && strike->as_double(-1) != i.strike) {
    r.fail("strike", "the strike the instrument_name names");
    return false;
  }
  if (const Value* type = row.find("option_type");
      type && type->as_string() != market::to_string(i.option_type)) {
    r.fail("option_type", "the option type the instrument_name names");
    return false;
  }
  return true;
}

void read_specification(Reader& r, market::Instrument& i) {
  i.tick_size = r.number("tick_size", true, false);
  i.contract_size = r.number("contract_size", true, false);
  i.min_trade_amount = r.number("min_trade_amount", true, false);
  i.maker_commission = r.number("maker_commission", false, false, i.maker_commission);
  i.taker_commission = r.number("taker_commission", false, false, i.taker_commission);
  i.block_trade_commission =
      r.number("block_trade_commission", false, false, i.block_trade_commission);
  i.block_trade_tick_size =
      r.number("block_trade_tick_size", false, false, i.block_trade_tick_size);
  i.block_trade_min_trade_amount =
      r.number("block_trade_min_trade_amount", false, false, i.block_trade_min_trade_amount);
  if (i.kind == market::Kind::future) {
    // Absent: the row has none (our writer leaves zeros out), not the venue's default.
    i.max_leverage = static_cast<int>(r.integer("max_leverage", false, 0));
    i.max_liquidation_commission = r.number("max_liquidation_commission", false, false, 0);
  }
  i.expiration_ms = r.integer("expiration_timestamp", true);
  i.creation_ms = r.integer("creation_timestamp", false, 0);
  i.is_active = r.boolean("is_active", true);
  const auto keep_text = [&r](std::string_view key, std::string& field) {
    const std::string_view value = r.text(key, false);
    if (!value.empty()) field = std::string(value);
  };
  keep_text("settlement_period", i.settlement_period);
  keep_text("price_index", i.price_index);
  keep_text("instrument_type", i.instrument_type);
}

}  // namespace

// ---- Instruments ------------------------------------------------------------------------------

std::optional<market::Instrument> instrument_from_row(const Value& row, std::string* error) {
  Reader r(row, "instrument", error);
  const std::string_view name = r.text("instrument_name");
  if (!r.ok()) return std::nullopt;
  const market::ParsedName parsed = market::parse_instrument_name(name);
  if (!parsed.ok()) {
    set_error(error, "instrument " + std::string(name) + ": " +
                         std::string(market::to_string(parsed.error)));
    return std::nullopt;
  }
  // The venue's defaults for whatever the row leaves out; the row's values for the rest.
  market::Instrument i = market::make_instrument(parsed.name);
  if (!agrees_with_name(r, row, i)) return std::nullopt;
  read_specification(r, i);
  const Value* steps = r.nested("tick_size_steps", Value::Type::array);
  if (r.ok()) read_tick_steps(r, steps, i, error);
  if (!r.ok()) return std::nullopt;
  if (!(i.tick_size > 0) || !(i.contract_size > 0) || !(i.min_trade_amount > 0)) {
    set_error(error, "instrument " + i.name +
                         ": tick_size, contract_size and min_trade_amount must be positive");
    return std::nullopt;
  }
  i.price_unit = smallest_tick(i);
  i.amount_unit = i.min_trade_amount;
  i.price_decimals = market::decimals_of(i.price_unit);
  i.amount_decimals = market::decimals_of(i.amount_unit);
  return i;
}

// ---- Notifications ----------------------------------------------------------------------------

std::optional<sim::FeedBook> book_from(const Value& data, std::string* error) {
  Reader r(data, "book", error);
  sim::FeedBook book;
  const std::string_view type = r.text("type");
  book.instrument = std::string(r.text("instrument_name"));
  book.timestamp = r.integer("timestamp");
  book.change_id = r.unsigned_integer("change_id");
  if (r.ok() && type != "snapshot" && type != "change")
    r.fail("type", "\"snapshot\" or \"change\"");
  book.snapshot = type == "snapshot";
  if (!book.snapshot) book.prev_change_id = r.unsigned_integer("prev_change_id");
  const Value* bids = r.nested("bids", Value::Type::array, true);
  const Value* asks = r.nested("asks", Value::Type::array, true);
  if (!r.ok() || !read_levels(*bids, book.bids, "bids", error) ||
      !read_levels(*asks, book.asks, "asks", error)) {
    return std::nullopt;
  }
  return book;
}

std::optional<sim::FeedTicker> ticker_from(const Value& data, std::string* error) {
  Reader r(data, "ticker", error);
  sim::FeedTicker t;
  t.instrument = std::string(r.text("instrument_name"));
  t.underlying_index = std::string(r.text("underlying_index", false));
  sim::Ticker& v = t.values;
  v.timestamp = r.integer("timestamp");
  v.mark_price = r.number("mark_price");
  v.index_price = r.number("index_price");
  v.estimated_delivery_price = r.number("estimated_delivery_price");
  v.underlying_price = r.number("underlying_price");
  v.interest_rate = r.number("interest_rate");
  v.bid_iv = r.number("bid_iv");
  v.ask_iv = r.number("ask_iv");
  v.mark_iv = r.number("mark_iv");
  v.current_funding = r.number("current_funding");
  v.funding_8h = r.number("funding_8h");
  v.interest_value = r.number("interest_value");
  t.best_bid_price = r.number("best_bid_price");
  t.best_bid_amount = r.number("best_bid_amount");
  t.best_ask_price = r.number("best_ask_price");
  t.best_ask_amount = r.number("best_ask_amount");
  t.last_price = r.number("last_price");
  t.open_interest = r.number("open_interest");
  read_stats(r, r.nested("stats", Value::Type::object), t, error);
  read_greeks(r, r.nested("greeks", Value::Type::object), v.greeks, error);
  if (!r.ok()) return std::nullopt;
  return t;
}

std::optional<std::uint64_t> trade_number(const Value& trade_id) {
  if (trade_id.is_integer()) {
    if (trade_id.type() == Value::Type::integer && trade_id.as_int() < 0) return std::nullopt;
    return trade_id.as_uint();
  }
  if (!trade_id.is_string()) return std::nullopt;
  std::string_view text = trade_id.as_string();
  if (const std::size_t dash = text.rfind('-'); dash != std::string_view::npos) {
    text.remove_prefix(dash + 1);
  }
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return number;
}

std::optional<sim::FeedTrade> trade_from(const Value& data, std::string* error) {
  Reader r(data, "trade", error);
  sim::FeedTrade t;
  t.instrument = std::string(r.text("instrument_name"));
  t.timestamp = r.integer("timestamp");
  t.trade_seq = r.unsigned_integer("trade_seq");
  const std::string_view direction = r.text("direction");
  const std::int64_t tick = r.integer("tick_direction");
  t.price = r.number("price", true, false);
  t.amount = r.number("amount", true, false);
  t.mark_price = r.number("mark_price");
  t.index_price = r.number("index_price");
  if (!r.ok()) return std::nullopt;
  const auto number = trade_number(data["trade_id"]);
  if (!number) r.fail("trade_id", "\"CUR-<digits>\" or a non-negative integer");
  if (direction != "buy" && direction != "sell") r.fail("direction", "\"buy\" or \"sell\"");
  if (tick < 0 || tick > 3) r.fail("tick_direction", "0, 1, 2 or 3");
  if (!(t.amount > 0)) r.fail("amount", "positive");
  if (!r.ok()) return std::nullopt;
  t.trade_id = *number;
  t.direction = direction == "buy" ? market::Side::buy : market::Side::sell;
  t.tick_direction = static_cast<market::TickDirection>(tick);
  return t;
}

std::optional<sim::FeedIndex> index_from(const Value& data, std::string* error) {
  Reader r(data, "price index", error);
  const std::string_view name = r.text("index_name");
  sim::FeedIndex index;
  index.timestamp = r.integer("timestamp");
  index.price = r.number("price", true, false);
  if (r.ok() && !(index.price > 0)) r.fail("price", "positive");
  if (!r.ok()) return std::nullopt;
  const auto currency = index_currency(name);
  if (!currency) return std::nullopt;
  index.currency = *currency;
  return index;
}

namespace {

template <class Input>
bool append(std::optional<Input> input, std::vector<sim::FeedInput>& out) {
  if (!input) return false;
  out.emplace_back(std::move(*input));
  return true;
}

// trades.*: an array of trades (or one, as some captures have it); all or nothing.
bool append_trades(const Value& data, std::vector<sim::FeedInput>& out, std::string* error) {
  const std::size_t before = out.size();
  const auto one = [&](const Value& trade) { return append(trade_from(trade, error), out); };
  bool ok = true;
  if (data.is_array()) {
    for (const Value& trade : data.array()) {
      if (!(ok = one(trade))) break;
    }
  } else {
    ok = one(data);
  }
  if (!ok) out.resize(before);
  return ok;
}

}  // namespace

bool translate(std::string_view channel, const Value& data, std::vector<sim::FeedInput>& out,
               std::string* error) {
  switch (greekwire::classify_channel(channel).kind) {
    case greekwire::ChannelKind::book:
      return append(book_from(data, error), out);
    case greekwire::ChannelKind::ticker:
      return append(ticker_from(data, error), out);
    case greekwire::ChannelKind::trades:
      return append_trades(data, out, error);
    case greekwire::ChannelKind::price_index: {
      std::string why;
      if (append(index_from(data, &why), out)) return true;
      set_error(error, why);
      return why.empty();  // another index: nothing to relay, nothing wrong
    }
    case greekwire::ChannelKind::vol_surface: {
      auto surface = surface_from(data, error);
      return surface && append(std::optional(sim::FeedSurface{std::move(*surface)}), out);
    }
    case greekwire::ChannelKind::chain_blocks: {
      const auto block = block_from(data, error);
      return block && append(std::optional(sim::FeedBlock{*block}), out);
    }
    case greekwire::ChannelKind::chain_transfers: {
      const auto transfer = transfer_from(data, error);
      return transfer && append(std::optional(sim::FeedTransfer{*transfer}), out);
    }
    default:
      return true;
  }
}

sim::FeedBook book_input(const greekwire::BookUpdate& update) {
  sim::FeedBook book;
  book.instrument = std::string(update.instrument_name);
  book.timestamp = update.timestamp;
  book.snapshot = update.snapshot;
  book.change_id = update.change_id;
  book.prev_change_id = update.prev_change_id.value_or(0);
  const auto copy = [](const std::vector<greekwire::LevelChange>& from,
                       std::vector<sim::FeedLevel>& to) {
    to.reserve(from.size());
    for (const greekwire::LevelChange& level : from) {
      to.push_back(
          {level.price, level.action == greekwire::LevelAction::deleted ? 0.0 : level.amount});
    }
  };
  copy(update.bids, book.bids);
  copy(update.asks, book.asks);
  return book;
}

}  // namespace gw::feed
