// Deribit's conventions for coin-settled (inverse) European options, as a layer over black.hpp.
//
//  - Time: years to the 08:00 UTC expiry over a 365-day year, from unix milliseconds.
//  - Model: Black-76 on the forward (the ticker's `underlying_price`) at r = 0; IV on the forward.
//  - Price: in coin, the USD Black-76 price divided by the forward (payoff (S_T − K)⁺/S_T paid in
//    coin, priced as USD/F).
//  - Greeks (ticker `greeks`): delta = Black-Scholes (forward) delta N(d1) or N(d1) − 1;
//    gamma per 1 USD; vega in USD per vol point (÷100); rho in USD per 1 % of rate in the spot
//    Black-Scholes form K·T·N(d2)/100 (−K·T·N(−d2)/100 for puts); theta in USD per calendar day
//    under Deribit's min(1-day, lifetime) rule: the 1-day theta (Black theta ÷ 365) unless it
//    exceeds the whole remaining time value, which the option loses over its lifetime.
//  - IV in percent (`mark_iv` 120.74 means σ = 1.2074).
//
// Validated in tests/pricing/deribit_test.cpp against a captured ETH-30JUL21-2800-C ticker
// (all five Greeks and the mark IV) and an OptionsDX BTC-2JUN21-40000-C row (1.17 days left,
// where the lifetime cap on theta applies).
#pragma once

#include <cstdint>

#include "pricing/black.hpp"
#include "pricing/implied_vol.hpp"

namespace gw::pricing {

inline constexpr double kDeribitMsPerYear = 365.0 * 86'400'000.0;

// Unix ms of Deribit's expiry time, 08:00 UTC on the given calendar date.
std::int64_t deribit_expiry_ms(int year, unsigned month, unsigned day);
// Years from `now_ms` to `expiry_ms` on an ACT/365 basis; 0 once expired.
double deribit_years_to_expiry(std::int64_t now_ms, std::int64_t expiry_ms);

struct DeribitGreeks {
  double mark_price_coin = 0;  // Black-76 USD price / forward
  double delta = 0;            // N(d1) (call), N(d1) − 1 (put)
  double gamma = 0;            // per 1 USD of the forward
  double vega = 0;             // USD per vol point
  double theta = 0;            // USD per calendar day, min(1-day, lifetime)
  double rho = 0;              // USD per 1 % of rate
};

// σ as a fraction (mark_iv / 100).
DeribitGreeks deribit_greeks(OptionType type, double forward, double strike, double years,
                             double vol);

// Deribit's theta alone: −min(|Black theta|/365, time value), in USD per day.
double deribit_theta(OptionType type, double forward, double strike, double years, double vol);

struct DeribitIv {
  double iv_percent = 0;
  IvError error = IvError::none;
  bool ok() const { return error == IvError::none; }
};
// Mark IV in percent from a coin price (price_coin · F is the USD Black-76 price at r = 0).
DeribitIv deribit_implied_vol(OptionType type, double price_coin, double forward, double strike,
                              double years);

}  // namespace gw::pricing
