// The query methods of Deribit API v2: open orders, one position, the trade histories and the
// book summaries. Each is one venue command (sim/venue.hpp), answered on the venue thread, so an
// answer sits at an exact point of the event stream: a query sent after a private/buy's answer
// sees its order and its fills. Private queries only ever ask about the caller's own account, so
// another account's orders and trades cannot show up whatever the filters.
#include <charconv>
#include <string>
#include <vector>

#include "gateway/encode.hpp"
#include "gateway/gateway_internal.hpp"

namespace gw::gateway {

namespace {

constexpr std::int64_t kDefaultTradeCount = 10;       // Deribit's default and maximum `count`
constexpr std::int64_t kMaxTradeCount = 1000;         // and of the settlement histories
constexpr std::int64_t kDefaultSettlementCount = 20;  // Deribit's

market::AccountId account_of(const Identity& identity) {
  return static_cast<market::AccountId>(identity.account_id);
}

// The first parameter the request got wrong: answered as -32602 with its name and the reason.
struct BadParam {
  std::string_view param;
  codec::ParamStatus status = codec::ParamStatus::ok;

  explicit operator bool() const { return status != codec::ParamStatus::ok; }
  void set(std::string_view name, codec::ParamStatus why) {
    if (!*this) *this = {name, why};
  }
};

// instrument_name: a name this venue lists or listed (positions and fills outlive an expired
// instrument). Deribit answers a name it does not know with -32602 "wrong format", not 10020.
InstrumentPtr instrument_named(const Directory& directory, const codec::Params& params,
                               BadParam& bad) {
  const auto name = params.get_string("instrument_name");
  InstrumentPtr instrument = name ? directory.find(name.value) : nullptr;
  if (!instrument) {
    bad.set("instrument_name", name ? codec::ParamStatus::wrong_type : name.status);
  }
  return instrument;
}

// What a `kind` parameter selects. Deribit's kinds beyond future and option (spot and the
// combos) are valid but this venue lists none of them: they select nothing.
struct KindSelection {
  std::optional<market::Kind> kind;  // unset: every kind
  bool nothing = false;
};

KindSelection kind_param(const codec::Params& params, BadParam& bad) {
  KindSelection filter;
  const auto text = params.get_string("kind");
  if (!text) {
    if (text.status != codec::ParamStatus::missing) bad.set("kind", text.status);
    return filter;
  }
  const std::string_view kind = text.value;
  if (kind == "future") {
    filter.kind = market::Kind::future;
  } else if (kind == "option") {
    filter.kind = market::Kind::option;
  } else if (kind == "spot" || kind == "future_combo" || kind == "option_combo" ||
             kind == "combo") {
    filter.nothing = true;
  } else if (kind != "any") {
    bad.set("kind", codec::ParamStatus::wrong_type);
  }
  return filter;
}

// The open-orders `type` filter: true when it selects limit orders (all, limit); the trigger
// families (stop, take, trailing) select nothing, since this venue has no trigger orders.
bool open_order_type_param(const codec::Params& params, BadParam& bad) {
  const auto text = params.get_string("type");
  if (!text) {
    if (text.status != codec::ParamStatus::missing) bad.set("type", text.status);
    return true;
  }
  static constexpr std::string_view kTriggerTypes[] = {
      "trigger_all", "stop_all",    "stop_limit",   "stop_market",  "take_all",
      "take_limit",  "take_market", "trailing_all", "trailing_stop"};
  if (text.value == "all" || text.value == "limit") return true;
  for (std::string_view type : kTriggerTypes) {
    if (text.value == type) return false;
  }
  bad.set("type", codec::ParamStatus::wrong_type);
  return false;
}

// start_seq / end_seq: trade_seq numbers, so never negative.
std::optional<std::uint64_t> seq_param(const codec::Params& params, std::string_view name,
                                       BadParam& bad) {
  const auto value = params.get_int64(name);
  if (!value) {
    if (value.status != codec::ParamStatus::missing) bad.set(name, value.status);
    return std::nullopt;
  }
  if (value.value < 0) {
    bad.set(name, codec::ParamStatus::out_of_range);
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(value.value);
}

// count: 1 to 1000, `fallback` when absent.
std::size_t count_param(const codec::Params& params, std::int64_t fallback, BadParam& bad) {
  const auto count = params.get_int64("count");
  if (!count) {
    if (count.status != codec::ParamStatus::missing) bad.set("count", count.status);
    return static_cast<std::size_t>(fallback);
  }
  if (count.value < 1 || count.value > kMaxTradeCount) {
    bad.set("count", codec::ParamStatus::out_of_range);
  }
  return static_cast<std::size_t>(count.value);
}

// start_seq, end_seq, count (1 to 1000, default 10), sorting (asc, desc, default) and
// include_old. include_old is checked and needs nothing more: everything the venue still keeps
// is returned whatever its age (docs/GATEWAY.md gives the bounds).
sim::TradeRange trade_range_param(const codec::Params& params, BadParam& bad) {
  sim::TradeRange range;
  range.start_seq = seq_param(params, "start_seq", bad);
  range.end_seq = seq_param(params, "end_seq", bad);
  range.count = count_param(params, kDefaultTradeCount, bad);
  const auto sorting = params.get_string("sorting");
  if (sorting) {
    if (sorting.value == "asc") {
      range.sorting = sim::TradeSorting::asc;
    } else if (sorting.value == "desc") {
      range.sorting = sim::TradeSorting::desc;
    } else if (sorting.value != "default") {
      bad.set("sorting", codec::ParamStatus::wrong_type);
    }
  } else if (sorting.status != codec::ParamStatus::missing) {
    bad.set("sorting", sorting.status);
  }
  const auto include_old = params.get_bool("include_old");
  if (!include_old && include_old.status != codec::ParamStatus::missing) {
    bad.set("include_old", include_old.status);
  }
  return range;
}

}  // namespace

// ---- private/get_open_orders_by_instrument, private/get_open_orders_by_currency ---------------

void Gateway::private_get_open_orders_by_instrument(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  BadParam bad;
  const InstrumentPtr instrument = instrument_named(directory_, call.params(), bad);
  const bool limit_orders = open_order_type_param(call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  if (!limit_orders) {
    respond(call.reply, [](auto& w) {
      w.begin_array(0);
      w.end_array();
    });
    return;
  }
  market::OrderFilter filter;
  filter.account = account_of(*identity);
  filter.instrument = instrument->id;
  query_open_orders(call.reply, filter);
}

void Gateway::private_get_open_orders_by_currency(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto currency = currency_param(call);
  if (!currency) return;
  BadParam bad;
  const KindSelection kind = kind_param(call.params(), bad);
  const bool limit_orders = open_order_type_param(call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  if (kind.nothing || !limit_orders) {
    respond(call.reply, [](auto& w) {
      w.begin_array(0);
      w.end_array();
    });
    return;
  }
  market::OrderFilter filter;
  filter.account = account_of(*identity);
  filter.currency = *currency;
  filter.kind = kind.kind;
  query_open_orders(call.reply, filter);
}

void Gateway::query_open_orders(const Reply& reply, const market::OrderFilter& filter) {
  auto answer = [this, reply](const sim::OpenOrders& open) {
    if (!open.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    std::vector<std::pair<const sim::OwnedOrderUpdate*, InstrumentPtr>> rows;
    rows.reserve(open.orders.size());
    for (const sim::OwnedOrderUpdate& order : open.orders) {
      if (InstrumentPtr instrument = directory_.find(order.order.instrument)) {
        rows.emplace_back(&order, std::move(instrument));
      }
    }
    respond(reply, [&](auto& w) {
      w.begin_array(rows.size());
      for (const auto& [order, instrument] : rows) write_order(w, *order, *instrument);
      w.end_array();
    });
  };
  check_queued(reply, venue_->get_open_orders(filter, back_on_io<sim::OpenOrders>(reply, answer)));
}

// ---- private/get_user_trades_by_instrument ---------------------------------------------------

void Gateway::private_get_user_trades_by_instrument(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  BadParam bad;
  const InstrumentPtr instrument = instrument_named(directory_, call.params(), bad);
  const sim::TradeRange range = trade_range_param(call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply, instrument](const sim::UserTrades& trades) {
    if (!trades.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    respond(reply, [&](auto& w) { write_user_trades(w, trades.page, *instrument); });
  };
  check_queued(reply, venue_->get_user_trades(account_of(*identity), instrument->id, range,
                                              back_on_io<sim::UserTrades>(reply, answer)));
}

// ---- private/get_settlement_history_by_instrument, _by_currency ---------------------------------

// The account's deliveries at expiry, newest first (the venue keeps each account's last 1,000):
// of an instrument (listed or expired) or of a currency; `type` settlement or bankruptcy selects
// nothing (this venue has no daily settlement of futures and no bankruptcies); count 1 to 1000
// (default 20); search_start_timestamp: the latest timestamp to return; continuation: the token
// of the previous page.
void Gateway::private_get_settlement_history(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const codec::Params& p = call.params();
  sim::SettlementQuery query;
  query.account = account_of(*identity);
  BadParam bad;
  if (call.request.method == "private/get_settlement_history_by_instrument") {
    if (const InstrumentPtr instrument = instrument_named(directory_, p, bad)) {
      query.instrument_name = instrument->name;
    }
  } else {
    const auto currency = currency_param(call);
    if (!currency) return;
    query.currency = *currency;
  }
  bool nothing = false;
  if (const auto type = p.get_string("type")) {
    if (type.value == "settlement" || type.value == "bankruptcy") {
      nothing = true;
    } else if (type.value != "delivery") {
      bad.set("type", codec::ParamStatus::wrong_type);
    }
  } else if (type.status != codec::ParamStatus::missing) {
    bad.set("type", type.status);
  }
  query.count = count_param(p, kDefaultSettlementCount, bad);
  if (const auto latest = p.get_int64("search_start_timestamp")) {
    if (latest.value < 0) bad.set("search_start_timestamp", codec::ParamStatus::out_of_range);
    query.latest_ms = latest.value;
  } else if (latest.status != codec::ParamStatus::missing) {
    bad.set("search_start_timestamp", latest.status);
  }
  if (const auto continuation = p.get_string("continuation")) {
    // Ours: the number of the last record of the previous page.
    const std::string_view text = continuation.value;
    std::uint64_t seq = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
    if (ec != std::errc{} || end != text.data() + text.size() || seq == 0) {
      bad.set("continuation", codec::ParamStatus::wrong_type);
    }
    query.before_seq = seq;
  } else if (continuation.status != codec::ParamStatus::missing) {
    bad.set("continuation", continuation.status);
  }
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  if (nothing) {
    respond(call.reply, [](auto& w) { write_settlements(w, sim::SettlementPage{}); });
    return;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply](const sim::Settlements& settlements) {
    if (!settlements.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    respond(reply, [&](auto& w) { write_settlements(w, settlements.page); });
  };
  check_queued(reply, venue_->get_settlements(query, back_on_io<sim::Settlements>(reply, answer)));
}

// ---- private/get_position ---------------------------------------------------------------------

void Gateway::private_get_position(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  BadParam bad;
  const InstrumentPtr instrument = instrument_named(directory_, call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  const Reply reply = call.reply;
  const market::MarginParams margin = venue_->config().margin;
  auto answer = [this, reply, instrument, margin](const sim::PositionQuery& q) {
    if (!q.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    if (!q.found) {
      respond_param_error(reply, "instrument_name", codec::ParamStatus::wrong_type);
      return;
    }
    // Options' Greeks come from the ticker the venue computed with the answer.
    const sim::TickerGreeks* greeks = q.ticker ? &q.ticker->greeks : nullptr;
    const PositionContext context =
        position_context(*instrument, q.position, q.index_price, greeks, margin);
    respond(reply, [&](auto& w) { write_position(w, q.position, *instrument, context); });
  };
  check_queued(reply, venue_->get_position(account_of(*identity), instrument->id,
                                           back_on_io<sim::PositionQuery>(reply, answer)));
}

// ---- public/get_last_trades_by_instrument -----------------------------------------------------

void Gateway::public_get_last_trades_by_instrument(Call& call) {
  BadParam bad;
  const InstrumentPtr instrument = instrument_named(directory_, call.params(), bad);
  const sim::TradeRange range = trade_range_param(call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply, instrument](const sim::LastTrades& trades) {
    if (!trades.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    respond(reply, [&](auto& w) { write_last_trades(w, trades.page, *instrument); });
  };
  check_queued(reply, venue_->get_last_trades(instrument->id, range,
                                              back_on_io<sim::LastTrades>(reply, answer)));
}

// ---- public/get_book_summary_by_currency ------------------------------------------------------

void Gateway::public_get_book_summary_by_currency(Call& call) {
  const auto currency = currency_param(call);
  if (!currency) return;
  BadParam bad;
  const KindSelection kind = kind_param(call.params(), bad);
  if (bad) {
    respond_param_error(call.reply, bad.param, bad.status);
    return;
  }
  if (kind.nothing) {
    respond(call.reply, [](auto& w) {
      w.begin_array(0);
      w.end_array();
    });
    return;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply](const sim::Tickers& tickers) {
    if (!tickers.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    std::vector<std::pair<const sim::Ticker*, InstrumentPtr>> rows;
    rows.reserve(tickers.tickers.size());
    for (const sim::Ticker& ticker : tickers.tickers) {
      if (InstrumentPtr instrument = directory_.find(ticker.instrument)) {
        rows.emplace_back(&ticker, std::move(instrument));
      }
    }
    respond(reply, [&](auto& w) {
      w.begin_array(rows.size());
      for (const auto& [ticker, instrument] : rows) write_book_summary(w, *ticker, *instrument);
      w.end_array();
    });
  };
  check_queued(reply,
               venue_->get_tickers(*currency, kind.kind, back_on_io<sim::Tickers>(reply, answer)));
}

}  // namespace gw::gateway
