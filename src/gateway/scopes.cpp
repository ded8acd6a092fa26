#include "gateway/scopes.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace gw::gateway {
namespace {

constexpr std::array<std::string_view, kScopeAreas> kAreaNames = {
    "account", "trade", "wallet", "block_trade", "block_rfq", "custody"};

// The order Deribit prints granted areas in (its documentation's example starts with trade).
constexpr std::array<ScopeArea, kScopeAreas> kPrintOrder = {
    ScopeArea::trade,       ScopeArea::account,   ScopeArea::wallet,
    ScopeArea::block_trade, ScopeArea::block_rfq, ScopeArea::custody};

constexpr std::size_t kMaxSessionName = 64;

std::optional<ScopeArea> area_named(std::string_view name) {
  for (std::size_t i = 0; i < kAreaNames.size(); ++i) {
    if (kAreaNames[i] == name) return static_cast<ScopeArea>(i);
  }
  return std::nullopt;
}

std::optional<Access> access_named(std::string_view name) {
  if (name == "none") return Access::none;
  if (name == "read") return Access::read;
  if (name == "read_write") return Access::read_write;
  return std::nullopt;
}

bool valid_session_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxSessionName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// Applies one word of a scope string to `scopes`; false (and `error`) if it is malformed.
bool apply_word(std::string_view word, Scopes& scopes, std::string* error) {
  const std::size_t colon = word.find(':');
  const std::string_view key = word.substr(0, colon);
  const std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : word.substr(colon + 1);
  if (word == "connection") {
    scopes.binding = ScopeBinding::connection;
    scopes.session_name.clear();
  } else if (key == "session" && colon != std::string_view::npos) {
    if (!valid_session_name(value)) return fail(error, "invalid session name in scope");
    scopes.binding = ScopeBinding::session;
    scopes.session_name = value;
  } else if (key == "expires" && colon != std::string_view::npos) {
    scopes.expires_s = parse_seconds(value);
    if (!scopes.expires_s) return fail(error, "expires scope needs a positive number");
  } else if (key == "ip" && colon != std::string_view::npos) {
    if (value.empty()) return fail(error, "ip scope needs an address");
    scopes.ip = value == "*" ? std::string{} : std::string(value);
  } else if (const auto area = area_named(key); area && colon != std::string_view::npos) {
    const auto level = access_named(value);
    if (!level) return fail(error, "invalid access level in scope " + std::string(word));
    scopes.set(*area, *level);
  }
  // Anything else (mainaccount, name:..., scopes of features this venue lacks) is ignored.
  return true;
}

bool starts_with_any(std::string_view text, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return text.starts_with(p); });
}

struct MethodScope {
  std::string_view method;  // without "private/"
  ScopeRequirement requirement;
};

constexpr ScopeRequirement kTradeRead{ScopeArea::trade, Access::read};
constexpr ScopeRequirement kTradeWrite{ScopeArea::trade, Access::read_write};
constexpr ScopeRequirement kAccountRead{ScopeArea::account, Access::read};
constexpr ScopeRequirement kAccountWrite{ScopeArea::account, Access::read_write};
constexpr ScopeRequirement kWalletRead{ScopeArea::wallet, Access::read};
constexpr ScopeRequirement kWalletWrite{ScopeArea::wallet, Access::read_write};
constexpr ScopeRequirement kAuthenticated{ScopeArea::account, Access::none};

