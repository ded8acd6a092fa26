// Authentication and the private methods: who the caller is (a token in the request, the
// connection's earlier public/auth, the handshake's JWT or certificate, or HTTP credentials),
// whether its scope allows the method, and order entry and account queries on the venue.
// Every account-scoped answer is checked against the caller's account: nobody sees another
// account's orders or positions (an order of another account is "order_not_found").
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "gateway/audit_log.hpp"
#include "gateway/encode.hpp"
#include "gateway/gateway_internal.hpp"

namespace gw::gateway {

namespace {

market::AccountId venue_account(const Identity& identity) {
  return static_cast<market::AccountId>(identity.account_id);
}

std::optional<market::TimeInForce> time_in_force_named(std::string_view text) {
  if (text == "good_til_cancelled") return market::TimeInForce::good_til_cancelled;
  if (text == "good_til_day") return market::TimeInForce::good_til_day;
  if (text == "fill_or_kill") return market::TimeInForce::fill_or_kill;
  if (text == "immediate_or_cancel") return market::TimeInForce::immediate_or_cancel;
  return std::nullopt;
}

codec::ErrorCode engine_error(market::Error error) {
  return {static_cast<int>(error), market::to_string(error)};
}

enum class CancelOnDisconnectScope : std::uint8_t { connection, account };

std::string_view scope_name(CancelOnDisconnectScope scope) {
  return scope == CancelOnDisconnectScope::connection ? "connection" : "account";
}

// The members public/auth, fork_token and exchange_token share, in Deribit's order.
template <class W>
void write_token_members(W& w, const TokenGrant& grant) {
  w.key("access_token");
  w.value(std::string_view(grant.access_token));
  w.key("expires_in");
  w.value(grant.expires_in);
  w.key("refresh_token");
  w.value(std::string_view(grant.refresh_token));
  w.key("scope");
  w.value(std::string_view(grant.scope));
  w.key("token_type");
  w.value(std::string_view(grant.token_type));
}

}  // namespace

// Cancel-on-disconnect will look at these accounts' orders placed over a connection (a local
// session's, or an edge's connection at the venue).
void remember_order_account(std::vector<std::pair<AccountRowId, std::string>>& accounts,
                            const Identity& identity) {
  const auto known = std::find_if(accounts.begin(), accounts.end(), [&](const auto& entry) {
    return entry.first == identity.account_id;
  });
  if (known == accounts.end()) accounts.emplace_back(identity.account_id, identity.account);
}

namespace {

// A request an edge forwarded, which the edge charged to its session's pools already.
bool rate_limited_already(const Gateway::Reply& reply) {
  return reply.forwarded && reply.forwarded->rate_limited;
}

// A token granted to a forwarded request: the edge learns whom it identifies with the answer.
void note_forwarded_grant(const Gateway::Reply& reply, const TokenGrant& grant) {
  if (!reply.forwarded) return;
  reply.forwarded->access_token = grant.access_token;
  reply.forwarded->identity = grant.identity;
}

}  // namespace

void Gateway::fund_once(const Identity& identity) {
  if (config_.venue.source == sim::MarketSource::mirror) return;  // no accounts to fund
  {
    std::lock_guard lock(funded_mutex_);
    if (!funded_.insert(identity.account_id).second) return;
  }
  // The venue keeps balances in memory: each account gets its initial (demo) balances once per
  // process, the first time it shows up.
  for (const InitialBalance& balance : store_->initial_balances(identity.account_id)) {
    if (const auto currency = market::currency_named(balance.currency)) {
      venue_->deposit(venue_account(identity), *currency, balance.amount, nullptr);
    }
  }
}

std::optional<Identity> Gateway::authorize(Call& call, ScopeRequirement required) {
  const std::int64_t now_ms = now_us() / 1000;
  const std::string ip(call.peer);
  const Caller caller{ip, call.connection_id, call.reply.id_json};
  std::optional<AuthResult<Identity>> result;
  const auto token = call.params().get_string("access_token");
  if (token) {
    result = auth_->validate(token.value, caller, now_ms);
  } else if (call.session != nullptr && call.session->identity) {
    // A connection that authenticated stays authenticated (Deribit's connection scope).
    result = *call.session->identity;
  } else if (call.reply.forwarded && call.http_authorization.empty() &&
             !call.reply.forwarded->certificate_sha256.empty()) {
    // An edge's connection authenticated by its client certificate (mutual TLS).
    result =
        auth_->authenticate_certificate(call.reply.forwarded->certificate_sha256, caller, now_ms);
  } else if (call.reply.is_http) {
    result = authenticate_http(*auth_, call.http_authorization,
                               {call.http_method, call.http_uri, call.http_body}, caller, now_ms);
  } else {
    respond_error(call.reply, codec::errors::unauthorized, "invalid_token");
    return std::nullopt;
  }
  if (!*result) {
    // Over HTTP, a private request without a valid identity spends its address's credits.
    if (call.reply.is_http && !rate_limited_already(call.reply) &&
        !http_ip_limits_->admit(call.peer, call.request.method, now_ms)) {
      respond_error(call.reply, codec::errors::too_many_requests);
      return std::nullopt;
    }
    const AuthError& error = result->error();
    if (!error.param.empty()) {
      respond_param_error(call.reply, error.param, codec::ParamStatus::wrong_type);
    } else {
      respond_error(call.reply, error.code, error.reason);
    }
    return std::nullopt;
  }
  Identity identity = **result;
  if (call.reply.audit) call.reply.audit->set_caller(identity.account, identity.client_id);
  // Over HTTP, an authenticated request spends its account's credits (Deribit's per
  // sub-account pools), wherever it comes from.
  if (call.reply.is_http && !rate_limited_already(call.reply) &&
      !http_account_limits_->admit(std::to_string(identity.account_id), call.request.method,
                                   now_ms)) {
    respond_error(call.reply, codec::errors::too_many_requests);
    return std::nullopt;
  }
  if (!identity.scopes.allows(required)) {
    respond_error(call.reply, codec::errors::scope_exceeded, "insufficient scope");
    return std::nullopt;
  }
  fund_once(identity);
  return identity;
}

// ---- public/auth, private/logout
// ------------------------------------------------------------------

void Gateway::public_auth(Call& call) {
  const codec::Params& p = call.params();
  const auto grant_name = p.get_string("grant_type");
  if (!grant_name) {
    respond_param_error(call.reply, "grant_type", grant_name.status);
    return;
  }
  const auto grant = grant_type_named(grant_name.value);
  if (!grant) {
    respond_param_error(call.reply, "grant_type", codec::ParamStatus::wrong_type);
    return;
  }
  AuthRequest request;
  request.grant_type = *grant;
  auto text = [&p](std::string_view key) {
    const auto value = p.get_string(key);
    return value ? value.value : std::string_view();
  };
  request.client_id = text("client_id");
  request.client_secret = text("client_secret");
  request.signature = text("signature");
  request.nonce = text("nonce");
  request.data = text("data");
  request.refresh_token = text("refresh_token");
  request.scope = text("scope");
  if (const auto timestamp = p.get_int64("timestamp")) request.timestamp_ms = timestamp.value;
  const std::string ip(call.peer);
  const Caller caller{ip, call.connection_id, call.reply.id_json};
  const AuthResult<TokenGrant> result = auth_->authenticate(request, caller, now_us() / 1000);
  if (!result) {
    const AuthError& error = result.error();
    if (!error.param.empty()) {
      respond_param_error(call.reply, error.param, codec::ParamStatus::missing);
    } else {
      respond_error(call.reply, error.code, error.reason);
    }
    return;
  }
  fund_once(result->identity);
  note_forwarded_grant(call.reply, *result);
  if (call.session != nullptr) {
    call.session->identity = result->identity;
    call.session->authenticated = true;
  }
  const std::string_view state = text("state");
  respond(call.reply, [&](auto& w) {
    w.begin_object(state.empty() ? 6 : 7);
    write_token_members(w, *result);
    w.key("enabled_features");
    w.begin_array(0);
    w.end_array();
    if (!state.empty()) {
      w.key("state");
      w.value(state);
    }
    w.end_object();
  });
}

// public/fork_token (refresh_token, session_name) and public/exchange_token (refresh_token,
// subject_id, optional scope): new tokens, shaped as Deribit's (public/auth's without
// enabled_features). They do not change who the connection is authenticated as.
void Gateway::public_fork_token(Call& call) {
  const codec::Params& p = call.params();
  const auto refresh_token = p.get_string("refresh_token");
  if (!refresh_token) {
    respond_param_error(call.reply, "refresh_token", refresh_token.status);
    return;
  }
  const auto session_name = p.get_string("session_name");
  if (!session_name) {
    respond_param_error(call.reply, "session_name", session_name.status);
    return;
  }
  const std::string ip(call.peer);
  const Caller caller{ip, call.connection_id, call.reply.id_json};
  answer_token_grant(call.reply, auth_->fork_token(refresh_token.value, session_name.value, caller,
                                                   now_us() / 1000));
}

void Gateway::public_exchange_token(Call& call) {
  const codec::Params& p = call.params();
  const auto refresh_token = p.get_string("refresh_token");
  if (!refresh_token) {
    respond_param_error(call.reply, "refresh_token", refresh_token.status);
    return;
  }
  const auto subject_id = p.get_int64("subject_id");
  if (!subject_id) {
    respond_param_error(call.reply, "subject_id", subject_id.status);
    return;
  }
  const auto scope = p.get_string("scope");
  if (!scope && scope.status != codec::ParamStatus::missing) {
    respond_param_error(call.reply, "scope", scope.status);
    return;
  }
  const std::string ip(call.peer);
  const Caller caller{ip, call.connection_id, call.reply.id_json};
  answer_token_grant(call.reply, auth_->exchange_token(refresh_token.value, subject_id.value,
                                                       scope ? scope.value : std::string_view(),
                                                       caller, now_us() / 1000));
}

void Gateway::answer_token_grant(const Reply& reply, const AuthResult<TokenGrant>& result) {
  if (!result) {
    const AuthError& error = result.error();
    if (!error.param.empty()) {
      respond_param_error(reply, error.param, codec::ParamStatus::wrong_type);
    } else {
      respond_error(reply, error.code, error.reason);
    }
    return;
  }
  fund_once(result->identity);
  note_forwarded_grant(reply, *result);
  respond(reply, [&](auto& w) {
    w.begin_object(5);
    write_token_members(w, *result);
    w.end_object();
  });
}

// Deribit: ends the session's tokens unless invalidate_token is false, then closes the
// connection gracefully (cancel-on-disconnect does not fire for a logout).
void Gateway::private_logout(Call& call) {
  const auto invalidate = call.params().get_bool("invalidate_token");
  const bool invalidate_tokens = !invalidate || invalidate.value;
  const auto token = call.params().get_string("access_token");
  const std::string ip(call.peer);
  const Caller caller{ip, call.connection_id, call.reply.id_json};
  const std::int64_t now_ms = now_us() / 1000;
  if (token && invalidate_tokens) auth_->logout(token.value, caller, now_ms);
  Session* session = call.session;
  if (session != nullptr) {
    if (invalidate_tokens && session->identity && session->identity->session_id != 0) {
      auth_->logout_session(session->identity->session_id, caller, now_ms);
    }
    auth_->connection_closed(session->id);  // connection-scoped tokens never outlive it
    session->identity.reset();
    session->authenticated = false;
    // Deribit: a graceful logout does not cancel on disconnect.
    session->cancel_on_disconnect.reset();
    session->order_accounts.clear();
  } else if (call.connection_id != 0) {
    // The same for an edge's connection (the edge closes it when it relays the answer).
    const std::uint64_t connection = call.connection_id;
    const auto identity =
        authenticate_http(*auth_, call.http_authorization,
                          {call.http_method, call.http_uri, call.http_body}, caller, now_ms);
    if (invalidate_tokens && identity && identity->session_id != 0) {
      auth_->logout_session(identity->session_id, caller, now_ms);
    }
    auth_->connection_closed(connection);
    forget_remote_connection(connection);
  }
  respond(call.reply, [](auto& w) { w.value("ok"); });
  if (session != nullptr) session->socket->close(1000, "logout");
}

// ---- orders
// -----------------------------------------------------------------------------------------

void Gateway::answer_order(const Reply& reply, const sim::OrderResult& result) {
  if (!result.executed) {
    respond_error(reply, codec::errors::temporarily_unavailable);
    return;
  }
  if (!result.result.ok()) {
    respond_error(reply, engine_error(result.result.error));
    return;
  }
  const InstrumentPtr instrument =
      result.order ? directory_.find(result.order->order.instrument) : nullptr;
  if (!instrument) {
    respond_error(reply, codec::errors::order_not_found);
    return;
  }
  audit_order(reply, *result.order);
  respond(reply, [&](auto& w) { write_order_result(w, result, *instrument); });
}

void Gateway::audit_order(const Reply& reply, const sim::OwnedOrderUpdate& order) {
  if (!reply.audit) return;
  const market::OrderUpdate& o = order.order;
  reply.audit->succeeded(audit_.get(),
                         {{"order_id", std::string(format_id(o.currency, o.order_id).view())},
                          {"order_state", std::string(market::to_string(o.state))}},
                         now_us() / 1000);
}

void Gateway::place_order(Call& call, market::Side side) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const codec::Params& p = call.params();
  const InstrumentPtr instrument = instrument_param(call);
  if (!instrument) return;
  if (!instrument->is_active) {
    respond_error(call.reply, codec::errors::invalid_or_unsupported_instrument, instrument->name);
    return;
  }
  market::PlaceOrder order;
  order.account = venue_account(*identity);
  order.instrument = instrument->id;
  order.side = side;
  order.timestamp = now_us() / 1000;
  // Cancel-on-disconnect cancels the orders of one connection: they carry its id.
  order.origin = call.connection_id;
  auto amount = p.get_double("amount");
  if (!amount) {
    // Deribit accepts `contracts` instead of `amount`.
    if (const auto contracts = p.get_double("contracts")) {
      amount.status = codec::ParamStatus::ok;
      amount.value = contracts.value * instrument->contract_size;
    }
  }
  if (!amount) {
    respond_param_error(call.reply, "amount", amount.status);
    return;
  }
  const auto lots = instrument->exact_lots(amount.value);
  if (!lots || *lots <= 0) {
    respond_error(call.reply, codec::errors::invalid_amount,
                  "amount must be a positive multiple of min_trade_amount");
    return;
  }
  order.amount = *lots;
  if (const auto type = p.get_string("type"); type && type.value == "market") {
    order.type = market::OrderType::market;
  } else if (type && type.value != "limit") {
    respond_param_error(call.reply, "type", codec::ParamStatus::wrong_type);
    return;
  }
  if (order.type == market::OrderType::limit) {
    const auto price = p.get_double("price");
    if (!price) {
      respond_param_error(call.reply, "price", price.status);
      return;
    }
    const auto ticks = instrument->exact_ticks(price.value);
    if (!ticks || !instrument->on_tick(*ticks)) {
      respond_error(call.reply, codec::errors::price_wrong_tick);
      return;
    }
    order.price = *ticks;
  }
  if (const auto tif = p.get_string("time_in_force")) {
    const auto parsed = time_in_force_named(tif.value);
    if (!parsed) {
      respond_param_error(call.reply, "time_in_force", codec::ParamStatus::wrong_type);
      return;
    }
    order.time_in_force = *parsed;
  }
  order.post_only = p.get_bool("post_only").value;
  order.reject_post_only = p.get_bool("reject_post_only").value;
  order.reduce_only = p.get_bool("reduce_only").value;
  const auto label = p.get_string("label");
  if (label && label.value.size() > market::kMaxLabel) {
    respond_param_error(call.reply, "label", codec::ParamStatus::out_of_range);
    return;
  }
  if (call.session != nullptr) {
    remember_order_account(call.session->order_accounts, *identity);
  } else if (call.connection_id != 0) {  // an edge's connection
    remember_remote_order(call.connection_id, *identity, call.peer);
  }
  const Reply reply = call.reply;
  const bool queued = venue_->place(
      order, std::string(label ? label.value : ""), [this, reply](const sim::OrderResult& result) {
        auto copy = std::make_shared<sim::OrderResult>(result);
        on_thread(reply, [this, reply, copy] { answer_order(reply, *copy); });
      });
  if (!queued) respond_error(call.reply, codec::errors::matching_engine_queue_full);
}

