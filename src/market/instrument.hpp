// Instruments in Deribit's naming and with the fields public/get_instruments returns.
// BTC-PERPETUAL, dated futures BTC-27DEC26, options BTC-27DEC26-100000-C; expiries at 08:00 UTC.
//
// Every field of a get_instruments row follows from the name (make_instrument) plus the id,
// creation time and activity the registry records: the contract specifications are fixed per
// currency and kind (see contract_spec in instrument.cpp and docs/VENUE.md).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "market/types.hpp"

namespace gw::market {

// Deribit's tick_size_steps: at and above `above_price` the tick is `tick_size`.
struct TickStep {
  double above_price = 0;
  double tick_size = 0;
};

// Deribit's expiration_timestamp for perpetuals: 3000-01-01T00:00:00Z.
inline constexpr TimestampMs kPerpetualExpirationMs = 32503708800000;

struct Instrument {
  InstrumentId id = 0;
  std::string name;
  Currency currency = Currency::BTC;  // base currency; also the settlement currency (inverse)
  Kind kind = Kind::future;
  bool perpetual = false;
  OptionType option_type = OptionType::none;
  double strike = 0;              // options only
  TimestampMs expiration_ms = 0;  // perpetual: 32503708800000 (3000-01-01), as Deribit
  TimestampMs creation_ms = 0;
  std::string settlement_period;  // "perpetual", "day", "week", "month" (quarterlies: month)
  double tick_size = 0;           // the base tick (below the first step)
  std::vector<TickStep> tick_size_steps;
  double contract_size = 0;  // USD per contract for futures, coin for options
  double min_trade_amount = 0;
  double maker_commission = 0;
  double taker_commission = 0;
  std::string price_index;  // "btc_usd" / "eth_usd"
  // Fixed-point units of books and the engine, and the decimals of the book checksum.
  double price_unit = 0;   // the smallest tick of any step
  double amount_unit = 0;  // = min_trade_amount
  int price_decimals = 0;
  int amount_decimals = 0;
  // The remaining get_instruments fields.
  std::string instrument_type;  // "reversed": inverse, quoted against USD, settled in coin
  double block_trade_commission = 0;
  double block_trade_tick_size = 0;
  double block_trade_min_trade_amount = 0;
  int max_leverage = 0;                   // futures only (0: not sent)
  double max_liquidation_commission = 0;  // futures only (0: not sent)
  bool is_active = true;                  // false once expired; kept for expired=true queries

  Ticks to_ticks(double price) const;  // rounds to the nearest unit
  double to_price(Ticks ticks) const;
  Lots to_lots(double amount) const;  // rounds to the nearest unit
  double to_amount(Lots lots) const;
  // True when `price` lies on the tick grid that applies at that price.
  bool on_tick(Ticks price) const;
  // The tick (in units) that applies at `price`.
  Ticks tick_at(Ticks price) const;

  // For validating client input: the whole number of units `price` / `amount` is, or nullopt
  // when it is not finite, out of range or off the unit grid by more than floating-point noise
  // (0.1 + 0.2 is 3 units of 0.1; 0.00015 is not a whole number of 0.0001).
  std::optional<Ticks> exact_ticks(double price) const;
  std::optional<Lots> exact_lots(double amount) const;

  std::string_view base_currency() const { return to_string(currency); }
  // Futures are quoted in USD, options in the coin.
  std::string_view quote_currency() const;
  std::string_view counter_currency() const { return "USD"; }
  std::string_view settlement_currency() const { return to_string(currency); }
  std::string_view state() const { return is_active ? "open" : "closed"; }
};

// Units beyond ±2^53 are not exact in a double; conversions clamp there.
inline constexpr std::int64_t kMaxUnits = std::int64_t{1} << 53;

// Decimals needed to print `unit` exactly: 0.0001 → 4, 0.5 → 1, 10 → 0, 0.05 → 2.
int decimals_of(double unit);

// ---- Names ------------------------------------------------------------------------------------

// The parts of an instrument name. `expiry` is the calendar date (UTC) of the 08:00 expiry.
struct InstrumentName {
  Currency currency = Currency::BTC;
  Kind kind = Kind::future;
  bool perpetual = false;
  std::chrono::year_month_day expiry{};
  double strike = 0;
  OptionType option_type = OptionType::none;

  TimestampMs expiration_ms() const;  // 08:00 UTC of `expiry`, or kPerpetualExpirationMs
  bool operator==(const InstrumentName&) const = default;
};

InstrumentName perpetual_name(Currency c);
InstrumentName future_name(Currency c, std::chrono::year_month_day expiry);
InstrumentName option_name(Currency c, std::chrono::year_month_day expiry, double strike,
                           OptionType type);

enum class NameError : std::uint8_t {
  none,
  bad_currency,     // not BTC or ETH
  bad_day,          // not 1–31 without a leading zero
  bad_month,        // not JAN … DEC in upper case
  bad_year,         // not two digits
  bad_date,         // a day the month does not have (30FEB26)
  bad_strike,       // not a positive canonical number ("100000", "0d625")
  bad_option_type,  // not C or P
  malformed,        // wrong number of parts, empty parts, trailing text
};
std::string_view to_string(NameError e);  // a message for the API error's `data`

struct ParsedName {
  InstrumentName name;
  NameError error = NameError::none;
  bool ok() const { return error == NameError::none; }
};

// Accepts exactly the names format_instrument_name produces; never throws.
ParsedName parse_instrument_name(std::string_view text);

std::string format_instrument_name(const InstrumentName& n);
// "5AUG26", "27DEC26": day without a leading zero, upper-case month, two-digit year.
std::string format_expiry(std::chrono::year_month_day date);
// "100000" when integral, else the shortest exact decimal with 'd' for the point: "0d625".
std::string format_strike(double strike);

// ---- Construction -----------------------------------------------------------------------------

// The instrument `n` names, with the venue's contract specification for its currency and kind
// and its settlement period from its expiry's cycle. id, creation_ms stay 0 for the registry.
Instrument make_instrument(const InstrumentName& n);

}  // namespace gw::market
