// The simulated chains: hash links, the documented header serialisation, transfers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "sim/chain.hpp"

namespace gw::sim {
namespace {

std::string hex(const Hash& h) {
  return to_hex(h);
}

TEST(Sha256, KnownVector) {
  const std::string abc = "abc";
  EXPECT_EQ(hex(sha256(std::span(reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(BlockHeader, DocumentedLayout) {
  Block b;
  b.currency = Currency::ETH;
  b.height = 0x0102030405060708ull;
  b.prev_hash.fill(0xAA);
  b.block_time = 1'772'442'000'000;
  b.tx_count = 0x11223344;
  b.fee_rate_milli = 12'345;
  b.transfers_root.fill(0xBB);
  b.nonce = 0xCAFEBABEDEADBEEFull;
  const auto h = block_header(b);
  ASSERT_EQ(h.size(), 107u);
  EXPECT_EQ(std::memcmp(h.data(), "GWBLK1", 6), 0);
  EXPECT_EQ(h[6], 1);  // ETH
  EXPECT_EQ(h[7], 0x01);
  EXPECT_EQ(h[14], 0x08);
  EXPECT_EQ(h[15], 0xAA);
  EXPECT_EQ(h[46], 0xAA);
  // block_time big-endian at 47.
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | h[47 + i];
  EXPECT_EQ(t, 1'772'442'000'000u);
  EXPECT_EQ(h[55], 0x11);
  EXPECT_EQ(h[58], 0x44);
  std::uint64_t fee = 0;
  for (int i = 0; i < 8; ++i) fee = (fee << 8) | h[59 + i];
  EXPECT_EQ(fee, 12'345u);
  EXPECT_EQ(h[67], 0xBB);
  EXPECT_EQ(h[98], 0xBB);
  EXPECT_EQ(h[99], 0xCA);
  EXPECT_EQ(h[106], 0xEF);
  EXPECT_EQ(block_hash(b), sha256(h));
}

TEST(Chain, BlocksLinkAndHashTheirHeaders) {
  for (Currency c : {Currency::BTC, Currency::ETH}) {
    const ChainParams p = c == Currency::BTC ? default_btc_chain() : default_eth_chain();
    Chain chain(c, p, Rng(21), 1'772'442'000'000);
    const Block genesis = chain.tip();
    EXPECT_EQ(genesis.height + 1, p.start_height);
    EXPECT_EQ(genesis.hash, block_hash(genesis));
    Hash prev = genesis.hash;
    std::uint64_t height = genesis.height;
    TimestampMs t = genesis.block_time;
    std::vector<Transfer> transfers;
    double waits = 0;
    std::uint32_t transfer_count = 0;
    constexpr int kBlocks = 2'000;
    for (int i = 0; i < kBlocks; ++i) {
      const double wait = chain.next_interval_seconds(1);
      waits += wait;
      t += static_cast<TimestampMs>(wait * 1000) + 1;
      const Block b = chain.mine(t, 50'000, transfers);
      ASSERT_EQ(b.prev_hash, prev);
      ASSERT_EQ(b.height, height + 1);
      ASSERT_EQ(b.hash, block_hash(b));
      ASSERT_EQ(b.block_time, t);
      ASSERT_GT(b.tx_count, 0u);
      ASSERT_GT(b.fee_rate(), 0);
      ASSERT_EQ(b.transfer_count, transfers.size());
      ASSERT_EQ(b.transfers_root, transfers_root(transfers));
      for (const Transfer& x : transfers) {
        ASSERT_EQ(x.block_height, b.height);
        ASSERT_NE(x.from, x.to);
        ASSERT_GE(x.amount, p.transfer_min * (1 - 1e-9));
        ASSERT_LE(x.amount, p.transfer_max * (1 + 1e-9));
        ASSERT_NEAR(x.usd_value, x.amount * 50'000, 1e-6 * x.usd_value);
      }
      transfer_count += b.transfer_count;
      prev = b.hash;
      height = b.height;
    }
    // Poisson arrivals with the configured mean interval, and transfers at their rate.
    EXPECT_NEAR(waits / kBlocks, p.mean_block_seconds, 0.1 * p.mean_block_seconds);
    EXPECT_NEAR(static_cast<double>(transfer_count) / kBlocks, p.transfers_per_block,
                0.15 * p.transfers_per_block + 0.02);
    // A changed block no longer hashes to its hash.
    Block b = chain.tip();
    b.tx_count += 1;
    EXPECT_NE(block_hash(b), chain.tip().hash);
  }
}

TEST(Chain, SpeedUpShortensTheWait) {
  Chain a(Currency::BTC, default_btc_chain(), Rng(2), 0);
  double sum = 0;
  for (int i = 0; i < 5'000; ++i) sum += a.next_interval_seconds(60);
  EXPECT_NEAR(sum / 5'000, 10, 0.6);  // 600 s / 60
}

}  // namespace
}  // namespace gw::sim
