#include "sim/chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gw::sim {

namespace {

template <std::size_t N>
struct Bytes {
  std::array<std::uint8_t, N> data{};
  std::size_t size = 0;

  void put(const void* p, std::size_t n) {
    std::memcpy(data.data() + size, p, n);
    size += n;
  }
  void put_be(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      data[size + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    size += n;
  }
};

std::uint8_t currency_byte(Currency c) {
  return static_cast<std::uint8_t>(c);
}

}  // namespace

ChainParams default_btc_chain() {
  return ChainParams{};
}

ChainParams default_eth_chain() {
  ChainParams p;
  p.mean_block_seconds = 12;
  p.start_height = 21'500'000;
  p.tx_mean = 160;
  p.tx_stdev = 40;
  p.fee_median = 15;
  p.fee_log_stdev = 0.3;
  p.fee_persistence = 0.95;
  p.transfers_per_block = 0.3;
  p.transfer_min = 1'000;
  p.transfer_max = 200'000;
  p.units_per_coin = 1e9;
  return p;
}

Hash sha256(std::span<const std::uint8_t> bytes) {
  Hash h{};
  unsigned int size = 0;
  // EVP_Digest only fails on allocation failure inside OpenSSL; the hash then stays zero.
  EVP_Digest(bytes.data(), bytes.size(), h.data(), &size, EVP_sha256(), nullptr);
  return h;
}

std::array<std::uint8_t, kBlockHeaderSize> block_header(const Block& b) {
  Bytes<kBlockHeaderSize> out;
  out.put("GWBLK1", 6);
  const std::uint8_t c = currency_byte(b.currency);
  out.put(&c, 1);
  out.put_be(b.height, 8);
  out.put(b.prev_hash.data(), 32);
  out.put_be(static_cast<std::uint64_t>(b.block_time), 8);
  out.put_be(b.tx_count, 4);
  out.put_be(b.fee_rate_milli, 8);
  out.put(b.transfers_root.data(), 32);
  out.put_be(b.nonce, 8);
  return out.data;
}

Hash block_hash(const Block& block) {
  const auto header = block_header(block);
  return sha256(header);
}

Hash transfers_root(std::span<const Transfer> transfers) {
  if (transfers.empty()) return Hash{};
  std::vector<std::uint8_t> all;
  all.reserve(transfers.size() * 32);
  for (const Transfer& t : transfers) all.insert(all.end(), t.tx_hash.begin(), t.tx_hash.end());
  return sha256(all);
}

Chain::Chain(Currency currency, const ChainParams& params, Rng rng, TimestampMs genesis_time)
    : currency_(currency), params_(params), rng_(rng), log_fee_(std::log(params.fee_median)) {
  addresses_.resize(std::max<std::uint32_t>(params.address_count, 2));
  for (Address& a : addresses_) {
    for (std::size_t i = 0; i < a.size(); i += 8) {
      const std::uint64_t word = rng_.next();
      for (std::size_t j = 0; j < 8 && i + j < a.size(); ++j) {
        a[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
      }
    }
  }
  tip_.currency = currency;
  tip_.height = params.start_height - 1;
  tip_.block_time = genesis_time;
  tip_.timestamp = genesis_time;
  tip_.nonce = rng_.next();
  tip_.hash = block_hash(tip_);
}

double Chain::next_interval_seconds(double speedup) {
  const double mean = params_.mean_block_seconds / std::max(speedup, 1e-9);
  return rng_.exponential(1 / mean);
}

const Block& Chain::mine(TimestampMs time, double index_price, std::vector<Transfer>& transfers) {
  Block b;
  b.timestamp = time;
  b.currency = currency_;
  b.height = tip_.height + 1;
  b.prev_hash = tip_.hash;
  b.block_time = time;
  const double txs = std::round(params_.tx_mean + params_.tx_stdev * rng_.normal());
  b.tx_count = static_cast<std::uint32_t>(std::max(txs, 1.0));
  // ln fee: AR(1) around the median with the configured stationary stdev.
  const double mean = std::log(params_.fee_median);
  const double a = params_.fee_persistence;
  log_fee_ =
      mean + a * (log_fee_ - mean) + params_.fee_log_stdev * std::sqrt(1 - a * a) * rng_.normal();
  b.fee_rate_milli = static_cast<std::uint64_t>(std::llround(std::exp(log_fee_) * 1000.0));
  b.nonce = rng_.next();

  transfers.clear();
  const std::uint32_t n = std::min(rng_.poisson(params_.transfers_per_block), b.tx_count);
  for (std::uint32_t i = 0; i < n; ++i) {
    Transfer t;
    t.timestamp = time;
    t.currency = currency_;
    t.block_height = b.height;
    t.index = i;
    const auto count = static_cast<std::uint32_t>(addresses_.size());
    const std::uint32_t from = rng_.below(count);
    const std::uint32_t to = (from + 1 + rng_.below(count - 1)) % count;  // never to itself
    t.from = addresses_[from];
    t.to = addresses_[to];
    // Pareto above the threshold: a few transfers are very large.
    const double amount =
        std::min(params_.transfer_min * std::pow(rng_.uniform_pos(), -1 / params_.transfer_tail),
                 params_.transfer_max);
    t.amount_units = static_cast<std::uint64_t>(std::llround(amount * params_.units_per_coin));
    t.amount = static_cast<double>(t.amount_units) / params_.units_per_coin;
    t.usd_value = t.amount * index_price;
    Bytes<5 + 1 + 8 + 4 + 20 + 20 + 8 + 8> tx;
    tx.put("GWTX1", 5);
    const std::uint8_t c = currency_byte(currency_);
    tx.put(&c, 1);
    tx.put_be(t.block_height, 8);
    tx.put_be(t.index, 4);
    tx.put(t.from.data(), 20);
    tx.put(t.to.data(), 20);
    tx.put_be(t.amount_units, 8);
    tx.put_be(rng_.next(), 8);
    t.tx_hash = sha256(tx.data);
    transfers.push_back(t);
  }
  b.transfer_count = n;
  b.transfers_root = transfers_root(transfers);
  b.hash = block_hash(b);
  tip_ = b;
  return tip_;
}

}  // namespace gw::sim
