// The registry: listing, stable ids, look-ups, get_instruments filters, rolling.
#include "market/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace gw::market {
namespace {

using namespace std::chrono;

constexpr TimestampMs kHourMs = 3'600'000;
constexpr TimestampMs kDayMs = 24 * kHourMs;
constexpr Forwards kForwards{100000, 3000};

// Thursday 2026-12-31 09:00 UTC (see calendar_test.cpp for the expiries live then).
const TimestampMs kYearEnd = expiry_ms(2026y / December / 31) + kHourMs;

std::size_t count(const InstrumentRegistry& r, InstrumentQuery q) {
  return r.select(q).size();
}

TEST(Registry, FirstRollListsEverything) {
  InstrumentRegistry r;
  const RollResult roll = r.roll(kYearEnd, kForwards);
  EXPECT_TRUE(roll.expired.empty());
  ASSERT_EQ(roll.created.size(), r.size());
  EXPECT_EQ(r.active_count(), r.size());

  // Ids from 1 in creation order: BTC's perpetual, futures, options, then ETH's.
  for (std::size_t i = 0; i < roll.created.size(); ++i) EXPECT_EQ(roll.created[i], i + 1);
  EXPECT_EQ(r.find(InstrumentId{1})->name, "BTC-PERPETUAL");
  EXPECT_EQ(r.find(InstrumentId{2})->name, "BTC-29JAN27");

  // The perpetual and the six dated futures per currency (29JAN27 … 31DEC27).
  EXPECT_EQ(count(r, {Currency::BTC, Kind::future, false}), 7u);
  EXPECT_EQ(count(r, {Currency::ETH, Kind::future, false}), 7u);
  for (const char* name : {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-29JAN27", "BTC-26FEB27",
                           "BTC-26MAR27", "BTC-25JUN27", "BTC-24SEP27", "ETH-31DEC27"}) {
    EXPECT_NE(r.find(name), nullptr) << name;
  }
  EXPECT_EQ(r.find("BTC-1JAN27"), nullptr);  // no weekly futures by default

  // Options on all eleven expiries, a call and a put per strike.
  const auto btc_options = r.select({Currency::BTC, Kind::option, false});
  std::set<TimestampMs> expiries;
  std::size_t calls = 0;
  for (const Instrument* i : btc_options) {
    expiries.insert(i->expiration_ms);
    calls += i->option_type == OptionType::call;
    const std::string put_name = i->name.substr(0, i->name.size() - 1) + "P";
    if (i->option_type == OptionType::call) {
      EXPECT_NE(r.find(put_name), nullptr) << put_name;
    }
  }
  EXPECT_EQ(expiries.size(), 11u);
  EXPECT_EQ(calls * 2, btc_options.size());
  EXPECT_NE(r.find("BTC-1JAN27-100000-C"), nullptr);
  EXPECT_NE(r.find("BTC-1JAN27-101000-P"), nullptr);
  EXPECT_NE(r.find("ETH-2JAN27-3025-C"), nullptr);

  EXPECT_EQ(count(r, {std::nullopt, std::nullopt, false}), r.size());
  EXPECT_EQ(count(r, {Currency::BTC, std::nullopt, false}) +
                count(r, {Currency::ETH, std::nullopt, false}),
            r.size());
  EXPECT_EQ(count(r, {std::nullopt, std::nullopt, true}), 0u);
}

TEST(Registry, LookUpsAgree) {
  InstrumentRegistry r;
  r.roll(kYearEnd, kForwards);
  for (const Instrument& i : r.all()) {
    ASSERT_EQ(r.find(i.name), &i);
    ASSERT_EQ(r.find(i.id), &i);
    ASSERT_EQ(i.creation_ms, kYearEnd);
    ASSERT_TRUE(i.is_active);
    ASSERT_GT(i.expiration_ms, kYearEnd);
  }
  EXPECT_EQ(r.find(InstrumentId{0}), nullptr);
  EXPECT_EQ(r.find(static_cast<InstrumentId>(r.size() + 1)), nullptr);
  EXPECT_EQ(r.find("BTC-1JAN27-100000-X"), nullptr);
  EXPECT_EQ(r.find(""), nullptr);
}

TEST(Registry, RollingAgainChangesNothing) {
  InstrumentRegistry r;
  r.roll(kYearEnd, kForwards);
  const std::size_t size = r.size();
  const RollResult again = r.roll(kYearEnd + 1000, kForwards);
  EXPECT_TRUE(again.created.empty());
  EXPECT_TRUE(again.expired.empty());
  EXPECT_EQ(r.size(), size);
}

TEST(Registry, ExpiryRollsAtEight) {
  InstrumentRegistry r;
  r.roll(kYearEnd, kForwards);
  const Instrument* weekly = r.find("BTC-1JAN27-100000-C");
  ASSERT_NE(weekly, nullptr);
  const InstrumentId last_id = static_cast<InstrumentId>(r.size());
  const TimestampMs eight = expiry_ms(2027y / January / 1);

  // 07:59:59.999: nothing has expired; the calendar is the same, so nothing new either.
  RollResult before = r.roll(eight - 1, kForwards);
  EXPECT_TRUE(before.expired.empty());
  EXPECT_TRUE(weekly->is_active);

  // 08:00: every 1JAN27 option expires; a new daily (4JAN27) and weekly (22JAN27) appear.
  const RollResult at = r.roll(eight, kForwards);
  EXPECT_FALSE(weekly->is_active);
  EXPECT_EQ(weekly->state(), "closed");
  ASSERT_FALSE(at.expired.empty());
  for (const InstrumentId id : at.expired) {
    EXPECT_EQ(r.find(id)->expiration_ms, eight);
    EXPECT_FALSE(r.find(id)->is_active);
  }
  EXPECT_NE(std::find(at.expired.begin(), at.expired.end(), weekly->id), at.expired.end());
  ASSERT_FALSE(at.created.empty());
  EXPECT_GT(at.created.front(), last_id);  // ids are never reused
  EXPECT_TRUE(std::is_sorted(at.created.begin(), at.created.end()));
  ASSERT_NE(r.find("BTC-4JAN27-100000-C"), nullptr);
  EXPECT_EQ(r.find("BTC-4JAN27-100000-C")->creation_ms, eight);
  EXPECT_EQ(r.find("BTC-4JAN27-100000-C")->settlement_period, "day");
  ASSERT_NE(r.find("ETH-22JAN27-3000-P"), nullptr);
  EXPECT_EQ(r.find("ETH-22JAN27-3000-P")->settlement_period, "week");

  // Expired instruments stay findable and are what expired=true returns.
  EXPECT_EQ(r.find("BTC-1JAN27-100000-C"), weekly);
  const auto expired = r.select({Currency::BTC, Kind::option, true});
  EXPECT_NE(std::find(expired.begin(), expired.end(), weekly), expired.end());
  EXPECT_EQ(count(r, {std::nullopt, std::nullopt, true}), at.expired.size());
  EXPECT_EQ(count(r, {std::nullopt, Kind::future, true}), 0u);
  EXPECT_EQ(r.active_count() + at.expired.size(), r.size());
  const auto active = r.select({Currency::BTC, Kind::option, false});
  EXPECT_EQ(std::find(active.begin(), active.end(), weekly), active.end());

  // Going back in time neither revives an expired instrument nor lists anything for its expiry.
  const RollResult back = r.roll(eight - 1, kForwards);
  EXPECT_FALSE(weekly->is_active);
  EXPECT_TRUE(back.created.empty());
  EXPECT_TRUE(back.expired.empty());
}

TEST(Registry, StrikesFollowTheForward) {
  InstrumentRegistry r;
  r.roll(kYearEnd, kForwards);
  EXPECT_EQ(r.find("BTC-2JAN27-130000-C"), nullptr);
  // The index rallies 30 %: strikes around 130000 are added, the old ones stay until expiry.
  const RollResult rally = r.roll(kYearEnd + kHourMs, {130000, 3000});
  EXPECT_FALSE(rally.created.empty());
  EXPECT_TRUE(rally.expired.empty());
  EXPECT_NE(r.find("BTC-2JAN27-130000-C"), nullptr);
  EXPECT_NE(r.find("BTC-2JAN27-100000-C"), nullptr);
  for (const InstrumentId id : rally.created) {
    EXPECT_EQ(r.find(id)->currency, Currency::BTC);
    EXPECT_EQ(r.find(id)->kind, Kind::option);
    EXPECT_EQ(r.find(id)->creation_ms, kYearEnd + kHourMs);
  }
}

TEST(Registry, NoForwardNoOptions) {
  InstrumentRegistry r;
  r.roll(kYearEnd, {100000, 0});
  EXPECT_EQ(count(r, {Currency::ETH, Kind::option, false}), 0u);
  EXPECT_EQ(count(r, {Currency::ETH, Kind::future, false}), 7u);
  EXPECT_GT(count(r, {Currency::BTC, Kind::option, false}), 0u);
  r.roll(kYearEnd, {std::nan(""), -1});
  EXPECT_EQ(count(r, {Currency::ETH, Kind::option, false}), 0u);
}

TEST(Registry, Rules) {
  ListingRules rules;
  rules.first_id = 1000;
  rules.futures = {0, 1, 0, 1};  // a weekly future and the next quarterly
  rules.options = {1, 0, 0, 0};
  rules.strikes.min_count = 4;
  rules.strikes.max_count = 6;
  InstrumentRegistry r{rules};
  const RollResult roll = r.roll(kYearEnd, kForwards);
  EXPECT_EQ(roll.created.front(), 1000u);
  EXPECT_EQ(r.find(InstrumentId{1000})->name, "BTC-PERPETUAL");
  EXPECT_EQ(r.find(InstrumentId{999}), nullptr);
  EXPECT_NE(r.find("BTC-1JAN27"), nullptr);
  EXPECT_NE(r.find("BTC-26MAR27"), nullptr);
  EXPECT_EQ(count(r, {Currency::BTC, Kind::future, false}), 3u);
  const std::size_t options = count(r, {Currency::BTC, Kind::option, false});
  EXPECT_GE(options, 8u);
  EXPECT_LE(options, 12u);
}

TEST(Registry, AddOne) {
  InstrumentRegistry r;
  const TimestampMs now = kYearEnd;
  const InstrumentName name =
      option_name(Currency::ETH, 2027y / June / 25, 0.625, OptionType::call);
  const Instrument* added = r.add(name, now);
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->name, "ETH-25JUN27-0d625-C");
  EXPECT_EQ(added->id, 1u);
  EXPECT_EQ(added->creation_ms, now);
  EXPECT_EQ(r.add(name, now + 5), added);  // already listed
  EXPECT_EQ(r.add(future_name(Currency::BTC, 2026y / December / 31), now), nullptr);  // expired
  EXPECT_EQ(r.find("BTC-31DEC26"), nullptr);
  EXPECT_NE(r.add(perpetual_name(Currency::BTC), now), nullptr);
  EXPECT_EQ(r.size(), 2u);
}

