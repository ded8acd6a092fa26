#include "pricing/svi.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pricing/arbitrage.hpp"
#include "pricing/svi_test_data.hpp"

namespace gw::pricing {
namespace {

using testing::svi_points;

constexpr SviParams kSkewed = {0.04, 0.4, -0.4, 0.1, 0.2};  // a, b, ρ, m, σ
// Vogt's smile (Gatheral & Jacquier 2014, Example 3.1): a butterfly arbitrage on the right wing.
constexpr SviParams kVogt = {-0.0410, 0.1331, 0.3060, 0.3586, 0.4153};

TEST(Svi, EvaluatesTotalVarianceAndDerivatives) {
  const SviParams& p = kSkewed;
  // At k = m: w = a + bσ, w′ = bρ, w″ = b/σ.
  EXPECT_DOUBLE_EQ(svi_total_variance(p, p.m), p.a + p.b * p.sigma);
  EXPECT_DOUBLE_EQ(svi_dw(p, p.m), p.b * p.rho);
  EXPECT_DOUBLE_EQ(svi_d2w(p, p.m), p.b / p.sigma);
  for (double k : {-1.3, -0.2, 0.0, 0.7, 2.5}) {  // derivatives against central differences
    const double h = 1e-5;
    const double fd1 = (svi_total_variance(p, k + h) - svi_total_variance(p, k - h)) / (2 * h);
    const double fd2 = (svi_dw(p, k + h) - svi_dw(p, k - h)) / (2 * h);
    EXPECT_NEAR(svi_dw(p, k), fd1, 1e-9) << k;
    EXPECT_NEAR(svi_d2w(p, k), fd2, 1e-8) << k;
  }
  EXPECT_DOUBLE_EQ(svi_implied_vol(p, 0.3, 0.5), std::sqrt(svi_total_variance(p, 0.3) / 0.5));
}

TEST(Svi, ValidatesParameters) {
  EXPECT_TRUE(svi_is_valid(kSkewed));
  EXPECT_TRUE(svi_is_valid(kSkewed, /*lee_wing_bound=*/true));
  EXPECT_TRUE(svi_is_valid(kVogt));                         // valid, yet not butterfly-free
  EXPECT_FALSE(svi_is_valid({0.04, -0.1, 0.0, 0.0, 0.2}));  // b < 0
  EXPECT_FALSE(svi_is_valid({0.04, 0.4, 1.0, 0.0, 0.2}));   // |ρ| = 1
  EXPECT_FALSE(svi_is_valid({0.04, 0.4, 0.0, 0.0, 0.0}));   // σ = 0
  EXPECT_FALSE(svi_is_valid({-0.2, 0.4, 0.0, 0.0, 0.2}));   // min w = −0.12 < 0
  EXPECT_TRUE(svi_is_valid({0.04, 1.8, 0.5, 0.0, 0.2}));
  EXPECT_FALSE(svi_is_valid({0.04, 1.8, 0.5, 0.0, 0.2}, true));  // b(1+|ρ|) = 2.7 > 2
}

TEST(SviButterfly, FlagsVogtSmile) {
  const ButterflyReport r = check_butterfly(kVogt);
  EXPECT_FALSE(r.arbitrage_free);
  EXPECT_NEAR(r.min_g, -0.0329, 5e-4);
  EXPECT_NEAR(r.k_at_min, 0.88, 0.02);
  ASSERT_EQ(r.negative.size(), 1u);
  EXPECT_NEAR(r.negative[0].lo, 0.643, 1e-3);
  EXPECT_NEAR(r.negative[0].hi, 1.256, 1e-3);
  // The refined ends are roots of g.
  for (double k : {r.negative[0].lo, r.negative[0].hi}) {
    const SmileValue v{svi_total_variance(kVogt, k), svi_dw(kVogt, k), svi_d2w(kVogt, k)};
    EXPECT_NEAR(butterfly_g(k, v), 0.0, 1e-9);
  }
}

TEST(SviButterfly, PassesWellBehavedSmile) {
  const ButterflyReport r = check_butterfly(kSkewed);
  EXPECT_TRUE(r.arbitrage_free);
  EXPECT_GT(r.min_g, 0);
  EXPECT_TRUE(r.negative.empty());
}

TEST(SviButterfly, NonPositiveVarianceIsAViolation) {
  const ButterflyReport r = check_butterfly({-0.1, 0.1, 0.0, 0.0, 0.1}, {-1, 1, 0.01});
  EXPECT_FALSE(r.arbitrage_free);  // w < 0 near k = 0
  EXPECT_TRUE(std::isinf(r.min_g));
}

TEST(SviCalendar, CrossingSlicesFailWhereTheyCross) {
  // w_near − w_far = 0.05√(k² + 0.01) − 0.01 > 0 for |k| > √0.03 ≈ 0.1732.
  const SviParams near = {0.02, 0.1, 0.0, 0.0, 0.1};
  const SviParams far = {0.03, 0.05, 0.0, 0.0, 0.1};
  const std::vector<CalendarSlice> slices = {
      {1.0, [&](double k) { return svi_total_variance(far, k); }},
      {0.5, [&](double k) { return svi_total_variance(near, k); }},
  };
  const CalendarReport r = check_calendar(slices);
  EXPECT_FALSE(r.arbitrage_free);
  ASSERT_EQ(r.violations.size(), 2u);
  const double cross = std::sqrt(0.03);
  EXPECT_DOUBLE_EQ(r.violations[0].years_near, 0.5);
  EXPECT_DOUBLE_EQ(r.violations[0].years_far, 1.0);
  EXPECT_DOUBLE_EQ(r.violations[0].k_lo, -3.0);
  EXPECT_NEAR(r.violations[0].k_hi, -cross, 1e-3);
  EXPECT_NEAR(r.violations[1].k_lo, cross, 1e-3);
  EXPECT_NEAR(r.violations[1].k_hi, 3.0, 1e-9);
  EXPECT_NEAR(std::abs(r.violations[1].k_worst), 3.0, 1e-9);
  EXPECT_NEAR(r.violations[1].amount, 0.05 * std::sqrt(9.01) - 0.01, 1e-12);

  const std::vector<CalendarSlice> fine = {
      {0.5, [&](double k) { return svi_total_variance(near, k); }},
      {1.0, [&](double k) { return svi_total_variance(near, k) + 0.01; }},
  };
  EXPECT_TRUE(check_calendar(fine).arbitrage_free);
}

void expect_params_near(const SviParams& got, const SviParams& want, double tol) {
  EXPECT_NEAR(got.a, want.a, tol);
  EXPECT_NEAR(got.b, want.b, tol);
  EXPECT_NEAR(got.rho, want.rho, tol);
  EXPECT_NEAR(got.m, want.m, tol);
  EXPECT_NEAR(got.sigma, want.sigma, tol);
}

TEST(SviFit, RecoversNoiselessParameters) {
  for (double years : {0.1, 1.0}) {
    const auto points = svi_points(kSkewed, years, 50, -1.0, 1.0);
    const SviFitResult fit = fit_svi(points, years);
    ASSERT_TRUE(fit.ok);
    EXPECT_TRUE(fit.converged);
    expect_params_near(fit.params, kSkewed, 1e-6);
    EXPECT_LT(fit.rmse_vol_points, 1e-5);
  }
}

TEST(SviFit, RecoversParametersFromNoisyData) {
  const double years = 1.0;
  const double noise = 0.005;  // 0.5 vol points
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto points = svi_points(kSkewed, years, 50, -1.0, 1.0, noise, seed);
    const SviFitResult fit = fit_svi(points, years);
    ASSERT_TRUE(fit.ok);
    EXPECT_TRUE(svi_is_valid(fit.params));
    // Five parameters from 50 points: the residual is about the noise, √(45/50)·0.5 ≈ 0.47.
    EXPECT_GT(fit.rmse_vol_points, 0.3) << seed;
    EXPECT_LT(fit.rmse_vol_points, 0.65) << seed;
    EXPECT_NEAR(fit.params.a, kSkewed.a, 0.02) << seed;
    EXPECT_NEAR(fit.params.b, kSkewed.b, 0.05) << seed;
    EXPECT_NEAR(fit.params.rho, kSkewed.rho, 0.1) << seed;
    EXPECT_NEAR(fit.params.m, kSkewed.m, 0.05) << seed;
    EXPECT_NEAR(fit.params.sigma, kSkewed.sigma, 0.06) << seed;
    // The fitted smile stays within the noise of the true one over the data range.
    for (double k = -1; k <= 1; k += 0.05) {
      EXPECT_NEAR(svi_implied_vol(fit.params, k, years), svi_implied_vol(kSkewed, k, years), noise)
          << seed << " k=" << k;
    }
  }
}

TEST(SviFit, RespectsLeeWingBoundOption) {
  const SviParams steep = {0.01, 1.5, -0.6, 0.0, 0.1};  // b(1+|ρ|) = 2.4
  const auto points = svi_points(steep, 1.0, 40, -1.5, 1.5);
  SviFitOptions options;
  options.wing_slope = 2;
  const SviFitResult fit = fit_svi(points, 1.0, options);
  ASSERT_TRUE(fit.ok);
  EXPECT_LE(fit.params.b * (1 + std::abs(fit.params.rho)), 2 + 1e-9);
  EXPECT_TRUE(svi_is_valid(fit.params, true));
  EXPECT_GT(fit.rmse_vol_points, 0.01);  // it cannot be exact any more
}

TEST(SviFit, RejectsTooFewPoints) {
  const std::vector<SviPoint> two = {{0.0, 0.04, 1.0}, {0.1, 0.05, 1.0}};
  EXPECT_FALSE(fit_svi(two, 1.0).ok);
  const std::vector<SviPoint> zero_weights = {{0.0, 0.04, 0}, {0.1, 0.05, 0}, {0.2, 0.06, 0}};
  EXPECT_FALSE(fit_svi(zero_weights, 1.0).ok);
}

}  // namespace
}  // namespace gw::pricing
