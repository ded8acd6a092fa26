// CRC-32 by slicing-by-8 (eight 1 KiB tables, one 8-byte step per iteration) and, on x86-64
// with PCLMULQDQ, by folding 16-byte blocks with carry-less multiplies (Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel 2009). Tables and
// folding constants are computed at compile time from the polynomial. Then fixed-decimal
// printing and the book checksum.
#include "market/checksum.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "market/instrument.hpp"

namespace gw::market {

namespace {

constexpr std::uint32_t kPolynomial = 0xEDB88320u;  // 0x04C11DB7 bit-reversed

using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr CrcTables make_tables() {
  CrcTables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1u) ? kPolynomial : 0u);
    t[0][i] = c;
  }
  // t[k][i]: the CRC of byte i followed by k zero bytes.
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
  return t;
}

constexpr CrcTables kTables = make_tables();

std::uint32_t load_le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

constexpr std::size_t kMaxPayload = kMaxChecksumPayload;

// The CRC register update without the initial and final inversion.
std::uint32_t update_tables(std::uint32_t crc, const unsigned char* p, std::size_t size) {
  for (; size >= 8; size -= 8, p += 8) {
    const std::uint32_t a = load_le32(p) ^ crc;
    const std::uint32_t b = load_le32(p + 4);
    crc = kTables[7][a & 0xFF] ^ kTables[6][(a >> 8) & 0xFF] ^ kTables[5][(a >> 16) & 0xFF] ^
          kTables[4][a >> 24] ^ kTables[3][b & 0xFF] ^ kTables[2][(b >> 8) & 0xFF] ^
          kTables[1][(b >> 16) & 0xFF] ^ kTables[0][b >> 24];
  }
  for (; size > 0; --size, ++p) crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xFF];
  return crc;
}

#if defined(__x86_64__)

// x^n mod P for the unreflected polynomial P = 0x104C11DB7.
constexpr std::uint64_t xpow_mod(int n) {
  std::uint64_t r = 1;
  for (int i = 0; i < n; ++i) {
    r <<= 1;
    if (r & (std::uint64_t{1} << 32)) r ^= 0x104C11DB7u;
  }
  return r;
}

// A folding multiplier in the reflected domain: x^(d − 32) mod P bit-reflected, times x (a
// carry-less product of reflected operands comes out one bit short).
constexpr long long fold_constant(int distance) {
  const std::uint64_t v = xpow_mod(distance - 32);
  std::uint64_t r = 0;
  for (int i = 0; i < 32; ++i) {
    if ((v >> i) & 1) r |= std::uint64_t{1} << (31 - i);
  }
  return static_cast<long long>(r << 1);
}

// Moving a 128-bit block forward by `distance` bits: its low half (earlier bytes, higher powers
// of x) travels 64 bits further than its high half.
constexpr long long kFold512Low = fold_constant(512 + 64);
constexpr long long kFold512High = fold_constant(512);
constexpr long long kFold128Low = fold_constant(128 + 64);
constexpr long long kFold128High = fold_constant(128);
static_assert(kFold128Low == 0x1751997d0 && kFold128High == 0x0ccaa009e);