// Deribit's API reference gives each private method its scope; these are the ones a venue of
// options and futures can offer. Methods that only manage the session need authentication.
constexpr MethodScope kMethodScopes[] = {
    {"logout", kAuthenticated},
    {"subscribe", kAuthenticated},
    {"unsubscribe", kAuthenticated},
    {"unsubscribe_all", kAuthenticated},
    {"buy", kTradeWrite},
    {"sell", kTradeWrite},
    {"edit", kTradeWrite},
    {"edit_by_label", kTradeWrite},
    {"cancel", kTradeWrite},
    {"cancel_all", kTradeWrite},
    {"cancel_all_by_currency", kTradeWrite},
    {"cancel_all_by_currency_pair", kTradeWrite},
    {"cancel_all_by_instrument", kTradeWrite},
    {"cancel_all_by_kind_or_type", kTradeWrite},
    {"cancel_by_label", kTradeWrite},
    {"cancel_quotes", kTradeWrite},
    {"close_position", kTradeWrite},
    {"mass_quote", kTradeWrite},
    {"enable_cancel_on_disconnect", kAccountWrite},
    {"disable_cancel_on_disconnect", kAccountWrite},
    {"set_mmp_config", kTradeWrite},
    {"reset_mmp", kTradeWrite},
    {"get_cancel_on_disconnect", kAccountRead},
    {"get_mmp_config", kTradeRead},
    {"get_mmp_status", kTradeRead},
    {"get_margins", kTradeRead},
    {"get_order_margin_by_ids", kTradeRead},
    {"get_position", kTradeRead},
    {"get_positions", kTradeRead},
    {"get_open_orders", kTradeRead},
    {"get_open_orders_by_currency", kTradeRead},
    {"get_open_orders_by_instrument", kTradeRead},
    {"get_open_orders_by_label", kTradeRead},
    {"get_order_state", kTradeRead},
    {"get_order_state_by_label", kTradeRead},
    {"get_order_history_by_currency", kTradeRead},
    {"get_order_history_by_instrument", kTradeRead},
    {"get_trigger_order_history", kTradeRead},
    {"get_user_trades_by_currency", kTradeRead},
    {"get_user_trades_by_currency_and_time", kTradeRead},
    {"get_user_trades_by_instrument", kTradeRead},
    {"get_user_trades_by_instrument_and_time", kTradeRead},
    {"get_user_trades_by_order", kTradeRead},
    {"get_settlement_history_by_currency", kTradeRead},
    {"get_settlement_history_by_instrument", kTradeRead},
    {"get_account_summary", kAccountRead},
    {"get_risk_matrix", kAccountRead},  // greekwire's
    {"get_account_summaries", kAccountRead},
    {"get_subaccounts", kAccountRead},
    {"get_subaccounts_details", kAccountRead},
    {"get_transaction_log", kAccountRead},
    {"get_access_log", kAccountRead},
    {"get_user_locks", kAccountRead},
    {"get_portfolio_margins", kAccountRead},
    {"get_self_trading_config", kAccountRead},
    {"get_new_announcements", kAccountRead},
    {"list_api_keys", kAccountRead},
    {"set_self_trading_config", kAccountWrite},
    {"set_announcement_as_read", kAccountWrite},
    {"get_deposits", kWalletRead},
    {"get_withdrawals", kWalletRead},
    {"get_transfers", kWalletRead},
    {"get_current_deposit_address", kWalletRead},
    {"withdraw", kWalletWrite},
    {"cancel_withdrawal", kWalletWrite},
    {"submit_transfer_to_subaccount", kWalletWrite},
    {"submit_transfer_to_user", kWalletWrite},
};

}  // namespace

std::string_view scope_area_name(ScopeArea area) {
  return kAreaNames[static_cast<std::size_t>(area)];
}

std::string_view access_name(Access access) {
  switch (access) {
    case Access::none:
      return "none";
    case Access::read:
      return "read";
    case Access::read_write:
      return "read_write";
  }
  return "none";
}

std::optional<Scopes> Scopes::parse(std::string_view text, std::string* error) {
  Scopes scopes;
  std::size_t at = 0;
  while (at < text.size()) {
    if (text[at] == ' ') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', at), text.size());
    if (!apply_word(text.substr(at, end - at), scopes, error)) return std::nullopt;
    at = end;
  }
  return scopes;
}

Scopes Scopes::full_trading() {
  Scopes scopes;
  scopes.set(ScopeArea::account, Access::read_write);
  scopes.set(ScopeArea::trade, Access::read_write);
  return scopes;
}

std::optional<Scopes> Scopes::narrow(const Scopes& requested) const {
  Scopes granted = *this;
  for (std::size_t i = 0; i < kScopeAreas; ++i) {
    const auto area = static_cast<ScopeArea>(i);
    if (!requested.mentions(area)) continue;
    if (requested.access(area) > access(area)) return std::nullopt;
    granted.set(area, requested.access(area));
  }
  granted.binding = requested.binding;
  granted.session_name = requested.session_name;
  granted.expires_s = requested.expires_s;
  if (!requested.ip.empty()) granted.ip = requested.ip;
  return granted;
}

std::string Scopes::to_string() const {
  std::string out = binding == ScopeBinding::session ? "session:" + session_name : "connection";
  if (mainaccount) out += " mainaccount";
  for (const ScopeArea area : kPrintOrder) {
    if (access(area) == Access::none) continue;
    out += ' ';
    out += scope_area_name(area);
    out += ':';
    out += access_name(access(area));
  }
  if (expires_s) out += " expires:" + std::to_string(*expires_s);
  if (!ip.empty()) out += " ip:" + ip;
  return out;
}

ScopeRequirement required_scope_for_method(std::string_view method) {
  constexpr std::string_view prefix = "private/";
  if (!method.starts_with(prefix)) return {};
  const std::string_view name = method.substr(prefix.size());
  for (const MethodScope& entry : kMethodScopes) {
    if (entry.method == name) return entry.requirement;
  }
  return kAccountWrite;
}

bool is_private_channel(std::string_view channel) {
  return channel.starts_with("user.");
}

ScopeRequirement required_scope_for_channel(std::string_view channel) {
  if (starts_with_any(channel,
                      {"user.orders.", "user.trades.", "user.changes.", "user.mmp_trigger."})) {
    return kTradeRead;
  }
  if (starts_with_any(channel, {"user.portfolio.", "user.access_log"})) return kAccountRead;
  // Any other private channel: at least account:read, for the same reason as unknown methods.
  if (is_private_channel(channel)) return kAccountRead;
  return {};
}

}  // namespace gw::gateway