void Gateway::private_buy(Call& call) {
  place_order(call, market::Side::buy);
}

void Gateway::private_sell(Call& call) {
  place_order(call, market::Side::sell);
}

// The order_id parameter ("BTC-123"); answers -32602 (missing or malformed) otherwise.
std::optional<market::OrderId> Gateway::order_id_param(const Call& call) {
  const auto text = call.params().get_string("order_id");
  const auto parsed = text ? parse_id(text.value) : std::nullopt;
  if (!parsed) {
    respond_param_error(call.reply, "order_id",
                        text ? codec::ParamStatus::wrong_type : text.status);
    return std::nullopt;
  }
  return parsed->number;
}

void Gateway::private_edit(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto order_id = order_id_param(call);
  if (!order_id) return;
  const Reply reply = call.reply;
  const auto amount = call.params().get_double("amount");
  const auto price = call.params().get_double("price");
  if (!amount || !price) {
    respond_param_error(call.reply, !amount ? "amount" : "price",
                        !amount ? amount.status : price.status);
    return;
  }
  // Units need the instrument: ask the venue for the order first (it also proves ownership).
  const market::AccountId account = venue_account(*identity);
  const bool post_only = call.params().get_bool("post_only").value;
  const bool queued = venue_->get_order(
      *order_id, [this, reply, account, order_id, amount = amount.value, price = price.value,
                  post_only](const std::optional<sim::OwnedOrderUpdate>& order) {
        if (!order || order->order.account != account) {
          on_thread(reply, [this, reply] { respond_error(reply, codec::errors::order_not_found); });
          return;
        }
        const InstrumentPtr instrument = directory_.find(order->order.instrument);
        const auto lots = instrument ? instrument->exact_lots(amount) : std::nullopt;
        const auto ticks = instrument ? instrument->exact_ticks(price) : std::nullopt;
        if (!lots || !ticks) {
          on_thread(reply,
                    [this, reply] { respond_error(reply, codec::errors::invalid_arguments); });
          return;
        }
        market::EditOrder edit;
        edit.account = account;
        edit.order_id = *order_id;
        edit.amount = *lots;
        edit.price = *ticks;
        if (post_only) edit.post_only = true;
        edit.timestamp = now_us() / 1000;
        venue_->edit(edit, back_on_io<sim::OrderResult>(
                               reply, [this, reply](const auto& r) { answer_order(reply, r); }));
      });
  check_queued(call.reply, queued);
}

