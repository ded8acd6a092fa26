// The simulator's random numbers: xoshiro256** (Blackman & Vigna) seeded through splitmix64,
// with the few distributions the simulator draws from written out here.
//
// Why not <random>'s distributions: std::normal_distribution and friends are specified only in
// what they produce on average, and libstdc++ and libc++ compute them differently, so the same
// seed would give different markets with different standard libraries. Everything here is plain
// arithmetic on 64-bit integers and doubles (and std::log/exp/sqrt), so a seed names one market.
#pragma once

#include <cmath>
#include <cstdint>

namespace gw::sim {

// splitmix64: a good 64-bit mix, used to expand seeds and to derive independent streams.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) {
    std::uint64_t s = seed;
    for (std::uint64_t& word : s_) word = splitmix64(s);
  }

  // An independent stream for one component (the index of BTC, the noise traders, ...), so that
  // adding draws to one component does not shift the numbers every other one sees.
  static Rng stream(std::uint64_t seed, std::uint64_t stream_id) {
    std::uint64_t s = seed ^ (stream_id * 0xD1B54A32D192ED03ull);
    return Rng(splitmix64(s));
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // (0, 1]: safe under a logarithm.
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool bernoulli(double p) { return uniform() < p; }

  // An integer in [0, n) (n > 0), by Lemire's multiply-shift (the bias is below 2^-32 for the
  // small n drawn here, and it is deterministic, which is what matters).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * std::uint64_t{n}) >> 32);
  }

  // Standard normal by Marsaglia's polar method (no trigonometry); the spare value is kept.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, q;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q == 0);
    const double f = std::sqrt(-2 * std::log(q) / q);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  // Exponential with the given rate (mean 1/rate); rate > 0.
  double exponential(double rate) { return -std::log(uniform_pos()) / rate; }

  // Poisson with the given mean. Knuth's product method below 30 (the simulator's means are
  // tiny: jumps per index step, transfers per block), a rounded normal above.
  std::uint32_t poisson(double mean) {
    if (!(mean > 0)) return 0;
    if (mean < 30) {
      const double limit = std::exp(-mean);
      std::uint32_t k = 0;
      for (double p = uniform_pos(); p > limit; p *= uniform_pos()) ++k;
      return k;
    }
    const double x = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
    return x > 0 ? static_cast<std::uint32_t>(x) : 0;
  }

  // Geometric number of lots with the given mean (≥ 1): order sizes with a long tail.
  std::int64_t lots(double mean) { return mean <= 1 ? 1 : lots_log(std::log1p(-1 / mean)); }
  // The same with ln(1 − 1/mean) computed once by the caller (< 0).
  std::int64_t lots_log(double log_q) {
    return 1 + static_cast<std::int64_t>(std::floor(std::log(uniform_pos()) / log_q));
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace gw::sim
