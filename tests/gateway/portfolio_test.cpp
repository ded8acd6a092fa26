// private/get_account_summary and user.portfolio against private/get_positions, through the
// gateway's writers and a real simulator (the venue's computation, without its thread): a user
// holds a long call and a short perpetual; the summary's options_delta, options_gamma,
// options_vega, options_theta and options_value are the sums over the option rows of
// get_positions, delta_total the rows' deltas less the options' coin value (Deribit's net
// transaction delta), the per-index maps carry the same totals, and the user.portfolio
// notification of the last fill says the same as the summary at that instant.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "codec/json_writer.hpp"
#include "gateway/encode.hpp"
#include "sim/sim_test_util.hpp"

namespace gw::gateway {
namespace {

using market::Currency;
using sim::testing::kStart;
using sim::testing::RecordingSink;

constexpr market::AccountId kUser = 21;

template <class F>
std::string json_of(F&& write) {
  std::string out;
  codec::JsonWriter w(out);
  write(w);
  return out;
}

double number(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(e.get_int64().value_unsafe());
  return e.get_double().value_unsafe();
}

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({std::abs(a), std::abs(b), 1e-300});
}

// What a client sums from get_positions' rows.
struct RowSums {
  double delta = 0;  // every row's delta
  double options_delta = 0, gamma = 0, vega = 0, theta = 0;
  double options_value = 0;  // Σ option rows' size × mark_price
  int options = 0, futures = 0;
};

class PortfolioAgainstPositions : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::VenueConfig config = sim::testing::tiny_config(41);
    config.publish_sim_accounts = false;
    sim_.emplace(config, sink_);
    sim_->open();
    sim_->run_until(kStart + 2'000);
    ASSERT_TRUE(sim_->deposit(kUser, Currency::BTC, 50));
  }

  const market::Instrument* find(bool option) const {
    const double index = sim_->index_price(Currency::BTC);
    const market::Instrument* best = nullptr;
    for (market::InstrumentId id : sim_->instruments(Currency::BTC)) {
      const market::Instrument* i = sim_->registry().find(id);
      if (!option && i->perpetual) return i;
      if (option && i->option_type == market::OptionType::call &&
          (best == nullptr || std::abs(i->strike - index) < std::abs(best->strike - index))) {
        best = i;
      }
    }
    return best;
  }

  void trade(const market::Instrument& instrument, market::Side side, market::Lots lots) {
    market::PlaceOrder p;
    p.account = kUser;
    p.instrument = instrument.id;
    p.side = side;
    p.type = market::OrderType::market;
    p.amount = lots;
    ASSERT_TRUE(sim_->place(p).ok());
  }

  // The venue's get_account answer, now.
  sim::AccountSnapshot snapshot() const {
    sim::AccountSnapshot s;
    s.found = true;
    s.timestamp = sim_->now_ms();
    s.account = kUser;
    s.currency = Currency::BTC;
    s.index_price = sim_->index_price(Currency::BTC);
    s.summary = sim_->engine().summary(kUser, Currency::BTC);
    s.risk = sim_->account_positions(kUser, Currency::BTC, s.positions, s.option_markets);
    return s;
  }

  // Writes each row as private/get_positions does, parses it back and sums it.
  RowSums sum_rows(const sim::AccountSnapshot& account) {
    RowSums sums;
    for (const sim::PositionSnapshot& p : account.positions) {
      const market::Instrument& instrument = *sim_->registry().find(p.instrument);
      const sim::OptionMarket* option = account.option_market(p.instrument);
      const PositionContext ctx = position_context(instrument, p, account.index_price,
                                                   option != nullptr ? &option->greeks : nullptr);
      const std::string row = json_of([&](auto& w) { write_position(w, p, instrument, ctx); });
      simdjson::dom::element doc;
      EXPECT_FALSE(parser_.parse(row).get(doc)) << row;
      sums.delta += number(doc["delta"]);
      if (instrument.kind == market::Kind::future) {
        ++sums.futures;
        continue;
      }
      ++sums.options;
      sums.options_delta += number(doc["delta"]);
      sums.gamma += number(doc["gamma"]);
      sums.vega += number(doc["vega"]);
      sums.theta += number(doc["theta"]);
      sums.options_value += number(doc["size"]) * number(doc["mark_price"]);
    }
    return sums;
  }

