// The pricing library's arbitrage checks on what the market makers quote: raw SVI smiles fitted
// to the makers' mid implied vols (out-of-the-money options, vega-weighted) pass the butterfly
// check per expiry and the calendar check between consecutive expiries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "pricing/arbitrage.hpp"
#include "pricing/deribit.hpp"
#include "pricing/svi.hpp"
#include "sim/sim_test_util.hpp"

namespace gw::sim {
namespace {

using testing::kStart;
using testing::RecordingSink;

struct FittedSlice {
  double years = 0;
  pricing::SviParams params;
  double k_min = 0;
  double k_max = 0;
};

std::vector<FittedSlice> fit_maker_smiles(const Simulator& sim, Currency c) {
  // Expiry → points (k, w, weight).
  std::map<TimestampMs, std::vector<pricing::SviPoint>> points;
  for (InstrumentId id : sim.instruments(c)) {
    const market::Instrument& i = *sim.registry().find(id);
    if (i.kind != market::Kind::option) continue;
    const double f = sim.forward(c, i.expiration_ms);
    const bool call = i.option_type == market::OptionType::call;
    if (call != (i.strike >= f)) continue;  // out of the money only
    const MarketMaker::Book* m = sim.maker_book(id);
    if (m == nullptr || m->bid.id == 0 || m->ask.id == 0) continue;
    const double mid = (i.to_price(m->bid.price) + i.to_price(m->ask.price)) / 2;
    if (mid < 10 * i.tick_size) continue;  // rounding to the tick dominates below
    const double years = pricing::deribit_years_to_expiry(sim.now_ms(), i.expiration_ms);
    const auto type = call ? pricing::OptionType::call : pricing::OptionType::put;
    const pricing::DeribitIv iv = pricing::deribit_implied_vol(type, mid, f, i.strike, years);
    if (!iv.ok()) continue;
    const double vol = iv.iv_percent / 100;
    const double k = std::log(i.strike / f);
    const double vega = option_value(type, f, i.strike, years, vol).vega;
    points[i.expiration_ms].push_back({k, vol * vol * years, vega});
  }
  std::vector<FittedSlice> out;
  for (auto& [expiry, p] : points) {
    if (p.size() < 5) continue;
    const double years = pricing::deribit_years_to_expiry(sim.now_ms(), expiry);
    pricing::SviFitOptions options;
    options.wing_slope = 2;  // Lee's bound
    const pricing::SviFitResult fit = pricing::fit_svi(p, years, options);
    EXPECT_TRUE(fit.ok);
    EXPECT_LT(fit.rmse_vol_points, 2.0) << "expiry " << expiry;
    FittedSlice s{years, fit.params, p.front().k, p.front().k};
    for (const auto& x : p) {
      s.k_min = std::min(s.k_min, x.k);
      s.k_max = std::max(s.k_max, x.k);
    }
    out.push_back(s);
  }
  return out;
}

TEST(SimulatorSurface, SviFitsOfMakerMidsPassBothArbitrageChecks) {
  VenueConfig config = testing::small_config(17);
  config.option_expiries = {2, 2, 2, 2};  // the default chain: about seven expiries
  config.publish_sim_accounts = false;
  // The makers' quotes only, over ten simulated minutes of drift (without noise traders, and
  // with sparse index steps and tickers, to stay quick under sanitizers).
  config.noise.option_scale = 0;
  config.noise.future_scale = 0;
  config.index_interval_ms = 5'000;
  config.ticker_interval_ms = 60'000;
  RecordingSink sink;
  sink.keep = false;
  Simulator sim(config, sink);
  sim.open();
  for (TimestampMs at : {kStart + 5'000, kStart + 600'000}) {
    sim.run_until(at);
    for (Currency c : market::kCurrencies) {
      const std::vector<FittedSlice> slices = fit_maker_smiles(sim, c);
      ASSERT_GE(slices.size(), 5u);
      for (const FittedSlice& s : slices) {
        const pricing::ButterflyReport b =
            pricing::check_butterfly(s.params, pricing::KGrid{s.k_min, s.k_max, 1e-3});
        EXPECT_TRUE(b.arbitrage_free) << "T=" << s.years << " min g " << b.min_g;
      }
      for (std::size_t j = 0; j + 1 < slices.size(); ++j) {
        const FittedSlice& near = slices[j];
        const FittedSlice& far = slices[j + 1];
        const pricing::CalendarSlice pair[2] = {
            {near.years, [p = near.params](double k) { return pricing::svi_total_variance(p, k); }},
            {far.years, [p = far.params](double k) { return pricing::svi_total_variance(p, k); }}};
        // Where both expiries have quotes.
        const pricing::KGrid grid{std::max(near.k_min, far.k_min), std::min(near.k_max, far.k_max),
                                  1e-3};
        const pricing::CalendarReport r = pricing::check_calendar(pair, grid);
        EXPECT_TRUE(r.arbitrage_free) << "between T=" << near.years << " and " << far.years;
      }
    }
  }
}

}  // namespace
}  // namespace gw::sim
