// Instruments: contract specifications, fixed-point conversions, tick steps, names.
// Expected timestamps come from Deribit's own data (deribit-api.md: BTC-24SEP21-40000-P expires
// at 1632470400000, BTC-29SEP23 at 1695974400000, BTC-13JAN23-16000-P at 1673596800000).
#include "market/instrument.hpp"

#include <gtest/gtest.h>

#include "market/calendar.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace gw::market {
namespace {

using namespace std::chrono;

Instrument parsed(std::string_view name) {
  const ParsedName p = parse_instrument_name(name);
  EXPECT_TRUE(p.ok()) << name << ": " << to_string(p.error);
  return make_instrument(p.name);
}

// ---- Contract specifications ------------------------------------------------------------------

TEST(InstrumentSpec, BtcPerpetual) {
  const Instrument i = make_instrument(perpetual_name(Currency::BTC));
  EXPECT_EQ(i.name, "BTC-PERPETUAL");
  EXPECT_EQ(i.kind, Kind::future);
  EXPECT_TRUE(i.perpetual);
  EXPECT_EQ(i.expiration_ms, 32503708800000);
  EXPECT_EQ(i.settlement_period, "perpetual");
  EXPECT_EQ(i.tick_size, 0.5);
  EXPECT_TRUE(i.tick_size_steps.empty());
  EXPECT_EQ(i.contract_size, 10);
  EXPECT_EQ(i.min_trade_amount, 10);
  EXPECT_EQ(i.maker_commission, 0);
  EXPECT_EQ(i.taker_commission, 0.0005);
  EXPECT_EQ(i.price_index, "btc_usd");
  EXPECT_EQ(i.instrument_type, "reversed");
  EXPECT_EQ(i.max_leverage, 50);
  EXPECT_EQ(i.price_unit, 0.5);
  EXPECT_EQ(i.amount_unit, 10);
  EXPECT_EQ(i.price_decimals, 1);
  EXPECT_EQ(i.amount_decimals, 0);
  EXPECT_EQ(i.base_currency(), "BTC");
  EXPECT_EQ(i.quote_currency(), "USD");
  EXPECT_EQ(i.counter_currency(), "USD");
  EXPECT_EQ(i.settlement_currency(), "BTC");
  EXPECT_EQ(i.state(), "open");
  EXPECT_EQ(i.id, 0u);  // the registry assigns ids
}

TEST(InstrumentSpec, EthFuture) {
  const Instrument i = parsed("ETH-26MAR27");
  EXPECT_FALSE(i.perpetual);
  EXPECT_EQ(i.settlement_period, "month");  // a quarterly says "month"
  EXPECT_EQ(i.expiration_ms, expiry_ms(2027y / March / 26));
  EXPECT_EQ(i.tick_size, 0.05);
  EXPECT_EQ(i.contract_size, 1);
  EXPECT_EQ(i.min_trade_amount, 1);
  EXPECT_EQ(i.price_index, "eth_usd");
  EXPECT_EQ(i.price_decimals, 2);  // 0.05
  EXPECT_EQ(i.amount_decimals, 0);
  EXPECT_EQ(i.quote_currency(), "USD");
}

TEST(InstrumentSpec, BtcOption) {
  const Instrument i = parsed("BTC-24SEP21-40000-P");
  EXPECT_EQ(i.kind, Kind::option);
  EXPECT_EQ(i.option_type, OptionType::put);
  EXPECT_EQ(i.strike, 40000);
  EXPECT_EQ(i.expiration_ms, 1632470400000);  // Deribit's own row
  EXPECT_EQ(i.settlement_period, "month");    // September's last Friday: a quarterly
  EXPECT_EQ(i.tick_size, 0.0001);
  ASSERT_EQ(i.tick_size_steps.size(), 1u);
  EXPECT_EQ(i.tick_size_steps[0].above_price, 0.005);
  EXPECT_EQ(i.tick_size_steps[0].tick_size, 0.0005);
  EXPECT_EQ(i.contract_size, 1);
  EXPECT_EQ(i.min_trade_amount, 0.1);
  EXPECT_EQ(i.maker_commission, 0.0003);
  EXPECT_EQ(i.taker_commission, 0.0003);
  EXPECT_EQ(i.max_leverage, 0);
  EXPECT_EQ(i.price_unit, 0.0001);
  EXPECT_EQ(i.amount_unit, 0.1);
  EXPECT_EQ(i.price_decimals, 4);
  EXPECT_EQ(i.amount_decimals, 1);
  EXPECT_EQ(i.quote_currency(), "BTC");
  EXPECT_EQ(i.settlement_currency(), "BTC");
}

TEST(InstrumentSpec, EthOptionTradesWholeCoins) {
  const Instrument i = parsed("ETH-30JUL21-2800-C");
  EXPECT_EQ(i.min_trade_amount, 1);
  EXPECT_EQ(i.amount_decimals, 0);
  EXPECT_EQ(i.tick_size, 0.0001);
  EXPECT_EQ(i.tick_size_steps.size(), 1u);
  EXPECT_EQ(i.settlement_period, "month");  // 2021-07-30 is July's last Friday
  EXPECT_EQ(i.quote_currency(), "ETH");
}

TEST(InstrumentSpec, SettlementPeriodFollowsTheExpiryDate) {
  EXPECT_EQ(parsed("BTC-27DEC26").settlement_period, "day");   // a Sunday
  EXPECT_EQ(parsed("BTC-18DEC26").settlement_period, "week");  // a Friday, not the last
  EXPECT_EQ(parsed("BTC-29JAN27").settlement_period, "month");
  EXPECT_EQ(parsed("BTC-25DEC26").settlement_period, "month");         // quarterly
  EXPECT_EQ(parsed("BTC-13JAN23-16000-P").settlement_period, "week");  // as Deribit's row
  EXPECT_EQ(parsed("BTC-13JAN23-16000-P").expiration_ms, 1673596800000);
  EXPECT_EQ(parsed("BTC-29SEP23").expiration_ms, 1695974400000);
}

// ---- Fixed-point conversions ------------------------------------------------------------------

TEST(InstrumentUnits, DecimalsOfAUnit) {
  EXPECT_EQ(decimals_of(0.0001), 4);
  EXPECT_EQ(decimals_of(0.0005), 4);
  EXPECT_EQ(decimals_of(0.5), 1);
  EXPECT_EQ(decimals_of(0.05), 2);
  EXPECT_EQ(decimals_of(0.25), 2);
  EXPECT_EQ(decimals_of(0.1), 1);
  EXPECT_EQ(decimals_of(1), 0);
  EXPECT_EQ(decimals_of(10), 0);
  EXPECT_EQ(decimals_of(0), 0);
  EXPECT_EQ(decimals_of(std::nan("")), 0);
}

TEST(InstrumentUnits, PricesRoundToTheNearestUnit) {
  const Instrument opt = parsed("BTC-27DEC26-100000-C");
  // 0.0005 / 0.0001 is 4.999999999999999 in binary; it is 5 ticks.
  EXPECT_EQ(opt.to_ticks(0.0005), 5);
  EXPECT_EQ(opt.to_ticks(0.0003), 3);  // 2.9999999999999996
  EXPECT_EQ(opt.to_ticks(0.00012), 1);
  EXPECT_EQ(opt.to_ticks(0.00018), 2);
  EXPECT_EQ(opt.to_ticks(0.0), 0);
  EXPECT_EQ(opt.to_ticks(0.1 + 0.2), 3000);
  EXPECT_EQ(opt.to_ticks(-0.0005), -5);

  const Instrument perp = make_instrument(perpetual_name(Currency::BTC));
  EXPECT_EQ(perp.to_ticks(100000.5), 200001);
  EXPECT_EQ(perp.to_ticks(100000.74), 200001);
  EXPECT_EQ(perp.to_ticks(100000.76), 200002);

  const Instrument eth = make_instrument(perpetual_name(Currency::ETH));
  EXPECT_EQ(eth.to_ticks(0.1 + 0.2), 6);  // 0.30000000000000004 / 0.05
  EXPECT_EQ(eth.to_ticks(3456.85), 69137);
}

TEST(InstrumentUnits, BackToTheNearestDouble) {
  const Instrument opt = parsed("BTC-27DEC26-100000-C");
  // 3 · 0.0001 in binary is 0.00030000000000000003; the conversion gives the double for 0.0003.
  EXPECT_EQ(opt.to_price(3), 0.0003);
  EXPECT_EQ(opt.to_price(5), 0.0005);
  EXPECT_EQ(opt.to_price(1234), 0.1234);
  EXPECT_EQ(opt.to_amount(3), 0.3);  // 3 · 0.1 would be 0.30000000000000004
  EXPECT_EQ(opt.to_amount(7), 0.7);
  EXPECT_EQ(opt.to_lots(0.1 + 0.2), 3);

  const Instrument perp = make_instrument(perpetual_name(Currency::BTC));
  EXPECT_EQ(perp.to_price(200001), 100000.5);
  EXPECT_EQ(perp.to_amount(25), 250);
  EXPECT_EQ(perp.to_lots(250), 25);

  // Every price and amount on the grid survives the round trip.
  for (Ticks t = 0; t < 20000; ++t) ASSERT_EQ(opt.to_ticks(opt.to_price(t)), t);
  for (Lots l = 0; l < 20000; ++l) ASSERT_EQ(opt.to_lots(opt.to_amount(l)), l);
}

// to_price and to_amount avoid libm (tickers convert prices of every instrument every second):
// they must give the doubles of the plain formula, units × round(unit × 10^d) / 10^d.
TEST(InstrumentUnits, ConversionMatchesThePlainFormula) {
  for (double unit : {0.0001, 0.0005, 0.5, 0.05, 0.25, 0.1, 1.0, 10.0, 2.5, 1e-8, 0.001, 0.01,
                      0.125, 7.0, 1e-15, 3e-16}) {
    int d = 0;
    double scale = 1;
    while (d < 15 &&
           std::abs(unit * scale - std::round(unit * scale)) > 1e-9 * std::max(1.0, unit * scale)) {
      ++d;
      scale *= 10;
    }
    EXPECT_EQ(decimals_of(unit), d) << unit;
    Instrument i = parsed("BTC-27DEC26-100000-C");
    i.price_unit = unit;
    i.amount_unit = unit;
    const double mantissa = std::round(unit * scale);
    for (std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{3}, std::int64_t{-7},
                           std::int64_t{1234}, std::int64_t{200001}, kMaxUnits - 1}) {
      ASSERT_EQ(i.to_price(n), static_cast<double>(n) * mantissa / scale) << unit << " " << n;
      ASSERT_EQ(i.to_amount(n), static_cast<double>(n) * mantissa / scale) << unit << " " << n;
    }
  }
}

