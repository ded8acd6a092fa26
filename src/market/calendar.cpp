// Expiry cycles and strike ladders (see calendar.hpp for the layout).
#include "market/calendar.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace gw::market {

using namespace std::chrono;

std::string_view to_string(Cycle c) {
  switch (c) {
    case Cycle::day:
      return "day";
    case Cycle::week:
      return "week";
    case Cycle::month:
      return "month";
    case Cycle::quarter:
      return "quarter";
  }
  return "";
}

std::string_view settlement_period(Cycle c) {
  // Deribit has no "quarter" settlement period: its quarterly futures say "month".
  return c == Cycle::quarter ? "month" : to_string(c);
}

TimestampMs expiry_ms(year_month_day date) {
  return duration_cast<milliseconds>((sys_days{date} + kExpiryTimeOfDay).time_since_epoch())
      .count();
}

year_month_day utc_date(TimestampMs ms) {
  return year_month_day{floor<days>(sys_time<milliseconds>{milliseconds{ms}})};
}

year_month_day last_friday(year_month ym) {
  return year_month_day{sys_days{ym / Friday[last]}};
}

bool is_quarter_month(month m) {
  return m == March || m == June || m == September || m == December;
}

Cycle cycle_of(year_month_day date) {
  if (weekday{sys_days{date}} != Friday) return Cycle::day;
  if (date != last_friday(date.year() / date.month())) return Cycle::week;
  return is_quarter_month(date.month()) ? Cycle::quarter : Cycle::month;
}

// ---- Live expiries ----------------------------------------------------------------------------

namespace {

// The first date whose 08:00 expiry is still ahead of `now` (today until 08:00, then tomorrow).
sys_days first_open_day(TimestampMs now) {
  const sys_days today{utc_date(now)};
  return expiry_ms(today) > now ? today : today + days{1};
}

void add_dailies(sys_days first, int count, std::vector<sys_days>& out) {
  for (int i = 0; i < count; ++i) out.push_back(first + days{i});
}

void add_fridays(sys_days first, int count, std::vector<sys_days>& out) {
  // weekday subtraction is modulo 7, so this is the first Friday on or after `first`.
  const sys_days friday = first + (Friday - weekday{first});
  for (int i = 0; i < count; ++i) out.push_back(friday + weeks{i});
}

void add_month_ends(sys_days first, int count, bool quarters_only, std::vector<sys_days>& out) {
  const year_month_day from{first};
  year_month ym = from.year() / from.month();
  for (int listed = 0; listed < count; ym += months{1}) {
    if (quarters_only && !is_quarter_month(ym.month())) continue;
    const sys_days end{last_friday(ym)};
    if (end < first) continue;  // this month's last Friday has already expired
    out.push_back(end);
    ++listed;
  }
}

}  // namespace

std::vector<Expiry> live_expiries(TimestampMs now, const ExpiryCounts& counts) {
  const sys_days first = first_open_day(now);
  std::vector<sys_days> days_listed;
  add_dailies(first, counts.dailies, days_listed);
  add_fridays(first, counts.weeklies, days_listed);
  add_month_ends(first, counts.monthlies, false, days_listed);
  add_month_ends(first, counts.quarterlies, true, days_listed);
  std::sort(days_listed.begin(), days_listed.end());
  days_listed.erase(std::unique(days_listed.begin(), days_listed.end()), days_listed.end());

  std::vector<Expiry> out;
  out.reserve(days_listed.size());
  for (const sys_days d : days_listed) {
    const year_month_day date{d};
    out.push_back({date, expiry_ms(date), cycle_of(date)});
  }
  return out;
}

// ---- Strikes ----------------------------------------------------------------------------------

