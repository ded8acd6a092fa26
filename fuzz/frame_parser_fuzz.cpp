// libFuzzer target for the pure byte-level functions: frame header parsing (never reads past
// `size`, accepts only minimal encodings, round-trips through write_frame_header), apply_mask
// (piecewise equals whole equals the byte-at-a-time definition) and UTF-8 validation (one-shot,
// incremental at fuzzer-chosen cuts, and a slow reference decoder all agree).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "ws/frame.hpp"
#include "ws/utf8.hpp"

namespace {

using gw::ws::FrameHeader;
using gw::ws::HeaderParse;

void check_header(const std::uint8_t* data, std::size_t size) {
  // An exact-size copy, so that ASan sees any read past the end.
  std::vector<std::uint8_t> exact(data, data + size);
  FrameHeader h;
  const HeaderParse r = gw::ws::parse_frame_header(exact.data(), exact.size(), h);
  if (r != HeaderParse::ok) {
    // Whatever a prefix says, it cannot be "ok" when the whole is not.
    for (std::size_t n = 0; n < size && n <= gw::ws::kMaxFrameHeader; ++n) {
      FrameHeader p;
      CHECK(gw::ws::parse_frame_header(exact.data(), n, p) != HeaderParse::ok);
    }
    return;
  }
  CHECK(size >= 2);
  const unsigned len7 = data[1] & 0x7Fu;
  const std::size_t expected = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (h.masked ? 4 : 0);
  CHECK(h.header_length == expected);
  CHECK(h.header_length <= size);
  CHECK((h.payload_length >> 63) == 0);
  // Every prefix is incomplete (a bad length would have been reported for the whole too).
  for (std::size_t n = 0; n < h.header_length; ++n) {
    FrameHeader p;
    CHECK(gw::ws::parse_frame_header(exact.data(), n, p) == HeaderParse::incomplete);
  }
  // Minimal encoding means writing the parsed fields back yields the same bytes (RSV2/RSV3 are
  // not writable: compare without them).
  std::uint8_t out[gw::ws::kMaxFrameHeader];
  const std::size_t n =
      gw::ws::write_frame_header(out, h.fin, static_cast<gw::ws::Opcode>(h.opcode),
                                 h.payload_length, h.masked ? h.mask.data() : nullptr, h.rsv1);
  CHECK(n == h.header_length);
  CHECK(out[0] == (data[0] & 0xCF));
  CHECK(std::memcmp(out + 1, data + 1, n - 1) == 0);
}

void check_mask(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return;
  const std::array<std::uint8_t, 4> key{data[0], data[1], data[2], data[3]};
  const std::uint64_t offset = data[4];
  std::vector<std::uint8_t> whole(data + 5, data + size);
  std::vector<std::uint8_t> reference = whole;
  std::vector<std::uint8_t> pieces = whole;
  gw::ws::apply_mask(whole.data(), whole.size(), key, offset);
  for (std::size_t i = 0; i < reference.size(); ++i) reference[i] ^= key[(offset + i) % 4];
  CHECK(whole == reference);
  // Cut into pieces whose sizes the input chooses.
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < pieces.size(); ++k) {
    const std::size_t n =
        std::min<std::size_t>(data[5 + k % (size - 5)] % 70 + 1, pieces.size() - pos);
    gw::ws::apply_mask(pieces.data() + pos, n, key, offset + pos);
    pos += n;
  }
  CHECK(pieces == reference);
}

// Slow reference: decode code points and check their ranges.
bool reference_utf8(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t b = s[i];
    int len;
    std::uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (n - i < static_cast<std::size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

void check_utf8(const std::uint8_t* data, std::size_t size) {
  const bool expected = reference_utf8(data, size);
  CHECK(gw::ws::is_valid_utf8(data, size) == expected);

  // Incremental, cut at three data-chosen points.
  std::size_t cuts[3] = {0, 0, 0};
  if (size > 0) {
    cuts[0] = data[0] % (size + 1);
    cuts[1] = data[size / 2] % (size + 1);
    cuts[2] = data[size - 1] % (size + 1);
    std::sort(cuts, cuts + 3);
  }
  gw::ws::Utf8Validator v;
  std::size_t pos = 0;
  bool ok = true;
  for (std::size_t cut : cuts) {
    ok = ok && v.feed(data + pos, cut - pos);
    pos = cut;
  }
  ok = ok && v.feed(data + pos, size - pos);
  CHECK((ok && v.complete()) == expected);

  // Byte by byte: the first false comes exactly where the longest valid-prefix stops growing.
  gw::ws::Utf8Validator b;
  std::size_t failed_at = size;
  for (std::size_t i = 0; i < size; ++i) {
    if (!b.feed(data + i, 1)) {
      failed_at = i;
      break;
    }
  }
  if (failed_at < size) {
    // Bytes before failed_at are a valid prefix: some completion makes them valid.
    CHECK(!expected);
  } else {
    CHECK(b.complete() == expected);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_header(data, size);
  check_mask(data, size);
  check_utf8(data, size);
  return 0;
}