TEST(InstrumentUnits, ExactConversionRejectsOffGridInput) {
  const Instrument opt = parsed("BTC-27DEC26-100000-C");
  EXPECT_EQ(opt.exact_ticks(0.0005), 5);
  EXPECT_EQ(opt.exact_ticks(0.1 + 0.2), 3000);
  EXPECT_EQ(opt.exact_ticks(0.00015), std::nullopt);  // half a tick
  EXPECT_EQ(opt.exact_ticks(0.00010001), std::nullopt);
  EXPECT_EQ(opt.exact_lots(0.1 + 0.2), 3);
  EXPECT_EQ(opt.exact_lots(0.7), 7);
  EXPECT_EQ(opt.exact_lots(0.15), std::nullopt);
  EXPECT_EQ(opt.exact_lots(std::nan("")), std::nullopt);
  EXPECT_EQ(opt.exact_lots(std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(opt.exact_lots(1e300), std::nullopt);

  const Instrument perp = make_instrument(perpetual_name(Currency::BTC));
  EXPECT_EQ(perp.exact_lots(100), 10);
  EXPECT_EQ(perp.exact_lots(105), std::nullopt);  // not a whole 10 USD contract
  EXPECT_EQ(perp.exact_ticks(65432.5), 130865);
  EXPECT_EQ(perp.exact_ticks(65432.25), std::nullopt);
  EXPECT_EQ(perp.exact_lots(1e12), 100000000000);
}

TEST(InstrumentUnits, NonFiniteAndHugeInputsClamp) {
  const Instrument opt = parsed("BTC-27DEC26-100000-C");
  EXPECT_EQ(opt.to_ticks(std::nan("")), 0);
  EXPECT_EQ(opt.to_ticks(1e300), kMaxUnits);
  EXPECT_EQ(opt.to_ticks(-std::numeric_limits<double>::infinity()), -kMaxUnits);
}

// ---- Tick steps -------------------------------------------------------------------------------

TEST(InstrumentTicks, OptionTickCoarsensFromFiveThousandths) {
  const Instrument opt = parsed("BTC-27DEC26-100000-C");
  // In units of 0.0001: below 50 (0.005) the tick is 1, from 50 up it is 5.
  EXPECT_EQ(opt.tick_at(1), 1);
  EXPECT_EQ(opt.tick_at(49), 1);
  EXPECT_EQ(opt.tick_at(50), 5);
  EXPECT_EQ(opt.tick_at(51), 5);
  EXPECT_EQ(opt.tick_at(10000), 5);
  EXPECT_TRUE(opt.on_tick(opt.to_ticks(0.0049)));
  EXPECT_TRUE(opt.on_tick(opt.to_ticks(0.005)));
  EXPECT_FALSE(opt.on_tick(opt.to_ticks(0.0051)));
  EXPECT_FALSE(opt.on_tick(opt.to_ticks(0.0054)));
  EXPECT_TRUE(opt.on_tick(opt.to_ticks(0.0055)));
  EXPECT_TRUE(opt.on_tick(opt.to_ticks(0.1 + 0.2)));
  EXPECT_TRUE(opt.on_tick(opt.to_ticks(0.0001)));
}

TEST(InstrumentTicks, FuturesHaveOneTick) {
  const Instrument perp = make_instrument(perpetual_name(Currency::BTC));
  for (Ticks t = 0; t < 1000; ++t) {
    ASSERT_EQ(perp.tick_at(t), 1);
    ASSERT_TRUE(perp.on_tick(t));
  }
}

TEST(InstrumentTicks, StepsInAnyOrder) {
  Instrument i;
  i.tick_size = 0.01;
  i.tick_size_steps = {{10, 0.5}, {1, 0.05}};  // out of order on purpose
  i.price_unit = 0.01;
  EXPECT_EQ(i.tick_at(i.to_ticks(0.5)), 1);
  EXPECT_EQ(i.tick_at(i.to_ticks(1)), 5);
  EXPECT_EQ(i.tick_at(i.to_ticks(9.99)), 5);
  EXPECT_EQ(i.tick_at(i.to_ticks(10)), 50);
  EXPECT_TRUE(i.on_tick(i.to_ticks(10.5)));
  EXPECT_FALSE(i.on_tick(i.to_ticks(10.25)));
  EXPECT_TRUE(i.on_tick(i.to_ticks(9.95)));
  EXPECT_FALSE(i.on_tick(i.to_ticks(9.96)));
}

// ---- Names ------------------------------------------------------------------------------------

TEST(InstrumentNames, Format) {
  EXPECT_EQ(format_instrument_name(perpetual_name(Currency::BTC)), "BTC-PERPETUAL");
  EXPECT_EQ(format_instrument_name(perpetual_name(Currency::ETH)), "ETH-PERPETUAL");
  EXPECT_EQ(format_instrument_name(future_name(Currency::BTC, 2026y / August / 5)), "BTC-5AUG26");
  EXPECT_EQ(format_instrument_name(
                option_name(Currency::BTC, 2026y / December / 27, 100000, OptionType::call)),
            "BTC-27DEC26-100000-C");
  EXPECT_EQ(format_instrument_name(
                option_name(Currency::ETH, 2030y / January / 1, 0.625, OptionType::put)),
            "ETH-1JAN30-0d625-P");
  EXPECT_EQ(format_expiry(2000y / January / 31), "31JAN00");
  EXPECT_EQ(format_expiry(2099y / September / 9), "9SEP99");
}

TEST(InstrumentNames, Strikes) {
  EXPECT_EQ(format_strike(100000), "100000");
  EXPECT_EQ(format_strike(2800), "2800");
  EXPECT_EQ(format_strike(1), "1");
  EXPECT_EQ(format_strike(0.625), "0d625");
  EXPECT_EQ(format_strike(0.1), "0d1");
  EXPECT_EQ(format_strike(1.5), "1d5");
  EXPECT_EQ(format_strike(2500.25), "2500d25");
  EXPECT_EQ(format_strike(0.1 + 0.2), "0d30000000000000004");  // shortest exact, not rounded
}

TEST(InstrumentNames, ParsesDeribitNames) {
  ParsedName p = parse_instrument_name("BTC-24SEP21-40000-P");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.name, option_name(Currency::BTC, 2021y / September / 24, 40000, OptionType::put));
  EXPECT_EQ(p.name.expiration_ms(), 1632470400000);

  p = parse_instrument_name("ETH-PERPETUAL");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.name, perpetual_name(Currency::ETH));
  EXPECT_EQ(p.name.expiration_ms(), kPerpetualExpirationMs);

  p = parse_instrument_name("BTC-5AUG23");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.name, future_name(Currency::BTC, 2023y / August / 5));

  p = parse_instrument_name("ETH-2JUN21-0d625-C");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.name.strike, 0.625);
  EXPECT_EQ(p.name.option_type, OptionType::call);

  EXPECT_TRUE(parse_instrument_name("BTC-29FEB28").ok());  // 2028 is a leap year
  EXPECT_TRUE(parse_instrument_name("BTC-29FEB00").ok());  // so is 2000
}

