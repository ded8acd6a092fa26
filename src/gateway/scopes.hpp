// Deribit's access scopes: what a token (or an API key at most) may do, how a requested
// `scope` string is parsed and narrowed against the key's maximum, how the granted scope is
// printed, and which scope each private method and channel needs.
//
//   connection            the token lives as long as the connection that authenticated (default)
//   session:NAME          a named session that outlives the connection (max 16 per account)
//   mainaccount           added by the server (there are no subaccounts here)
//   account|trade|wallet|block_trade|block_rfq|custody:none|read|read_write
//   expires:SECONDS       the access token's lifetime, within the server's maximum
//   ip:ADDR               the token is only accepted from ADDR (`ip:*`: from anywhere)
//
// Unknown words are ignored (clients send scopes this venue has no use for, e.g. `name:ccxt`);
// a known area with a malformed level, or malformed `expires`/`session`, is an error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::gateway {

enum class Access : std::uint8_t { none = 0, read = 1, read_write = 2 };
enum class ScopeArea : std::uint8_t { account, trade, wallet, block_trade, block_rfq, custody };
inline constexpr std::size_t kScopeAreas = 6;

std::string_view scope_area_name(ScopeArea area);
std::string_view access_name(Access access);

struct ScopeRequirement {
  ScopeArea area = ScopeArea::account;
  Access access = Access::none;  // none: being authenticated is enough
};

enum class ScopeBinding : std::uint8_t { connection, session };

class Scopes {
 public:
  // Parses a space-separated scope string. nullopt (and `error`) for a malformed known word.
  static std::optional<Scopes> parse(std::string_view text, std::string* error = nullptr);
  // Full trading access (account and trade read_write), connection-bound: what a JWT or a
  // client certificate grants and the default maximum of a new API key.
  static Scopes full_trading();

  // The level of `area` (none where the scope string did not mention it).
  Access access(ScopeArea area) const { return areas_[index(area)].value_or(Access::none); }
  bool mentions(ScopeArea area) const { return areas_[index(area)].has_value(); }
  void set(ScopeArea area, Access access) { areas_[index(area)] = access; }
  bool allows(ScopeRequirement required) const { return access(required.area) >= required.access; }
  // Access levels only (no session:, expires:, ip:): what a key's maximum scope may hold.
  bool levels_only() const {
    return binding == ScopeBinding::connection && !expires_s && ip.empty();
  }

  // The scope a token gets when `requested` is asked of a key whose maximum is `*this`: the
  // requested level where it names an area, the maximum elsewhere, plus the requested binding,
  // lifetime and IP. nullopt (scope_exceeded) when any requested level is above the maximum.
  std::optional<Scopes> narrow(const Scopes& requested) const;

  // Deribit's order: "connection mainaccount trade:read_write account:read_write ..." (areas at
  // `none` are left out), then expires:N and ip:ADDR when they were requested.
  std::string to_string() const;

  ScopeBinding binding = ScopeBinding::connection;
  std::string session_name;               // binding == session
  std::optional<std::int64_t> expires_s;  // expires:N
  std::string ip;                         // ip:ADDR; empty: any
  bool mainaccount = true;

 private:
  static std::size_t index(ScopeArea area) { return static_cast<std::size_t>(area); }
  std::array<std::optional<Access>, kScopeAreas> areas_{};
};

// The scope a private method needs (Deribit's method reference). Public methods and unknown
// names outside private/ need none; an unknown private method needs account:read_write, so that
// a method added to the gateway without an entry here is refused to narrow tokens rather than
// silently allowed.
ScopeRequirement required_scope_for_method(std::string_view method);
// The scope a subscription channel needs: user.orders/trades/changes → trade:read,
// user.portfolio and user.access_log → account:read, anything else (public) none.
ScopeRequirement required_scope_for_channel(std::string_view channel);
// True for channels that need an authenticated subscriber (user.*).
bool is_private_channel(std::string_view channel);

}  // namespace gw::gateway
