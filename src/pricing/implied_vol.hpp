// Implied volatility at the attainable precision by Jäckel's "Let's Be Rational": an initial
// guess per branch (rational cubic, or tabulated where options trade), then at most two
// order-5 Householder steps on a well-conditioned objective (see implied_vol.cpp).
#pragma once

#include <string_view>

#include "pricing/black.hpp"

namespace gw::pricing {

enum class IvError {
  none,
  bad_input,        // non-finite or non-positive forward/strike/time, negative price
  below_intrinsic,  // price < discounted intrinsic value: no volatility reproduces it
  above_maximum,    // price ≥ the discounted forward (call) or strike (put): no finite vol
};

std::string_view to_string(IvError error);

struct IvResult {
  double vol = 0;  // annualised, as a fraction (0.55 = 55%)
  IvError error = IvError::none;
  bool ok() const { return error == IvError::none; }
};

// Black-76: the σ such that black76_price(type, F, K, T, σ, r) == price.
IvResult implied_vol_black76(OptionType type, double price, double forward, double strike,
                             double years, double rate = 0.0);
// Black-Scholes-Merton on spot (through the forward S·e^{(r−q)T}).
IvResult implied_vol_black_scholes(OptionType type, double price, double spot, double strike,
                                   double years, double rate = 0.0, double dividend = 0.0);

}  // namespace gw::pricing
