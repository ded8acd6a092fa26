// Frame header codec, masking and close codes (RFC 6455 §5.2, §5.3, §7.4).
#include "ws/frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace gw::ws {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Parses from a heap block of exactly `size` bytes, so that ASan catches a read past the end.
HeaderParse parse_exact(const Bytes& bytes, std::size_t size, FrameHeader& out) {
  auto block = std::make_unique<std::uint8_t[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(block.get(), bytes.data(), size);
  return parse_frame_header(block.get(), size, out);
}

// Hand-built headers, independent of write_frame_header().
Bytes header(std::uint8_t b0, std::uint8_t len7, const Bytes& extended = {},
             const Bytes& mask = {}) {
  // push_back rather than insert: g++ 12 -O3 raises a bogus -Warray-bounds on the latter here.
  Bytes h;
  h.reserve(kMaxFrameHeader);
  h.push_back(b0);
  h.push_back(static_cast<std::uint8_t>(len7 | (mask.empty() ? 0 : 0x80)));
  for (auto b : extended) h.push_back(b);
  for (auto b : mask) h.push_back(b);
  return h;
}

Bytes be(std::uint64_t v, int n) {
  Bytes out(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

TEST(FrameHeader, SevenBitLength) {
  for (int len : {0, 1, 125}) {
    FrameHeader h;
    const Bytes bytes = header(0x81, static_cast<std::uint8_t>(len));
    ASSERT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, 1);
    EXPECT_FALSE(h.masked);
    EXPECT_EQ(h.payload_length, static_cast<std::uint64_t>(len));
    EXPECT_EQ(h.header_length, 2);
  }
}

TEST(FrameHeader, SixteenBitLength) {
  for (std::uint64_t len : {126u, 127u, 128u, 1000u, 65535u}) {
    FrameHeader h;
    const Bytes bytes = header(0x82, 126, be(len, 2));
    ASSERT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
    EXPECT_EQ(h.payload_length, len);
    EXPECT_EQ(h.header_length, 4);
    EXPECT_EQ(h.opcode, 2);
  }
}

TEST(FrameHeader, SixtyFourBitLength) {
  for (std::uint64_t len : {65536ull, 16ull << 20, (1ull << 32) + 5, (1ull << 63) - 1}) {
    FrameHeader h;
    const Bytes bytes = header(0x82, 127, be(len, 8));
    ASSERT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
    EXPECT_EQ(h.payload_length, len);
    EXPECT_EQ(h.header_length, 10);
  }
}

TEST(FrameHeader, MaskingKey) {
  const Bytes key{0xDE, 0xAD, 0xBE, 0xEF};
  struct Case {
    Bytes bytes;
    std::uint8_t length;
  };
  const Case cases[] = {{header(0x81, 5, {}, key), 6},
                        {header(0x81, 126, be(300, 2), key), 8},
                        {header(0x81, 127, be(70000, 8), key), 14}};
  for (const auto& c : cases) {
    FrameHeader h;
    ASSERT_EQ(parse_exact(c.bytes, c.bytes.size(), h), HeaderParse::ok);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.header_length, c.length);
    EXPECT_EQ(h.mask, (std::array<std::uint8_t, 4>{0xDE, 0xAD, 0xBE, 0xEF}));
  }
}

TEST(FrameHeader, FlagsAndOpcodeAreReportedRaw) {
  for (unsigned b0 = 0; b0 < 256; ++b0) {
    FrameHeader h;
    const Bytes bytes = header(static_cast<std::uint8_t>(b0), 3);
    ASSERT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
    EXPECT_EQ(h.fin, (b0 & 0x80) != 0);
    EXPECT_EQ(h.rsv1, (b0 & 0x40) != 0);
    EXPECT_EQ(h.rsv2, (b0 & 0x20) != 0);
    EXPECT_EQ(h.rsv3, (b0 & 0x10) != 0);
    EXPECT_EQ(h.opcode, b0 & 0x0F);
  }
}

TEST(FrameHeader, IncompleteAtEveryPrefix) {
  const Bytes key{1, 2, 3, 4};
  const Bytes headers[] = {header(0x81, 5),
                           header(0x81, 126, be(200, 2)),
                           header(0x81, 127, be(1 << 20, 8)),
                           header(0x81, 5, {}, key),
                           header(0x81, 126, be(200, 2), key),
                           header(0x81, 127, be(1 << 20, 8), key)};
  for (const auto& bytes : headers) {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      FrameHeader h;
      EXPECT_EQ(parse_exact(bytes, n, h), HeaderParse::incomplete) << "prefix " << n;
    }
    FrameHeader h;
    EXPECT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
    EXPECT_EQ(h.header_length, bytes.size());
  }
}