void Gateway::private_cancel(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto order_id = order_id_param(call);
  if (!order_id) return;
  market::CancelOrder cancel;
  cancel.account = venue_account(*identity);
  cancel.order_id = *order_id;
  cancel.timestamp = now_us() / 1000;
  const Reply reply = call.reply;
  auto answer = [this, reply](const sim::OrderResult& result) {
    const InstrumentPtr instrument =
        result.order ? directory_.find(result.order->order.instrument) : nullptr;
    if (!result.executed || !result.result.ok() || !instrument) {
      answer_order(reply, result);
      return;
    }
    audit_order(reply, *result.order);
    respond(reply, [&](auto& w) { write_order(w, *result.order, *instrument); });
  };
  check_queued(reply, venue_->cancel(cancel, back_on_io<sim::OrderResult>(reply, answer)));
}

void Gateway::private_cancel_all(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  market::CancelAll filter;
  filter.account = venue_account(*identity);
  filter.timestamp = now_us() / 1000;
  const std::string_view method = call.request.method;
  if (method == "private/cancel_all_by_currency") {
    filter.currency = currency_param(call);
    if (!filter.currency) return;
    if (const auto kind = call.params().get_string("kind")) {
      if (kind.value == "future") filter.kind = market::Kind::future;
      if (kind.value == "option") filter.kind = market::Kind::option;
    }
  } else if (method == "private/cancel_all_by_instrument") {
    const InstrumentPtr instrument = instrument_param(call);
    if (!instrument) return;
    filter.instrument = instrument->id;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply](const sim::OrderResult& result) {
    if (!result.executed) {
      respond_error(reply, codec::errors::temporarily_unavailable);
      return;
    }
    if (reply.audit) {
      reply.audit->succeeded(audit_.get(), {{"cancelled", std::to_string(result.result.count)}},
                             now_us() / 1000);
    }
    respond(reply, [&](auto& w) { w.value(static_cast<std::int64_t>(result.result.count)); });
  };
  check_queued(reply, venue_->cancel_all(filter, back_on_io<sim::OrderResult>(reply, answer)));
}

