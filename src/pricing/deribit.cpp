// Deribit's units over the Black-76 Greeks (see deribit.hpp for the conventions and sources).
#include "pricing/deribit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace gw::pricing {

std::int64_t deribit_expiry_ms(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  const sys_days date{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
  return duration_cast<milliseconds>((date + hours{8}).time_since_epoch()).count();
}

double deribit_years_to_expiry(std::int64_t now_ms, std::int64_t expiry_ms) {
  return expiry_ms > now_ms ? static_cast<double>(expiry_ms - now_ms) / kDeribitMsPerYear : 0.0;
}

namespace {

// −min(|Black theta|/365, time value) from the Black-76 Greeks at r = 0.
double theta_rule(OptionType type, double forward, double strike, const Greeks& g) {
  const double intrinsic =
      type == OptionType::call ? std::max(forward - strike, 0.0) : std::max(strike - forward, 0.0);
  // At r = 0, Black theta = −F·n(d1)·σ/(2√T) ≤ 0 per year. The "lifetime theta" is the time value
  // V − intrinsic that is gone by expiry; near expiry it is smaller than one day of the
  // instantaneous rate, and Deribit reports the smaller of the two.
  const double one_day = -g.theta / 365.0;
  const double lifetime = std::max(g.price - intrinsic, 0.0);
  return -std::min(one_day, lifetime);
}

}  // namespace

double deribit_theta(OptionType type, double forward, double strike, double years, double vol) {
  return theta_rule(type, forward, strike, black76_greeks(type, forward, strike, years, vol));
}

DeribitGreeks deribit_greeks(OptionType type, double forward, double strike, double years,
                             double vol) {
  const Greeks g = black76_greeks(type, forward, strike, years, vol);
  DeribitGreeks d;
  d.mark_price_coin = g.price / forward;
  d.delta = g.delta;
  d.gamma = g.gamma;
  d.vega = g.vega / 100.0;
  d.theta = theta_rule(type, forward, strike, g);
  // Spot Black-Scholes rho at r = 0 (the forward taken as spot): ∂V/∂r = K·T·N(d2) for a call,
  // −K·T·N(−d2) for a put; per 1 % of rate. Both equal T·(F·Δ − V): for the call
  // F·N(d1) − C = K·N(d2), for the put −F·N(−d1) − P = −K·N(−d2).
  d.rho = years * (forward * g.delta - g.price) / 100.0;
  return d;
}

DeribitIv deribit_implied_vol(OptionType type, double price_coin, double forward, double strike,
                              double years) {
  const IvResult r = implied_vol_black76(type, price_coin * forward, forward, strike, years);
  return {r.vol * 100.0, r.error};
}

}  // namespace gw::pricing