TEST(InstrumentNames, RoundTrips) {
  for (const std::string_view name :
       {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-5AUG26", "BTC-27DEC26", "ETH-31DEC27",
        "BTC-27DEC26-100000-C", "BTC-27DEC26-100000-P", "BTC-24SEP21-8000-P", "ETH-30JUL21-2800-C",
        "BTC-2JUN21-37000-P", "ETH-1JAN30-0d625-P", "BTC-9SEP99-1d5-C", "ETH-10OCT10-2500d25-C"}) {
    const ParsedName p = parse_instrument_name(name);
    ASSERT_TRUE(p.ok()) << name << ": " << to_string(p.error);
    EXPECT_EQ(format_instrument_name(p.name), name);
    EXPECT_EQ(make_instrument(p.name).name, name);
  }
}

TEST(InstrumentNames, EveryDateOfTheCenturyRoundTrips) {
  for (sys_days d = sys_days{2000y / January / 1}; d <= sys_days{2099y / December / 31};
       d += days{1}) {
    const InstrumentName n = option_name(Currency::ETH, year_month_day{d}, 3250, OptionType::put);
    const ParsedName p = parse_instrument_name(format_instrument_name(n));
    ASSERT_TRUE(p.ok()) << format_instrument_name(n);
    ASSERT_EQ(p.name, n);
    ASSERT_EQ(p.name.expiration_ms(), expiry_ms(year_month_day{d}));
  }
}