  RecordingSink sink_;
  std::optional<sim::Simulator> sim_;
  simdjson::dom::parser parser_;
};

TEST_F(PortfolioAgainstPositions, LongCallShortFutureTotalsAreTheRowSums) {
  const market::Instrument* call = find(true);
  const market::Instrument* perpetual = find(false);
  ASSERT_NE(call, nullptr);
  ASSERT_NE(perpetual, nullptr);
  trade(*call, market::Side::buy, 10);          // 1 BTC
  trade(*perpetual, market::Side::sell, 2000);  // 20,000 USD
  const std::size_t last = sink_.events.size();
  const sim::AccountSnapshot account = snapshot();
  const RowSums rows = sum_rows(account);
  ASSERT_EQ(rows.options, 1);
  ASSERT_EQ(rows.futures, 1);
  ASSERT_GT(rows.gamma, 0);
  ASSERT_LT(rows.theta, 0);

  const std::string text = json_of([&](auto& w) { write_account_summary(w, account); });
  simdjson::dom::parser summary_parser;
  simdjson::dom::element summary;
  ASSERT_FALSE(summary_parser.parse(text).get(summary)) << text;
  EXPECT_TRUE(close(number(summary["options_delta"]), rows.options_delta)) << text;
  EXPECT_TRUE(close(number(summary["options_gamma"]), rows.gamma)) << text;
  EXPECT_TRUE(close(number(summary["options_vega"]), rows.vega)) << text;
  EXPECT_TRUE(close(number(summary["options_theta"]), rows.theta)) << text;
  EXPECT_TRUE(close(number(summary["options_value"]), rows.options_value)) << text;
  const double delta_total = rows.delta - rows.options_value;
  EXPECT_TRUE(close(number(summary["delta_total"]), delta_total)) << text;
  // The call is of the closest expiry: the projection keeps the future only.
  EXPECT_TRUE(close(number(summary["projected_delta_total"]), rows.delta - rows.options_delta))
      << text;
  EXPECT_TRUE(close(number(summary["delta_total_map"]["btc_usd"]), delta_total)) << text;
  EXPECT_TRUE(close(number(summary["options_gamma_map"]["btc_usd"]), rows.gamma)) << text;
  EXPECT_TRUE(close(number(summary["options_vega_map"]["btc_usd"]), rows.vega)) << text;
  EXPECT_TRUE(close(number(summary["options_theta_map"]["btc_usd"]), rows.theta)) << text;

  // The last fill's user.portfolio: the same figures (nothing ran since).
  std::optional<sim::Portfolio> event;
  for (std::size_t i = 0; i < last; ++i) {
    if (const auto* p = std::get_if<sim::Portfolio>(&sink_.events[i]);
        p && p->funds.account == kUser) {
      event = *p;
    }
  }
  ASSERT_TRUE(event.has_value());
  const std::string note = json_of([&](auto& w) { write_portfolio(w, *event); });
  simdjson::dom::parser note_parser;  // `summary` stays valid
  simdjson::dom::element portfolio;
  ASSERT_FALSE(note_parser.parse(note).get(portfolio)) << note;
  for (const char* name :
       {"delta_total", "projected_delta_total", "options_delta", "options_gamma", "options_vega",
        "options_theta", "options_value", "equity", "balance", "initial_margin"}) {
    EXPECT_EQ(number(portfolio[name]), number(summary[name])) << name;
  }
  EXPECT_EQ(number(portfolio["delta_total_map"]["btc_usd"]),
            number(summary["delta_total_map"]["btc_usd"]));
}

}  // namespace
}  // namespace gw::gateway