void Gateway::private_get_order_state(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto order_id = order_id_param(call);
  if (!order_id) return;
  const Reply reply = call.reply;
  const market::AccountId account = venue_account(*identity);
  using Order = std::optional<sim::OwnedOrderUpdate>;
  auto answer = [this, reply, account](const Order& order) {
    const InstrumentPtr instrument = order ? directory_.find(order->order.instrument) : nullptr;
    if (!order || order->order.account != account || !instrument) {
      respond_error(reply, codec::errors::order_not_found);  // another account's: not found
      return;
    }
    respond(reply, [&](auto& w) { write_order(w, *order, *instrument); });
  };
  check_queued(reply, venue_->get_order(*order_id, back_on_io<Order>(reply, answer)));
}

// ---- account
// ---------------------------------------------------------------------------------------

void Gateway::private_get_positions(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto currency = currency_param(call);
  if (!currency) return;
  std::optional<market::Kind> kind;
  if (const auto k = call.params().get_string("kind")) {
    if (k.value == "future") kind = market::Kind::future;
    if (k.value == "option") kind = market::Kind::option;
  }
  const Reply reply = call.reply;
  auto answer = [this, reply, kind](const sim::AccountSnapshot& account) {
    const double index = directory_.index(account.currency).price;
    std::vector<std::pair<const sim::PositionSnapshot*, InstrumentPtr>> rows;
    for (const sim::PositionSnapshot& p : account.positions) {
      InstrumentPtr instrument = directory_.find(p.instrument);
      if (!instrument || (kind && instrument->kind != *kind)) continue;
      rows.emplace_back(&p, std::move(instrument));
    }
    respond(reply, [&](auto& w) {
      w.begin_array(rows.size());
      for (const auto& [p, instrument] : rows) {
        // Options' Greeks: their tickers at the snapshot (null for futures: they need none).
        const sim::OptionMarket* option = account.option_market(p->instrument);
        const sim::TickerGreeks* greeks = option != nullptr ? &option->greeks : nullptr;
        write_position(w, *p, *instrument, position_context(*instrument, *p, index, greeks));
      }
      w.end_array();
    });
  };
  check_queued(reply, venue_->get_account(venue_account(*identity), *currency,
                                          back_on_io<sim::AccountSnapshot>(reply, answer)));
}