__attribute__((target("pclmul,sse2"))) __m128i fold(__m128i x, __m128i k, __m128i next) {
  const __m128i low = _mm_clmulepi64_si128(x, k, 0x00);
  const __m128i high = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

__attribute__((target("pclmul,sse2"))) __m128i load(const unsigned char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Folds all whole 16-byte blocks of p[0, size) (size ≥ 64) into one block congruent to them
// modulo P, then reduces that block by table. Advances p and size past what it consumed.
__attribute__((target("pclmul,sse2"))) std::uint32_t update_folding(std::uint32_t crc,
                                                                    const unsigned char*& p,
                                                                    std::size_t& size) {
  const __m128i k512 = _mm_set_epi64x(kFold512High, kFold512Low);
  const __m128i k128 = _mm_set_epi64x(kFold128High, kFold128Low);
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x1 = load(p + 16);
  __m128i x2 = load(p + 32);
  __m128i x3 = load(p + 48);
  p += 64;
  size -= 64;
  for (; size >= 64; p += 64, size -= 64) {  // four independent chains
    x0 = fold(x0, k512, load(p));
    x1 = fold(x1, k512, load(p + 16));
    x2 = fold(x2, k512, load(p + 32));
    x3 = fold(x3, k512, load(p + 48));
  }
  __m128i x = fold(fold(fold(x0, k128, x1), k128, x2), k128, x3);
  for (; size >= 16; p += 16, size -= 16) x = fold(x, k128, load(p));
  alignas(16) unsigned char block[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(block), x);
  return update_tables(0, block, 16);
}

const bool kHasPclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");

#endif

std::size_t write_payload(char* out, std::span<const PriceLevel> bids,
                          std::span<const PriceLevel> asks, const BookFormat& f) {
  const std::size_t nb = std::min(bids.size(), kChecksumDepth);
  const std::size_t na = std::min(asks.size(), kChecksumDepth);
  std::size_t n = 0;
  auto put = [&](const PriceLevel& l) {
    if (n != 0) out[n++] = ':';
    n += format_fixed(out + n, l.price * f.price_scale, f.price_decimals);
    out[n++] = ':';
    n += format_fixed(out + n, l.amount * f.amount_scale, f.amount_decimals);
  };
  for (std::size_t i = 0; i < std::max(nb, na); ++i) {
    if (i < nb) put(bids[i]);
    if (i < na) put(asks[i]);
  }
  return n;
}

// The scale that prints `unit` exactly with `decimals` digits, or 0 when it cannot.
std::int64_t exact_scale(double unit, int decimals) {
  if (decimals < 0 || decimals > 15 || !(unit > 0)) return 0;
  const double scaled = unit * std::pow(10.0, decimals);
  const double whole = std::round(scaled);
  if (whole < 1 || std::abs(scaled - whole) > 1e-6 * whole) return 0;
  return static_cast<std::int64_t>(whole);
}

void pick_scale(double unit, int wanted, std::int64_t& scale, int& decimals) {
  for (int d = wanted; d <= 15; ++d) {
    if (const std::int64_t s = exact_scale(unit, d)) {
      scale = s;
      decimals = d;
      return;
    }
  }
  scale = 1;  // a unit no decimal expresses: print the raw unit counts
  decimals = 0;
}

}  // namespace

std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  if (size >= 64 && kHasPclmul) crc = update_folding(crc, p, size);
#endif
  return ~update_tables(crc, p, size);
}

std::uint32_t crc32_portable(std::uint32_t crc, const void* data, std::size_t size) {
  return ~update_tables(~crc, static_cast<const unsigned char*>(data), size);
}

std::size_t format_fixed(char* out, std::int64_t value, int decimals) {
  // Digits are produced two at a time from the end of a scratch buffer.
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char digits[24];
  char* end = digits + sizeof digits;
  char* p = end;
  // Magnitude as unsigned so that INT64_MIN is printable too.
  std::uint64_t v =
      value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  while (v >= 100) {
    const std::size_t i = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    *--p = kPairs[i + 1];
    *--p = kPairs[i];
  }
  if (v >= 10) {
    *--p = kPairs[v * 2 + 1];
    *--p = kPairs[v * 2];
  } else {
    *--p = static_cast<char>('0' + v);
  }
  while (end - p <= decimals) *--p = '0';  // at least one digit before the point
  const std::size_t n = static_cast<std::size_t>(end - p);
  const std::size_t whole = n - static_cast<std::size_t>(decimals);
  std::size_t len = 0;
  if (value < 0) out[len++] = '-';
  std::memcpy(out + len, p, whole);
  len += whole;
  if (decimals > 0) {
    out[len++] = '.';
    std::memcpy(out + len, p + whole, static_cast<std::size_t>(decimals));
    len += static_cast<std::size_t>(decimals);
  }
  return len;
}

BookFormat book_format(const Instrument& instrument) {
  BookFormat f;
  pick_scale(instrument.price_unit, instrument.price_decimals, f.price_scale, f.price_decimals);
  pick_scale(instrument.amount_unit, instrument.amount_decimals, f.amount_scale, f.amount_decimals);
  return f;
}

std::uint32_t book_checksum(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                            const BookFormat& format) {
  char buf[kMaxPayload];
  return crc32(0, buf, write_payload(buf, bids, asks, format));
}

std::string checksum_payload(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                             const BookFormat& format) {
  char buf[kMaxPayload];
  return std::string(buf, write_payload(buf, bids, asks, format));
}

}  // namespace gw::market
