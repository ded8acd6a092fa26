// UTF-8 validation: Markus Kuhn's decoder test vectors, exhaustive short sequences and a
// differential check against a slow reference decoder written from the code point rules.
#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace gw::ws {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t kNone = static_cast<std::size_t>(-1);

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// ---- reference: decodes code points and checks their ranges (no byte-range tables) ----

int sequence_length(std::uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;  // continuation byte or F8..FF: never a lead
}

bool valid_sequence(const std::uint8_t* s, int len) {
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  std::uint32_t cp = s[0] & (0x7Fu >> len);
  for (int k = 1; k < len; ++k) {
    if ((s[k] & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (s[k] & 0x3Fu);
  }
  return cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

// Can the m bytes at s (a lead and m-1 continuation candidates) still become a valid sequence?
bool extendable(const std::uint8_t* s, int m, int len) {
  std::uint8_t buf[4];
  for (int k = 0; k < m; ++k) buf[k] = s[k];
  for (int k = m; k < len; ++k) buf[k] = 0x80;
  if (m >= 2) return valid_sequence(buf, len);
  for (int second = 0x80; second <= 0xBF; ++second) {
    buf[1] = static_cast<std::uint8_t>(second);
    if (valid_sequence(buf, len)) return true;
  }
  return false;
}

// Index of the first byte at which `s` stops being a prefix of valid UTF-8 (kNone if it is
// one); `complete` tells whether it also ends on a code point boundary.
std::size_t reference_first_bad(const Bytes& s, bool& complete) {
  std::size_t i = 0;
  while (i < s.size()) {
    const int len = sequence_length(s[i]);
    if (len == 0) return i;
    for (int m = 1; m <= len; ++m) {
      if (i + static_cast<std::size_t>(m) > s.size()) {
        complete = false;
        return kNone;
      }
      if (len > 1 && !extendable(&s[i], m, len)) return i + static_cast<std::size_t>(m) - 1;
    }
    i += static_cast<std::size_t>(len);
  }
  complete = true;
  return kNone;
}

bool reference_valid(const Bytes& s) {
  bool complete = false;
  return reference_first_bad(s, complete) == kNone && complete;
}

// Feeds byte by byte; returns the index of the byte whose feed() returned false, or kNone.
std::size_t incremental_first_bad(const Bytes& s, bool& complete) {
  Utf8Validator v;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(&s[i], 1)) {
      complete = false;
      return i;
    }
  }
  complete = v.complete();
  return kNone;
}

// Checks everything about one input against the reference: one-shot, byte by byte (fails on
// exactly the first bad byte), and cut in two at every position.
void check_against_reference(const Bytes& s) {
  bool ref_complete = false;
  const std::size_t ref_bad = reference_first_bad(s, ref_complete);
  const bool ref_valid = ref_bad == kNone && ref_complete;
  ASSERT_EQ(is_valid_utf8(s.data(), s.size()), ref_valid);

  bool complete = false;
  ASSERT_EQ(incremental_first_bad(s, complete), ref_bad);
  if (ref_bad == kNone) {
    ASSERT_EQ(complete, ref_complete);
  }

  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    Utf8Validator v;
    const bool first = v.feed(s.data(), cut);
    ASSERT_EQ(first, ref_bad == kNone || ref_bad >= cut) << "cut " << cut;
    if (!first) continue;
    const bool second = v.feed(s.data() + cut, s.size() - cut);
    ASSERT_EQ(second, ref_bad == kNone) << "cut " << cut;
    ASSERT_EQ(v.complete(), ref_valid) << "cut " << cut;
  }
}

std::string hex(const Bytes& s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (auto b : s) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
    out += ' ';
  }
  return out;
}

void expect_valid(const Bytes& s) {
  SCOPED_TRACE(hex(s));
  EXPECT_TRUE(reference_valid(s));
  EXPECT_TRUE(is_valid_utf8(s.data(), s.size()));
  check_against_reference(s);
}

void expect_invalid(const Bytes& s) {
  SCOPED_TRACE(hex(s));
  EXPECT_FALSE(reference_valid(s));
  EXPECT_FALSE(is_valid_utf8(s.data(), s.size()));
  check_against_reference(s);
}

// ---- Kuhn: 1 and 2, correct text and boundary code points ----

