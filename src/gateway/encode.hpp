// The gateway's Deribit API v2 objects and notifications, each written once as a template over
// the codec's streaming Writer (codec/writer.hpp), so that one call writes JSON or MessagePack.
// Every write_xxx writes exactly one value (an object or an array) with exact counts; the
// JSON-RPC envelope around it is codec/response.hpp's.
//
// Conventions (docs/PROTOCOL.md, "Messages", lists every object with an example):
//  - Prices and amounts come from the venue's integer Ticks and Lots through the Instrument
//    (to_price / to_amount), so they print exactly. Amounts are Deribit's: USD for futures and
//    perpetuals, coin for options; contracts = amount / contract_size.
//  - Order and trade ids print as Deribit's, currency prefix and number: "BTC-584864807"
//    (format_id, no allocation).
//  - Members of Deribit's objects come in Deribit's order, which is reverse alphabetical in
//    every captured frame (ticker, order, trade, book, instrument, index); greekwire's own
//    members (the book checksum) come after them. Our own messages (volsurface.*, chain.*) use a
//    logical order.
//  - Values Deribit leaves null when unknown are null here (a last_price before any trade, a mark
//    or index price not known yet); Deribit's 0-valued placeholders (settlement_price 0.0,
//    interest_rate 0.0, an empty side's best_bid_price 0) stay 0. NaN writes as null.
//  - Timestamps are Unix milliseconds; IVs are percent (mark_iv 120.74) except in
//    markprice.options.*, where Deribit sends fractions (iv 0.9).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "codec/writer.hpp"
#include "market/account.hpp"
#include "market/events.hpp"
#include "market/instrument.hpp"
#include "pricing/ssvi.hpp"
#include "pricing/svi.hpp"
#include "sim/sim_events.hpp"
#include "sim/venue.hpp"

