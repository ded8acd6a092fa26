// Channel names, and typed notifications from their trees.
#include "greekwire/channels.hpp"

#include <algorithm>

namespace greekwire {

namespace {

std::optional<double> optional_number(const Value& object, std::string_view key) {
  const Value* v = object.find(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->as_double();
}

double number(const Value& object, std::string_view key) {
  return object[key].as_double();
}

std::string text(const Value& object, std::string_view key) {
  return std::string(object[key].as_string());
}

std::int64_t integer(const Value& object, std::string_view key) {
  return object[key].as_int();
}

std::uint64_t whole(const Value& object, std::string_view key) {
  return object[key].as_uint();
}

bool flag(const Value& object, std::string_view key) {
  return object[key].as_bool();
}

std::vector<Level> levels(const Value& side) {
  std::vector<Level> out;
  out.reserve(side.size());
  for (const Value& pair : side.array()) out.push_back({pair[0].as_double(), pair[1].as_double()});
  return out;
}

void fill_trade(const Value& data, Trade& t) {
  t.trade_id = text(data, "trade_id");
  t.trade_seq = whole(data, "trade_seq");
  t.timestamp = integer(data, "timestamp");
  t.instrument_name = text(data, "instrument_name");
  t.direction = text(data, "direction");
  t.price = number(data, "price");
  t.amount = number(data, "amount");
  t.contracts = optional_number(data, "contracts");
  t.mark_price = optional_number(data, "mark_price");
  t.index_price = optional_number(data, "index_price");
  t.iv = optional_number(data, "iv");
  t.tick_direction = static_cast<int>(integer(data, "tick_direction"));
  t.liquidation = text(data, "liquidation");
}

// The part of `name` between the first dot and the next one.
std::string_view second_part(std::string_view name) {
  const std::size_t first = name.find('.');
  if (first == std::string_view::npos) return {};
  const std::size_t second = name.find('.', first + 1);
  return name.substr(
      first + 1, second == std::string_view::npos ? std::string_view::npos : second - first - 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

GroupedBook grouped_book_from(const Value& data) {
  GroupedBook book;
  book.instrument_name = text(data, "instrument_name");
  book.timestamp = integer(data, "timestamp");
  book.change_id = whole(data, "change_id");
  book.bids = levels(data["bids"]);
  book.asks = levels(data["asks"]);
  return book;
}

Ticker ticker_from(const Value& data) {
  Ticker t;
  t.instrument_name = text(data, "instrument_name");
  t.timestamp = integer(data, "timestamp");
  t.state = text(data, "state");
  t.last_price = optional_number(data, "last_price");
  t.mark_price = optional_number(data, "mark_price");
  t.index_price = optional_number(data, "index_price");
  t.estimated_delivery_price = optional_number(data, "estimated_delivery_price");
  t.min_price = optional_number(data, "min_price");
  t.max_price = optional_number(data, "max_price");
  t.best_bid_price = number(data, "best_bid_price");
  t.best_bid_amount = number(data, "best_bid_amount");
  t.best_ask_price = number(data, "best_ask_price");
  t.best_ask_amount = number(data, "best_ask_amount");
  t.open_interest = number(data, "open_interest");
  t.settlement_price = number(data, "settlement_price");
  const Value& stats = data["stats"];
  t.stats.volume = number(stats, "volume");
  t.stats.volume_usd = optional_number(stats, "volume_usd");
  t.stats.price_change = optional_number(stats, "price_change");
  t.stats.low = optional_number(stats, "low");
  t.stats.high = optional_number(stats, "high");
  t.mark_iv = optional_number(data, "mark_iv");
  t.bid_iv = optional_number(data, "bid_iv");
  t.ask_iv = optional_number(data, "ask_iv");
  t.underlying_price = optional_number(data, "underlying_price");
  t.interest_rate = optional_number(data, "interest_rate");
  t.underlying_index = text(data, "underlying_index");
  if (const Value* g = data.find("greeks"); g != nullptr && g->is_object()) {
    t.greeks = Greeks{number(*g, "delta"), number(*g, "gamma"), number(*g, "vega"),
                      number(*g, "theta"), number(*g, "rho")};
  }
  t.current_funding = optional_number(data, "current_funding");
  t.funding_8h = optional_number(data, "funding_8h");
  t.interest_value = optional_number(data, "interest_value");
  return t;
}

Trade trade_from(const Value& data) {
  Trade t;
  fill_trade(data, t);
  return t;
}

UserTrade user_trade_from(const Value& data) {
  UserTrade t;
  fill_trade(data, t);
  t.order_id = text(data, "order_id");
  t.order_type = text(data, "order_type");
  t.state = text(data, "state");
  t.liquidity = text(data, "liquidity");
  t.fee_currency = text(data, "fee_currency");
  t.label = text(data, "label");
  t.fee = number(data, "fee");
  t.profit_loss = optional_number(data, "profit_loss");
  t.post_only = flag(data, "post_only");
  t.reduce_only = flag(data, "reduce_only");
  return t;
}

PriceIndex price_index_from(const Value& data) {
  return {text(data, "index_name"), number(data, "price"), integer(data, "timestamp")};
}

MarkPrice mark_price_from(const Value& data) {
  return {text(data, "instrument_name"), number(data, "mark_price"), number(data, "iv"),
          integer(data, "timestamp")};
}

Order order_from(const Value& data) {
  Order o;
  o.order_id = text(data, "order_id");
  o.order_state = text(data, "order_state");
  o.order_type = text(data, "order_type");
  o.time_in_force = text(data, "time_in_force");
  o.instrument_name = text(data, "instrument_name");
  o.direction = text(data, "direction");
  o.label = text(data, "label");
  o.cancel_reason = text(data, "cancel_reason");
  o.price = optional_number(data, "price");  // "market_price" is not a number
  o.amount = number(data, "amount");
  o.filled_amount = number(data, "filled_amount");
  o.average_price = number(data, "average_price");
  o.contracts = optional_number(data, "contracts");
  o.post_only = flag(data, "post_only");
  o.reduce_only = flag(data, "reduce_only");
  o.replaced = flag(data, "replaced");
  o.api = flag(data, "api");
  o.creation_timestamp = integer(data, "creation_timestamp");
  o.last_update_timestamp = integer(data, "last_update_timestamp");
  return o;
}

Portfolio portfolio_from(const Value& data) {
  Portfolio p;
  p.currency = text(data, "currency");
  p.balance = number(data, "balance");
  p.equity = number(data, "equity");
  p.margin_balance = number(data, "margin_balance");
  p.available_funds = number(data, "available_funds");
  p.available_withdrawal_funds = number(data, "available_withdrawal_funds");
  p.initial_margin = number(data, "initial_margin");
  p.maintenance_margin = number(data, "maintenance_margin");
  p.delta_total = number(data, "delta_total");
  p.total_pl = number(data, "total_pl");
  p.session_upl = number(data, "session_upl");
  p.session_rpl = number(data, "session_rpl");
  p.options_value = number(data, "options_value");
  p.options_delta = number(data, "options_delta");
  p.options_gamma = number(data, "options_gamma");
  p.options_vega = number(data, "options_vega");
  p.options_theta = number(data, "options_theta");
  return p;
}

VolSurface vol_surface_from(const Value& data) {
  VolSurface s;
  s.currency = text(data, "currency");
  s.model = text(data, "model");
  s.timestamp = integer(data, "timestamp");
  s.index_price = number(data, "index_price");
  s.arbitrage_free = flag(data, "arbitrage_free");
  s.butterfly_free = flag(data, "butterfly_free");
  s.calendar_free = flag(data, "calendar_free");
  for (const Value& e : data["expiries"].array()) {
    s.expiries.push_back({integer(e, "expiration_timestamp"), number(e, "years"),
                          number(e, "forward"), number(e, "atm_total_variance"),
                          number(e, "atm_vol"), number(e, "rr25"), number(e, "bf25"),
                          flag(e, "butterfly_free")});
  }
  for (const Value& k : data["strikes"].array()) s.strikes.push_back(k.as_double());
  for (const Value& row : data["iv"].array()) {
    std::vector<double>& ivs = s.iv.emplace_back();
    for (const Value& iv : row.array()) ivs.push_back(iv.as_double());
  }
  return s;
}

ChainBlock chain_block_from(const Value& data) {
  ChainBlock b;
  b.currency = text(data, "currency");
  b.hash = text(data, "hash");
  b.prev_hash = text(data, "prev_hash");
  b.transfers_root = text(data, "transfers_root");
  b.height = whole(data, "height");
  b.nonce = whole(data, "nonce");
  b.tx_count = whole(data, "tx_count");
  b.transfer_count = whole(data, "transfer_count");
  b.block_time = integer(data, "block_time");
  b.timestamp = integer(data, "timestamp");
  b.fee_rate = number(data, "fee_rate");
  b.fee_rate_milli = whole(data, "fee_rate_milli");
  return b;
}

ChainTransfer chain_transfer_from(const Value& data) {
  ChainTransfer t;
  t.currency = text(data, "currency");
  t.tx_hash = text(data, "tx_hash");
  t.from = text(data, "from");
  t.to = text(data, "to");
  t.block_height = whole(data, "block_height");
  t.index = whole(data, "index");
  t.amount_units = whole(data, "amount_units");
  t.amount = number(data, "amount");
  t.usd_value = number(data, "usd_value");
  t.timestamp = integer(data, "timestamp");
  return t;
}

ChannelInfo classify_channel(std::string_view channel) {
  const auto dots = static_cast<std::size_t>(std::count(channel.begin(), channel.end(), '.'));
  if (starts_with(channel, "book.")) {
    if (dots == 2) return {ChannelKind::book, second_part(channel)};
    if (dots == 4) return {ChannelKind::grouped_book, second_part(channel)};
    return {};
  }
  if (starts_with(channel, "ticker.") && dots == 2)
    return {ChannelKind::ticker, second_part(channel)};
  if (starts_with(channel, "trades.")) {
    return {ChannelKind::trades, dots == 2 ? second_part(channel) : std::string_view{}};
  }
  if (starts_with(channel, "deribit_price_index.")) return {ChannelKind::price_index, {}};
  if (starts_with(channel, "markprice.options.")) return {ChannelKind::mark_price, {}};
  if (starts_with(channel, "user.orders.")) return {ChannelKind::user_orders, {}};
  if (starts_with(channel, "user.trades.")) return {ChannelKind::user_trades, {}};
  if (starts_with(channel, "user.portfolio.")) return {ChannelKind::user_portfolio, {}};
  if (starts_with(channel, "volsurface.")) return {ChannelKind::vol_surface, {}};
  if (starts_with(channel, "chain.") && dots == 2) {
    const std::string_view last = channel.substr(channel.rfind('.') + 1);
    if (last == "blocks") return {ChannelKind::chain_blocks, {}};
    if (last == "transfers") return {ChannelKind::chain_transfers, {}};
  }
  return {};
}

}  // namespace greekwire
