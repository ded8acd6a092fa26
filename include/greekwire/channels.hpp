// Typed notifications of every channel greekwire serves (Deribit's and ours), the handlers a
// subscription takes, and the conversions from a Value (also usable on method results:
// public/ticker gives a Ticker, private/get_order_state an Order).
//
// Numbers that Deribit sends as null ("none yet": last_price before a trade, a mark not known)
// are std::optional here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greekwire/book.hpp"
#include "greekwire/value.hpp"

namespace greekwire {

// book.{instrument}.{group}.{depth}.{interval}: the whole window every time.
struct GroupedBook {
  std::string instrument_name;
  std::int64_t timestamp = 0;
  std::uint64_t change_id = 0;
  std::vector<Level> bids;  // best first
  std::vector<Level> asks;
};

struct Greeks {
  double delta = 0, gamma = 0, vega = 0, theta = 0, rho = 0;
};

// ticker.{instrument}.{interval}, public/ticker.
struct Ticker {
  std::string instrument_name;
  std::int64_t timestamp = 0;
  std::string state;
  std::optional<double> last_price, mark_price, index_price, estimated_delivery_price;
  std::optional<double> min_price, max_price;
  double best_bid_price = 0, best_bid_amount = 0, best_ask_price = 0, best_ask_amount = 0;
  double open_interest = 0, settlement_price = 0;
  struct Stats {
    double volume = 0;
    std::optional<double> volume_usd, price_change, low, high;
  } stats;
  // Options.
  std::optional<double> mark_iv, bid_iv, ask_iv, underlying_price, interest_rate;
  std::string underlying_index;
  std::optional<Greeks> greeks;
  // Perpetuals.
  std::optional<double> current_funding, funding_8h, interest_value;
};

// trades.{instrument}.{interval}, trades.{kind}.{currency}.{interval}.
struct Trade {
  std::string trade_id;
  std::uint64_t trade_seq = 0;
  std::int64_t timestamp = 0;
  std::string instrument_name;
  std::string direction;  // buy, sell
  double price = 0;
  double amount = 0;
  std::optional<double> contracts, mark_price, index_price, iv;
  int tick_direction = 0;
  std::string liquidation;  // "", "M", "T", "MT"
};

// user.trades.*: a trade of ours, with its order.
struct UserTrade : Trade {
  std::string order_id, order_type, state, liquidity, fee_currency, label;
  double fee = 0;
  std::optional<double> profit_loss;
  bool post_only = false, reduce_only = false;
};

// deribit_price_index.{index_name}.
struct PriceIndex {
  std::string index_name;
  double price = 0;
  std::int64_t timestamp = 0;
};

// markprice.options.{index_name}: one per option.
struct MarkPrice {
  std::string instrument_name;
  double mark_price = 0;
  double iv = 0;  // a fraction, as Deribit sends it here
  std::int64_t timestamp = 0;
};

// user.orders.*, private/get_order_state, the `order` of private/buy|sell|edit.
struct Order {
  std::string order_id, order_state, order_type, time_in_force, instrument_name, direction;
  std::string label, cancel_reason;
  std::optional<double> price;  // nullopt for "market_price"
  double amount = 0, filled_amount = 0, average_price = 0;
  std::optional<double> contracts;
  bool post_only = false, reduce_only = false, replaced = false, api = false;
  std::int64_t creation_timestamp = 0, last_update_timestamp = 0;
};

// user.portfolio.{currency}, private/get_account_summary (the common figures).
struct Portfolio {
  std::string currency;
  double balance = 0, equity = 0, margin_balance = 0, available_funds = 0;
  double available_withdrawal_funds = 0, initial_margin = 0, maintenance_margin = 0;
  double delta_total = 0, total_pl = 0, session_upl = 0, session_rpl = 0;
  double options_value = 0, options_delta = 0, options_gamma = 0, options_vega = 0;
  double options_theta = 0;
};

// volsurface.{currency}.{interval} (greekwire's): the venue's SSVI surface.
struct VolSurface {
  std::string currency, model;
  std::int64_t timestamp = 0;
  double index_price = 0;
  bool arbitrage_free = false, butterfly_free = false, calendar_free = false;
  struct Expiry {
    std::int64_t expiration_timestamp = 0;
    double years = 0, forward = 0, atm_total_variance = 0, atm_vol = 0, rr25 = 0, bf25 = 0;
    bool butterfly_free = false;
  };
  std::vector<Expiry> expiries;
  std::vector<double> strikes;
  std::vector<std::vector<double>> iv;  // iv[expiry][strike], percent
};

// chain.{currency}.blocks (greekwire's).
struct ChainBlock {
  std::string currency, hash, prev_hash, transfers_root;
  std::uint64_t height = 0, nonce = 0, tx_count = 0, transfer_count = 0;
  std::int64_t block_time = 0, timestamp = 0;
  double fee_rate = 0;
  std::uint64_t fee_rate_milli = 0;
};

// chain.{currency}.transfers (greekwire's).
struct ChainTransfer {
  std::string currency, tx_hash, from, to;
  std::uint64_t block_height = 0, index = 0, amount_units = 0;
  double amount = 0, usd_value = 0;
  std::int64_t timestamp = 0;
};

GroupedBook grouped_book_from(const Value& data);
Ticker ticker_from(const Value& data);
Trade trade_from(const Value& data);
UserTrade user_trade_from(const Value& data);
PriceIndex price_index_from(const Value& data);
MarkPrice mark_price_from(const Value& data);
Order order_from(const Value& data);
Portfolio portfolio_from(const Value& data);
VolSurface vol_surface_from(const Value& data);
ChainBlock chain_block_from(const Value& data);
ChainTransfer chain_transfer_from(const Value& data);

// What a channel name is, by Deribit's grammar and ours.
enum class ChannelKind : std::uint8_t {
  book,          // book.{instrument}.{100ms|agg2|raw}: a Book is kept
  grouped_book,  // book.{instrument}.{group}.{depth}.{interval}
  ticker,
  trades,
  price_index,
  mark_price,
  user_orders,
  user_trades,
  user_portfolio,
  vol_surface,
  chain_blocks,
  chain_transfers,
  other,  // anything else: only the `raw` handler sees it
};

struct ChannelInfo {
  ChannelKind kind = ChannelKind::other;
  std::string_view instrument;  // book, grouped_book, ticker, trades.{instrument}: a view into
                                // the name
};

ChannelInfo classify_channel(std::string_view channel);

// The callbacks of a subscription. Each runs on the connection's loop thread, for the channels
// of its kind; `raw` runs for every notification (before the typed one), with the data as a
// tree. Handlers may call back into the Connection (call, subscribe, unsubscribe).
struct Handlers {
  // book.{instrument}.{interval}: the book after the update (only updates that applied: a
  // book that is resyncing is quiet until its snapshot comes; events report the resync).
  std::function<void(const Book& book, const BookUpdate& update)> book;
  std::function<void(const GroupedBook&)> grouped_book;
  std::function<void(const Ticker&)> ticker;
  std::function<void(const std::vector<Trade>&)> trades;
  std::function<void(const PriceIndex&)> price_index;
  std::function<void(const std::vector<MarkPrice>&)> mark_prices;
  std::function<void(const std::vector<Order>&)> orders;  // raw channels: one order
  std::function<void(const std::vector<UserTrade>&)> user_trades;
  std::function<void(const Portfolio&)> portfolio;
  std::function<void(const VolSurface&)> vol_surface;
  std::function<void(const ChainBlock&)> chain_block;
  std::function<void(const ChainTransfer&)> chain_transfer;
  std::function<void(std::string_view channel, const Value& data)> raw;
};

}  // namespace greekwire