namespace {

using Strike = std::int64_t;
constexpr std::array<Strike, 7> kBtcSteps{1000, 2000, 5000, 10000, 20000, 50000, 100000};
constexpr std::array<Strike, 7> kEthSteps{25, 50, 100, 200, 500, 1000, 2000};
// Keeps every strike an exact integer far inside int64 and double precision.
constexpr double kMaxForward = 1e12;
constexpr int kMaxWidenings = 32;
constexpr Strike kMaxStepFraction = 4;
constexpr int kMaxStrikes = 1000;  // bounds the work whatever the parameters say

// The steps near the money, in the middle third and in the outer third of the range.
using Tiers = std::array<Strike, 3>;

Tiers tiers_from(std::span<const Strike> ladder, std::size_t base) {
  Tiers t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = ladder[std::min(base + i, ladder.size() - 1)];
  return t;
}

double log_moneyness(Strike k, double forward) {
  return std::log(static_cast<double>(k) / forward);
}

// A step is at most a quarter of the strike it leaves, so that far below the money, where a
// tier's step would jump straight to zero (a 100000 step from 40000), the chain still reaches
// down in roughly log-even steps (40000, 30000, 20000, 15000, …).
Strike capped_step(Strike step, Strike k, std::span<const Strike> ladder) {
  Strike cap = ladder.front();
  for (const Strike s : ladder) {
    if (s * kMaxStepFraction <= k) cap = s;
  }
  return std::min(step, cap);
}

// Walks out from the at-the-money strike, each step taken from the tier the current strike is
// in and landing on the next whole multiple of that step, so coarser steps stay on their grid
// (…, 103000, 104000, 106000, 110000, …). At most `side_limit` strikes each side.
std::vector<Strike> walk_chain(double forward, double half_width, const Tiers& tiers,
                               std::span<const Strike> ladder, std::size_t side_limit) {
  // The strikes where |ln(K/F)| reaches a third, two thirds and all of the half width, so the
  // walk compares strikes instead of taking logarithms.
  std::array<double, 3> low{};
  std::array<double, 3> high{};
  for (std::size_t j = 0; j < 3; ++j) {
    const double x = half_width * static_cast<double>(j + 1) / 3;
    low[j] = forward * std::exp(-x);
    high[j] = forward * std::exp(x);
  }
  const auto within = [&](Strike k, std::size_t j) {
    const auto kd = static_cast<double>(k);
    return kd >= low[j] && kd <= high[j];
  };
  const auto step_at = [&](Strike k) {
    const Strike tier_step = tiers[within(k, 0) ? 0 : within(k, 1) ? 1 : 2];
    return capped_step(tier_step, k, ladder);
  };
  const auto inside = [&](Strike k) { return k > 0 && within(k, 2); };
  const Strike atm =
      std::max<Strike>(tiers[0], std::llround(forward / static_cast<double>(tiers[0])) * tiers[0]);
  std::vector<Strike> chain{atm};
  Strike k = atm;
  for (std::size_t n = 0; n < side_limit; ++n) {
    const Strike s = step_at(k);
    k = (k / s + 1) * s;
    if (!inside(k)) break;
    chain.push_back(k);
  }
  k = atm;
  for (std::size_t n = 0; n < side_limit; ++n) {
    const Strike s = step_at(k);
    k = (k - 1) / s * s;
    if (!inside(k)) break;
    chain.push_back(k);
  }
  std::sort(chain.begin(), chain.end());
  return chain;
}

// Widens the range until the chain has `min_count` strikes (a short expiry at a fine step).
std::vector<Strike> widened_chain(double forward, double half_width, std::span<const Strike> ladder,
                                  std::size_t base, std::size_t min_count, std::size_t max_count) {
  const Tiers tiers = tiers_from(ladder, base);
  std::vector<Strike> chain;
  for (int i = 0; i < kMaxWidenings; ++i, half_width *= 1.25) {
    chain = walk_chain(forward, half_width, tiers, ladder, max_count);
    if (chain.size() >= min_count) break;
  }
  return chain;
}

// Only when even the coarsest steps give too many strikes (extreme vol or maturity).
void keep_nearest(std::vector<Strike>& chain, double forward, std::size_t count) {
  std::sort(chain.begin(), chain.end(), [&](Strike a, Strike b) {
    return std::abs(log_moneyness(a, forward)) < std::abs(log_moneyness(b, forward));
  });
  chain.resize(count);
  std::sort(chain.begin(), chain.end());
}

double initial_half_width(const StrikeParams& p, double years) {
  const double w = p.stdevs * p.reference_vol * std::sqrt(std::max(years, p.min_years));
  return std::isfinite(w) && w > 0 ? w : 0.01;
}

}  // namespace

std::span<const std::int64_t> strike_steps(Currency c) {
  return c == Currency::BTC ? std::span<const std::int64_t>{kBtcSteps}
                            : std::span<const std::int64_t>{kEthSteps};
}

std::vector<double> strike_layout(Currency c, double forward, double years,
                                  const StrikeParams& params) {
  if (!(forward > 0 && forward < kMaxForward)) return {};
  const int min_strikes = std::clamp(params.min_count, 1, kMaxStrikes);
  const auto min_count = static_cast<std::size_t>(min_strikes);
  const auto max_count =
      static_cast<std::size_t>(std::clamp(params.max_count, min_strikes, kMaxStrikes));
  const double half_width = initial_half_width(params, years);
  const std::span<const Strike> ladder = strike_steps(c);

  // The finest base step whose chain fits in max_count.
  std::vector<Strike> chain;
  for (std::size_t base = 0; base < ladder.size(); ++base) {
    chain = widened_chain(forward, half_width, ladder, base, min_count, max_count);
    if (chain.size() <= max_count) break;
  }
  if (chain.size() > max_count) keep_nearest(chain, forward, max_count);
  std::vector<double> strikes;
  strikes.reserve(chain.size());
  for (const Strike k : chain) strikes.push_back(static_cast<double>(k));
  return strikes;
}

}  // namespace gw::market
