// greekwire's own channels to the mirror's inputs (translate.hpp): volsurface.*, chain.*.blocks,
// chain.*.transfers, the inverse of gateway/encode.hpp's write_surface, write_block and
// write_transfer. Every number those write round-trips exactly (shortest round-trip decimals),
// so a mirror publishes what the venue published, to the bit.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "codec/text.hpp"
#include "feed/reader.hpp"
#include "feed/translate.hpp"

namespace gw::feed {

using detail::Reader;
using greekwire::Value;

namespace {

// The currency member: "BTC" or "ETH".
market::Currency read_currency(Reader& r) {
  const std::string_view text = r.text("currency");
  const auto currency = market::currency_named(text);
  if (r.ok() && !currency) r.fail("currency", "\"BTC\" or \"ETH\"");
  return currency.value_or(market::Currency::BTC);
}

// A member holding exactly N bytes in hex (a hash, an address).
template <std::size_t N>
std::array<std::uint8_t, N> read_hex(Reader& r, std::string_view key) {
  std::array<std::uint8_t, N> bytes{};
  const std::string_view text = r.text(key);
  if (!r.ok()) return bytes;
  bool good = text.size() == 2 * N;
  for (std::size_t i = 0; good && i < N; ++i) {
    const int high = codec::hex_digit(text[2 * i]);
    const int low = codec::hex_digit(text[2 * i + 1]);
    good = high >= 0 && low >= 0;
    bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  if (!good) r.fail(key, std::to_string(2 * N) + " hex digits");
  return bytes;
}

template <class T>
T narrow(Reader& r, std::string_view key, std::uint64_t value) {
  if (value > std::numeric_limits<T>::max()) r.fail(key, "in range");
  return static_cast<T>(value);
}

}  // namespace

std::optional<sim::SurfaceSnapshot> surface_from(const Value& data, std::string* error) {
  Reader r(data, "volatility surface", error);
  sim::SurfaceSnapshot s;
  s.timestamp = r.integer("timestamp");
  s.currency = read_currency(r);
  s.index_price = r.number("index_price", true, false);
  const Value* ssvi = r.nested("ssvi", Value::Type::object, true);
  const Value* expiries = r.nested("expiries", Value::Type::array, true);
  if (!r.ok()) return std::nullopt;
  Reader params(*ssvi, "volatility surface's ssvi", error);
  s.params.rho = params.number("rho", true, false);
  s.params.eta = params.number("eta", true, false);
  s.params.gamma = params.number("gamma", true, false);
  if (!params.ok()) return std::nullopt;
  for (const Value& row : expiries->array()) {
    Reader e(row, "volatility surface's expiry", error);
    sim::SurfaceExpiry expiry;
    expiry.expiry = e.integer("expiration_timestamp");
    expiry.years = e.number("years", true, false);
    expiry.forward = e.number("forward", true, false);
    expiry.theta = e.number("atm_total_variance", true, false);
    if (!e.ok()) return std::nullopt;
    // The data's atm_vol is the smile's, in percent; the snapshot's is √(θ/T), as the
    // simulator computes it.
    expiry.atm_vol = expiry.years > 0 ? std::sqrt(expiry.theta / expiry.years) : 0;
    s.expiries.push_back(expiry);
  }
  return s;
}

std::optional<sim::Block> block_from(const Value& data, std::string* error) {
  Reader r(data, "block", error);
  sim::Block b;
  b.currency = read_currency(r);
  b.height = r.unsigned_integer("height");
  b.hash = read_hex<32>(r, "hash");
  b.prev_hash = read_hex<32>(r, "prev_hash");
  b.block_time = r.integer("block_time");
  b.timestamp = r.integer("timestamp");
  b.tx_count = narrow<std::uint32_t>(r, "tx_count", r.unsigned_integer("tx_count"));
  b.fee_rate_milli = r.unsigned_integer("fee_rate_milli");
  b.nonce = r.unsigned_integer("nonce");
  b.transfers_root = read_hex<32>(r, "transfers_root");
  b.transfer_count =
      narrow<std::uint32_t>(r, "transfer_count", r.unsigned_integer("transfer_count"));
  if (!r.ok()) return std::nullopt;
  return b;
}

std::optional<sim::Transfer> transfer_from(const Value& data, std::string* error) {
  Reader r(data, "transfer", error);
  sim::Transfer t;
  t.currency = read_currency(r);
  t.block_height = r.unsigned_integer("block_height");
  t.index = narrow<std::uint32_t>(r, "index", r.unsigned_integer("index"));
  t.tx_hash = read_hex<32>(r, "tx_hash");
  t.from = read_hex<20>(r, "from");
  t.to = read_hex<20>(r, "to");
  t.amount = r.number("amount", true, false);
  t.amount_units = r.unsigned_integer("amount_units");
  t.usd_value = r.number("usd_value", true, false);
  t.timestamp = r.integer("timestamp");
  if (!r.ok()) return std::nullopt;
  return t;
}

}  // namespace gw::feed