TEST(FrameHeader, ExtraBytesAfterHeaderAreNotConsumed) {
  Bytes bytes = header(0x81, 3, {}, {9, 9, 9, 9});
  bytes.insert(bytes.end(), {'a', 'b', 'c'});
  FrameHeader h;
  ASSERT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::ok);
  EXPECT_EQ(h.header_length, 6);
}

TEST(FrameHeaderBadLength, SixteenBitFormForShortLength) {
  for (std::uint64_t len : {0u, 1u, 125u}) {
    FrameHeader h;
    const Bytes bytes = header(0x81, 126, be(len, 2));
    EXPECT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::bad_length) << len;
  }
}

TEST(FrameHeaderBadLength, SixtyFourBitFormForShortLength) {
  for (std::uint64_t len : {0u, 125u, 126u, 65535u}) {
    FrameHeader h;
    const Bytes bytes = header(0x81, 127, be(len, 8));
    EXPECT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::bad_length) << len;
  }
}

TEST(FrameHeaderBadLength, SixtyFourBitMostSignificantBitSet) {
  for (std::uint64_t len : {1ull << 63, ~0ull, (1ull << 63) | 65536}) {
    FrameHeader h;
    const Bytes bytes = header(0x82, 127, be(len, 8));
    EXPECT_EQ(parse_exact(bytes, bytes.size(), h), HeaderParse::bad_length);
  }
}

TEST(FrameHeaderBadLength, ReportedBeforeTheMaskArrives) {
  // The length is judged as soon as its bytes are in, so a bad one fails fast.
  const Bytes bytes = header(0x81, 126, be(5, 2), {1, 2, 3, 4});
  FrameHeader h;
  EXPECT_EQ(parse_exact(bytes, 4, h), HeaderParse::bad_length);
}

TEST(FrameHeaderWrite, MinimalEncoding) {
  struct Case {
    std::uint64_t length;
    std::size_t header_length;
  };
  for (const auto& c : {Case{0, 2}, Case{125, 2}, Case{126, 4}, Case{127, 4}, Case{65535, 4},
                        Case{65536, 10}, Case{1ull << 40, 10}}) {
    std::uint8_t buf[kMaxFrameHeader];
    ASSERT_EQ(write_frame_header(buf, true, Opcode::binary, c.length), c.header_length);
    EXPECT_EQ(buf[0], 0x82);
    FrameHeader h;
    ASSERT_EQ(parse_frame_header(buf, c.header_length, h), HeaderParse::ok);
    EXPECT_EQ(h.payload_length, c.length);
    EXPECT_FALSE(h.masked);
  }
}

