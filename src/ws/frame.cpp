// RFC 6455 §5.2 frame headers and §5.3 masking.
//
// The header codec is deliberately strict: lengths must use the minimal encoding and the 64-bit
// form must leave its top bit clear, so every valid header has exactly one byte representation
// (the fuzzer checks parse → write round trips on that basis).
//
// apply_mask() is on the hot path of every byte a server receives, so it XORs wide words: the
// 4-byte key is repeated into a 16-byte (SSE2), 32-byte (AVX2, when the compiler targets it) or
// 8-byte (portable) pattern, pre-rotated for the payload offset, and unaligned loads and stores
// go through intrinsics or memcpy so that no alignment or aliasing UB is involved.
#include "ws/frame.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace gw::ws {

namespace {

// Extended length field size (0, 2 or 8) announced by the 7-bit length.
constexpr std::size_t extended_length_size(std::uint8_t len7) {
  return len7 == 126 ? 2 : (len7 == 127 ? 8 : 0);
}

std::uint64_t read_be(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void write_be(std::uint8_t* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    p[i] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
}

}  // namespace

HeaderParse parse_frame_header(const std::uint8_t* data, std::size_t size, FrameHeader& out) {
  if (size < 2) return HeaderParse::incomplete;
  const std::uint8_t b0 = data[0];
  const std::uint8_t b1 = data[1];
  const auto len7 = static_cast<std::uint8_t>(b1 & 0x7F);
  const std::size_t ext = extended_length_size(len7);
  const bool masked = (b1 & 0x80) != 0;

  // The length is judged as soon as its bytes are here, before the masking key arrives.
  if (size < 2 + ext) return HeaderParse::incomplete;
  std::uint64_t length = len7;
  if (ext != 0) {
    length = read_be(data + 2, ext);
    // "The minimal number of bytes MUST be used to encode the length" (§5.2), and the 64-bit
    // form's most significant bit MUST be 0.
    if (ext == 2 && length < 126) return HeaderParse::bad_length;
    if (ext == 8 && (length < 65536 || (length >> 63) != 0)) return HeaderParse::bad_length;
  }
  const std::size_t header_length = 2 + ext + (masked ? 4 : 0);
  if (size < header_length) return HeaderParse::incomplete;

  out.fin = (b0 & 0x80) != 0;
  out.rsv1 = (b0 & 0x40) != 0;
  out.rsv2 = (b0 & 0x20) != 0;
  out.rsv3 = (b0 & 0x10) != 0;
  out.opcode = static_cast<std::uint8_t>(b0 & 0x0F);
  out.masked = masked;
  out.payload_length = length;
  if (masked) {
    std::memcpy(out.mask.data(), data + 2 + ext, 4);
  } else {
    out.mask = {};
  }
  out.header_length = static_cast<std::uint8_t>(header_length);
  return HeaderParse::ok;
}

std::size_t write_frame_header(std::uint8_t* out, bool fin, Opcode opcode,
                               std::uint64_t payload_length, const std::uint8_t* mask, bool rsv1) {
  out[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) |
                                     (static_cast<std::uint8_t>(opcode) & 0x0F));
  const std::uint8_t mask_bit = mask != nullptr ? 0x80 : 0;
  std::size_t n = 2;
  if (payload_length < 126) {
    out[1] = static_cast<std::uint8_t>(mask_bit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    out[1] = static_cast<std::uint8_t>(mask_bit | 126);
    write_be(out + 2, payload_length, 2);
    n += 2;
  } else {
    out[1] = static_cast<std::uint8_t>(mask_bit | 127);
    write_be(out + 2, payload_length, 8);
    n += 8;
  }
  if (mask != nullptr) {
    std::memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

void apply_mask(std::uint8_t* data, std::size_t size, std::array<std::uint8_t, 4> key,
                std::uint64_t offset) {
  // k32 holds, in memory order, the key bytes for data[0..3]: the key rotated by the offset's
  // phase. Every wide step below advances by a multiple of 4, so the same pattern stays in phase
  // all the way to the scalar tail.
  std::uint32_t k32;
  std::memcpy(&k32, key.data(), 4);
  const unsigned phase = static_cast<unsigned>(offset & 3);
  if (phase != 0) {
    std::uint8_t rotated[4];
    for (unsigned j = 0; j < 4; ++j) rotated[j] = key[(phase + j) & 3];
    std::memcpy(&k32, rotated, 4);
  }

  std::size_t i = 0;
#if defined(__AVX2__)
  if (size >= 32) {
    const __m256i k = _mm256_set1_epi32(static_cast<int>(k32));
    for (; i + 128 <= size; i += 128) {
      auto* p = reinterpret_cast<__m256i*>(data + i);
      const __m256i a = _mm256_loadu_si256(p);
      const __m256i b = _mm256_loadu_si256(p + 1);
      const __m256i c = _mm256_loadu_si256(p + 2);
      const __m256i d = _mm256_loadu_si256(p + 3);
      _mm256_storeu_si256(p, _mm256_xor_si256(a, k));
      _mm256_storeu_si256(p + 1, _mm256_xor_si256(b, k));
      _mm256_storeu_si256(p + 2, _mm256_xor_si256(c, k));
      _mm256_storeu_si256(p + 3, _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= size; i += 32) {
      auto* p = reinterpret_cast<__m256i*>(data + i);
      _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), k));
    }
  }
#endif
#if defined(__SSE2__)
  if (size - i >= 16) {
    const __m128i k = _mm_set1_epi32(static_cast<int>(k32));
    for (; i + 64 <= size; i += 64) {
      auto* p = reinterpret_cast<__m128i*>(data + i);
      const __m128i a = _mm_loadu_si128(p);
      const __m128i b = _mm_loadu_si128(p + 1);
      const __m128i c = _mm_loadu_si128(p + 2);
      const __m128i d = _mm_loadu_si128(p + 3);
      _mm_storeu_si128(p, _mm_xor_si128(a, k));
      _mm_storeu_si128(p + 1, _mm_xor_si128(b, k));
      _mm_storeu_si128(p + 2, _mm_xor_si128(c, k));
      _mm_storeu_si128(p + 3, _mm_xor_si128(d, k));
    }
    for (; i + 16 <= size; i += 16) {
      auto* p = reinterpret_cast<__m128i*>(data + i);
      _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), k));
    }
  }
#endif
  // Portable path (and the tail of the vector paths): 8 bytes at a time, which g++ -O3 and
  // clang also vectorize on their own.
  const std::uint64_t k64 = (static_cast<std::uint64_t>(k32) << 32) | k32;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, data + i, sizeof v);
    v ^= k64;
    std::memcpy(data + i, &v, sizeof v);
  }
  std::uint8_t tail[4];
  std::memcpy(tail, &k32, 4);
  for (; i < size; ++i) data[i] ^= tail[i & 3];
}

bool is_valid_close_code(std::uint16_t code) {
  // 1000-1003 and 1007-1011 are RFC 6455's; 1012 (service restart), 1013 (try again later) and
  // 1014 (bad gateway) were registered with IANA later, so a peer may legitimately send them.
  // Autobahn's 7.9.x "invalid code" cases are 0, 999, 1004, 1005, 1006, 1016, 1100, 2000 and
  // 2999 (1012-1014 are not among them), so accepting 1012-1014 conforms to both.
  // 1004 is reserved, 1005/1006/1015 are local-only pseudo codes, 1016-2999 are unassigned,
  // 3000-3999 are for libraries and frameworks (IANA), 4000-4999 for private use.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace gw::ws
