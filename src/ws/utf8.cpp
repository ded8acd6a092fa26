// UTF-8 validation after RFC 3629 §4 (the well-formed byte sequences of Unicode table 3-7):
//
//   U+0000..U+007F      00..7F
//   U+0080..U+07FF      C2..DF 80..BF
//   U+0800..U+0FFF      E0     A0..BF 80..BF
//   U+1000..U+CFFF      E1..EC 80..BF 80..BF
//   U+D000..U+D7FF      ED     80..9F 80..BF      (ED A0..BF would be a UTF-16 surrogate)
//   U+E000..U+FFFF      EE..EF 80..BF 80..BF
//   U+10000..U+3FFFF    F0     90..BF 80..BF 80..BF
//   U+40000..U+FFFFF    F1..F3 80..BF 80..BF 80..BF
//   U+100000..U+10FFFF  F4     80..8F 80..BF 80..BF
//
// Only the second byte of a sequence ever has a range other than 80..BF; that is what rules out
// overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates and code points above U+10FFFF.
//
// The bulk scanner skips ASCII 64 bytes at a time (SSE2; 16 with plain 64-bit words) and decodes
// multi-byte sequences with a few predictable branches. The incremental validator runs the same
// scanner and only falls back to a byte-at-a-time state machine for a sequence cut by the end of a
// chunk, so its state is just "continuation bytes still expected, and the range allowed for the
// next one".
#include "ws/utf8.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gw::ws {

namespace {

#if !defined(__SSE2__)
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
#endif

inline bool is_continuation(std::uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// Returns the first byte at or after p that is not ASCII, or end. [begin, end) is readable.
inline const std::uint8_t* skip_ascii(const std::uint8_t* begin, const std::uint8_t* p,
                                      const std::uint8_t* end) {
#if defined(__SSE2__)
  // 64 bytes per step: OR four vectors, one movemask collects their high bits.
  while (end - p >= 64) {
    const auto* v = reinterpret_cast<const __m128i*>(p);
    const __m128i a = _mm_loadu_si128(v);
    const __m128i b = _mm_loadu_si128(v + 1);
    const __m128i c = _mm_loadu_si128(v + 2);
    const __m128i d = _mm_loadu_si128(v + 3);
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) break;
    p += 64;
  }
  while (end - p >= 16) {
    const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (high != 0) return p + std::countr_zero(static_cast<unsigned>(high));
    p += 16;
  }
  // Fewer than 16 bytes left: if the buffer holds 16 before `end`, test the last 16 at once
  // (re-testing a few already known to be ASCII) rather than byte by byte.
  if (p < end && end - begin >= 16) {
    const auto high = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16))));
    const auto mine = high >> (16 - (end - p));  // bits of the bytes at p and after
    return mine == 0 ? end : p + std::countr_zero(mine);
  }
#else
  (void)begin;
  while (end - p >= 16) {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    if (((a | b) & kHighBits) == 0) {
      p += 16;
      continue;
    }
    if constexpr (std::endian::native == std::endian::little) {
      // The lowest set high bit is the first non-ASCII byte in memory order.
      const std::uint64_t ma = a & kHighBits;
      if (ma != 0) return p + std::countr_zero(ma) / 8;
      return p + 8 + std::countr_zero(b & kHighBits) / 8;
    } else {
      break;
    }
  }
#endif
  while (p < end && *p < 0x80) ++p;
  return p;
}

// Returns the end of the longest prefix of [p, end) made of complete, valid sequences: `end`
// if everything is valid, otherwise the lead byte of the first sequence that is invalid or cut
// short by `end`.
const std::uint8_t* scan(const std::uint8_t* p, const std::uint8_t* end) {
  const std::uint8_t* const begin = p;
  while (p < end) {
    const std::uint8_t c = *p;
    if (c < 0x80) {
      // A single ASCII byte between multi-byte characters (a space in Greek text) is common;
      // only look for a long ASCII run when the next byte is ASCII too.
      if (end - p >= 2 && p[1] < 0x80) {
        p = skip_ascii(begin, p + 2, end);
      } else {
        ++p;
      }
      continue;
    }
    const std::ptrdiff_t avail = end - p;
    if (c < 0xE0) {
      if (c < 0xC2 || avail < 2 || !is_continuation(p[1])) return p;
      p += 2;
    } else if (c < 0xF0) {
      if (avail < 3) return p;
      const std::uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
      const std::uint8_t hi = c == 0xED ? 0x9F : 0xBF;
      if (p[1] < lo || p[1] > hi || !is_continuation(p[2])) return p;
      p += 3;
    } else {
      if (c > 0xF4 || avail < 4) return p;
      const std::uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
      const std::uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
      if (p[1] < lo || p[1] > hi || !is_continuation(p[2]) || !is_continuation(p[3])) return p;
      p += 4;
    }
  }
  return p;
}

}  // namespace

bool is_valid_utf8(const std::uint8_t* data, std::size_t size) {
  return scan(data, data + size) == data + size;
}

// State layout: bits 0-7 continuation bytes still expected, bits 8-15 and 16-23 the lowest
// and highest value allowed for the next byte. kAccept (0) means "on a code point boundary";
// kReject is all ones, which no live state can be.
std::uint32_t Utf8Validator::expect(std::uint32_t remaining, std::uint32_t lo, std::uint32_t hi) {
  return remaining | (lo << 8) | (hi << 16);
}

std::uint32_t Utf8Validator::step(std::uint32_t state, std::uint8_t b) {
  if (state == kAccept) {
    if (b < 0x80) return kAccept;
    if (b < 0xC2) return kReject;  // continuation byte, or overlong lead C0/C1
    if (b < 0xE0) return expect(1, 0x80, 0xBF);
    if (b < 0xF0) return expect(2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF);
    if (b < 0xF5) return expect(3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF);
    return kReject;
  }
  const std::uint32_t remaining = state & 0xFF;
  const std::uint32_t lo = (state >> 8) & 0xFF;
  const std::uint32_t hi = (state >> 16) & 0xFF;
  if (b < lo || b > hi) return kReject;
  return remaining == 1 ? kAccept : expect(remaining - 1, 0x80, 0xBF);
}

bool Utf8Validator::feed(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* p = data;
  const std::uint8_t* const end = data + size;
  // Finish a code point that the previous chunk cut.
  while (state_ != kAccept && state_ != kReject && p < end) state_ = step(state_, *p++);
  if (state_ == kReject) return false;
  if (p == end) return true;

  // Bulk-validate, then walk whatever the scanner stopped at byte by byte: either an invalid
  // sequence, rejected within its first four bytes, or a valid prefix cut by the chunk's end.
  p = scan(p, end);
  while (p < end) {
    state_ = step(state_, *p++);
    if (state_ == kReject) return false;
  }
  return true;
}

}  // namespace gw::ws
