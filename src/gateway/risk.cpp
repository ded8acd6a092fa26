// From the venue's position snapshot to market::risk_matrix's input (gateway/risk.hpp). Apart
// from risk_methods.cpp so that it links without the server (tests/gateway/risk_test.cpp).
#include "gateway/risk.hpp"

#include "pricing/deribit.hpp"

namespace gw::gateway {

market::RiskPosition risk_position(const market::Instrument& instrument,
                                   const sim::PositionSnapshot& position,
                                   const sim::OptionMarket* option_market,
                                   market::TimestampMs now_ms) {
  market::RiskPosition p;
  p.kind = instrument.kind;
  p.size = instrument.to_amount(position.size);
  if (instrument.kind == market::Kind::future) {
    p.mark = position.mark_price;
    return p;
  }
  p.option_type = instrument.option_type;
  p.strike = instrument.strike;
  if (option_market != nullptr) {
    // The ticker's own inputs: its forward, its mark IV, the years to expiry at its instant.
    p.forward = option_market->underlying_price;
    p.vol = option_market->mark_iv / 100;
    p.years = pricing::deribit_years_to_expiry(now_ms, instrument.expiration_ms);
  }
  return p;
}

}  // namespace gw::gateway
