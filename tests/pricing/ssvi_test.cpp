#include "pricing/ssvi.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pricing/arbitrage.hpp"
#include "pricing/svi_test_data.hpp"

namespace gw::pricing {
namespace {

constexpr SsviParams kTrue = {-0.35, 1.1, 0.4};  // ρ, η, γ: η(1+|ρ|) = 1.485 ≤ 2

struct Market {
  std::vector<SsviSliceData> slices;
  std::vector<double> thetas;
};

// Five expiries with ATM vols 70% → 55%: θ = σ²T increases.
Market make_market(const SsviParams& p, double noise_vol = 0) {
  Market m;
  const std::vector<double> years = {0.1, 0.25, 0.5, 1.0, 2.0};
  const std::vector<double> atm = {0.70, 0.65, 0.60, 0.58, 0.55};
  testing::Gaussian gauss(7);
  for (std::size_t i = 0; i < years.size(); ++i) {
    const double theta = atm[i] * atm[i] * years[i];
    SsviSliceData slice{years[i], {}};
    for (double k : testing::linspace(-1.0, 1.0, 25)) {
      const double vol =
          std::sqrt(ssvi_total_variance(p, theta, k) / years[i]) + noise_vol * gauss();
      slice.points.push_back({k, vol * vol * years[i], 1.0});
    }
    m.slices.push_back(slice);
    m.thetas.push_back(theta);
  }
  return m;
}

TEST(Ssvi, SliceIsARawSvi) {
  for (double theta : {0.02, 0.3, 1.5}) {
    const SviParams svi = ssvi_to_svi(kTrue, theta);
    EXPECT_TRUE(svi_is_valid(svi));
    EXPECT_DOUBLE_EQ(ssvi_total_variance(kTrue, theta, 0.0), theta);  // θ is ATM variance
    for (double k : {-2.0, -0.4, 0.0, 0.5, 1.7}) {
      const SmileValue v = ssvi_smile(kTrue, theta, k);
      EXPECT_NEAR(v.w, svi_total_variance(svi, k), 1e-14);
      EXPECT_NEAR(v.dw, svi_dw(svi, k), 1e-13);
      EXPECT_NEAR(v.d2w, svi_d2w(svi, k), 1e-12);
      EXPECT_DOUBLE_EQ(v.w, ssvi_total_variance(kTrue, theta, k));
    }
  }
}

TEST(Ssvi, ConditionsOnPowerLaw) {
  const std::vector<double> thetas = {0.05, 0.1, 0.2, 0.4};
  const SsviConditions ok = check_ssvi_conditions(kTrue, thetas);
  EXPECT_TRUE(ok.params_valid);
  EXPECT_TRUE(ok.eta_bound);
  EXPECT_TRUE(ok.arbitrage_free());
  EXPECT_LT(ok.max_theta_phi, 4);
  EXPECT_LE(ok.max_theta_phi2, 4);
  // And the slices indeed pass the generic butterfly check.
  for (double theta : thetas)
    EXPECT_TRUE(check_butterfly(ssvi_to_svi(kTrue, theta)).arbitrage_free);

  const std::vector<double> decreasing = {0.1, 0.05};
  EXPECT_FALSE(check_ssvi_conditions(kTrue, decreasing).calendar_free);
  // η far above the bound and a small γ: θφ² blows up on short expiries.
  const SsviParams wild = {-0.7, 6.0, 0.1};
  const SsviConditions bad = check_ssvi_conditions(wild, thetas);
  EXPECT_FALSE(bad.eta_bound);
  EXPECT_FALSE(bad.butterfly_free);
  EXPECT_GT(bad.max_theta_phi2, 4);
}

TEST(SsviFit, RecoversParametersWithGivenThetas) {
  const Market m = make_market(kTrue);
  const SsviFitResult fit = fit_ssvi(m.slices, m.thetas);
  ASSERT_TRUE(fit.ok);
  EXPECT_NEAR(fit.params.rho, kTrue.rho, 1e-6);
  EXPECT_NEAR(fit.params.eta, kTrue.eta, 1e-6);
  EXPECT_NEAR(fit.params.gamma, kTrue.gamma, 1e-6);
  EXPECT_LT(fit.rmse_vol_points, 1e-4);
  EXPECT_TRUE(fit.conditions.arbitrage_free());
}

TEST(SsviFit, RecoversParametersWithThetasFromSviSlices) {
  const Market m = make_market(kTrue);
  const SsviFitResult fit = fit_ssvi(m.slices);
  ASSERT_TRUE(fit.ok);
  ASSERT_EQ(fit.thetas.size(), m.thetas.size());
  for (std::size_t i = 0; i < m.thetas.size(); ++i) EXPECT_NEAR(fit.thetas[i], m.thetas[i], 1e-7);
  EXPECT_NEAR(fit.params.rho, kTrue.rho, 1e-4);
  EXPECT_NEAR(fit.params.eta, kTrue.eta, 1e-4);
  EXPECT_NEAR(fit.params.gamma, kTrue.gamma, 1e-4);
  EXPECT_TRUE(fit.conditions.arbitrage_free());
}

TEST(SsviFit, NoisyDataAndMonotoneThetas) {
  const Market m = make_market(kTrue, 0.005);
  const SsviFitResult fit = fit_ssvi(m.slices);
  ASSERT_TRUE(fit.ok);
  EXPECT_NEAR(fit.params.rho, kTrue.rho, 0.05);
  EXPECT_NEAR(fit.params.eta, kTrue.eta, 0.1);
  EXPECT_NEAR(fit.params.gamma, kTrue.gamma, 0.1);
  EXPECT_LT(fit.rmse_vol_points, 0.8);
  EXPECT_TRUE(fit.conditions.arbitrage_free());

  // A slice whose ATM variance dips below the previous one is lifted to it.
  std::vector<double> thetas = m.thetas;
  thetas[2] = 0.9 * thetas[1];
  const SsviFitResult lifted = fit_ssvi(m.slices, thetas);
  ASSERT_TRUE(lifted.ok);
  EXPECT_DOUBLE_EQ(lifted.raw_thetas[2], thetas[2]);
  EXPECT_DOUBLE_EQ(lifted.thetas[2], thetas[1]);
  EXPECT_TRUE(lifted.conditions.theta_non_decreasing);
}

TEST(SsviFit, HalfGammaRange) {
  SsviFitOptions options;
  options.gamma_max = 0.5;
  const Market m = make_market(kTrue);
  const SsviFitResult fit = fit_ssvi(m.slices, m.thetas, options);
  ASSERT_TRUE(fit.ok);
  EXPECT_NEAR(fit.params.gamma, kTrue.gamma, 1e-6);  // 0.4 lies inside (0, 0.5)
  EXPECT_LT(fit.params.gamma, 0.5);
}

}  // namespace
}  // namespace gw::pricing
