// Contract specifications, fixed-point conversions and Deribit instrument names.
#include "market/instrument.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <limits>

#include "market/calendar.hpp"

namespace gw::market {

// ---- Contract specifications ------------------------------------------------------------------

namespace {

// What Deribit lists for its inverse BTC and ETH contracts (docs/VENUE.md gives the sources).
struct ContractSpec {
  double tick_size;
  std::vector<TickStep> tick_size_steps;
  double contract_size;
  double min_trade_amount;
  double maker_commission;
  double taker_commission;
  double block_trade_commission;
  double block_trade_tick_size;
  double block_trade_min_trade_amount;
  int max_leverage;
  double max_liquidation_commission;
};

const ContractSpec& contract_spec(Currency c, Kind k) {
  // Futures and perpetuals: prices in USD, amounts in USD (multiples of the contract size).
  static const ContractSpec btc_future{0.5,     {},   10,     10, 0,     0.0005,
                                       0.00025, 0.01, 200000, 50, 0.0075};
  static const ContractSpec eth_future{0.05,    {},   1,      1,  0,     0.0005,
                                       0.00025, 0.01, 100000, 50, 0.0075};
  // Options: prices in coin, a coarser tick from 0.005 up; amounts in coin.
  static const ContractSpec btc_option{
      0.0001, {{0.005, 0.0005}}, 1, 0.1, 0.0003, 0.0003, 0.00015, 0.0001, 25, 0, 0};
  static const ContractSpec eth_option{
      0.0001, {{0.005, 0.0005}}, 1, 1, 0.0003, 0.0003, 0.00015, 0.0001, 250, 0, 0};
  if (k == Kind::future) return c == Currency::BTC ? btc_future : eth_future;
  return c == Currency::BTC ? btc_option : eth_option;
}

void apply_spec(Instrument& i, const ContractSpec& s) {
  i.tick_size = s.tick_size;
  i.tick_size_steps = s.tick_size_steps;
  i.contract_size = s.contract_size;
  i.min_trade_amount = s.min_trade_amount;
  i.maker_commission = s.maker_commission;
  i.taker_commission = s.taker_commission;
  i.block_trade_commission = s.block_trade_commission;
  i.block_trade_tick_size = s.block_trade_tick_size;
  i.block_trade_min_trade_amount = s.block_trade_min_trade_amount;
  i.max_leverage = s.max_leverage;
  i.max_liquidation_commission = s.max_liquidation_commission;
}

double smallest_tick(const Instrument& i) {
  double unit = i.tick_size;
  for (const TickStep& s : i.tick_size_steps) unit = std::min(unit, s.tick_size);
  return unit;
}

}  // namespace

Instrument make_instrument(const InstrumentName& n) {
  Instrument i;
  i.name = format_instrument_name(n);
  i.currency = n.currency;
  i.kind = n.kind;
  i.perpetual = n.kind == Kind::future && n.perpetual;
  if (n.kind == Kind::option) {
    i.option_type = n.option_type;
    i.strike = n.strike;
  }
  i.expiration_ms = i.perpetual ? kPerpetualExpirationMs : n.expiration_ms();
  i.settlement_period = i.perpetual ? "perpetual" : settlement_period(cycle_of(n.expiry));
  apply_spec(i, contract_spec(n.currency, n.kind));
  i.price_index = n.currency == Currency::BTC ? "btc_usd" : "eth_usd";
  i.instrument_type = "reversed";
  i.price_unit = smallest_tick(i);
  i.amount_unit = i.min_trade_amount;
  i.price_decimals = decimals_of(i.price_unit);
  i.amount_decimals = decimals_of(i.amount_unit);
  return i;
}

std::string_view Instrument::quote_currency() const {
  return kind == Kind::future ? "USD" : to_string(currency);
}

// ---- Fixed-point units ------------------------------------------------------------------------

namespace {

constexpr int kMaxDecimals = 15;

// x ≥ 0 to a nearest whole number, inline: std::round is a libm call here, and tickers convert
// prices on every instrument every second. Halves may go either way, which no caller minds.
double nearest_whole(double x) {
  if (!(x < 0x1p52)) return x;  // whole already (or not finite)
  return static_cast<double>(static_cast<std::int64_t>(x + 0.5));
}

// decimals_of(unit), with 10^decimals in `scale` (a product of tens, exact up to 10^22).
int decimal_scale(double unit, double& scale) {
  scale = 1;
  if (!(unit > 0) || !std::isfinite(unit)) return 0;
  for (int d = 0; d < kMaxDecimals; ++d, scale *= 10) {
    const double scaled = unit * scale;
    if (std::abs(scaled - nearest_whole(scaled)) <= 1e-9 * std::max(1.0, scaled)) return d;
  }
  return kMaxDecimals;
}

// value / unit to the nearest integer, clamped to ±kMaxUnits (NaN gives 0).
std::int64_t round_units(double value, double unit) {
  const double q = value / unit;
  if (std::isnan(q)) return 0;
  if (q >= static_cast<double>(kMaxUnits)) return kMaxUnits;
  if (q <= -static_cast<double>(kMaxUnits)) return -kMaxUnits;
  return std::llround(q);
}

// Decimal inputs arrive as binary approximations (0.3 / 0.1 = 2.9999999999999996), so a
// quotient within a millionth of a unit of an integer is that integer; a value genuinely off
// the grid is a sizeable fraction of a unit away.
std::optional<std::int64_t> exact_units(double value, double unit) {
  const double q = value / unit;
  if (!std::isfinite(q) || std::abs(q) >= static_cast<double>(kMaxUnits)) return std::nullopt;
  const double whole = std::round(q);
  const double tolerance = std::max(1e-6, std::abs(q) * 8 * DBL_EPSILON);
  if (std::abs(q - whole) > tolerance) return std::nullopt;
  return static_cast<std::int64_t>(whole);
}

// units · unit as the double nearest the exact decimal product: 3 · 0.0001 is computed as
// 3 / 10^4 (0.0003) rather than 3 · 0.0001 (0.00030000000000000003).
double from_units(std::int64_t units, double unit) {
  double scale = 1;
  decimal_scale(unit, scale);
  const double mantissa = nearest_whole(unit * scale);
  return static_cast<double>(units) * mantissa / scale;
}

}  // namespace

int decimals_of(double unit) {
  double scale = 1;
  return decimal_scale(unit, scale);
}

Ticks Instrument::to_ticks(double price) const {
  return round_units(price, price_unit);
}
double Instrument::to_price(Ticks ticks) const {
  return from_units(ticks, price_unit);
}
Lots Instrument::to_lots(double amount) const {
  return round_units(amount, amount_unit);
}
double Instrument::to_amount(Lots lots) const {
  return from_units(lots, amount_unit);
}

std::optional<Ticks> Instrument::exact_ticks(double price) const {
  return exact_units(price, price_unit);
}
std::optional<Lots> Instrument::exact_lots(double amount) const {
  return exact_units(amount, amount_unit);
}

Ticks Instrument::tick_at(Ticks price) const {
  // The step with the highest threshold at or below `price` wins (steps may come in any
  // order). At a threshold both grids agree (0.005 is on the 0.0005 grid), and stepping up
  // from it uses the coarser tick, as Deribit's book does (0.0049, 0.005, 0.0055).
  Ticks tick = to_ticks(tick_size);
  Ticks threshold = std::numeric_limits<Ticks>::min();
  for (const TickStep& s : tick_size_steps) {
    const Ticks above = to_ticks(s.above_price);
    if (price >= above && above >= threshold) {
      threshold = above;
      tick = to_ticks(s.tick_size);
    }
  }
  return std::max<Ticks>(tick, 1);
}

bool Instrument::on_tick(Ticks price) const {
  return price % tick_at(price) == 0;
}

// ---- Names ------------------------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 12> kMonths{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kPerpetual = "PERPETUAL";
constexpr std::size_t kMaxStrikeDigits = 12;  // keeps integral strikes exact in a double

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

unsigned digits_value(std::string_view s) {
  unsigned v = 0;
  for (const char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

// "27DEC26": 1–2 day digits without a leading zero, a month, 2 year digits.
NameError parse_expiry(std::string_view s, std::chrono::year_month_day& out) {
  const std::size_t day_digits =
      static_cast<std::size_t>(std::find_if_not(s.begin(), s.end(), is_digit) - s.begin());
  if (day_digits == 0 || day_digits > 2 || s[0] == '0') return NameError::bad_day;
  const unsigned day = digits_value(s.substr(0, day_digits));
  if (day > 31) return NameError::bad_day;
  const std::string_view rest = s.substr(day_digits);
  const auto month = std::find(kMonths.begin(), kMonths.end(), rest.substr(0, 3));
  if (rest.size() < 3 || month == kMonths.end()) return NameError::bad_month;
  const std::string_view year = rest.substr(3);
  if (year.size() != 2 || !all_digits(year)) return NameError::bad_year;
  out = std::chrono::year{2000 + static_cast<int>(digits_value(year))} /
        std::chrono::month{static_cast<unsigned>(month - kMonths.begin()) + 1} /
        std::chrono::day{day};
  return out.ok() ? NameError::none : NameError::bad_date;
}

// "100000" or "0d625"; canonical only, so that each strike has exactly one name.
std::optional<double> parse_strike(std::string_view s) {
  const std::size_t point = s.find('d');
  const std::string_view whole = s.substr(0, point);
  if (!all_digits(whole) || whole.size() > kMaxStrikeDigits) return std::nullopt;
  std::string decimal{whole};
  if (point != std::string_view::npos) {
    const std::string_view fraction = s.substr(point + 1);
    if (!all_digits(fraction)) return std::nullopt;
    decimal += '.';
    decimal += fraction;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(decimal.data(), decimal.data() + decimal.size(), value);
  if (ec != std::errc{} || end != decimal.data() + decimal.size() || !(value > 0)) {
    return std::nullopt;
  }
  // Rejects leading zeros, trailing fractional zeros and over-long fractions.
  if (format_strike(value) != s) return std::nullopt;
  return value;
}

std::optional<OptionType> parse_option_type(std::string_view s) {
  if (s == "C") return OptionType::call;
  if (s == "P") return OptionType::put;
  return std::nullopt;
}

// Splits on '-'; an empty part (leading, trailing or doubled '-') makes the name malformed.
std::optional<std::vector<std::string_view>> split_parts(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dash = text.find('-', start);
    parts.push_back(text.substr(start, dash - start));
    if (parts.back().empty() || parts.size() > 4) return std::nullopt;
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return parts;
}

ParsedName parse_parts(const std::vector<std::string_view>& parts) {
  ParsedName r;
  const auto currency = currency_named(parts[0]);
  if (!currency) return {r.name, NameError::bad_currency};
  r.name.currency = *currency;
  if (parts.size() == 2 && parts[1] == kPerpetual) {
    r.name.perpetual = true;
    return r;
  }
  r.error = parse_expiry(parts[1], r.name.expiry);
  if (!r.ok() || parts.size() == 2) return r;
  r.name.kind = Kind::option;
  const auto strike = parse_strike(parts[2]);
  if (!strike) return {r.name, NameError::bad_strike};
  r.name.strike = *strike;
  const auto type = parse_option_type(parts[3]);
  if (!type) return {r.name, NameError::bad_option_type};
  r.name.option_type = *type;
  return r;
}

}  // namespace

std::string_view to_string(NameError e) {
  switch (e) {
    case NameError::none:
      return "";
    case NameError::bad_currency:
      return "currency must be BTC or ETH";
    case NameError::bad_day:
      return "expiry day must be 1-31 without a leading zero";
    case NameError::bad_month:
      return "expiry month must be JAN..DEC";
    case NameError::bad_year:
      return "expiry year must be two digits";
    case NameError::bad_date:
      return "expiry date does not exist";
    case NameError::bad_strike:
      return "strike must be a positive number such as 100000 or 0d625";
    case NameError::bad_option_type:
      return "option type must be C or P";
    case NameError::malformed:
      return "expected CUR-PERPETUAL, CUR-DMMMYY or CUR-DMMMYY-STRIKE-C|P";
  }
  return "";
}

ParsedName parse_instrument_name(std::string_view text) {
  const auto parts = split_parts(text);
  if (!parts || parts->size() < 2 || parts->size() == 3) return {{}, NameError::malformed};
  return parse_parts(*parts);
}

TimestampMs InstrumentName::expiration_ms() const {
  return kind == Kind::future && perpetual ? kPerpetualExpirationMs : expiry_ms(expiry);
}

InstrumentName perpetual_name(Currency c) {
  InstrumentName n;
  n.currency = c;
  n.perpetual = true;
  return n;
}

InstrumentName future_name(Currency c, std::chrono::year_month_day expiry) {
  InstrumentName n;
  n.currency = c;
  n.expiry = expiry;
  return n;
}

InstrumentName option_name(Currency c, std::chrono::year_month_day expiry, double strike,
                           OptionType type) {
  InstrumentName n = future_name(c, expiry);
  n.kind = Kind::option;
  n.strike = strike;
  n.option_type = type;
  return n;
}

std::string format_expiry(std::chrono::year_month_day date) {
  const unsigned month = std::clamp(static_cast<unsigned>(date.month()), 1u, 12u);
  const int year = (static_cast<int>(date.year()) % 100 + 100) % 100;
  std::string s = std::to_string(static_cast<unsigned>(date.day()));
  s += kMonths[month - 1];
  s += static_cast<char>('0' + year / 10);
  s += static_cast<char>('0' + year % 10);
  return s;
}

std::string format_strike(double strike) {
  if (std::abs(strike) < 1e15 && strike == std::trunc(strike)) {
    return std::to_string(static_cast<std::int64_t>(strike));
  }
  // Shortest round-trip fixed notation; large enough for the longest subnormal.
  std::array<char, 400> buffer{};
  const auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), strike, std::chars_format::fixed);
  std::string s(buffer.data(), ec == std::errc{} ? end : buffer.data());
  std::replace(s.begin(), s.end(), '.', 'd');
  return s;
}

std::string format_instrument_name(const InstrumentName& n) {
  std::string s{to_string(n.currency)};
  s += '-';
  if (n.kind == Kind::future && n.perpetual) return s += kPerpetual;
  s += format_expiry(n.expiry);
  if (n.kind == Kind::future) return s;
  s += '-';
  s += format_strike(n.strike);
  s += n.option_type == OptionType::call ? "-C" : n.option_type == OptionType::put ? "-P" : "-?";
  return s;
}

}  // namespace gw::market
