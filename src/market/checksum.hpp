// The book checksum, greekwire's extension to Deribit's book channels (docs/PROTOCOL.md, "Order
// books and checksum"): CRC-32 over the top 10 levels of each side in OKX's interleaved layout,
// "bidPx:bidSz:askPx:askSz:...", every number printed with fixed per-instrument decimals.
//
// Prices and amounts stay integers (Ticks, Lots) up to the printing: a number is printed from
// the exact integer `units × scale` with a decimal point inserted, so there is no floating-point
// rounding that a client in another language could reproduce differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "market/types.hpp"

namespace gw::market {

struct Instrument;

// One L2 level: a price and the total amount resting there.
struct PriceLevel {
  Ticks price = 0;
  Lots amount = 0;
  bool operator==(const PriceLevel&) const = default;
};

// How one instrument's levels are printed: price = ticks × price_scale / 10^price_decimals.
struct BookFormat {
  std::int64_t price_scale = 1;
  std::int64_t amount_scale = 1;
  int price_decimals = 0;
  int amount_decimals = 0;
};

// From the instrument's units and decimals. When `price_decimals` cannot express `price_unit`
// exactly (a hand-built instrument that left it 0), the fewest decimals that can are used.
BookFormat book_format(const Instrument& instrument);

inline constexpr std::size_t kChecksumDepth = 10;

// CRC-32 as zlib's crc32() computes it (IEEE 802.3 polynomial, reflected, init and final
// xor 0xFFFFFFFF): crc32(0, "123456789", 9) == 0xCBF43926. Pass the previous result to continue.
// On x86-64 with PCLMULQDQ, inputs of 64 bytes and more are folded with carry-less multiplies.
std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t size);
// The same by tables only (what crc32() does on other machines; for tests).
std::uint32_t crc32_portable(std::uint32_t crc, const void* data, std::size_t size);

// The longest checksum payload: 40 numbers of at most 21 characters, 39 separators.
inline constexpr std::size_t kMaxChecksumPayload = 4 * 10 * 22;

// Prints `value / 10^decimals` with exactly `decimals` fraction digits ("-0.0500"); no point
// when decimals == 0. `out` needs 24 bytes. Returns the length.
std::size_t format_fixed(char* out, std::int64_t value, int decimals);

// The checksum of a book whose sides are `bids` and `asks`, best first; only the first 10 of
// each are used. An empty book gives 0 (the CRC of the empty string).
std::uint32_t book_checksum(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                            const BookFormat& format);

// The string that book_checksum() hashes, for documentation, tests and debugging.
std::string checksum_payload(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                             const BookFormat& format);

}  // namespace gw::market
