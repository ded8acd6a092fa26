// The listing calendar: 08:00 UTC expiries, cycles, rolling, and strike layouts.
// Expected expiry lists were worked out independently with Python's datetime and calendar
// modules (weekday and last Friday of each month), then checked against a calendar by eye.
#include "market/calendar.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "market/instrument.hpp"

namespace gw::market {
namespace {

using namespace std::chrono;

constexpr TimestampMs kHourMs = 3'600'000;

// "29JAN27 month" per expiry, for readable comparisons.
std::vector<std::string> describe(const std::vector<Expiry>& expiries) {
  std::vector<std::string> out;
  for (const Expiry& e : expiries) {
    out.push_back(format_expiry(e.date) + " " + std::string{to_string(e.cycle)});
  }
  return out;
}

using Names = std::vector<std::string>;

// ---- Dates ------------------------------------------------------------------------------------

TEST(Calendar, ExpiriesAreAtEightUtc) {
  EXPECT_EQ(expiry_ms(2021y / September / 24), 1632470400000);  // Deribit's BTC-24SEP21
  EXPECT_EQ(expiry_ms(2023y / September / 29), 1695974400000);  // Deribit's BTC-29SEP23
  EXPECT_EQ(expiry_ms(1970y / January / 1), 8 * kHourMs);
  EXPECT_EQ(expiry_ms(2026y / December / 31), 1798704000000);
}

TEST(Calendar, UtcDate) {
  EXPECT_EQ(utc_date(0), 1970y / January / 1);
  EXPECT_EQ(utc_date(-1), 1969y / December / 31);  // floors, not truncates
  EXPECT_EQ(utc_date(1798704000000), 2026y / December / 31);
  EXPECT_EQ(utc_date(1798761599999), 2026y / December / 31);  // 23:59:59.999
  EXPECT_EQ(utc_date(1798761600000), 2027y / January / 1);
}

TEST(Calendar, LastFriday) {
  EXPECT_EQ(last_friday(2027y / January), 2027y / January / 29);
  EXPECT_EQ(last_friday(2026y / February), 2026y / February / 27);
  EXPECT_EQ(last_friday(2024y / February), 2024y / February / 23);  // the 29th is a Thursday
  EXPECT_EQ(last_friday(2036y / February), 2036y / February / 29);  // a leap day Friday
  EXPECT_EQ(last_friday(2025y / January), 2025y / January / 31);    // the month's last day
  EXPECT_EQ(last_friday(2026y / December), 2026y / December / 25);
  EXPECT_EQ(last_friday(2027y / December), 2027y / December / 31);
}

TEST(Calendar, CycleOfADate) {
  EXPECT_EQ(cycle_of(2026y / December / 31), Cycle::day);  // Thursday
  EXPECT_EQ(cycle_of(2026y / December / 27), Cycle::day);  // Sunday
  EXPECT_EQ(cycle_of(2027y / January / 1), Cycle::week);   // Friday, not the last
  EXPECT_EQ(cycle_of(2027y / January / 29), Cycle::month);
  EXPECT_EQ(cycle_of(2027y / March / 26), Cycle::quarter);
  EXPECT_EQ(cycle_of(2036y / February / 29), Cycle::month);
  EXPECT_EQ(cycle_of(2027y / December / 31), Cycle::quarter);
  EXPECT_EQ(settlement_period(Cycle::day), "day");
  EXPECT_EQ(settlement_period(Cycle::week), "week");
  EXPECT_EQ(settlement_period(Cycle::month), "month");
  EXPECT_EQ(settlement_period(Cycle::quarter), "month");  // Deribit has no "quarter"
  EXPECT_TRUE(is_quarter_month(December));
  EXPECT_FALSE(is_quarter_month(January));
}

// ---- Live expiries ----------------------------------------------------------------------------

TEST(Calendar, AcrossTheYearEnd) {
  // Thursday 2026-12-31 09:00: today's 08:00 has passed; Friday 2027-01-01 is the next daily and
  // weekly; December's last Friday (the 25th) has expired, so the monthlies start in January.
  const TimestampMs now = expiry_ms(2026y / December / 31) + kHourMs;
  EXPECT_EQ(describe(live_expiries(now, kOptionExpiries)),
            (Names{"1JAN27 week", "2JAN27 day", "3JAN27 day", "8JAN27 week", "15JAN27 week",
                   "29JAN27 month", "26FEB27 month", "26MAR27 quarter", "25JUN27 quarter",
                   "24SEP27 quarter", "31DEC27 quarter"}));
  EXPECT_EQ(describe(live_expiries(now, kFutureExpiries)),
            (Names{"29JAN27 month", "26FEB27 month", "26MAR27 quarter", "25JUN27 quarter",
                   "24SEP27 quarter", "31DEC27 quarter"}));
}

TEST(Calendar, MonthEndRollsAtEight) {
  // 2026-02-27 is February's last Friday.
  const TimestampMs expiry = expiry_ms(2026y / February / 27);
  EXPECT_EQ(describe(live_expiries(expiry - 1, kOptionExpiries)),
            (Names{"27FEB26 month", "28FEB26 day", "1MAR26 day", "6MAR26 week", "13MAR26 week",
                   "27MAR26 quarter", "24APR26 month", "26JUN26 quarter", "25SEP26 quarter",
                   "25DEC26 quarter"}));
  // At exactly 08:00 it has expired: every cycle moves on by one.
  EXPECT_EQ(describe(live_expiries(expiry, kOptionExpiries)),
            (Names{"28FEB26 day", "1MAR26 day", "2MAR26 day", "6MAR26 week", "13MAR26 week",
                   "20MAR26 week", "27MAR26 quarter", "24APR26 month", "29MAY26 month",
                   "26JUN26 quarter", "25SEP26 quarter", "25DEC26 quarter"}));
  EXPECT_EQ(describe(live_expiries(expiry - 1, kFutureExpiries)),
            (Names{"27FEB26 month", "27MAR26 quarter", "26JUN26 quarter", "25SEP26 quarter",
                   "25DEC26 quarter"}));
  EXPECT_EQ(describe(live_expiries(expiry, kFutureExpiries)),
            (Names{"27MAR26 quarter", "24APR26 month", "26JUN26 quarter", "25SEP26 quarter",
                   "25DEC26 quarter"}));
}

TEST(Calendar, DailyBoundaryAtEight) {
  const TimestampMs eight = expiry_ms(2026y / August / 5);
  // 07:59:59.999: today's expiry is still live.
  EXPECT_EQ(live_expiries(eight - 1, {1, 0, 0, 0}).front().date, 2026y / August / 5);
  EXPECT_EQ(live_expiries(eight - 1, {1, 0, 0, 0}).front().ms, eight);
  // 08:00:00.000 and later: tomorrow's.
  EXPECT_EQ(live_expiries(eight, {1, 0, 0, 0}).front().date, 2026y / August / 6);
  EXPECT_EQ(live_expiries(eight + 1, {1, 0, 0, 0}).front().date, 2026y / August / 6);
  // From the previous 08:00 through midnight the next daily is the same one.
  EXPECT_EQ(live_expiries(eight - 8 * kHourMs, {1, 0, 0, 0}).front().date, 2026y / August / 5);
  EXPECT_EQ(live_expiries(eight - 8 * kHourMs - 1, {1, 0, 0, 0}).front().date, 2026y / August / 5);
  EXPECT_EQ(live_expiries(eight - 24 * kHourMs, {1, 0, 0, 0}).front().date, 2026y / August / 5);
  EXPECT_EQ(live_expiries(eight - 24 * kHourMs - 1, {1, 0, 0, 0}).front().date, 2026y / August / 4);
}

TEST(Calendar, LeapDay) {
  // Monday 2028-02-28 09:00: the next daily is the leap day; February's last Friday (the 25th)
  // is gone, so the monthlies are March (a quarterly), April and May.
  const TimestampMs now = expiry_ms(2028y / February / 28) + kHourMs;
  EXPECT_EQ(describe(live_expiries(now, kOptionExpiries)),
            (Names{"29FEB28 day", "1MAR28 day", "2MAR28 day", "3MAR28 week", "10MAR28 week",
                   "17MAR28 week", "31MAR28 quarter", "28APR28 month", "26MAY28 month",
                   "30JUN28 quarter", "29SEP28 quarter", "29DEC28 quarter"}));
  // A leap-day Friday that ends its month.
  const TimestampMs before = expiry_ms(2036y / February / 28);
  EXPECT_EQ(describe(live_expiries(before, {1, 0, 1, 0})), (Names{"29FEB36 month"}));
}

TEST(Calendar, CountsAreParameters) {
  const TimestampMs now = expiry_ms(2026y / December / 31) + kHourMs;
  EXPECT_TRUE(live_expiries(now, {}).empty());
  EXPECT_TRUE(live_expiries(now, {-3, -1, 0, -2}).empty());
  EXPECT_EQ(describe(live_expiries(now, {0, 0, 0, 1})), (Names{"26MAR27 quarter"}));
  EXPECT_EQ(describe(live_expiries(now, {0, 2, 0, 0})), (Names{"1JAN27 week", "8JAN27 week"}));
  EXPECT_EQ(live_expiries(now, {7, 0, 0, 0}).size(), 7u);
  EXPECT_EQ(live_expiries(now, {0, 0, 0, 8}).back().date, 2028y / December / 29);
}

// A brute-force oracle: walk the days after `now` and list the ones the rules name.
std::vector<year_month_day> expected_dates(TimestampMs now, const ExpiryCounts& counts) {
  std::vector<year_month_day> out;
  int fridays = 0;
  int month_ends = 0;
  int quarter_ends = 0;
  int index = 0;
  for (sys_days d = sys_days{utc_date(now)}; index < 400; d += days{1}) {
    const year_month_day date{d};
    if (expiry_ms(date) <= now) continue;
    const bool friday = weekday{d} == Friday;
    // The last Friday: a week later it is another month.
    const bool month_end = friday && year_month_day{d + days{7}}.month() != date.month();
    const bool quarter_end = month_end && static_cast<unsigned>(date.month()) % 3 == 0;
    const bool listed = index < counts.dailies || (friday && fridays < counts.weeklies) ||
                        (month_end && month_ends < counts.monthlies) ||
                        (quarter_end && quarter_ends < counts.quarterlies);
    fridays += friday;
    month_ends += month_end;
    quarter_ends += quarter_end;
    ++index;
    if (listed) out.push_back(date);
  }
  return out;
}

TEST(Calendar, MatchesBruteForceEverySevenHoursForThreeYears) {
  const TimestampMs start = expiry_ms(2026y / January / 1) - 3 * kHourMs;
  for (TimestampMs now = start; now < start + 3 * 365 * 24 * kHourMs; now += 7 * kHourMs) {
    const std::vector<Expiry> live = live_expiries(now, kOptionExpiries);
    std::vector<year_month_day> dates;
    for (const Expiry& e : live) {
      ASSERT_GT(e.ms, now);
      ASSERT_EQ(e.ms, expiry_ms(e.date));
      ASSERT_EQ(e.cycle, cycle_of(e.date));
      dates.push_back(e.date);
    }
    ASSERT_TRUE(std::is_sorted(dates.begin(), dates.end()));
    ASSERT_EQ(std::adjacent_find(dates.begin(), dates.end()), dates.end());
    ASSERT_EQ(dates, expected_dates(now, kOptionExpiries)) << now;
    ASSERT_LE(live.front().ms - now, 24 * kHourMs);
  }
}

// ---- Strikes ----------------------------------------------------------------------------------

bool on_some_ladder_step(Currency c, double strike) {
  const auto finest = static_cast<double>(strike_steps(c).front());
  return std::fmod(strike, finest) == 0;
}

TEST(Strikes, PropertiesAcrossForwardsAndMaturities) {
  const double years[] = {0,   1.0 / 24 / 365, 1.0 / 365, 3.0 / 365, 7.0 / 365, 30.0 / 365,
                          0.1, 0.25,           0.5,       1,         2,         5};
  for (const auto& [currency, forwards] :
       {std::pair{Currency::BTC, std::vector<double>{8000, 30000, 64321.5, 100000, 250000}},
        std::pair{Currency::ETH, std::vector<double>{150, 1234.5, 3000, 9000}}}) {
    for (const double f : forwards) {
      for (const double t : years) {
        const std::vector<double> s = strike_layout(currency, f, t);
        SCOPED_TRACE(testing::Message() << to_string(currency) << " F=" << f << " T=" << t);
        ASSERT_GE(s.size(), 20u);
        ASSERT_LE(s.size(), 40u);
        EXPECT_GT(s.front(), 0);
        EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
        EXPECT_EQ(std::adjacent_find(s.begin(), s.end()), s.end());
        EXPECT_LT(s.front(), f);
        EXPECT_GT(s.back(), f);
        for (const double k : s) EXPECT_TRUE(on_some_ladder_step(currency, k)) << k;
        EXPECT_EQ(strike_layout(currency, f, t), s);  // deterministic
      }
    }
  }
}

double step_near(const std::vector<double>& strikes, double forward) {
  const auto above = std::upper_bound(strikes.begin(), strikes.end(), forward);
  return *above - *(above - 1);
}

TEST(Strikes, FineNearTheMoneyOnShortExpiries) {
  const std::vector<double> daily = strike_layout(Currency::BTC, 100000, 1.0 / 365);
  EXPECT_EQ(step_near(daily, 100000.5), 1000);
  for (const double k : {97000.0, 98000.0, 99000.0, 100000.0, 101000.0, 102000.0, 103000.0}) {
    EXPECT_NE(std::find(daily.begin(), daily.end(), k), daily.end()) << k;
  }
  const std::vector<double> eth = strike_layout(Currency::ETH, 3000, 1.0 / 365);
  EXPECT_EQ(step_near(eth, 3000.5), 25);
  // Steps widen away from the money: the outermost gaps are coarser than the central one.
  EXPECT_GT(daily[1] - daily[0], 1000);
  EXPECT_GT(daily.back() - daily[daily.size() - 2], 1000);
}

TEST(Strikes, WiderAndCoarserForLongerExpiries) {
  const std::vector<double> day = strike_layout(Currency::BTC, 100000, 1.0 / 365);
  const std::vector<double> month = strike_layout(Currency::BTC, 100000, 30.0 / 365);
  const std::vector<double> quarter = strike_layout(Currency::BTC, 100000, 0.25);
  const std::vector<double> year = strike_layout(Currency::BTC, 100000, 1);
  EXPECT_LT(month.front(), day.front());
  EXPECT_LT(quarter.front(), month.front());
  EXPECT_LT(year.front(), quarter.front());
  EXPECT_GT(month.back(), day.back());
  EXPECT_GT(quarter.back(), month.back());
  EXPECT_GT(year.back(), quarter.back());
  EXPECT_GE(step_near(quarter, 100000.5), 5000);
  EXPECT_GE(step_near(year, 100000.5), 10000);
  // ±3 standard deviations at 60 % over a year is a factor e^1.8 ≈ 6 each way.
  EXPECT_LE(year.front(), 100000 * std::exp(-1.8) * 1.5);
  EXPECT_GE(year.back(), 100000 * std::exp(1.8) / 1.5);
  // Far below the money the steps stay a fraction of the strike rather than jumping to zero.
  for (std::size_t i = 1; i < year.size(); ++i) EXPECT_LE(year[i] - year[i - 1], year[i] / 2);
}

TEST(Strikes, Parameters) {
  StrikeParams narrow;
  narrow.min_count = 10;
  narrow.max_count = 15;
  for (const double t : {1.0 / 365, 0.25, 1.0}) {
    const std::vector<double> s = strike_layout(Currency::BTC, 100000, t, narrow);
    EXPECT_GE(s.size(), 10u);
    EXPECT_LE(s.size(), 15u);
  }
  StrikeParams calm;
  calm.reference_vol = 0.2;
  StrikeParams wild;
  wild.reference_vol = 1.5;
  const std::vector<double> c = strike_layout(Currency::BTC, 100000, 0.5, calm);
  const std::vector<double> w = strike_layout(Currency::BTC, 100000, 0.5, wild);
  EXPECT_LT(w.front(), c.front());
  EXPECT_GT(w.back(), c.back());
  // Degenerate parameters still give a usable chain.
  StrikeParams odd;
  odd.reference_vol = std::nan("");
  odd.min_count = -5;
  odd.max_count = -1;
  const std::vector<double> o = strike_layout(Currency::ETH, 3000, 0.1, odd);
  EXPECT_FALSE(o.empty());
  EXPECT_TRUE(std::is_sorted(o.begin(), o.end()));
  StrikeParams huge;  // counts are capped at 1000, so this stays cheap
  huge.min_count = 1'000'000'000;
  huge.max_count = 2'000'000'000;
  const std::vector<double> h = strike_layout(Currency::BTC, 100000, 0.1, huge);
  EXPECT_LE(h.size(), 1000u);
  EXPECT_GT(h.front(), 0);
  EXPECT_EQ(std::adjacent_find(h.begin(), h.end()), h.end());
}

TEST(Strikes, BadForwards) {
  EXPECT_TRUE(strike_layout(Currency::BTC, 0, 0.1).empty());
  EXPECT_TRUE(strike_layout(Currency::BTC, -100000, 0.1).empty());
  EXPECT_TRUE(strike_layout(Currency::BTC, std::nan(""), 0.1).empty());
  EXPECT_TRUE(strike_layout(Currency::BTC, HUGE_VAL, 0.1).empty());
  EXPECT_TRUE(strike_layout(Currency::ETH, 1e300, 0.1).empty());
  // A forward far below the first step still lists positive strikes.
  const std::vector<double> tiny = strike_layout(Currency::BTC, 400, 0.1);
  EXPECT_GE(tiny.size(), 20u);
  EXPECT_GT(tiny.front(), 0);
  EXPECT_TRUE(std::is_sorted(tiny.begin(), tiny.end()));
}

}  // namespace
}  // namespace gw::market