struct Malformed {
  std::string_view name;
  NameError error;
};

TEST(InstrumentNames, RejectsMalformedNames) {
  const Malformed cases[] = {
      {"", NameError::malformed},
      {"BTC", NameError::malformed},
      {"BTC-", NameError::malformed},
      {"-PERPETUAL", NameError::malformed},
      {"BTC--PERPETUAL", NameError::malformed},
      {"BTC-PERPETUAL-", NameError::malformed},
      {"BTC-PERPETUAL-C", NameError::malformed},
      {"BTC-27DEC26-100000", NameError::malformed},
      {"BTC-27DEC26-100000-C-X", NameError::malformed},
      {"BTC-27DEC26--100000-C", NameError::malformed},
      {"XRP-PERPETUAL", NameError::bad_currency},
      {"btc-PERPETUAL", NameError::bad_currency},
      {"BTC_USDC-PERPETUAL", NameError::bad_currency},
      {" BTC-PERPETUAL", NameError::bad_currency},
      {"BTC-perpetual", NameError::bad_day},
      {"BTC-PERPETUALX", NameError::bad_day},
      {"BTC-05AUG26", NameError::bad_day},  // Deribit never pads the day
      {"BTC-0AUG26", NameError::bad_day},
      {"BTC-32AUG26", NameError::bad_day},
      {"BTC-123AUG26", NameError::bad_day},
      {"BTC-AUG26", NameError::bad_day},
      {"BTC-5Aug26", NameError::bad_month},
      {"BTC-5XYZ26", NameError::bad_month},
      {"BTC-5AU", NameError::bad_month},
      {"BTC-5", NameError::bad_month},
      {"BTC-5AUGUST26", NameError::bad_year},
      {"BTC-5AUG2026", NameError::bad_year},
      {"BTC-5AUG6", NameError::bad_year},
      {"BTC-5AUG", NameError::bad_year},
      {"BTC-5AUG2X", NameError::bad_year},
      {"BTC-5AUG26 ", NameError::bad_year},
      {"BTC-30FEB26", NameError::bad_date},
      {"BTC-29FEB27", NameError::bad_date},  // 2027 is not a leap year
      {"BTC-31APR26", NameError::bad_date},
      {"BTC-31JUN26-1000-C", NameError::bad_date},
      {"BTC-5AUG26-0100000-C", NameError::bad_strike},
      {"BTC-5AUG26-100000.5-C", NameError::bad_strike},
      {"BTC-5AUG26-0-C", NameError::bad_strike},
      {"BTC-5AUG26-0d0-C", NameError::bad_strike},
      {"BTC-5AUG26-0d6250-C", NameError::bad_strike},
      {"BTC-5AUG26-00d625-C", NameError::bad_strike},
      {"BTC-5AUG26-d5-C", NameError::bad_strike},
      {"BTC-5AUG26-1d-C", NameError::bad_strike},
      {"BTC-5AUG26-1d5d5-C", NameError::bad_strike},
      {"BTC-5AUG26-1e5-C", NameError::bad_strike},
      {"BTC-5AUG26-+100-C", NameError::bad_strike},
      {"BTC-5AUG26-1000000000000-C", NameError::bad_strike},        // 13 digits
      {"BTC-5AUG26-0d10000000000000001-C", NameError::bad_strike},  // not the shortest form
      {"BTC-5AUG26-100000-X", NameError::bad_option_type},
      {"BTC-5AUG26-100000-c", NameError::bad_option_type},
      {"BTC-5AUG26-100000-CALL", NameError::bad_option_type},
  };
  for (const Malformed& m : cases) {
    const ParsedName p = parse_instrument_name(m.name);
    EXPECT_EQ(p.error, m.error) << "'" << m.name << "' gave " << to_string(p.error);
    EXPECT_FALSE(p.ok());
    EXPECT_FALSE(to_string(p.error).empty());
  }
}

