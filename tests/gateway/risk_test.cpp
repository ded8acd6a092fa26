// private/get_risk_matrix's pieces in the gateway (gateway/risk.hpp): a venue position becomes
// the risk matrix's input with its option ticker's forward and mark IV and the years left at the
// snapshot, and the result is written exactly as docs/PROTOCOL.md shows (JSON and MessagePack
// give the same tree).
#include "gateway/risk.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "gateway/encode_test_support.hpp"
#include "pricing/deribit.hpp"

namespace gw::gateway {
namespace {

using market::Currency;
using market::Instrument;
using market::OptionType;
using testing::encode;
using testing::listed;

constexpr market::TimestampMs kNow = 1'767'225'600'000;  // 2026-01-01 00:00 UTC

TEST(RiskPosition, OptionsTakeTheirTickersForwardAndMarkIv) {
  using namespace std::chrono;
  const Instrument call = listed(
      market::option_name(Currency::BTC, year{2026} / March / 27, 70000, OptionType::call), 7);
  const sim::PositionSnapshot p{7, 15, 0.05, 0.0523, 0.0035, 0};  // 1.5 BTC (0.1 BTC lots)
  const sim::OptionMarket m{7, 55.1, 65600, {0.4, 3e-5, 150, -40, 20}};
  const market::RiskPosition r = risk_position(call, p, &m, kNow);
  EXPECT_EQ(r.kind, market::Kind::option);
  EXPECT_EQ(r.option_type, OptionType::call);
  EXPECT_DOUBLE_EQ(r.size, 1.5);
  EXPECT_EQ(r.strike, 70000);
  EXPECT_EQ(r.forward, 65600);
  EXPECT_DOUBLE_EQ(r.vol, 0.551);
  EXPECT_DOUBLE_EQ(r.years, pricing::deribit_years_to_expiry(kNow, call.expiration_ms));
  EXPECT_GT(r.years, 0.2);
  // Without a market (the option is no longer listed): no forward, held at its value.
  const market::RiskPosition orphan = risk_position(call, p, nullptr, kNow);
  EXPECT_EQ(orphan.forward, 0);
  EXPECT_EQ(market::risk_pnl(orphan, 0.1, 5), 0);
}

TEST(RiskPosition, FuturesAreInUsdAtTheirMark) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const sim::PositionSnapshot p{1, -100, 50000, 51000, -0.0003921568627, 0.001};
  const market::RiskPosition r = risk_position(perp, p, nullptr, kNow);
  EXPECT_EQ(r.kind, market::Kind::future);
  EXPECT_EQ(r.size, -1000);
  EXPECT_EQ(r.mark, 51000);
  EXPECT_NEAR(market::risk_greeks(r).delta, -1000.0 / 51000, 1e-18);
}

TEST(WriteRiskMatrix, TotalsAndBreakdown) {
  const Instrument perp = listed(market::perpetual_name(Currency::BTC), 1);
  const double moves[] = {-0.5, 0, 0.25};
  const double shifts[] = {0, 10};
  market::RiskMatrix m;
  m.pnl = {-0.25, 0, 0.125, -0.25, 0, 0.125};
  m.greeks = {0.5, 0, 0, 0};
  m.position_pnl = m.pnl;
  m.position_greeks = {m.greeks};
  const RiskRow rows[] = {{&perp, 1000, 50000, 0}};
  RiskView v;
  v.currency = Currency::BTC;
  v.timestamp = kNow;
  v.index_price = 49990.5;
  v.underlying_moves = moves;
  v.vol_shifts = shifts;
  v.matrix = &m;
  const std::string totals = encode([&](auto& w) { write_risk_matrix(w, v); });
  EXPECT_EQ(totals, R"({"currency":"BTC","timestamp":1767225600000,"index_price":49990.5,)"
                    R"("underlying_moves":[-0.5,0.0,0.25],"vol_shifts":[0.0,10.0],)"
                    R"("pnl":[[-0.25,0.0,0.125],[-0.25,0.0,0.125]],)"
                    R"("greeks":{"delta":0.5,"gamma":0.0,"vega":0.0,"theta":0.0}})");
  v.rows = rows;
  v.per_position = true;
  const std::string full = encode([&](auto& w) { write_risk_matrix(w, v); });
  EXPECT_EQ(full.substr(0, totals.size() - 1), totals.substr(0, totals.size() - 1));
  EXPECT_EQ(full.substr(totals.size() - 1),
            R"(,"positions":[{"instrument_name":"BTC-PERPETUAL","kind":"future","size":1000.0,)"
            R"("mark_price":50000.0,"delta":0.5,"gamma":0.0,"vega":0.0,"theta":0.0,)"
            R"("pnl":[[-0.25,0.0,0.125],[-0.25,0.0,0.125]]}]})");
}

TEST(WriteRiskMatrix, OptionsRowsCarryTheirMarkIv) {
  using namespace std::chrono;
  const Instrument put =
      listed(market::option_name(Currency::ETH, year{2026} / March / 27, 3000, OptionType::put), 9);
  const double moves[] = {0};
  const double shifts[] = {0};
  market::RiskMatrix m;
  m.pnl = {0};
  m.position_pnl = {0};
  m.position_greeks = {{-0.25, 0.001, 2.5, -1.5}};
  m.greeks = m.position_greeks[0];
  const RiskRow rows[] = {{&put, -2, 0.0415, 61.5}};
  RiskView v;
  v.currency = Currency::ETH;
  v.timestamp = kNow;
  v.index_price = 3100;
  v.underlying_moves = moves;
  v.vol_shifts = shifts;
  v.matrix = &m;
  v.rows = rows;
  v.per_position = true;
  const std::string json = encode([&](auto& w) { write_risk_matrix(w, v); });
  EXPECT_NE(json.find(R"({"instrument_name":"ETH-27MAR26-3000-P","kind":"option","size":-2.0,)"
                      R"("mark_price":0.0415,"mark_iv":61.5,"delta":-0.25,"gamma":0.001,)"
                      R"("vega":2.5,"theta":-1.5,"pnl":[[0.0]]})"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace gw::gateway
