#include "sim/config.hpp"

namespace gw::sim {

CurrencyConfig default_currency_config(market::Currency c) {
  CurrencyConfig cc;
  if (c == market::Currency::BTC) {
    cc.index = default_btc_index();
    cc.surface = default_btc_surface();
    cc.chain = default_btc_chain();
    cc.basis_rate = 0.06;
    cc.option_quote_amount = 5;        // BTC (lots of 0.1)
    cc.future_quote_amount = 200'000;  // USD (lots of 10)
    cc.option_order_amount = 1;
    cc.future_order_amount = 20'000;
  } else {
    cc.index = default_eth_index();
    cc.surface = default_eth_surface();
    cc.chain = default_eth_chain();
    cc.basis_rate = 0.07;
    cc.option_quote_amount = 50;       // ETH (lots of 1)
    cc.future_quote_amount = 100'000;  // USD (lots of 1)
    cc.option_order_amount = 10;
    cc.future_order_amount = 5'000;
  }
  return cc;
}

}  // namespace gw::sim
