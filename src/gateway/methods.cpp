// The JSON-RPC methods, with Deribit API v2's names, parameters and result shapes. Methods that
// need market state the I/O thread does not hold ask the venue thread and answer from its
// callback, back on the I/O thread (Gateway::on_thread).
#include <string>
#include <vector>

#include "gateway/encode.hpp"
#include "gateway/gateway_internal.hpp"

namespace gw::gateway {

namespace {

constexpr std::string_view kVersion = "0.1.0";

std::optional<market::Currency> index_currency(std::string_view text) {
  if (text == "btc_usd") return market::Currency::BTC;
  if (text == "eth_usd") return market::Currency::ETH;
  return std::nullopt;
}

}  // namespace

// ---- session and service ----------------------------------------------------------------------

void Gateway::public_test(Call& call) {
  if (call.session != nullptr) call.session->test_request_pending = false;
  const auto expected = call.params().get_string("expected_result");
  if (expected && expected.value == "exception") {
    respond_error(call.reply, codec::errors::error, "expected_result: exception");
    return;
  }
  respond(call.reply, [](auto& w) {
    w.begin_object(1);
    w.key("version");
    w.value(kVersion);
    w.end_object();
  });
}

void Gateway::public_get_time(Call& call) {
  respond(call.reply, [](auto& w) { w.value(now_us() / 1000); });
}

void Gateway::public_hello(Call& call) {
  for (std::string_view param : {"client_name", "client_version"}) {
    const auto value = call.params().get_string(param);
    if (!value) {
      respond_param_error(call.reply, param, value.status);
      return;
    }
  }
  public_test(call);
}

void Gateway::public_status(Call& call) {
  respond(call.reply, [](auto& w) {
    w.begin_object(2);
    w.key("locked");
    w.value("false");
    w.key("locked_indices");
    w.begin_array(0);
    w.end_array();
    w.end_object();
  });
}

void Gateway::public_get_currencies(Call& call) {
  respond(call.reply, [](auto& w) {
    w.begin_array(2);
    for (market::Currency c : market::kCurrencies) {
      const bool btc = c == market::Currency::BTC;
      w.begin_object(9);
      w.key("currency");
      w.value(market::to_string(c));
      w.key("currency_long");
      w.value(btc ? "Bitcoin" : "Ethereum");
      w.key("coin_type");
      w.value(btc ? "BITCOIN" : "ETHER");
      w.key("fee_precision");
      w.value(btc ? 4 : 4);
      w.key("min_confirmations");
      w.value(btc ? 1 : 1);
      w.key("min_withdrawal_fee");
      w.value(btc ? 0.0001 : 0.0001);
      w.key("withdrawal_fee");
      w.value(btc ? 0.0001 : 0.0006);
      w.key("withdrawal_priorities");
      w.begin_array(0);
      w.end_array();
      w.key("in_cross_collateral_pool");
      w.value(false);
      w.end_object();
    }
    w.end_array();
  });
}

void Gateway::public_set_heartbeat(Call& call) {
  const auto interval = call.params().get_int64("interval");
  if (!interval) {
    respond_param_error(call.reply, "interval", interval.status);
    return;
  }
  if (interval.value < config_.heartbeat_min_s || interval.value > config_.heartbeat_max_s) {
    respond_param_error(call.reply, "interval", codec::ParamStatus::out_of_range);
    return;
  }
  if (call.session == nullptr) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  Session& session = *call.session;
  session.heartbeat_s = static_cast<int>(interval.value);
  session.test_request_pending = false;
  net::EventLoop& loop = session.socket->loop();
  loop.timers().arm(session.heartbeat,
                    loop.now_ms() + static_cast<std::uint64_t>(interval.value) * 1000);
  respond(call.reply, [](auto& w) { w.value("ok"); });
}

void Gateway::public_disable_heartbeat(Call& call) {
  if (call.session != nullptr) {
    call.session->heartbeat_s = 0;
    call.session->test_request_pending = false;
    call.session->heartbeat.cancel();
  }
  respond(call.reply, [](auto& w) { w.value("ok"); });
}

// ---- instruments and prices -------------------------------------------------------------------

void Gateway::public_get_instruments(Call& call) {
  const auto currency_text = call.params().get_string("currency");
  if (!currency_text) {
    respond_param_error(call.reply, "currency", currency_text.status);
    return;
  }
  std::optional<market::Currency> currency = market::currency_named(currency_text.value);
  if (!currency && currency_text.value != "any") {
    respond_param_error(call.reply, "currency", codec::ParamStatus::wrong_type);
    return;
  }
  std::optional<market::Kind> kind;
  if (const auto kind_text = call.params().get_string("kind")) {
    if (kind_text.value == "future") {
      kind = market::Kind::future;
    } else if (kind_text.value == "option") {
      kind = market::Kind::option;
    } else if (kind_text.value != "any") {
      // spot and combos are not listed here: an empty result, as Deribit for a kind it lacks.
      respond(call.reply, [](auto& w) {
        w.begin_array(0);
        w.end_array();
      });
      return;
    }
  } else if (kind_text.status != codec::ParamStatus::missing) {
    respond_param_error(call.reply, "kind", kind_text.status);
    return;
  }
  const auto expired = call.params().get_bool("expired");
  if (!expired && expired.status != codec::ParamStatus::missing) {
    respond_param_error(call.reply, "expired", expired.status);
    return;
  }
  const std::vector<InstrumentPtr> rows =
      directory_.select(currency, kind, expired.ok() && expired.value);
  respond(call.reply, [&](auto& w) {
    w.begin_array(rows.size());
    for (const InstrumentPtr& row : rows) write_instrument(w, *row);
    w.end_array();
  });
}

InstrumentPtr Gateway::instrument_param(const Call& call) {
  const auto name = call.params().get_string("instrument_name");
  if (!name) {
    respond_param_error(call.reply, "instrument_name", name.status);
    return nullptr;
  }
  InstrumentPtr instrument = directory_.find(name.value);
  // Deribit answers a name it does not list with -32602 {param: instrument_name, reason: wrong
  // format} (captured from the live API), not 10020.
  if (!instrument)
    respond_param_error(call.reply, "instrument_name", codec::ParamStatus::wrong_type);
  return instrument;
}

std::optional<market::Currency> Gateway::currency_param(const Call& call) {
  const auto text = call.params().get_string("currency");
  const auto currency = text ? market::currency_named(text.value) : std::nullopt;
  if (!currency) {
    respond_param_error(call.reply, "currency",
                        text ? codec::ParamStatus::wrong_type : text.status);
  }
  return currency;
}

void Gateway::check_queued(const Reply& reply, bool queued) {
  if (!queued) respond_error(reply, codec::errors::matching_engine_queue_full);
}

void Gateway::public_get_instrument(Call& call) {
  const InstrumentPtr instrument = instrument_param(call);
  if (!instrument) return;
  respond(call.reply, [&](auto& w) { write_instrument(w, *instrument); });
}

void Gateway::public_get_index_price(Call& call) {
  const auto name = call.params().get_string("index_name");
  if (!name) {
    respond_param_error(call.reply, "index_name", name.status);
    return;
  }
  const auto currency = index_currency(name.value);
  if (!currency) {
    respond_param_error(call.reply, "index_name", codec::ParamStatus::wrong_type);
    return;
  }
  const Directory::Index index = directory_.index(*currency);
  respond(call.reply, [&](auto& w) {
    w.begin_object(2);
    w.key("index_price");
    w.value(index.price);
    w.key("estimated_delivery_price");
    w.value(index.price);
    w.end_object();
  });
}

// ---- books and tickers (answered by the venue thread) -------------------------------------------

void Gateway::public_get_order_book(Call& call) {
  std::int64_t depth = 20;
  if (const auto d = call.params().get_int64("depth")) {
    depth = d.value;
    if (depth < 1 || depth > 10000) {
      respond_param_error(call.reply, "depth", codec::ParamStatus::out_of_range);
      return;
    }
  } else if (d.status != codec::ParamStatus::missing) {
    respond_param_error(call.reply, "depth", d.status);
    return;
  }
  const InstrumentPtr instrument = instrument_param(call);
  if (!instrument) return;
  const Reply reply = call.reply;
  check_queued(
      reply, venue_->get_book(
                 instrument->id, static_cast<std::size_t>(depth),
                 back_on_io<sim::BookSnapshot>(reply, [this, reply, instrument](const auto& book) {
                   if (!book.found) {
                     respond_error(reply, codec::errors::invalid_or_unsupported_instrument,
                                   instrument->name);
                     return;
                   }
                   respond(reply, [&](auto& w) { write_order_book(w, book, *instrument); });
                 })));
}

void Gateway::public_ticker(Call& call) {
  const InstrumentPtr instrument = instrument_param(call);
  if (!instrument) return;
  const Reply reply = call.reply;
  check_queued(
      reply, venue_->get_book(
                 instrument->id, 1,
                 back_on_io<sim::BookSnapshot>(reply, [this, reply, instrument](const auto& book) {
                   if (!book.found) {
                     respond_error(reply, codec::errors::invalid_or_unsupported_instrument,
                                   instrument->name);
                     return;
                   }
                   const sim::Ticker ticker =
                       book.ticker ? *book.ticker : ticker_from_book(book, *instrument);
                   respond(reply, [&](auto& w) { write_ticker(w, ticker, *instrument); });
                 })));
}

// ---- subscriptions ------------------------------------------------------------------------------

void Gateway::public_subscribe(Call& call) {
  if (call.session == nullptr) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  subscribe_channels(call, false);
}

// The routing key of a channel for this session: private channels are per account.
static std::string routing_key(const Gateway::Session& session, const ChannelSpec& spec,
                               std::string_view name) {
  if (!spec.is_private() || !session.identity) return std::string(name);
  return std::to_string(session.identity->account_id) + "|" + std::string(name);
}

void Gateway::subscribe_channels(Call& call, bool allow_private) {
  Session& session = *call.session;
  std::vector<std::string_view> names;
  const codec::ParamStatus status = call.params().get_string_array("channels", names);
  if (status != codec::ParamStatus::ok) {
    respond_param_error(call.reply, "channels", status);
    return;
  }
  struct Accepted {
    ChannelSpec spec;
    std::string key;
    std::string_view name;
  };
  std::vector<Accepted> accepted;
  for (std::string_view name : names) {
    std::optional<ChannelSpec> spec = parse_channel(name);
    if (!spec) continue;  // left out, as Deribit does
    if (spec->per_instrument() && !directory_.find(spec->instrument)) continue;
    if (spec->is_private() && (!allow_private || !session.identity ||
                               !session.identity->scopes.allows(required_scope_for_channel(name))))
      continue;
    // Deribit refuses raw intervals to unauthenticated connections as a whole request.
    if (spec->needs_auth() && !session.authenticated) {
      respond_error(call.reply, codec::errors::raw_subscriptions_not_available_for_unauthorized);
      return;
    }
    std::string key = routing_key(session, *spec, name);
    accepted.push_back({std::move(*spec), std::move(key), name});
  }
  if (session.channels.size() + accepted.size() > config_.max_channels_per_session) {
    respond_error(call.reply, codec::errors::too_many_requests, "too many channels");
    return;
  }
  for (const Accepted& a : accepted) {
    subscribe(session, a.spec, a.key);
    // An edge: the venue publishes the account's events (docs/SCALE-OUT.md).
    if (a.spec.is_private() && config_.subscribe_forwarded) {
      config_.subscribe_forwarded(session.identity->account_id, std::string(a.name));
    }
  }
  respond(call.reply, [&](auto& w) {
    w.begin_array(accepted.size());
    for (const Accepted& a : accepted) w.value(a.name);
    w.end_array();
  });
}

void Gateway::public_unsubscribe(Call& call) {
  if (call.session == nullptr) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  std::vector<std::string_view> names;
  const codec::ParamStatus status = call.params().get_string_array("channels", names);
  if (status != codec::ParamStatus::ok) {
    respond_param_error(call.reply, "channels", status);
    return;
  }
  std::vector<std::string> removed;
  for (std::string_view name : names) {
    std::string key(name);
    if (!call.session->channels.contains(key) && call.session->identity) {
      key = std::to_string(call.session->identity->account_id) + "|" + key;  // a private one
    }
    if (!call.session->channels.contains(key)) continue;
    unsubscribe(*call.session, key);
    removed.emplace_back(name);
  }
  respond(call.reply, [&](auto& w) {
    w.begin_array(removed.size());
    for (const std::string& name : removed) w.value(std::string_view(name));
    w.end_array();
  });
}

void Gateway::public_unsubscribe_all(Call& call) {
  if (call.session == nullptr) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  unsubscribe_everything(*call.session);
  respond(call.reply, [](auto& w) { w.value("ok"); });
}

}  // namespace gw::gateway