TEST(Utf8Kuhn, GreekKosme) {
  expect_valid(bytes("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));
}

TEST(Utf8Kuhn, FirstSequenceOfEachLength) {
  expect_valid(Bytes{0x00});                // U+0000
  expect_valid(bytes("\xC2\x80"));          // U+0080
  expect_valid(bytes("\xE0\xA0\x80"));      // U+0800
  expect_valid(bytes("\xF0\x90\x80\x80"));  // U+10000
}

TEST(Utf8Kuhn, LastSequenceOfEachLength) {
  expect_valid(bytes("\x7F"));              // U+007F
  expect_valid(bytes("\xDF\xBF"));          // U+07FF
  expect_valid(bytes("\xEF\xBF\xBF"));      // U+FFFF
  expect_valid(bytes("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Kuhn, OtherBoundaryCodePoints) {
  expect_valid(bytes("\xED\x9F\xBF"));  // U+D7FF
  expect_valid(bytes("\xEE\x80\x80"));  // U+E000
  expect_valid(bytes("\xEF\xBF\xBD"));  // U+FFFD
  expect_valid(bytes("\xEF\xBF\xBE"));  // U+FFFE: a noncharacter, but valid UTF-8
}

TEST(Utf8Kuhn, EmptyIsValid) {
  expect_valid(Bytes{});
  Utf8Validator v;
  EXPECT_TRUE(v.feed(nullptr, 0));
  EXPECT_TRUE(v.complete());
}

// ---- Kuhn 3: malformed sequences ----

TEST(Utf8Kuhn, UnexpectedContinuationBytes) {
  expect_invalid(bytes("\x80"));
  expect_invalid(bytes("\xBF"));
  expect_invalid(bytes("\x80\xBF"));
  expect_invalid(bytes("\x80\xBF\x80"));
  expect_invalid(bytes("\x80\xBF\x80\xBF"));
  expect_invalid(bytes("\x80\xBF\x80\xBF\x80"));
  expect_invalid(bytes("\x80\xBF\x80\xBF\x80\xBF"));
  expect_invalid(bytes("\x80\xBF\x80\xBF\x80\xBF\x80"));
  Bytes all;
  for (int b = 0x80; b <= 0xBF; ++b) all.push_back(static_cast<std::uint8_t>(b));
  expect_invalid(all);
  expect_invalid(bytes("abc\x80"));
}

TEST(Utf8Kuhn, LonelyStartBytesFollowedBySpace) {
  for (int lead = 0xC0; lead <= 0xFD; ++lead) {
    expect_invalid(Bytes{static_cast<std::uint8_t>(lead), 0x20});
  }
}

TEST(Utf8Kuhn, SequencesWithLastContinuationByteMissing) {
  for (const char* s :
       {"\xC0", "\xE0\x80", "\xF0\x80\x80", "\xF8\x80\x80\x80", "\xFC\x80\x80\x80\x80", "\xDF",
        "\xEF\xBF", "\xF7\xBF\xBF", "\xFB\xBF\xBF\xBF", "\xFD\xBF\xBF\xBF\xBF"}) {
    expect_invalid(bytes(s));
  }
  // Properly started sequences cut short are not invalid bytes, just incomplete.
  for (const char* s : {"\xC2", "\xDF", "\xE0\xA0", "\xEF\xBF", "\xF0\x90\x80", "\xF4\x8F\xBF"}) {
    Utf8Validator v;
    const Bytes b = bytes(s);
    EXPECT_TRUE(v.feed(b.data(), b.size())) << hex(b);
    EXPECT_FALSE(v.complete()) << hex(b);
  }
}

TEST(Utf8Kuhn, ConcatenatedIncompleteSequences) {
  expect_invalid(
      bytes("\xC0\xE0\x80\xF0\x80\x80\xF8\x80\x80\x80\xFC\x80\x80\x80\x80\xDF\xEF\xBF\xF7\xBF\xBF"
            "\xFB\xBF\xBF\xBF\xFD\xBF\xBF\xBF\xBF"));
}

TEST(Utf8Kuhn, ImpossibleBytes) {
  expect_invalid(bytes("\xFE"));
  expect_invalid(bytes("\xFF"));
  expect_invalid(bytes("\xFE\xFE\xFF\xFF"));
}

// ---- Kuhn 4: overlong sequences ----

TEST(Utf8Kuhn, OverlongSlash) {
  expect_invalid(bytes("\xC0\xAF"));
  expect_invalid(bytes("\xE0\x80\xAF"));
  expect_invalid(bytes("\xF0\x80\x80\xAF"));
  expect_invalid(bytes("\xF8\x80\x80\x80\xAF"));
  expect_invalid(bytes("\xFC\x80\x80\x80\x80\xAF"));
}

TEST(Utf8Kuhn, MaximumOverlongSequences) {
  expect_invalid(bytes("\xC1\xBF"));                  // U+007F
  expect_invalid(bytes("\xE0\x9F\xBF"));              // U+07FF
  expect_invalid(bytes("\xF0\x8F\xBF\xBF"));          // U+FFFF
  expect_invalid(bytes("\xF8\x87\xBF\xBF\xBF"));      // U+1FFFFF
  expect_invalid(bytes("\xFC\x83\xBF\xBF\xBF\xBF"));  // U+3FFFFFF
}

TEST(Utf8Kuhn, OverlongNul) {
  expect_invalid(bytes(std::string_view("\xC0\x80", 2)));
  expect_invalid(bytes(std::string_view("\xE0\x80\x80", 3)));
  expect_invalid(bytes(std::string_view("\xF0\x80\x80\x80", 4)));
  expect_invalid(bytes(std::string_view("\xF8\x80\x80\x80\x80", 5)));
  expect_invalid(bytes(std::string_view("\xFC\x80\x80\x80\x80\x80", 6)));
}

// ---- Kuhn 5: UTF-16 surrogates ----

TEST(Utf8Kuhn, SingleSurrogates) {
  for (const char* s : {"\xED\xA0\x80", "\xED\xAD\xBF", "\xED\xAE\x80", "\xED\xAF\xBF",
                        "\xED\xB0\x80", "\xED\xBE\x80", "\xED\xBF\xBF"}) {
    expect_invalid(bytes(s));
  }
}

TEST(Utf8Kuhn, PairedSurrogates) {
  for (const char* s :
       {"\xED\xA0\x80\xED\xB0\x80", "\xED\xA0\x80\xED\xBF\xBF", "\xED\xAD\xBF\xED\xB0\x80",
        "\xED\xAD\xBF\xED\xBF\xBF", "\xED\xAE\x80\xED\xB0\x80", "\xED\xAE\x80\xED\xBF\xBF",
        "\xED\xAF\xBF\xED\xB0\x80", "\xED\xAF\xBF\xED\xBF\xBF"}) {
    expect_invalid(bytes(s));
  }
}

TEST(Utf8Kuhn, AboveU10FFFF) {
  expect_invalid(bytes("\xF4\x90\x80\x80"));
  expect_invalid(bytes("\xF5\x80\x80\x80"));
  expect_invalid(bytes("\xF7\xBF\xBF\xBF"));
}

TEST(Utf8Kuhn, AutobahnSixThreeOne) {
  // κόσμε, then a surrogate, then "edited".
  const Bytes s = bytes(
      "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80\x65\x64\x69\x74"
      "\x65\x64");
  expect_invalid(s);
  bool complete = false;
  EXPECT_EQ(incremental_first_bad(s, complete), 12u);  // the A0 after ED
}

// ---- fail fast ----

TEST(Utf8Incremental, FailsOnTheFirstInvalidByte) {
  const Bytes s = bytes("\xCE\xBA\xF4\x90\x80\x80zzz");
  bool complete = false;
  EXPECT_EQ(incremental_first_bad(s, complete), 3u);  // F4 90: already above U+10FFFF
}

TEST(Utf8Incremental, CodePointSplitAcrossCalls) {
  const Bytes s = bytes("\xF0\x9F\x98\x80");  // U+1F600
  for (std::size_t a = 0; a <= 4; ++a) {
    for (std::size_t b = a; b <= 4; ++b) {
      Utf8Validator v;
      EXPECT_TRUE(v.feed(s.data(), a));
      EXPECT_TRUE(v.feed(s.data() + a, b - a));
      EXPECT_TRUE(v.feed(s.data() + b, 4 - b));
      EXPECT_TRUE(v.complete());
    }
  }
}

TEST(Utf8Incremental, StaysFailedUntilReset) {
  Utf8Validator v;
  const Bytes bad = bytes("\xFF");
  const Bytes good = bytes("ok");
  EXPECT_FALSE(v.feed(bad.data(), bad.size()));
  EXPECT_FALSE(v.feed(good.data(), good.size()));
  EXPECT_FALSE(v.feed(nullptr, 0));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.feed(good.data(), good.size()));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Incremental, ResetDropsAPendingSequence) {
  Utf8Validator v;
  const Bytes lead = bytes("\xE2");
  EXPECT_TRUE(v.feed(lead.data(), 1));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
}

// ---- exhaustive and differential ----

TEST(Utf8Exhaustive, AllOneAndTwoByteSequences) {
  for (int a = 0; a < 256; ++a) {
    check_against_reference(Bytes{static_cast<std::uint8_t>(a)});
    for (int b = 0; b < 256; ++b) {
      const Bytes s{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)};
      bool complete = false;
      const bool ref = reference_first_bad(s, complete) == kNone && complete;
      ASSERT_EQ(is_valid_utf8(s.data(), s.size()), ref) << hex(s);
      Utf8Validator v;
      const bool fed = v.feed(s.data(), 1) && v.feed(s.data() + 1, 1);
      ASSERT_EQ(fed && v.complete(), ref) << hex(s);
    }
  }
}

TEST(Utf8Exhaustive, AllThreeByteSequencesWithMultiByteLead) {
  Bytes s(3);
  for (int a = 0xC0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s[0] = static_cast<std::uint8_t>(a);
        s[1] = static_cast<std::uint8_t>(b);
        s[2] = static_cast<std::uint8_t>(c);
        ASSERT_EQ(is_valid_utf8(s.data(), 3), reference_valid(s)) << hex(s);
      }
    }
  }
}

