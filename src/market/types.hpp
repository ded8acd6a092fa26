// Vocabulary of the venue: currencies, sides, and the fixed-point units books and the matching
// engine work in. Prices and amounts are integers so that matching is exact and deterministic;
// doubles appear only at the API edge (Instrument converts).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gw::market {

enum class Currency : std::uint8_t { BTC, ETH };
inline constexpr Currency kCurrencies[] = {Currency::BTC, Currency::ETH};

enum class Kind : std::uint8_t { future, option };  // a perpetual is a future without expiry
enum class OptionType : std::uint8_t { none, call, put };
enum class Side : std::uint8_t { buy, sell };

using InstrumentId = std::uint32_t;
using AccountId = std::uint32_t;
using OrderId = std::uint64_t;
using TimestampMs = std::int64_t;  // Unix epoch milliseconds
// A price as a count of the instrument's price unit (its smallest tick).
using Ticks = std::int64_t;
// An amount as a count of the instrument's amount unit (its minimum trade amount).
using Lots = std::int64_t;

constexpr std::string_view to_string(Currency c) {
  return c == Currency::BTC ? "BTC" : "ETH";
}
// "BTC" or "ETH", as to_string writes them; nullopt for anything else.
constexpr std::optional<Currency> currency_named(std::string_view text) {
  for (const Currency c : kCurrencies) {
    if (to_string(c) == text) return c;
  }
  return std::nullopt;
}
constexpr std::string_view to_string(Kind k) {
  return k == Kind::future ? "future" : "option";
}
constexpr std::string_view to_string(Side s) {
  return s == Side::buy ? "buy" : "sell";
}
constexpr std::string_view to_string(OptionType t) {
  return t == OptionType::call ? "call" : t == OptionType::put ? "put" : "";
}
constexpr Side opposite(Side s) {
  return s == Side::buy ? Side::sell : Side::buy;
}

}  // namespace gw::market