void Gateway::private_get_account_summary(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto currency = currency_param(call);
  if (!currency) return;
  const Reply reply = call.reply;
  auto answer = [this, reply](const sim::AccountSnapshot& account) {
    respond(reply, [&](auto& w) { write_account_summary(w, account); });
  };
  check_queued(reply, venue_->get_account(venue_account(*identity), *currency,
                                          back_on_io<sim::AccountSnapshot>(reply, answer)));
}

// ---- cancel-on-disconnect
// ----------------------------------------------------------------------

bool Gateway::account_cancels_on_disconnect(AccountRowId account) {
  std::lock_guard lock(cancel_on_disconnect_mutex_);
  return cancel_on_disconnect_accounts_.contains(account);
}

// private/enable_cancel_on_disconnect and private/disable_cancel_on_disconnect ("ok"), and
// private/get_cancel_on_disconnect ({scope, enabled}). `scope`: "connection" (the default;
// WebSocket only) or "account" (the default of the account's connections, in memory).
void Gateway::private_cancel_on_disconnect(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  auto scope = CancelOnDisconnectScope::connection;
  if (const auto text = call.params().get_string("scope")) {
    if (text.value == "account") {
      scope = CancelOnDisconnectScope::account;
    } else if (text.value != "connection") {
      respond_param_error(call.reply, "scope", codec::ParamStatus::wrong_type);
      return;
    }
  } else if (text.status != codec::ParamStatus::missing) {
    respond_param_error(call.reply, "scope", text.status);
    return;
  }
  Session* session = call.session;
  // The venue: an edge's WebSocket connection (a forwarded request with its connection id).
  const std::uint64_t remote = session == nullptr ? call.connection_id : 0;
  if (scope == CancelOnDisconnectScope::connection && session == nullptr && remote == 0) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  const bool account_setting = account_cancels_on_disconnect(identity->account_id);
  const auto connection_setting = [&]() -> std::optional<bool> {
    if (session != nullptr) return session->cancel_on_disconnect;
    std::lock_guard lock(remote_mutex_);
    const auto it = remote_connections_.find(remote);
    return it == remote_connections_.end() ? std::nullopt : it->second.cancel_on_disconnect;
  };
  const std::string_view method = call.request.method;
  if (method == "private/get_cancel_on_disconnect") {
    const bool enabled = scope == CancelOnDisconnectScope::account
                             ? account_setting
                             : connection_setting().value_or(account_setting);
    respond(call.reply, [&](auto& w) {
      w.begin_object(2);
      w.key("scope");
      w.value(scope_name(scope));
      w.key("enabled");
      w.value(enabled);
      w.end_object();
    });
    return;
  }
  const bool enable = method == "private/enable_cancel_on_disconnect";
  if (scope == CancelOnDisconnectScope::connection && session != nullptr) {
    session->cancel_on_disconnect = enable;
  } else if (scope == CancelOnDisconnectScope::connection) {
    std::lock_guard lock(remote_mutex_);
    RemoteConnection& connection = remote_connection(remote);
    connection.cancel_on_disconnect = enable;
    connection.peer = std::string(call.peer);
  } else {
    std::lock_guard lock(cancel_on_disconnect_mutex_);
    if (enable) {
      cancel_on_disconnect_accounts_.insert(identity->account_id);
    } else {
      cancel_on_disconnect_accounts_.erase(identity->account_id);
    }
  }
  respond(call.reply, [](auto& w) { w.value("ok"); });
}

