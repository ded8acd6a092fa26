// Deribit's units, validated against real data:
//  - a captured ticker frame (docs/deribit-api.md §4, cryptofeed sample data):
//    ETH-30JUL21-2800-C at 1626993723632 ms, underlying_price 2003.61, mark_iv 120.74,
//    interest_rate 0, mark_price 0.001972, greeks {delta 0.03127, gamma 0.0002, vega 0.20072,
//    theta −1.64029, rho 0.01188};
//  - an OptionsDX row (options-math.md §2): BTC-2JUN21-40000-C, F 36,692.74, 1.16613 days,
//    IV 90.91 %, Deribit {delta 0.04912, gamma 0.00005, vega 2.10958, theta −37.897, rho 0.0564}.
// The tolerances are the rounding of the published figures (the ticker's Greeks have 5
// decimals; the OptionsDX inputs are rounded to ~5 significant digits, so 0.5 %).
#include "pricing/deribit.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace gw::pricing {
namespace {

TEST(Deribit, ExpiryIsEightUtc) {
  EXPECT_EQ(deribit_expiry_ms(2021, 7, 30), 1627632000000);  // 2021-07-30T08:00:00Z
  EXPECT_EQ(deribit_expiry_ms(1970, 1, 1), 8 * 3600 * 1000);
  EXPECT_DOUBLE_EQ(deribit_years_to_expiry(0, 365LL * 86'400'000), 1.0);
  EXPECT_EQ(deribit_years_to_expiry(2000, 1000), 0.0);
}

TEST(Deribit, ReproducesCapturedEthTicker) {
  const double years = deribit_years_to_expiry(1626993723632, deribit_expiry_ms(2021, 7, 30));
  EXPECT_NEAR(years * 365, 7.387458, 1e-6);
  const DeribitGreeks g = deribit_greeks(OptionType::call, 2003.61, 2800, years, 1.2074);
  EXPECT_NEAR(g.mark_price_coin, 0.001972, 5e-7);
  EXPECT_NEAR(g.delta, 0.03127, 5e-6);
  EXPECT_NEAR(g.gamma, 0.0002, 5e-5);
  EXPECT_NEAR(g.gamma, 0.000205, 5e-7);  // the 6-digit value recomputed in deribit-api.md §4
  EXPECT_NEAR(g.vega, 0.20072, 1e-5);
  // 7.4 days out the 1-day theta applies (the value lost over one day would be −1.479).
  EXPECT_NEAR(g.theta, -1.64029, 5e-5);
  EXPECT_NEAR(g.rho, 0.01188, 5e-6);
  // Mark IV from the mark price: 0.001972 is rounded to 5e-7 coin ≈ 0.001 USD, i.e. about
  // 0.005 vol points at this vega.
  const DeribitIv iv = deribit_implied_vol(OptionType::call, 0.001972, 2003.61, 2800, years);
  ASSERT_TRUE(iv.ok());
  EXPECT_NEAR(iv.iv_percent, 120.74, 0.005);
}

TEST(Deribit, ReproducesOptionsDxRowWithLifetimeTheta) {
  const double years = 1.16613 / 365;
  const DeribitGreeks g = deribit_greeks(OptionType::call, 36692.74, 40000, years, 0.9091);
  EXPECT_NEAR(g.delta / 0.04912, 1, 5e-3);
  EXPECT_NEAR(g.gamma, 0.00005, 5e-6);
  EXPECT_NEAR(g.vega / 2.10958, 1, 5e-3);
  EXPECT_NEAR(g.rho / 0.0564, 1, 5e-3);
  // 1.17 days out the instantaneous rate (−82.16 USD/day) exceeds the whole time value: the
  // lifetime theta (−37.83) applies.
  EXPECT_NEAR(g.theta / -37.897, 1, 5e-3);
  EXPECT_NEAR(black76_greeks(OptionType::call, 36692.74, 40000, years, 0.9091).theta / 365, -82.16,
              0.01);
}

TEST(Deribit, PutsAndExpiry) {
  const double years = 30 / 365.0;
  const DeribitGreeks c = deribit_greeks(OptionType::call, 30000, 32000, years, 0.6);
  const DeribitGreeks p = deribit_greeks(OptionType::put, 30000, 32000, years, 0.6);
  // Put-call parity in coin: C − P = (F − K)/F; delta differs by 1; gamma, vega equal.
  EXPECT_NEAR(c.mark_price_coin - p.mark_price_coin, (30000 - 32000) / 30000.0, 1e-15);
  EXPECT_NEAR(c.delta - p.delta, 1, 1e-15);
  EXPECT_DOUBLE_EQ(c.gamma, p.gamma);
  EXPECT_DOUBLE_EQ(c.vega, p.vega);
  EXPECT_NEAR(c.theta, p.theta, 1e-12);
  // Rho: K·T·N(d2)/100 for the call, −K·T·N(−d2)/100 for the put.
  EXPECT_NEAR(c.rho - p.rho, 32000 * years / 100, 1e-9);
  // Expired: intrinsic value, no time decay, no NaN.
  const DeribitGreeks e = deribit_greeks(OptionType::put, 30000, 32000, 0, 0.6);
  EXPECT_DOUBLE_EQ(e.mark_price_coin, 2000 / 30000.0);
  EXPECT_EQ(e.theta, 0.0);
  EXPECT_EQ(e.delta, -1.0);
  EXPECT_EQ(e.vega, 0.0);
  const DeribitIv bad = deribit_implied_vol(OptionType::call, 1.5, 30000, 32000, years);
  EXPECT_EQ(bad.error, IvError::above_maximum);
}

}  // namespace
}  // namespace gw::pricing
