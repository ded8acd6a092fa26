// The risk matrix of private/get_risk_matrix (market/risk_matrix.hpp):
//  - a single long call equals Black-76 revaluation written out by hand (N through erfc);
//  - a future is linear-inverse: q·(1/P − 1/P′), the account's floating PnL at the moved mark,
//    and vol shifts leave it alone; a short is the mirror image;
//  - the centre cell is exactly 0 for any portfolio;
//  - the Greeks are the sum of what private/get_positions reports per position: size × the
//    option's Deribit Greeks at its mark IV, and futures' size in coin; the per-position
//    breakdown adds up to the totals;
//  - vol shifts floor σ at 0 (intrinsic value on the moved forward); positions without a market
//    are held at their value; the grid checks reject what the method refuses.
#include "market/risk_matrix.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "market/account.hpp"
#include "pricing/deribit.hpp"

namespace gw::market {
namespace {

// Black-76 at r = 0 from the formula, independently of the pricing library.
double norm_cdf_by_hand(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}
double call_by_hand(double f, double k, double t, double vol) {
  const double sd = vol * std::sqrt(t);
  const double d1 = (std::log(f / k) + sd * sd / 2) / sd;
  return f * norm_cdf_by_hand(d1) - k * norm_cdf_by_hand(d1 - sd);
}

RiskPosition option(OptionType type, double size, double strike, double forward, double years,
                    double vol) {
  RiskPosition p;
  p.kind = Kind::option;
  p.option_type = type;
  p.size = size;
  p.strike = strike;
  p.forward = forward;
  p.years = years;
  p.vol = vol;
  return p;
}

RiskPosition future(double size_usd, double mark) {
  RiskPosition p;
  p.kind = Kind::future;
  p.size = size_usd;
  p.mark = mark;
  return p;
}

const std::vector<double> kMoves = {-0.2, -0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2};
const std::vector<double> kShifts = {-10, -5, 0, 5, 10};

TEST(RiskMatrix, SingleLongCallIsBlack76RevaluationByHand) {
  const double f = 65000, k = 70000, t = 0.25, vol = 0.6, size = 2;
  const RiskPosition call = option(OptionType::call, size, k, f, t, vol);
  const RiskMatrix r = risk_matrix({&call, 1}, kMoves, kShifts);
  ASSERT_EQ(r.pnl.size(), kMoves.size() * kShifts.size());
  const double now = call_by_hand(f, k, t, vol) / f;  // coin
  for (std::size_t v = 0; v < kShifts.size(); ++v) {
    for (std::size_t m = 0; m < kMoves.size(); ++m) {
      const double moved = f * (1 + kMoves[m]);
      const double value = call_by_hand(moved, k, t, vol + kShifts[v] / 100) / moved;
      EXPECT_NEAR(r.pnl[v * kMoves.size() + m], size * (value - now), 1e-12)
          << "shift " << kShifts[v] << " move " << kMoves[m];
    }
  }
  // Up moves and up vols gain, down moves lose; the cell of +20 %, +10 vol is the largest.
  EXPECT_GT(r.pnl.back(), 0);
  EXPECT_LT(r.pnl.front(), 0);
  EXPECT_EQ(*std::max_element(r.pnl.begin(), r.pnl.end()), r.pnl.back());
}

TEST(RiskMatrix, FutureIsLinearInverse) {
  const RiskPosition long_future = future(1000, 50000);
  const RiskPosition short_future = future(-1000, 50000);
  EXPECT_NEAR(risk_pnl(long_future, 0.1, 0), 1000 * (1.0 / 50000 - 1.0 / 55000), 1e-15);
  EXPECT_NEAR(risk_pnl(long_future, -0.2, 0), 1000 * (1.0 / 50000 - 1.0 / 40000), 1e-15);
  EXPECT_LT(risk_pnl(long_future, -0.2, 0), 0);
  for (double move : kMoves) {
    // Vol shifts do not move a future; a short is the mirror image.
    EXPECT_EQ(risk_pnl(long_future, move, 10), risk_pnl(long_future, move, 0));
    EXPECT_EQ(risk_pnl(short_future, move, -5), -risk_pnl(long_future, move, 0));
    // The account's floating PnL (market/account.hpp) of a position entered at the mark, once
    // the mark has moved.
    Contract c;
    c.kind = Kind::future;
    c.amount_unit = 10;
    c.mark = 50000 * (1 + move);
    Position p;
    p.contract = &c;
    p.size = 100;              // 100 lots of 10 USD
    p.entry = 1000 / 50000.0;  // its coin value at 50000
    EXPECT_NEAR(risk_pnl(long_future, move, 0), floating_pnl(p), 1e-17) << move;
  }
  // Inverse: a fall loses more than the same rise gains.
  EXPECT_GT(-risk_pnl(long_future, -0.2, 0), risk_pnl(long_future, 0.2, 0));
}

std::vector<RiskPosition> portfolio() {
  return {
      option(OptionType::call, 2, 70000, 65500, 0.25, 0.58),
      option(OptionType::put, -3.5, 60000, 65500, 0.25, 0.63),
      option(OptionType::put, 1.2, 64000, 65050, 0.02, 0.71),
      option(OptionType::call, -0.4, 90000, 67000, 1.1, 0.55),
      future(25000, 65012.5),
      future(-4000, 65600),
  };
}

TEST(RiskMatrix, CentreCellIsZero) {
  const std::vector<RiskPosition> book = portfolio();
  const RiskMatrix r = risk_matrix(book, kMoves, kShifts);
  // Row of shift 0, column of move 0.
  EXPECT_EQ(r.pnl[2 * kMoves.size() + 4], 0.0);
  // Not a grid of zeros: every other cell of the row moves.
  for (std::size_t m = 0; m < kMoves.size(); ++m) {
    if (m != 4) {
      EXPECT_NE(r.pnl[2 * kMoves.size() + m], 0.0) << m;
    }
  }
  // Also with a grid that has no zero in it elsewhere than the centre, and odd sizes.
  const std::vector<double> moves = {-0.5, 0, 3};
  const std::vector<double> shifts = {0};
  const RiskMatrix small = risk_matrix(book, moves, shifts);
  EXPECT_EQ(small.pnl[1], 0.0);
}

TEST(RiskMatrix, GreeksAreTheSumOfThePositionsGreeks) {
  const std::vector<RiskPosition> book = portfolio();
  const RiskMatrix r = risk_matrix(book, kMoves, kShifts, true);
  // What get_positions reports: size × the option ticker's Greeks (deribit_greeks at the mark
  // IV on the forward), futures' delta = size in coin at the mark.
  RiskGreeks sum;
  for (const RiskPosition& p : book) {
    if (p.kind == Kind::future) {
      sum.delta += p.size / p.mark;
      continue;
    }
    const auto type =
        p.option_type == OptionType::put ? pricing::OptionType::put : pricing::OptionType::call;
    const pricing::DeribitGreeks g =
        pricing::deribit_greeks(type, p.forward, p.strike, p.years, p.vol);
    sum.delta += p.size * g.delta;
    sum.gamma += p.size * g.gamma;
    sum.vega += p.size * g.vega;
    sum.theta += p.size * g.theta;
  }
  EXPECT_NEAR(r.greeks.delta, sum.delta, 1e-12);
  EXPECT_NEAR(r.greeks.gamma, sum.gamma, 1e-15);
  EXPECT_NEAR(r.greeks.vega, sum.vega, 1e-9);
  EXPECT_NEAR(r.greeks.theta, sum.theta, 1e-9);
  EXPECT_NE(r.greeks.gamma, 0);
  // The breakdown adds up: Greeks and every cell.
  ASSERT_EQ(r.position_greeks.size(), book.size());
  ASSERT_EQ(r.position_pnl.size(), book.size() * r.pnl.size());
  RiskGreeks parts;
  for (const RiskGreeks& g : r.position_greeks) {
    parts.delta += g.delta;
    parts.vega += g.vega;
  }
  EXPECT_EQ(parts.delta, r.greeks.delta);
  EXPECT_EQ(parts.vega, r.greeks.vega);
  for (std::size_t c = 0; c < r.pnl.size(); ++c) {
    double cell = 0;
    for (std::size_t i = 0; i < book.size(); ++i) cell += r.position_pnl[i * r.pnl.size() + c];
    EXPECT_EQ(cell, r.pnl[c]);
  }
  // Without the breakdown, the same totals.
  const RiskMatrix plain = risk_matrix(book, kMoves, kShifts);
  EXPECT_EQ(plain.pnl, r.pnl);
  EXPECT_TRUE(plain.position_pnl.empty());
  // The revaluation agrees with the Greeks: a small move's PnL is about delta (in coin, of an
  // inverse position: Δcoin ≈ (delta_usd·dF − value·dF/F) / F) — here checked on one call.
  const RiskPosition call = book[0];
  const double h = 1e-4;
  const double fd = (risk_pnl(call, h, 0) - risk_pnl(call, -h, 0)) / (2 * h * call.forward);
  const double value = call_by_hand(call.forward, call.strike, call.years, call.vol) /
                       call.forward;  // coin per contract
  const double usd_delta = risk_greeks(call).delta;
  EXPECT_NEAR(fd, (usd_delta - call.size * value) / call.forward, 1e-9);
}

TEST(RiskMatrix, VolShiftsFloorAtZeroVolatility) {
  const RiskPosition call = option(OptionType::call, 1, 60000, 65000, 0.5, 0.5);
  const double now = call_by_hand(65000, 60000, 0.5, 0.5) / 65000;
  // −60 vol points: σ = 0, the call is worth its intrinsic value on the (moved) forward.
  EXPECT_NEAR(risk_pnl(call, 0, -60), (65000.0 - 60000) / 65000 - now, 1e-15);
  EXPECT_NEAR(risk_pnl(call, 0.1, -1000), (71500.0 - 60000) / 71500 - now, 1e-15);
  EXPECT_EQ(risk_pnl(call, 0, -60), risk_pnl(call, 0, -1000));
}

TEST(RiskMatrix, PositionsWithoutAMarketAreHeldAtTheirValue) {
  RiskPosition orphan = option(OptionType::call, 3, 60000, 0, 0, 0);  // no forward
  RiskPosition unmarked = future(1000, 0);
  const std::vector<RiskPosition> book = {orphan, unmarked};
  const RiskMatrix r = risk_matrix(book, kMoves, kShifts);
  for (double cell : r.pnl) EXPECT_EQ(cell, 0);
  EXPECT_EQ(r.greeks.delta, 0);
  // An option at its expiry instant has no Greeks (as its ticker) but still its intrinsic PnL.
  const RiskPosition expiring = option(OptionType::put, 1, 60000, 59000, 0, 0.5);
  EXPECT_EQ(risk_greeks(expiring).delta, 0);
  EXPECT_NEAR(risk_pnl(expiring, -0.1, 0), (60000 - 53100.0) / 53100 - 1000.0 / 59000, 1e-15);
}

TEST(RiskMatrix, GridChecks) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(check_underlying_moves(kMoves), RiskGridError::none);
  EXPECT_EQ(check_vol_shifts(kShifts), RiskGridError::none);
  EXPECT_EQ(check_underlying_moves({}), RiskGridError::empty);
  EXPECT_EQ(check_vol_shifts({}), RiskGridError::empty);
  const std::vector<double> many(42, 0.0);
  EXPECT_EQ(check_underlying_moves(many), RiskGridError::too_many);
  EXPECT_EQ(check_underlying_moves(std::span(many).first(41)), RiskGridError::none);
  for (double bad : {-1.0, -2.0, 10.5, nan, inf, -inf}) {
    const double grid[] = {0, bad};
    EXPECT_EQ(check_underlying_moves(grid), RiskGridError::out_of_range) << bad;
  }
  for (double good : {-0.999, 10.0}) {
    const double grid[] = {good};
    EXPECT_EQ(check_underlying_moves(grid), RiskGridError::none) << good;
  }
  for (double bad : {-1000.5, 1000.5, nan, inf}) {
    const double grid[] = {bad};
    EXPECT_EQ(check_vol_shifts(grid), RiskGridError::out_of_range) << bad;
  }
  const double edges[] = {-1000, 1000};
  EXPECT_EQ(check_vol_shifts(edges), RiskGridError::none);
}

}  // namespace
}  // namespace gw::market