void Gateway::cancel_orders_on_disconnect(Session& session) {
  if (session.disconnect_handled) return;
  session.disconnect_handled = true;
  report_close(session);  // an edge: the orders are at the venue, which cancels them
  cancel_for_disconnect(session.order_accounts, session.cancel_on_disconnect, session.id,
                        session.peer);
}

// The orders placed over a connection that closed, of each account whose setting (the
// connection's own, else the account's) says to cancel them.
void Gateway::cancel_for_disconnect(
    const std::vector<std::pair<AccountRowId, std::string>>& accounts,
    std::optional<bool> connection_setting, std::uint64_t connection, const std::string& peer) {
  for (const auto& [account, name] : accounts) {
    if (!connection_setting.value_or(account_cancels_on_disconnect(account))) continue;
    market::CancelAll filter;
    filter.account = static_cast<market::AccountId>(account);
    filter.origin = connection;
    filter.reason = market::CancelReason::cancel_on_disconnect;
    filter.timestamp = now_us() / 1000;
    disconnect_cancels_pending_.fetch_add(1, std::memory_order_relaxed);
    // Runs on the venue thread: copies what it records, nothing of the (deleted) session.
    const auto record = [this, name = name, ip = peer,
                         connection = std::to_string(connection)](const sim::OrderResult& r) {
      audit_cancel_on_disconnect(name, ip, connection, r);
      disconnect_cancels_pending_.fetch_sub(1, std::memory_order_release);
    };
    if (!venue_->cancel_all(filter, record)) {
      sim::OrderResult refused;  // not executed: the queue was full
      record(refused);
    }
  }
}

