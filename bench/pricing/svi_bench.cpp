// Volatility-surface kernels: the per-expiry SVI fit (target ≤ 1 ms for 50 strikes), the SSVI
// fit, the butterfly scan and delta-strike queries. Built into gw_pricing_bench (no main here).
#include <benchmark/benchmark.h>

#include <vector>

#include "../../tests/pricing/svi_test_data.hpp"
#include "pricing/arbitrage.hpp"
#include "pricing/ssvi.hpp"
#include "pricing/surface.hpp"
#include "pricing/svi.hpp"

namespace {

using namespace gw::pricing;

constexpr SviParams kSkewed = {0.04, 0.4, -0.4, 0.1, 0.2};

// 50 strikes on k ∈ [−1, 1], T = 1, vol noise 0.5 vol points (the svi_test.cpp data).
void BM_SviFit50Noisy(benchmark::State& state) {
  const auto points = testing::svi_points(kSkewed, 1.0, 50, -1.0, 1.0, 0.005, 1);
  SviFitResult fit;
  for (auto _ : state) {
    fit = fit_svi(points, 1.0);
    benchmark::DoNotOptimize(fit);
  }
  state.counters["rmse_vol_pts"] = fit.rmse_vol_points;
  state.counters["inner_solves"] = fit.evaluations;
}
BENCHMARK(BM_SviFit50Noisy)->Unit(benchmark::kMicrosecond);

void BM_SviFit50Exact(benchmark::State& state) {
  const auto points = testing::svi_points(kSkewed, 1.0, 50, -1.0, 1.0);
  SviFitResult fit;
  for (auto _ : state) {
    fit = fit_svi(points, 1.0);
    benchmark::DoNotOptimize(fit);
  }
  state.counters["rmse_vol_pts"] = fit.rmse_vol_points;
}
BENCHMARK(BM_SviFit50Exact)->Unit(benchmark::kMicrosecond);

void BM_SviTotalVariance(benchmark::State& state) {
  double k = -1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(svi_total_variance(kSkewed, k));
    k = k > 1 ? -1 : k + 1e-3;
  }
}
BENCHMARK(BM_SviTotalVariance);

// Butterfly scan of one slice on k ∈ [−3, 3], step 0.001 (6,001 points).
void BM_SviButterflyCheck(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(check_butterfly(kSkewed));
}
BENCHMARK(BM_SviButterflyCheck)->Unit(benchmark::kMicrosecond);

// Five expiries × 25 strikes, θ given.
void BM_SsviFit5x25(benchmark::State& state) {
  const SsviParams truth = {-0.35, 1.1, 0.4};
  std::vector<SsviSliceData> slices;
  std::vector<double> thetas;
  for (double t : {0.1, 0.25, 0.5, 1.0, 2.0}) {
    const double theta = 0.36 * t;
    SsviSliceData slice{t, {}};
    for (double k : testing::linspace(-1, 1, 25)) {
      slice.points.push_back({k, ssvi_total_variance(truth, theta, k), 1.0});
    }
    slices.push_back(slice);
    thetas.push_back(theta);
  }
  for (auto _ : state) benchmark::DoNotOptimize(fit_ssvi(slices, thetas));
}
BENCHMARK(BM_SsviFit5x25)->Unit(benchmark::kMicrosecond);

void BM_SurfaceStrikeAtDelta25(benchmark::State& state) {
  const VolSurface s = VolSurface::from_svi({{0.25, 101.0, {0.02, 0.25, -0.4, 0.02, 0.15}},
                                             {1.0, 105.0, {0.08, 0.35, -0.35, 0.05, 0.25}}});
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.strike_at_delta(OptionType::put, -0.25, 0.6));
  }
}
BENCHMARK(BM_SurfaceStrikeAtDelta25);

}  // namespace
