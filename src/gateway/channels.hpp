// Subscription channels in Deribit's grammar, plus ours (volsurface, chain). A channel name is
// parsed once, at subscribe time, into a ChannelSpec; the fan-out works with specs and their
// canonical names, never with the client's text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "market/types.hpp"

namespace gw::gateway {

enum class ChannelKind : std::uint8_t {
  book,            // book.{instrument}.{interval}
  book_grouped,    // book.{instrument}.{group}.{depth}.{interval}
  ticker,          // ticker.{instrument}.{interval}
  trades,          // trades.{instrument}.{interval}
  trades_by_kind,  // trades.{kind}.{currency}.{interval}
  price_index,     // deribit_price_index.{index}
  markprice,       // markprice.options.{index}
  user_orders,     // user.orders.{instrument}.{interval} / user.orders.{kind}.{currency}.{interval}
  user_trades,     // user.trades.{instrument}.{interval} / user.trades.{kind}.{currency}.{interval}
  user_portfolio,  // user.portfolio.{currency}
  volsurface,      // volsurface.{currency}.{interval} (ours)
  chain_blocks,    // chain.{currency}.blocks (ours)
  chain_transfers,  // chain.{currency}.transfers (ours)
};

// Deribit's notification intervals: every change (raw, authenticated only), or conflated.
enum class Interval : std::uint8_t { raw, ms100, agg2, none };

// trades.{kind}.{currency}: `any` matches every kind / currency.
enum class KindFilter : std::uint8_t { future, option, any };

struct ChannelSpec {
  ChannelKind kind = ChannelKind::book;
  Interval interval = Interval::none;
  std::string instrument;  // instrument channels: the name as listed (validated by the caller)
  std::optional<market::Currency> currency;  // per-currency channels; nullopt means "any"
  KindFilter kind_filter = KindFilter::any;
  std::int64_t group = 0;  // book_grouped: price step in the instrument's units; 0 = none
  int depth = 0;           // book_grouped: 1, 10 or 20

  bool is_private() const {
    return kind == ChannelKind::user_orders || kind == ChannelKind::user_trades ||
           kind == ChannelKind::user_portfolio;
  }
  // Deribit: raw intervals need an authenticated connection (13778 otherwise).
  bool needs_auth() const { return is_private() || interval == Interval::raw; }
  bool per_instrument() const { return !instrument.empty(); }
};

// Parses a channel name. nullopt for anything malformed or unknown: Deribit leaves such
// channels out of the subscribe result without an error. Instrument names are checked for
// syntax only; whether the instrument is listed is the caller's question.
std::optional<ChannelSpec> parse_channel(std::string_view name);

// The canonical name of a spec (what the subscription result and notifications carry).
std::string channel_name(const ChannelSpec& spec);

std::string_view to_string(Interval interval);

}  // namespace gw::gateway