void Gateway::audit_cancel_on_disconnect(const std::string& account, const std::string& ip,
                                         const std::string& connection,
                                         const sim::OrderResult& result) {
  const std::string count = std::to_string(result.result.count);
  AuditEvent event;
  event.event = "order.cancel_on_disconnect";
  event.account = account;
  event.ip = ip;
  event.details = {{"connection", connection}, {"outcome", result.executed ? "ok" : "error"}};
  if (result.executed) {
    event.details.emplace_back("cancelled", count);
  } else {
    event.details.emplace_back("error", "not executed");
  }
  audit_->record(event, now_us() / 1000);
}

// At shutdown: the disconnects' cancels must reach the venue before it stops taking commands
// (it answers what is still queued as not executed). Bounded, so a stuck venue cannot hang us.
void Gateway::wait_for_disconnect_cancels() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (disconnect_cancels_pending_.load(std::memory_order_acquire) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---- private/subscribe
// ---------------------------------------------------------------------------

void Gateway::private_subscribe(Call& call) {
  if (call.session == nullptr) {
    respond_error(call.reply, codec::errors::must_be_websocket_request);
    return;
  }
  const auto identity = authorize(call, ScopeRequirement{ScopeArea::account, Access::read});
  if (!identity) return;
  call.session->identity = *identity;
  call.session->authenticated = true;
  subscribe_channels(call, true);
}

}  // namespace gw::gateway
