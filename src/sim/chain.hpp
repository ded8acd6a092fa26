// Simulated on-chain data of one currency (the gateway's chain.* channels): blocks arriving as a
// Poisson process, each linked to the previous one by hash, with a transaction count, a fee
// level and the large transfers it confirms.
//
// Block hash = SHA-256 (OpenSSL EVP_Digest) of this 107-byte header, integers big-endian:
//
//   offset  size  field
//        0     6  "GWBLK1"
//        6     1  currency (0 BTC, 1 ETH)
//        7     8  height
//       15    32  prev_hash
//       47     8  block_time (unix ms, two's complement)
//       55     4  tx_count
//       59     8  fee_rate_milli (thousandths of sat/vB for BTC, of gwei for ETH)
//       67    32  transfers_root
//       99     8  nonce
//
// transfers_root = SHA-256 of the block's transfer tx hashes concatenated in order (32 zero
// bytes when the block has none). A transfer's tx hash = SHA-256 of "GWTX1", currency (1 byte),
// block height (8), index in the block (4), from (20), to (20), amount in base units (8) and a
// random salt (8). The first block mined follows a genesis block (height start_height − 1,
// previous hash zero) that is not published.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/rng.hpp"
#include "sim/sim_events.hpp"

namespace gw::sim {

struct ChainParams {
  double mean_block_seconds = 600;  // at speed-up 1
  std::uint64_t start_height = 880'000;
  double tx_mean = 3'000;
  double tx_stdev = 600;
  double fee_median = 12;      // sat/vB (BTC) or gwei (ETH)
  double fee_log_stdev = 0.4;  // stationary stdev of ln fee (an AR(1) across blocks)
  double fee_persistence = 0.9;
  double transfers_per_block = 2;    // Poisson mean of large transfers per block
  double transfer_min = 100;         // coin: what counts as large
  double transfer_tail = 1.5;        // Pareto exponent of the amount
  double transfer_max = 20'000;      // coin
  double units_per_coin = 1e8;       // satoshi per BTC; gwei per ETH
  std::uint32_t address_count = 64;  // the pool the parties are drawn from (exchanges, whales)
};

ChainParams default_btc_chain();
ChainParams default_eth_chain();

inline constexpr std::size_t kBlockHeaderSize = 107;

Hash sha256(std::span<const std::uint8_t> bytes);
std::array<std::uint8_t, kBlockHeaderSize> block_header(const Block& block);
Hash block_hash(const Block& block);  // SHA-256 of block_header()
Hash transfers_root(std::span<const Transfer> transfers);

class Chain {
 public:
  Chain(Currency currency, const ChainParams& params, Rng rng, TimestampMs genesis_time);

  const Block& tip() const { return tip_; }
  const ChainParams& params() const { return params_; }
  // Waiting time to the next block in seconds of simulated time: exponential with mean
  // mean_block_seconds / speedup.
  double next_interval_seconds(double speedup);
  // Mines the next block at `time`: fills `transfers` (cleared first) and returns the block.
  // `index_price` values the transfers in USD.
  const Block& mine(TimestampMs time, double index_price, std::vector<Transfer>& transfers);

 private:
  Currency currency_;
  ChainParams params_;
  Rng rng_;
  Block tip_;
  double log_fee_;
  std::vector<Address> addresses_;
};

}  // namespace gw::sim