// A year of rolls every three days with a wandering forward: the invariants get_instruments
// relies on.
TEST(Registry, AYearOfRolls) {
  InstrumentRegistry r;
  const Instrument* perpetual = nullptr;
  std::size_t expired_total = 0;
  for (int day = 365 % 3; day <= 365; day += 3) {  // ends on day 365
    const TimestampMs now = kYearEnd + day * kDayMs + (day % 5) * 4 * kHourMs;
    const double drift = 1.0 + 0.3 * std::sin(day / 40.0);
    const RollResult roll = r.roll(now, {100000 * drift, 3000 / drift});
    expired_total += roll.expired.size();
    if (!perpetual) perpetual = r.find("BTC-PERPETUAL");
    ASSERT_EQ(r.find("BTC-PERPETUAL"), perpetual);  // pointers stay valid
    ASSERT_TRUE(perpetual->is_active);
    for (const Instrument* i : r.select({std::nullopt, std::nullopt, false})) {
      ASSERT_GT(i->expiration_ms, now) << i->name;
    }
  }
  EXPECT_EQ(expired_total, r.size() - r.active_count());
  std::set<std::string> names;
  InstrumentId previous = 0;
  for (const Instrument& i : r.all()) {
    ASSERT_GT(i.id, previous);
    previous = i.id;
    ASSERT_TRUE(names.insert(i.name).second) << i.name;
    // Everything but id, creation time and activity follows from the name.
    const ParsedName p = parse_instrument_name(i.name);
    ASSERT_TRUE(p.ok()) << i.name;
    Instrument rebuilt = make_instrument(p.name);
    rebuilt.id = i.id;
    rebuilt.creation_ms = i.creation_ms;
    rebuilt.is_active = i.is_active;
    ASSERT_EQ(rebuilt.name, i.name);
    ASSERT_EQ(rebuilt.expiration_ms, i.expiration_ms);
    ASSERT_EQ(rebuilt.settlement_period, i.settlement_period);
    ASSERT_EQ(rebuilt.strike, i.strike);
    ASSERT_EQ(rebuilt.tick_size, i.tick_size);
    ASSERT_EQ(rebuilt.min_trade_amount, i.min_trade_amount);
  }
  // The last roll is on 2027-12-31 09:00: that morning's quarterly has expired, the next is live.
  EXPECT_FALSE(r.find("BTC-31DEC27")->is_active);
  EXPECT_TRUE(r.find("BTC-31MAR28")->is_active);
}

}  // namespace
}  // namespace gw::market