// Whatever a single-character change to a valid name produces is either rejected or is itself
// a canonical name: the parser accepts exactly what the formatter writes.
TEST(InstrumentNames, MutationsAreRejectedOrCanonical) {
  const std::string alphabet = "0123456789dCPBTEHJANFEMRYULGSOVD-. xc\x01\xff";
  int accepted = 0;
  for (const std::string base : {"BTC-27DEC26-100000-C", "ETH-1JAN30-0d625-P", "BTC-PERPETUAL"}) {
    for (std::size_t pos = 0; pos <= base.size(); ++pos) {
      for (const char c : alphabet) {
        for (const bool insert : {false, true}) {
          std::string name = base;
          if (insert) {
            name.insert(pos, 1, c);
          } else if (pos < name.size()) {
            name[pos] = c;
          } else {
            continue;
          }
          const ParsedName p = parse_instrument_name(name);
          if (!p.ok()) continue;
          ++accepted;
          ASSERT_EQ(format_instrument_name(p.name), name);
        }
      }
      std::string erased = base;
      erased.erase(std::min(pos, base.size() - 1), 1);
      const ParsedName p = parse_instrument_name(erased);
      if (p.ok()) {
        ASSERT_EQ(format_instrument_name(p.name), erased);
      }
    }
  }
  EXPECT_GT(accepted, 50);  // e.g. other days, strikes, C↔P
}

}  // namespace
}  // namespace gw::market