TEST(FrameHeaderWrite, ExactBytes) {
  std::uint8_t buf[kMaxFrameHeader];
  ASSERT_EQ(write_frame_header(buf, true, Opcode::text, 5), 2u);
  EXPECT_EQ(Bytes(buf, buf + 2), (Bytes{0x81, 0x05}));
  ASSERT_EQ(write_frame_header(buf, false, Opcode::binary, 256), 4u);
  EXPECT_EQ(Bytes(buf, buf + 4), (Bytes{0x02, 0x7E, 0x01, 0x00}));
  ASSERT_EQ(write_frame_header(buf, true, Opcode::binary, 65536), 10u);
  EXPECT_EQ(Bytes(buf, buf + 10), (Bytes{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  const std::uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
  ASSERT_EQ(write_frame_header(buf, true, Opcode::ping, 0, key), 6u);
  EXPECT_EQ(Bytes(buf, buf + 6), (Bytes{0x89, 0x80, 0x37, 0xFA, 0x21, 0x3D}));
}

TEST(FrameHeaderWrite, MaskAndRsv1RoundTrip) {
  const std::uint8_t key[4] = {0xA1, 0xB2, 0xC3, 0xD4};
  for (std::uint64_t len : {0ull, 125ull, 126ull, 65535ull, 65536ull}) {
    for (bool fin : {false, true}) {
      for (bool rsv1 : {false, true}) {
        std::uint8_t buf[kMaxFrameHeader];
        const std::size_t n = write_frame_header(buf, fin, Opcode::continuation, len, key, rsv1);
        FrameHeader h;
        ASSERT_EQ(parse_frame_header(buf, n, h), HeaderParse::ok);
        EXPECT_EQ(h.header_length, n);
        EXPECT_EQ(h.fin, fin);
        EXPECT_EQ(h.rsv1, rsv1);
        EXPECT_FALSE(h.rsv2);
        EXPECT_FALSE(h.rsv3);
        EXPECT_EQ(h.opcode, 0);
        EXPECT_TRUE(h.masked);
        EXPECT_EQ(h.payload_length, len);
        EXPECT_EQ(h.mask, (std::array<std::uint8_t, 4>{0xA1, 0xB2, 0xC3, 0xD4}));
      }
    }
  }
}

// ---- masking ----

void reference_mask(std::uint8_t* data, std::size_t size, std::array<std::uint8_t, 4> key,
                    std::uint64_t offset) {
  for (std::size_t i = 0; i < size; ++i) data[i] ^= key[(offset + i) % 4];
}

TEST(ApplyMask, MatchesReferenceForAllSizesOffsetsAndAlignments) {
  std::mt19937 rng(42);
  const std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  Bytes base(600);
  for (auto& b : base) b = static_cast<std::uint8_t>(rng());
  for (std::size_t size = 0; size <= 300; ++size) {
    for (std::uint64_t offset = 0; offset < 8; ++offset) {
      for (std::size_t align = 0; align < 4; ++align) {
        Bytes fast(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(size + align));
        Bytes slow = fast;
        apply_mask(fast.data() + align, size, key, offset);
        reference_mask(slow.data() + align, size, key, offset);
        ASSERT_EQ(fast, slow) << "size " << size << " offset " << offset << " align " << align;
      }
    }
  }
}

TEST(ApplyMask, PiecewiseEqualsWhole) {
  std::mt19937 rng(7);
  const std::array<std::uint8_t, 4> key{1, 2, 3, 4};
  Bytes data(5000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  Bytes whole = data;
  apply_mask(whole.data(), whole.size(), key);
  for (int round = 0; round < 50; ++round) {
    Bytes pieces = data;
    std::size_t pos = 0;
    while (pos < pieces.size()) {
      const std::size_t n = std::min<std::size_t>(rng() % 97, pieces.size() - pos);
      apply_mask(pieces.data() + pos, n, key, pos);
      pos += n;
    }
    ASSERT_EQ(pieces, whole);
  }
}

TEST(ApplyMask, TwiceIsIdentity) {
  Bytes data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  const Bytes original = data;
  apply_mask(data.data(), data.size(), {9, 8, 7, 6}, 3);
  EXPECT_NE(data, original);
  apply_mask(data.data(), data.size(), {9, 8, 7, 6}, 3);
  EXPECT_EQ(data, original);
}

TEST(ApplyMask, LargeOffsetUsesOnlyItsPhase) {
  Bytes a(100, 0);
  Bytes b(100, 0);
  apply_mask(a.data(), a.size(), {1, 2, 3, 4}, (1ull << 40) + 2);
  apply_mask(b.data(), b.size(), {1, 2, 3, 4}, 2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0], 3);
  EXPECT_EQ(a[1], 4);
  EXPECT_EQ(a[2], 1);
}

TEST(ApplyMask, ZeroSizeTouchesNothing) {
  apply_mask(nullptr, 0, {1, 2, 3, 4}, 0);
  std::uint8_t byte = 0x55;
  apply_mask(&byte, 0, {1, 2, 3, 4}, 1);
  EXPECT_EQ(byte, 0x55);
}

// ---- close codes ----

TEST(CloseCode, ExhaustiveValidity) {
  for (std::uint32_t code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    ASSERT_EQ(is_valid_close_code(static_cast<std::uint16_t>(code)), expected) << code;
  }
}

TEST(CloseCode, AutobahnInvalidCodes) {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

TEST(CloseCode, AutobahnValidCodes) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

TEST(CloseCode, IanaRegisteredLaterAreValid) {
  // 1012 service restart, 1013 try again later, 1014 bad gateway.
  for (int code : {1012, 1013, 1014}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

TEST(Opcode, IsControl) {
  EXPECT_FALSE(is_control(Opcode::continuation));
  EXPECT_FALSE(is_control(Opcode::text));
  EXPECT_FALSE(is_control(Opcode::binary));
  EXPECT_TRUE(is_control(Opcode::close));
  EXPECT_TRUE(is_control(Opcode::ping));
  EXPECT_TRUE(is_control(Opcode::pong));
}

}  // namespace
}  // namespace gw::ws