namespace gw::gateway {

// ---- Small helpers (encode.cpp) ---------------------------------------------------------------

// A short text in a fixed buffer, so that writing it allocates nothing.
template <std::size_t N>
struct ShortText {
  std::array<char, N> chars{};
  std::size_t size = 0;
  std::string_view view() const { return {chars.data(), size}; }
};

// "BTC-584864807": Deribit's order and trade ids (3 letters, '-', up to 20 digits).
using IdText = ShortText<24>;
IdText format_id(market::Currency currency, std::uint64_t number);

struct ParsedId {
  market::Currency currency = market::Currency::BTC;
  std::uint64_t number = 0;
};
// The inverse of format_id, for order_id parameters: nullopt unless `text` is exactly
// "BTC-<digits>" or "ETH-<digits>" (no sign, no leading zeros but for "0", fits 64 bits).
std::optional<ParsedId> parse_id(std::string_view text);

// Deribit's index names: "btc_usd", "eth_usd".
std::string_view index_name(market::Currency currency);

// Deribit's contracts: amount / contract_size (the amount itself if the size is unknown).
double contracts_of(const market::Instrument& instrument, double amount);

// Lower-case hexadecimal of hashes and addresses.
template <std::size_t N>
ShortText<2 * N> to_hex_text(const std::array<std::uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  ShortText<2 * N> out;
  for (std::size_t i = 0; i < N; ++i) {
    out.chars[2 * i] = kDigits[bytes[i] >> 4];
    out.chars[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  out.size = 2 * N;
  return out;
}

// An option's underlying_index: the future of its expiry ("BTC-27DEC26"), or Deribit's
// synthetic future ("SYN.BTC-27DEC26") when no future of that expiry is listed
// (Ticker::underlying_future == 0). The name is the option's own name without strike and type.
ShortText<48> underlying_index(const market::Instrument& option, bool future_listed);

// The ticker's min_price / max_price. greekwire's engine enforces no price band; these follow
// Deribit's published rules of thumb so that clients that clamp to them behave: futures
// mark ± 1.5 %, options [mark − 0.04, mark + 0.04] coin with the tick as the floor; both
// rounded inwards onto the tick grid. NaN (null) when the mark is unknown.
struct PriceBand {
  double min_price = 0;
  double max_price = 0;
};
PriceBand price_band(const market::Instrument& instrument, double mark_price);

// The implied volatility (percent) of an option trade's price, on `underlying_price` (the
// forward; 0: the trade's index price), Deribit's trade `iv`. NaN when it has none.
double trade_iv(const market::Trade& trade, const market::Instrument& option,
                double underlying_price);

// ---- Books ------------------------------------------------------------------------------------

namespace detail {

template <codec::Writer W, class T>
void member(W& w, std::string_view name, const T& value) {
  w.key(name);
  w.value(value);
}

// A double that Deribit sends as null while unknown (0 here).
template <codec::Writer W>
void member_or_null(W& w, std::string_view name, double value) {
  w.key(name);
  if (value != 0) {
    w.value(value);
  } else {
    w.null();
  }
}

// [["new"|"change"|"delete", price, amount], ...]
template <codec::Writer W>
void write_level_updates(W& w, const market::Instrument& instrument,
                         std::span<const market::LevelUpdate> levels) {
  w.begin_array(levels.size());
  for (const market::LevelUpdate& level : levels) {
    w.begin_array(3);
    w.value(market::to_string(level.action));
    w.value(instrument.to_price(level.price));
    w.value(instrument.to_amount(level.amount));
    w.end_array();
  }
  w.end_array();
}

// A snapshot's levels, every one "new".
template <codec::Writer W>
void write_new_levels(W& w, const market::Instrument& instrument,
                      std::span<const market::PriceLevel> levels) {
  w.begin_array(levels.size());
  for (const market::PriceLevel& level : levels) {
    w.begin_array(3);
    w.value("new");
    w.value(instrument.to_price(level.price));
    w.value(instrument.to_amount(level.amount));
    w.end_array();
  }
  w.end_array();
}

// [[price, amount], ...]
template <codec::Writer W>
void write_price_levels(W& w, const market::Instrument& instrument,
                        std::span<const market::PriceLevel> levels) {
  w.begin_array(levels.size());
  for (const market::PriceLevel& level : levels) {
    w.begin_array(2);
    w.value(instrument.to_price(level.price));
    w.value(instrument.to_amount(level.amount));
    w.end_array();
  }
  w.end_array();
}

}  // namespace detail

// The data of book.{instrument}.{interval}: Deribit's change message plus our `checksum`.
// `snapshot`: the first message after subscribing ("type":"snapshot", no prev_change_id).
template <codec::Writer W>
void write_book_change(W& w, const sim::OwnedBookChange& change,
                       const market::Instrument& instrument, bool snapshot, bool resync = false) {
  w.begin_object((snapshot ? 7 : 8) + (resync ? 1 : 0));
  detail::member(w, "type", snapshot ? "snapshot" : "change");
  detail::member(w, "timestamp", change.timestamp);
  if (!snapshot) detail::member(w, "prev_change_id", change.prev_change_id);
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  detail::member(w, "change_id", change.change_id);
  w.key("bids");
  detail::write_level_updates(w, instrument, change.bids.span());
  w.key("asks");
  detail::write_level_updates(w, instrument, change.asks.span());
  detail::member(w, "checksum", change.checksum);
  // (gw) A snapshot sent again after the subscriber lost changes to backpressure.
  if (resync) detail::member(w, "resync", true);
  w.end_object();
}

// The snapshot message of book.{instrument}.{interval} from a full-depth book query: every
// level "new", change_id the book's last (the next change's prev_change_id).
template <codec::Writer W>
void write_book_change(W& w, const sim::BookSnapshot& book, const market::Instrument& instrument) {
  w.begin_object(7);
  detail::member(w, "type", "snapshot");
  detail::member(w, "timestamp", book.timestamp);
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  detail::member(w, "change_id", book.change_id);
  w.key("bids");
  detail::write_new_levels(w, instrument, book.bids);
  w.key("asks");
  detail::write_new_levels(w, instrument, book.asks);
  detail::member(w, "checksum", book.checksum);
  w.end_object();
}

// The data of book.{instrument}.{group}.{depth}.{interval}: the whole window, [price, amount]
// pairs best first (grouped and truncated by the caller).
template <codec::Writer W>
void write_grouped_book(W& w, const market::Instrument& instrument, std::uint64_t change_id,
                        market::TimestampMs timestamp, std::span<const market::PriceLevel> bids,
                        std::span<const market::PriceLevel> asks) {
  w.begin_object(5);
  detail::member(w, "timestamp", timestamp);
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  detail::member(w, "change_id", change_id);
  w.key("bids");
  detail::write_price_levels(w, instrument, bids);
  w.key("asks");
  detail::write_price_levels(w, instrument, asks);
  w.end_object();
}

// ---- Tickers and public/get_order_book --------------------------------------------------------

namespace detail {

// stats: 24-hour volume (coin; futures also volume_usd), price_change (%), low, high; the last
// three null without a trade in the window, as Deribit.
template <codec::Writer W>
void write_ticker_stats(W& w, const sim::TickerStats& stats, const sim::Ticker& ticker,
                        const market::Instrument& instrument) {
  const bool future = instrument.kind == market::Kind::future;
  const bool traded = stats.volume > 0;
  w.begin_object(future ? 5 : 4);
  if (future) {
    member(w, "volume_usd", stats.volume_usd);
    // Futures trade in USD; Deribit's `volume` is coin. The venue keeps USD only, so this
    // converts at the current index (an approximation of Σ amount / price).
    member(w, "volume", ticker.index_price > 0 ? stats.volume_usd / ticker.index_price : 0.0);
  } else {
    member(w, "volume", instrument.to_amount(stats.volume));
  }
  w.key("price_change");
  traded ? w.value(stats.price_change) : w.null();
  w.key("low");
  traded ? w.value(instrument.to_price(stats.low)) : w.null();
  w.key("high");
  traded ? w.value(instrument.to_price(stats.high)) : w.null();
  w.end_object();
}

// greeks: {vega, theta, rho, gamma, delta} per option contract, Deribit's units.
template <codec::Writer W>
void write_greeks(W& w, const sim::TickerGreeks& g) {
  w.begin_object(5);
  member(w, "vega", g.vega);
  member(w, "theta", g.theta);
  member(w, "rho", g.rho);
  member(w, "gamma", g.gamma);
  member(w, "delta", g.delta);
  w.end_object();
}

// The ticker's members, and with `book` those of public/get_order_book (change_id, bids, asks
// and our checksum), in Deribit's order. Options add the underlying, IVs and Greeks;
// perpetuals add funding.
template <codec::Writer W>
void write_market_members(W& w, const sim::Ticker& t, const market::Instrument& instrument,
                          const sim::BookSnapshot* book) {
  const bool option = instrument.kind == market::Kind::option;
  const bool perpetual = instrument.perpetual;
  const PriceBand band = price_band(instrument, t.mark_price);
  w.begin_object(16 + (option ? 7 : 0) + (perpetual ? 3 : 0) + (book ? 4 : 0));
  if (option) {
    member(w, "underlying_price", t.underlying_price);
    member(w, "underlying_index", underlying_index(instrument, t.underlying_future != 0).view());
  }
  member(w, "timestamp", t.timestamp);
  w.key("stats");
  write_ticker_stats(w, t.stats, t, instrument);
  member(w, "state", instrument.state());
  member(w, "settlement_price", 0.0);  // no settlement has happened on the venue
  member(w, "open_interest", instrument.to_amount(t.open_interest));
  member(w, "min_price", band.min_price);
  member(w, "max_price", band.max_price);
  member_or_null(w, "mark_price", t.mark_price);
  if (option) member(w, "mark_iv", t.mark_iv);
  member_or_null(w, "last_price", instrument.to_price(t.last_price));
  if (perpetual) member(w, "interest_value", t.interest_value);
  if (option) member(w, "interest_rate", t.interest_rate);
  member(w, "instrument_name", std::string_view(instrument.name));
  member_or_null(w, "index_price", t.index_price);
  if (option) {
    w.key("greeks");
    write_greeks(w, t.greeks);
  }
  if (perpetual) member(w, "funding_8h", t.funding_8h);
  member_or_null(w, "estimated_delivery_price", t.estimated_delivery_price);
  if (perpetual) member(w, "current_funding", t.current_funding);
  if (book) {
    member(w, "change_id", book->change_id);
    w.key("bids");
    write_price_levels(w, instrument, book->bids);
  }
  if (option) member(w, "bid_iv", t.bid_iv);
  member(w, "best_bid_price", instrument.to_price(t.best_bid_price));
  member(w, "best_bid_amount", instrument.to_amount(t.best_bid_amount));
  member(w, "best_ask_price", instrument.to_price(t.best_ask_price));
  member(w, "best_ask_amount", instrument.to_amount(t.best_ask_amount));
  if (book) {
    w.key("asks");
    write_price_levels(w, instrument, book->asks);
  }
  if (option) member(w, "ask_iv", t.ask_iv);
  if (book) member(w, "checksum", book->checksum);
  w.end_object();
}

}  // namespace detail

// The data of ticker.{instrument}.{interval}, and public/ticker's result.
template <codec::Writer W>
void write_ticker(W& w, const sim::Ticker& ticker, const market::Instrument& instrument) {
  detail::write_market_members(w, ticker, instrument, nullptr);
}

// A ticker made from the book alone (best levels; no mark, no statistics), for a snapshot that
// came without one.
sim::Ticker ticker_from_book(const sim::BookSnapshot& book, const market::Instrument& instrument);

// public/get_order_book's result: the ticker's members plus change_id, bids, asks ([price,
// amount], best first, as deep as the query asked) and our checksum (of the full book's top 10,
// as in book.* messages).
template <codec::Writer W>
void write_order_book(W& w, const sim::BookSnapshot& book, const market::Instrument& instrument) {
  if (book.ticker) {
    detail::write_market_members(w, *book.ticker, instrument, &book);
  } else {
    detail::write_market_members(w, ticker_from_book(book, instrument), instrument, &book);
  }
}

// One row of public/get_book_summary_by_currency, from the instrument's ticker, in Deribit's
// (reverse alphabetical) order. Prices Deribit leaves null are null: bid_price / ask_price with
// that side empty, mid_price without both, last before any trade, high / low / price_change
// without a trade in the 24-hour window. volume is coin (futures: volume_usd at the current
// index, as the ticker's stats), volume_usd USD; futures add volume_notional (their volume in
// the quote currency, USD); options their underlying, interest_rate and mark_iv; perpetuals
// their funding. creation_timestamp is when the summary was made.
template <codec::Writer W>
void write_book_summary(W& w, const sim::Ticker& t, const market::Instrument& instrument) {
  const bool option = instrument.kind == market::Kind::option;
  const bool perpetual = instrument.perpetual;
  const sim::TickerStats& stats = t.stats;
  const bool traded = stats.volume > 0;
  const bool has_bid = t.best_bid_amount > 0;
  const bool has_ask = t.best_ask_amount > 0;
  const double bid = instrument.to_price(t.best_bid_price);
  const double ask = instrument.to_price(t.best_ask_price);
  auto price_or_null = [&w](std::string_view name, bool known, double value) {
    w.key(name);
    known ? w.value(value) : w.null();
  };
  w.begin_object(16 + (option ? 4 : 1) + (perpetual ? 2 : 0));
  detail::member(w, "volume_usd", stats.volume_usd);
  if (!option) detail::member(w, "volume_notional", stats.volume_usd);
  detail::member(w, "volume",
                 option              ? instrument.to_amount(stats.volume)
                 : t.index_price > 0 ? stats.volume_usd / t.index_price
                                     : 0.0);
  if (option) {
    detail::member(w, "underlying_price", t.underlying_price);
    detail::member(w, "underlying_index",
                   underlying_index(instrument, t.underlying_future != 0).view());
  }
  detail::member(w, "quote_currency", instrument.quote_currency());
  price_or_null("price_change", traded, stats.price_change);
  detail::member(w, "open_interest", instrument.to_amount(t.open_interest));
  price_or_null("mid_price", has_bid && has_ask, (bid + ask) / 2);
  detail::member_or_null(w, "mark_price", t.mark_price);
  if (option) detail::member(w, "mark_iv", t.mark_iv);
  price_or_null("low", traded, instrument.to_price(stats.low));
  price_or_null("last", t.last_price != 0, instrument.to_price(t.last_price));
  if (option) detail::member(w, "interest_rate", t.interest_rate);
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  price_or_null("high", traded, instrument.to_price(stats.high));
  if (perpetual) detail::member(w, "funding_8h", t.funding_8h);
  detail::member_or_null(w, "estimated_delivery_price", t.estimated_delivery_price);
  if (perpetual) detail::member(w, "current_funding", t.current_funding);
  detail::member(w, "creation_timestamp", t.timestamp);
  price_or_null("bid_price", has_bid, bid);
  detail::member(w, "base_currency", instrument.base_currency());
  price_or_null("ask_price", has_ask, ask);
  w.end_object();
}

// ---- Orders and trades ------------------------------------------------------------------------

// The data of user.orders.* (one order; the .100ms variants send an array of them), the
// result of private/cancel, and the `order` of private/buy, sell and edit.
template <codec::Writer W>
void write_order(W& w, const sim::OwnedOrderUpdate& update, const market::Instrument& instrument) {
  const market::OrderUpdate& o = update.order;
  const bool has_cancel_reason = o.cancel_reason != market::CancelReason::none;
  const double amount = instrument.to_amount(o.amount);
  w.begin_object(has_cancel_reason ? 25 : 24);
  detail::member(w, "web", false);
  detail::member(w, "time_in_force", market::to_string(o.time_in_force));
  detail::member(w, "risk_reducing", false);
  detail::member(w, "replaced", o.replaced);
  detail::member(w, "reject_post_only", o.reject_post_only);
  detail::member(w, "reduce_only", o.reduce_only);
  w.key("price");
  if (o.type == market::OrderType::market) {
    w.value("market_price");
  } else {
    w.value(instrument.to_price(o.price));
  }
  detail::member(w, "post_only", o.post_only);
  detail::member(w, "order_type", market::to_string(o.type));
  detail::member(w, "order_state", market::to_string(o.state));
  detail::member(w, "order_id", format_id(o.currency, o.order_id).view());
  detail::member(w, "mmp", false);
  detail::member(w, "max_show", amount);  // no iceberg orders: all of it shows
  detail::member(w, "last_update_timestamp", o.timestamp);
  detail::member(w, "label", update.label());
  detail::member(w, "is_liquidation", false);
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  detail::member(w, "filled_amount", instrument.to_amount(o.filled));
  detail::member(w, "direction", market::to_string(o.side));
  detail::member(w, "creation_timestamp", o.created);
  detail::member(w, "contracts", contracts_of(instrument, amount));
  if (has_cancel_reason) detail::member(w, "cancel_reason", market::to_string(o.cancel_reason));
  detail::member(w, "average_price", o.average_price);
  detail::member(w, "api", true);
  detail::member(w, "amount", amount);
  w.end_object();
}

// Which side of a fill a user trade reports.
enum class Liquidity : std::uint8_t { maker, taker };

// What a user trade reports of its order beyond the Trade event.
struct TradeOrder {
  market::OrderType type = market::OrderType::limit;
  bool post_only = false;
  bool reduce_only = false;
  std::string_view label;  // must outlive the write
};
inline TradeOrder trade_order(const sim::OwnedOrderUpdate& update) {
  return {update.order.type, update.order.post_only, update.order.reduce_only, update.label()};
}
inline TradeOrder trade_order(const sim::UserTrade& trade) {
  return {trade.order_type, trade.post_only, trade.reduce_only, trade.label()};
}

namespace detail {

// One trade: the public record, or with `user` the record of one party (user.trades.*): every
// field of Deribit's user trade that applies here (no block trades, combos, liquidations or
// advanced orders): `label` only when the order has one, as Deribit; `underlying_price` (the
// forward `iv` is solved on) for options; `api` true, `mmp` and `risk_reducing` false.
template <codec::Writer W>
void write_trade_object(W& w, const market::Trade& t, const market::Instrument& instrument,
                        const Liquidity* user, const TradeOrder& order, double underlying_price) {
  const bool option = instrument.kind == market::Kind::option;
  const bool taker = user && *user == Liquidity::taker;
  const bool labelled = user && !order.label.empty();
  const double amount = instrument.to_amount(t.amount);
  w.begin_object(11 + (option ? 1 : 0) + (user ? 13 + (option ? 1 : 0) + (labelled ? 1 : 0) : 0));
  if (user && option) {
    member_or_null(w, "underlying_price", underlying_price > 0 ? underlying_price : t.index_price);
  }
  member(w, "trade_seq", t.trade_seq);
  member(w, "trade_id", format_id(t.currency, t.trade_id).view());
  member(w, "timestamp", t.timestamp);
  member(w, "tick_direction", static_cast<int>(t.tick_direction));
  if (user) {
    member(w, "state", market::to_string(taker ? t.taker_state : t.maker_state));
    member(w, "risk_reducing", false);
    member(w, "reduce_only", order.reduce_only);
    member(w, "profit_loss", taker ? t.taker_pnl : t.maker_pnl);
  }
  member(w, "price", instrument.to_price(t.price));
  if (user) {
    member(w, "post_only", order.post_only);
    member(w, "order_type", market::to_string(order.type));
    member(w, "order_id", format_id(t.currency, taker ? t.taker_order : t.maker_order).view());
    member(w, "mmp", false);
    w.key("matching_id");
    w.null();
  }
  member_or_null(w, "mark_price", t.mark_price);
  if (user) member(w, "liquidity", taker ? "T" : "M");
  if (labelled) member(w, "label", order.label);
  if (option) member(w, "iv", trade_iv(t, instrument, underlying_price));
  member(w, "instrument_name", std::string_view(instrument.name));
  member_or_null(w, "index_price", t.index_price);
  if (user) {
    member(w, "fee_currency", market::to_string(t.currency));
    member(w, "fee", taker ? t.taker_fee : t.maker_fee);
  }
  // A user trade's direction is the user's side; the public one is the taker's.
  const market::Side side = user && !taker ? market::opposite(t.direction) : t.direction;
  member(w, "direction", market::to_string(side));
  member(w, "contracts", contracts_of(instrument, amount));
  if (user) member(w, "api", true);  // every order here comes through the API
  member(w, "amount", amount);
  w.end_object();
}

}  // namespace detail

// One element of trades.{instrument}.{interval} / trades.{kind}.{currency}.{interval} (their
// data is an array of these). Options carry `iv` (percent) of the trade price on
// `underlying_price` (0: the trade's index price).
template <codec::Writer W>
void write_trade(W& w, const market::Trade& trade, const market::Instrument& instrument,
                 double underlying_price = 0) {
  detail::write_trade_object(w, trade, instrument, nullptr, TradeOrder{}, underlying_price);
}

// One element of user.trades.* and of private/buy's `trades`: the fill as `liquidity` saw it
// (its order id, state, fee, profit_loss and direction), with its order's type, flags and label.
template <codec::Writer W>
void write_user_trade(W& w, const market::Trade& trade, const market::Instrument& instrument,
                      Liquidity liquidity, const TradeOrder& order, double underlying_price = 0) {
  detail::write_trade_object(w, trade, instrument, &liquidity, order, underlying_price);
}

// private/buy, sell and edit's result: {"trades":[...], "order":{...}} (Deribit's order), the
// trades being the fills in which the order was the taker.
template <codec::Writer W>
void write_order_result(W& w, const sim::OrderResult& result, const market::Instrument& instrument,
                        double underlying_price = 0) {
  const TradeOrder order = result.order ? trade_order(*result.order) : TradeOrder{};
  w.begin_object(2);
  w.key("trades");
  w.begin_array(result.trades.size());
  for (const market::Trade& trade : result.trades) {
    write_user_trade(w, trade, instrument, Liquidity::taker, order, underlying_price);
  }
  w.end_array();
  w.key("order");
  if (result.order) {
    write_order(w, *result.order, instrument);
  } else {
    w.null();  // the command failed: the caller sends an error instead of this
  }
  w.end_object();
}

// public/get_last_trades_by_instrument's result: {"trades":[...], "has_more":...}, the trades
// as trades.* sends them, in the page's order.
template <codec::Writer W>
void write_last_trades(W& w, const sim::PublicTradePage& page,
                       const market::Instrument& instrument) {
  w.begin_object(2);
  w.key("trades");
  w.begin_array(page.trades.size());
  for (const market::Trade& trade : page.trades) write_trade(w, trade, instrument);
  w.end_array();
  detail::member(w, "has_more", page.has_more);
  w.end_object();
}

// private/get_user_trades_by_instrument's result: {"trades":[...], "has_more":...}, each fill as
// user.trades.* describes it, with its order's type, flags and label.
template <codec::Writer W>
void write_user_trades(W& w, const sim::UserTradePage& page, const market::Instrument& instrument) {
  w.begin_object(2);
  w.key("trades");
  w.begin_array(page.trades.size());
  for (const sim::UserTrade& trade : page.trades) {
    write_user_trade(w, trade.trade, instrument, trade.maker ? Liquidity::maker : Liquidity::taker,
                     trade_order(trade));
  }
  w.end_array();
  detail::member(w, "has_more", page.has_more);
  w.end_object();
}

// The result of private/get_settlement_history_by_{instrument,currency}: {settlements,
// continuation}, each record Deribit's "delivery": a position settled at its instrument's expiry
// (position in the instrument's amount units, signed; profit_loss and session_profit_loss in coin;
// mark_price the settlement price: USD for futures, coin for options). continuation: the token of
// the next (older) page, or null at the end.
template <codec::Writer W>
void write_settlements(W& w, const sim::SettlementPage& page) {
  w.begin_object(2);
  w.key("settlements");
  w.begin_array(page.settlements.size());
  for (const sim::SettlementRecord& r : page.settlements) {
    const market::Settlement& s = r.settlement;
    w.begin_object(8);
    detail::member(w, "type", "delivery");
    detail::member(w, "timestamp", s.timestamp);
    detail::member(w, "instrument_name", std::string_view(r.instrument->name));
    detail::member(w, "position", r.instrument->to_amount(s.position));
    detail::member(w, "mark_price", s.mark_price);
    detail::member(w, "index_price", s.index_price);
    detail::member(w, "profit_loss", s.profit_loss);
    detail::member(w, "session_profit_loss", s.session_profit_loss);
    w.end_object();
  }
  w.end_array();
  w.key("continuation");
  if (page.has_more) {
    w.value(std::to_string(page.settlements.back().seq));
  } else {
    w.null();
  }
  w.end_object();
}

// ---- Positions and accounts -------------------------------------------------------------------

// What a position row needs beyond the venue's PositionSnapshot (position_context fills it).
struct PositionContext {
  double index_price = 0;         // USD
  sim::TickerGreeks greeks;       // per option contract (the option's ticker)
  double initial_margin = 0;      // coin
  double maintenance_margin = 0;  // coin
  double open_orders_margin = 0;  // coin; the venue tracks it per currency only
};

// The margins of the position under the venue's margin model (market/account.hpp) at its mark
// and `index_price`; `greeks` from the option's latest ticker (null: zeros).
PositionContext position_context(const market::Instrument& instrument,
                                 const sim::PositionSnapshot& position, double index_price,
                                 const sim::TickerGreeks* greeks,
                                 const market::MarginParams& margin = {});

// A PositionUpdate event as a snapshot row.
sim::PositionSnapshot position_snapshot(const market::PositionUpdate& update);

// size_currency and delta, as the venue sums them (sim/portfolio.hpp).
using sim::position_delta;
using sim::size_in_currency;

// One position of private/get_position(s). Futures add leverage and
// estimated_liquidation_price (null: not estimated); options add their Greeks and USD values.
template <codec::Writer W>
void write_position(W& w, const sim::PositionSnapshot& p, const market::Instrument& instrument,
                    const PositionContext& ctx) {
  const bool option = instrument.kind == market::Kind::option;
  const double size = instrument.to_amount(p.size);
  const double option_size = option ? size : 0;
  w.begin_object(option ? 21 : 18);
  if (option) detail::member(w, "vega", option_size * ctx.greeks.vega);
  detail::member(w, "total_profit_loss", p.floating_pnl + p.realized_pnl);
  if (option) detail::member(w, "theta", option_size * ctx.greeks.theta);
  detail::member(w, "size_currency", size_in_currency(instrument, p));
  detail::member(w, "size", size);
  detail::member(w, "settlement_price", 0.0);
  detail::member(w, "realized_profit_loss", p.realized_pnl);
  detail::member(w, "open_orders_margin", ctx.open_orders_margin);
  detail::member(w, "mark_price", p.mark_price);
  detail::member(w, "maintenance_margin", ctx.maintenance_margin);
  if (!option) detail::member(w, "leverage", instrument.max_leverage);
  detail::member(w, "kind", market::to_string(instrument.kind));
  detail::member(w, "instrument_name", std::string_view(instrument.name));
  detail::member(w, "initial_margin", ctx.initial_margin);
  detail::member(w, "index_price", ctx.index_price);
  if (option) detail::member(w, "gamma", option_size * ctx.greeks.gamma);
  if (option) detail::member(w, "floating_profit_loss_usd", p.floating_pnl * ctx.index_price);
  detail::member(w, "floating_profit_loss", p.floating_pnl);
  if (!option) {
    w.key("estimated_liquidation_price");
    w.null();
  }
  detail::member(w, "direction", p.size > 0 ? "buy" : p.size < 0 ? "sell" : "zero");
  detail::member(w, "delta", position_delta(instrument, p, ctx.greeks));
  if (option) detail::member(w, "average_price_usd", p.average_price * ctx.index_price);
  detail::member(w, "average_price", p.average_price);
  w.end_object();
}

namespace detail {

// The figures shared by user.portfolio.{currency} and private/get_account_summary.
struct Funds {
  market::Currency currency = market::Currency::BTC;
  double balance = 0;
  double equity = 0;
  double initial_margin = 0;
  double maintenance_margin = 0;
  double available_funds = 0;
  double session_upl = 0;
  double session_rpl = 0;
};

// What may be withdrawn: the balance (not unrealised gains) less the initial margin.
inline double withdrawable(const Funds& f) {
  const double held = std::min(f.balance, f.equity) - f.initial_margin;
  return held > 0 ? held : 0.0;
}

// Deribit's per-index maps (delta_total_map, options_*_map): {"btc_usd": value}. An account's
// positions of one currency are all on that currency's index, so the map has that one entry
// when it holds some (`held`), and is {} otherwise.
template <codec::Writer W>
void index_map(W& w, std::string_view name, market::Currency currency, bool held, double value) {
  w.key(name);
  w.begin_object(held ? 1 : 0);
  if (held) member(w, index_name(currency), value);
  w.end_object();
}

// Deribit's portfolio members; `summary` adds get_account_summary's margin_model and
// cross_collateral_enabled. Margin projections equal the current figures (nothing is pending);
// projected_delta_total leaves out the positions of the closest expiry; total_pl, futures_pl
// and options_pl are the open positions' floating PnL, as Deribit's.
template <codec::Writer W>
void write_funds(W& w, const Funds& f, const sim::PortfolioRisk& r, bool summary) {
  const bool options = r.open_options > 0;
  const bool any = options || r.open_futures > 0;
  w.begin_object(summary ? 34 : 32);
  member(w, "total_pl", f.session_upl);
  member(w, "session_upl", f.session_upl);
  member(w, "session_rpl", f.session_rpl);
  member(w, "projected_maintenance_margin", f.maintenance_margin);
  member(w, "projected_initial_margin", f.initial_margin);
  member(w, "projected_delta_total", r.projected_delta_total);
  member(w, "portfolio_margining_enabled", false);
  index_map(w, "options_vega_map", f.currency, options, r.options_vega);
  member(w, "options_vega", r.options_vega);
  member(w, "options_value", r.options_value);
  index_map(w, "options_theta_map", f.currency, options, r.options_theta);
  member(w, "options_theta", r.options_theta);
  member(w, "options_session_upl", r.options_session_upl);
  member(w, "options_session_rpl", r.options_session_rpl);
  member(w, "options_pl", r.options_session_upl);
  index_map(w, "options_gamma_map", f.currency, options, r.options_gamma);
  member(w, "options_gamma", r.options_gamma);
  member(w, "options_delta", r.options_delta);
  if (summary) member(w, "margin_model", "segregated_sm");
  member(w, "margin_balance", f.equity);
  member(w, "maintenance_margin", f.maintenance_margin);
  member(w, "initial_margin", f.initial_margin);
  member(w, "futures_session_upl", r.futures_session_upl);
  member(w, "futures_session_rpl", r.futures_session_rpl);
  member(w, "futures_pl", r.futures_session_upl);
  member(w, "fee_balance", 0.0);
  member(w, "equity", f.equity);
  index_map(w, "delta_total_map", f.currency, any, r.delta_total);
  member(w, "delta_total", r.delta_total);
  member(w, "currency", market::to_string(f.currency));
  if (summary) member(w, "cross_collateral_enabled", false);
  member(w, "balance", f.balance);
  member(w, "available_withdrawal_funds", withdrawable(f));
  member(w, "available_funds", f.available_funds);
  w.end_object();
}

}  // namespace detail

// private/get_account_summary's result (without `extended` and `limits`): the funds and the
// risk of the venue's snapshot, computed at one instant with the options' markets of its rows.
template <codec::Writer W>
void write_account_summary(W& w, const sim::AccountSnapshot& account) {
  const market::Summary& s = account.summary;
  detail::write_funds(w,
                      {account.currency, s.balance, s.equity, s.initial_margin,
                       s.maintenance_margin, s.available_funds, s.session_upl, s.session_rpl},
                      account.risk, true);
}

// The data of user.portfolio.{currency}: the event's funds and the risk the venue computed with
// them (sim::Portfolio).
template <codec::Writer W>
void write_portfolio(W& w, const sim::Portfolio& portfolio) {
  const market::PortfolioUpdate& p = portfolio.funds;
  detail::write_funds(w,
                      {p.currency, p.balance, p.equity, p.initial_margin, p.maintenance_margin,
                       p.available_funds, p.session_upl, p.session_rpl},
                      portfolio.risk, false);
}

// ---- Index and mark prices --------------------------------------------------------------------

// The data of deribit_price_index.{index_name}.
template <codec::Writer W>
void write_index_price(W& w, const market::IndexPrice& index) {
  w.begin_object(3);
  detail::member(w, "timestamp", index.timestamp);
  detail::member(w, "price", index.price);
  detail::member(w, "index_name", index_name(index.currency));
  w.end_object();
}

// One option's entry of markprice.options.{index_name}.
struct OptionMark {
  market::TimestampMs timestamp = 0;
  std::string_view instrument_name;  // must outlive the write
  double mark_price = 0;             // coin
  double iv = 0;                     // a fraction (0.9 = 90 %), as Deribit's capture
};
// From an option's ticker (mark_iv is percent there).
OptionMark option_mark(const sim::Ticker& ticker, const market::Instrument& option);

// The data of markprice.options.{index_name}: an array over the index's options.
template <codec::Writer W>
void write_markprices(W& w, std::span<const OptionMark> marks) {
  w.begin_array(marks.size());
  for (const OptionMark& m : marks) {
    w.begin_object(4);
    detail::member(w, "timestamp", m.timestamp);
    detail::member(w, "mark_price", m.mark_price);
    detail::member(w, "iv", m.iv);
    detail::member(w, "instrument_name", m.instrument_name);
    w.end_object();
  }
  w.end_array();
}

// ---- Instruments ------------------------------------------------------------------------------

// One row of public/get_instruments (and public/get_instrument's result). Options add strike
// and option_type; futures add max_leverage, max_liquidation_commission and future_type.
template <codec::Writer W>
void write_instrument(W& w, const market::Instrument& i) {
  const bool option = i.kind == market::Kind::option;
  const bool future = !option;
  const bool leverage = future && i.max_leverage != 0;
  const bool liquidation = future && i.max_liquidation_commission != 0;
  w.begin_object(24 + (option ? 2 : 0) + (future ? 1 : 0) + (leverage ? 1 : 0) +
                 (liquidation ? 1 : 0));
  detail::member(w, "tick_size", i.tick_size);
  w.key("tick_size_steps");
  w.begin_array(i.tick_size_steps.size());
  for (const market::TickStep& step : i.tick_size_steps) {
    w.begin_object(2);
    detail::member(w, "above_price", step.above_price);
    detail::member(w, "tick_size", step.tick_size);
    w.end_object();
  }
  w.end_array();
  detail::member(w, "taker_commission", i.taker_commission);
  if (option) detail::member(w, "strike", i.strike);
  detail::member(w, "state", i.state());
  detail::member(w, "settlement_period", std::string_view(i.settlement_period));
  detail::member(w, "settlement_currency", i.settlement_currency());
  detail::member(w, "rfq", false);
  detail::member(w, "quote_currency", i.quote_currency());
  detail::member(w, "price_index", std::string_view(i.price_index));
  if (option) detail::member(w, "option_type", market::to_string(i.option_type));
  detail::member(w, "min_trade_amount", i.min_trade_amount);
  if (liquidation) detail::member(w, "max_liquidation_commission", i.max_liquidation_commission);
  if (leverage) detail::member(w, "max_leverage", i.max_leverage);
  detail::member(w, "maker_commission", i.maker_commission);
  detail::member(w, "kind", market::to_string(i.kind));
  detail::member(w, "is_active", i.is_active);
  detail::member(w, "instrument_type", std::string_view(i.instrument_type));
  detail::member(w, "instrument_name", std::string_view(i.name));
  detail::member(w, "instrument_id", i.id);
  // Deribit's older name for instrument_type, still sent on futures.
  if (future) detail::member(w, "future_type", std::string_view(i.instrument_type));
  detail::member(w, "expiration_timestamp", i.expiration_ms);
  detail::member(w, "creation_timestamp", i.creation_ms);
  detail::member(w, "counter_currency", i.counter_currency());
  detail::member(w, "contract_size", i.contract_size);
  detail::member(w, "block_trade_tick_size", i.block_trade_tick_size);
  detail::member(w, "block_trade_min_trade_amount", i.block_trade_min_trade_amount);
  detail::member(w, "block_trade_commission", i.block_trade_commission);
  detail::member(w, "base_currency", i.base_currency());
  w.end_object();
}

// ---- greekwire's channels ---------------------------------------------------------------------

// What volsurface.{currency}.{interval} derives from the model surface (encode.cpp).
struct SurfaceExpiryView {
  market::TimestampMs expiry = 0;
  double years = 0;
  double forward = 0;
  double theta = 0;        // ATM total variance
  double atm_vol = 0;      // percent
  double rr25 = 0;         // 25-delta risk reversal, vol points (σ call − σ put)
  double bf25 = 0;         // 25-delta butterfly, vol points (½(σ call + σ put) − σ ATM)
  pricing::SviParams svi;  // the slice as raw SVI
  bool butterfly_free = false;
};
struct SurfaceView {
  std::vector<SurfaceExpiryView> expiries;  // those with years > 0, in expiry order
  std::vector<double> strikes;              // the grid's strikes (USD), ascending
  std::vector<double> iv;                   // percent, row per expiry: iv[e * strikes + s]
  pricing::SsviConditions conditions;
};
SurfaceView make_surface_view(const sim::SurfaceSnapshot& surface);

// The data of volsurface.{currency}.{interval} (ours): the SSVI parameters, per expiry its
// ATM level, skew and wings and the slice's raw SVI, and an IV grid strike × expiry.
template <codec::Writer W>
void write_surface(W& w, const sim::SurfaceSnapshot& s, const SurfaceView& view) {
  w.begin_object(11);
  detail::member(w, "timestamp", s.timestamp);
  detail::member(w, "currency", market::to_string(s.currency));
  detail::member(w, "index_price", s.index_price);
  detail::member(w, "model", "ssvi");
  w.key("ssvi");
  w.begin_object(3);
  detail::member(w, "rho", s.params.rho);
  detail::member(w, "eta", s.params.eta);
  detail::member(w, "gamma", s.params.gamma);
  w.end_object();
  detail::member(w, "arbitrage_free", view.conditions.arbitrage_free());
  detail::member(w, "butterfly_free", view.conditions.butterfly_free);
  detail::member(w, "calendar_free", view.conditions.calendar_free);
  w.key("expiries");
  w.begin_array(view.expiries.size());
  for (const SurfaceExpiryView& e : view.expiries) {
    w.begin_object(9);
    detail::member(w, "expiration_timestamp", e.expiry);
    detail::member(w, "years", e.years);
    detail::member(w, "forward", e.forward);
    detail::member(w, "atm_total_variance", e.theta);
    detail::member(w, "atm_vol", e.atm_vol);
    detail::member(w, "rr25", e.rr25);
    detail::member(w, "bf25", e.bf25);
    detail::member(w, "butterfly_free", e.butterfly_free);
    w.key("svi");
    w.begin_object(5);
    detail::member(w, "a", e.svi.a);
    detail::member(w, "b", e.svi.b);
    detail::member(w, "rho", e.svi.rho);
    detail::member(w, "m", e.svi.m);
    detail::member(w, "sigma", e.svi.sigma);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.key("strikes");
  w.begin_array(view.strikes.size());
  for (double k : view.strikes) w.value(k);
  w.end_array();
  w.key("iv");
  w.begin_array(view.expiries.size());
  for (std::size_t e = 0; e < view.expiries.size(); ++e) {
    w.begin_array(view.strikes.size());
    for (std::size_t k = 0; k < view.strikes.size(); ++k) {
      w.value(view.iv[e * view.strikes.size() + k]);
    }
    w.end_array();
  }
  w.end_array();
  w.end_object();
}

template <codec::Writer W>
void write_surface(W& w, const sim::SurfaceSnapshot& surface) {
  write_surface(w, surface, make_surface_view(surface));
}

// The data of chain.{currency}.blocks (ours): every header field, so a client can recompute the
// hash (sim/chain.hpp documents the header); hashes in lower-case hex.
template <codec::Writer W>
void write_block(W& w, const sim::Block& b) {
  w.begin_object(12);
  detail::member(w, "currency", market::to_string(b.currency));
  detail::member(w, "height", b.height);
  detail::member(w, "hash", to_hex_text(b.hash).view());
  detail::member(w, "prev_hash", to_hex_text(b.prev_hash).view());
  detail::member(w, "block_time", b.block_time);
  detail::member(w, "timestamp", b.timestamp);
  detail::member(w, "tx_count", b.tx_count);
  detail::member(w, "fee_rate", b.fee_rate());
  detail::member(w, "fee_rate_milli", b.fee_rate_milli);
  detail::member(w, "nonce", b.nonce);
  detail::member(w, "transfers_root", to_hex_text(b.transfers_root).view());
  detail::member(w, "transfer_count", b.transfer_count);
  w.end_object();
}

// The data of chain.{currency}.transfers (ours): one large transfer of a block.
template <codec::Writer W>
void write_transfer(W& w, const sim::Transfer& t) {
  w.begin_object(10);
  detail::member(w, "currency", market::to_string(t.currency));
  detail::member(w, "block_height", t.block_height);
  detail::member(w, "index", t.index);
  detail::member(w, "tx_hash", to_hex_text(t.tx_hash).view());
  detail::member(w, "from", to_hex_text(t.from).view());
  detail::member(w, "to", to_hex_text(t.to).view());
  detail::member(w, "amount", t.amount);
  detail::member(w, "amount_units", t.amount_units);
  detail::member(w, "usd_value", t.usd_value);
  detail::member(w, "timestamp", t.timestamp);
  w.end_object();
}

// A notification with greekwire's `usIn` after Deribit's channel and data (docs/PROTOCOL.md).
template <codec::Writer W, class F>
void write_stamped_notification(W& w, std::string_view channel, std::int64_t us_in,
                                F&& write_data) {
  w.begin_object(3);
  w.key("jsonrpc");
  w.value("2.0");
  w.key("method");
  w.value("subscription");
  w.key("params");
  w.begin_object(3);
  w.key("channel");
  w.value(channel);
  w.key("data");
  write_data(w);
  w.key("usIn");
  w.value(us_in);
  w.end_object();
  w.end_object();
}

}  // namespace gw::gateway