TEST(Utf8Exhaustive, FourByteSequencesEverySecondByte) {
  const std::uint8_t tails[] = {0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  Bytes s(4);
  for (int a = 0xF0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (auto c : tails) {
        for (auto d : tails) {
          s = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), c, d};
          ASSERT_EQ(is_valid_utf8(s.data(), 4), reference_valid(s)) << hex(s);
          bool complete = false;
          bool ref_complete = false;
          ASSERT_EQ(incremental_first_bad(s, complete), reference_first_bad(s, ref_complete))
              << hex(s);
        }
      }
    }
  }
}

TEST(Utf8Differential, RandomStringsAgainstReference) {
  // An alphabet rich in boundaries, so random strings are often valid and often nearly so.
  const std::uint8_t alphabet[] = {'a',  ' ',  0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                   0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                   0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFE, 0xFF};
  std::mt19937 rng(12345);
  for (int round = 0; round < 4000; ++round) {
    Bytes s(rng() % 24);
    for (auto& b : s) b = alphabet[rng() % sizeof alphabet];
    check_against_reference(s);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Utf8Differential, ValidTextAtEveryAlignmentAroundAsciiRuns) {
  // Multi-byte characters and bad bytes placed at every offset around the 16-byte ASCII skip.
  const Bytes inserts[] = {bytes("\xCE\xBA"),     bytes("\xE2\x82\xAC"), bytes("\xF0\x9F\x98\x80"),
                           bytes("\xED\xA0\x80"), bytes("\xC0\xAF"),     bytes("\x80"),
                           bytes("\xE2\x82")};
  for (const auto& insert : inserts) {
    for (std::size_t pos = 0; pos < 40; ++pos) {
      Bytes s(pos, 'x');
      s.insert(s.end(), insert.begin(), insert.end());
      s.insert(s.end(), 37, 'y');
      check_against_reference(s);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(Utf8Differential, LongMixedText) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "Hello κόσμε, BTC-27DEC24-100000-C @ 0.045 ₿ — 市场 📈 ";
  }
  const Bytes s = bytes(text);
  EXPECT_TRUE(is_valid_utf8(s.data(), s.size()));
  Utf8Validator v;
  std::mt19937 rng(3);
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t n = std::min<std::size_t>(rng() % 50, s.size() - pos);
    ASSERT_TRUE(v.feed(s.data() + pos, n));
    pos += n;
  }
  EXPECT_TRUE(v.complete());
  Bytes broken = s;
  broken[broken.size() / 2 + 1] = 0xFF;
  EXPECT_FALSE(is_valid_utf8(broken.data(), broken.size()));
}

}  // namespace
}  // namespace gw::ws
