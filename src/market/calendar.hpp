// The listing calendar of the venue: which expiries and which strikes exist at a given time.
//
// Everything here is a pure function of its arguments (time is always passed in, in UTC), so the
// calendar is tested at any instant without a clock. Deribit's layout:
//  - every expiry is at 08:00 UTC;
//  - dailies (every calendar day), weeklies (Fridays), monthlies (the last Friday of a month) and
//    quarterlies (the last Friday of March, June, September, December);
//  - an expiry belongs to the longest cycle its date falls in (a last Friday of a month is a
//    monthly even when it is also listed as a daily), and its `settlement_period` follows from
//    that cycle ("day", "week", "month"; quarterlies say "month" too);
//  - an expiry at or before `now` is no longer live: the calendar rolls as time passes.
#pragma once

#include <chrono>
#include <span>
#include <string_view>
#include <vector>

#include "market/types.hpp"

namespace gw::market {

enum class Cycle : std::uint8_t { day, week, month, quarter };

std::string_view to_string(Cycle c);          // "day", "week", "month", "quarter"
std::string_view settlement_period(Cycle c);  // Deribit's field: quarter → "month"

// ---- Dates and times (UTC) --------------------------------------------------------------------

inline constexpr std::chrono::hours kExpiryTimeOfDay{8};

// Unix ms of 08:00 UTC on `date`.
TimestampMs expiry_ms(std::chrono::year_month_day date);
// The UTC calendar date containing `ms` (floors, so negative times land on the day before).
std::chrono::year_month_day utc_date(TimestampMs ms);
std::chrono::year_month_day last_friday(std::chrono::year_month ym);
bool is_quarter_month(std::chrono::month m);
// The longest cycle `date` belongs to: quarter > month > week > day.
Cycle cycle_of(std::chrono::year_month_day date);

// ---- Live expiries ----------------------------------------------------------------------------

struct Expiry {
  std::chrono::year_month_day date;
  TimestampMs ms = 0;  // 08:00 UTC on `date`
  Cycle cycle = Cycle::day;
  bool operator==(const Expiry&) const = default;
};

// How many upcoming expiries of each cycle are listed. The lists overlap (the next Friday is
// also one of the next dailies, a quarterly is also a monthly) and are merged.
struct ExpiryCounts {
  int dailies = 0;
  int weeklies = 0;
  int monthlies = 0;
  int quarterlies = 0;
};
// Options: the next 3 days, 3 Fridays, 3 month ends and 4 quarter ends.
inline constexpr ExpiryCounts kOptionExpiries{3, 3, 3, 4};
// Dated futures: the quarterlies and the nearest monthlies.
inline constexpr ExpiryCounts kFutureExpiries{0, 0, 2, 4};

// Expiries strictly after `now`, sorted, without duplicates, each tagged with cycle_of(date).
std::vector<Expiry> live_expiries(TimestampMs now, const ExpiryCounts& counts);

// ---- Strikes ----------------------------------------------------------------------------------

struct StrikeParams {
  double reference_vol = 0.6;      // annualised; sets the width of the chain
  double stdevs = 3.0;             // the chain spans forward·exp(±stdevs·vol·√T)
  int min_count = 20;              // short expiries are widened to at least this many strikes
  int max_count = 40;              // long expiries use coarser steps to stay within this many
  double min_years = 1.0 / 365.0;  // an expiry minutes away still gets a one-day-wide chain
};

// The ladder of strike steps, finest first: BTC 1000 … 100000 USD, ETH 25 … 2000 USD.
std::span<const std::int64_t> strike_steps(Currency c);

// Strikes around `forward` for an expiry `years` away: positive, sorted, unique, between
// min_count and max_count of them (how many within that band varies with T, not monotonically).
// The chain spans forward·exp(±stdevs·vol·√T), widened if that holds fewer than min_count
// strikes. The finest ladder step whose chain fits in max_count applies near the money (the
// inner third of the span in log terms), the next two steps further out, and no step but the
// finest exceeds a quarter of the strike it leaves; every strike is a multiple of its step.
// Examples at F = 100000 (vol 0.6): one day: 85000 … 120000 with 1000 near the money (24 strikes);
// one year: 20000 … 600000 with 10000 near the money (33). Empty unless 0 < forward < 1e12.
std::vector<double> strike_layout(Currency c, double forward, double years,
                                  const StrikeParams& params = {});

}  // namespace gw::market
