// The book checksum: CRC-32 against known values and a bit-at-a-time reference, fixed-decimal
// printing, and the test vectors of docs/PROTOCOL.md (computed independently with Python's
// zlib.crc32 over the payload strings shown there).
#include "market/checksum.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "market/instrument.hpp"
#include "market/reference_matcher.hpp"

namespace gw::market {
namespace {

std::uint32_t crc32_bitwise(const std::string& s) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::uint32_t crc(const std::string& s) {
  return crc32(0, s.data(), s.size());
}

TEST(Crc32, KnownValues) {
  EXPECT_EQ(crc(""), 0u);
  EXPECT_EQ(crc("a"), 0xE8B7BE43u);
  EXPECT_EQ(crc("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(Crc32, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(7);
  std::string data(600, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; offset + len <= 300; ++len) {
      const std::string s = data.substr(offset, len);
      ASSERT_EQ(crc(s), crc32_bitwise(s)) << offset << "+" << len;
      ASSERT_EQ(crc32_portable(0, s.data(), s.size()), crc32_bitwise(s)) << offset << "+" << len;
    }
  }
}

TEST(Crc32, Continues) {
  const std::string a = "65000.0:12000:";
  const std::string b = "65000.5:3000";
  EXPECT_EQ(crc32(crc32(0, a.data(), a.size()), b.data(), b.size()), crc(a + b));
  // Across the folding path: both pieces long, the split not on a 16-byte boundary.
  std::string big(1000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  EXPECT_EQ(crc32(crc32(0, big.data(), 333), big.data() + 333, 667), crc32_bitwise(big));
}

std::string fixed(std::int64_t v, int decimals) {
  char buf[24];
  return std::string(buf, format_fixed(buf, v, decimals));
}

TEST(FormatFixed, PrintsExactlyTheDecimals) {
  EXPECT_EQ(fixed(0, 0), "0");
  EXPECT_EQ(fixed(0, 4), "0.0000");
  EXPECT_EQ(fixed(5, 4), "0.0005");
  EXPECT_EQ(fixed(450, 4), "0.0450");
  EXPECT_EQ(fixed(650005, 1), "65000.5");
  EXPECT_EQ(fixed(650000, 1), "65000.0");
  EXPECT_EQ(fixed(12000, 0), "12000");
  EXPECT_EQ(fixed(-5, 2), "-0.05");
  EXPECT_EQ(fixed(-123456, 3), "-123.456");
  EXPECT_EQ(fixed(std::numeric_limits<std::int64_t>::max(), 0), "9223372036854775807");
  EXPECT_EQ(fixed(std::numeric_limits<std::int64_t>::min(), 18), "-9.223372036854775808");
}

TEST(BookFormat, FromInstrumentUnits) {
  const BookFormat perp = book_format(testing::make_future(0, Currency::BTC));
  EXPECT_EQ(perp.price_scale, 5);  // 0.5 with 1 decimal
  EXPECT_EQ(perp.price_decimals, 1);
  EXPECT_EQ(perp.amount_scale, 10);  // 10 USD with 0 decimals
  EXPECT_EQ(perp.amount_decimals, 0);
  const BookFormat option =
      book_format(testing::make_option(1, Currency::BTC, 1, OptionType::call));
  EXPECT_EQ(option.price_scale, 1);
  EXPECT_EQ(option.price_decimals, 4);
  EXPECT_EQ(option.amount_scale, 1);
  EXPECT_EQ(option.amount_decimals, 1);
  // Decimals too few for the unit: the fewest that print it exactly.
  Instrument odd = testing::make_future(2, Currency::ETH);
  odd.price_decimals = 0;
  const BookFormat f = book_format(odd);
  EXPECT_EQ(f.price_decimals, 2);
  EXPECT_EQ(f.price_scale, 5);
}

struct Vector {
  const char* name;
  std::vector<PriceLevel> bids, asks;
  BookFormat format;
  const char* payload;
  std::uint32_t checksum;
};

// docs/PROTOCOL.md, "Order books and checksum", test vectors.
std::vector<Vector> vectors() {
  const BookFormat btc_perp{5, 10, 1, 0};
  const BookFormat btc_option{1, 1, 4, 1};
  const BookFormat eth_perp{5, 1, 2, 0};
  std::vector<PriceLevel> eb, ea;
  for (Ticks i = 0; i < 12; ++i) {
    eb.push_back({70000 - i * 3, 10 + i});
    ea.push_back({70001 + i * 2, 100 - i});
  }
  return {
      {"BTC-PERPETUAL",
       {{130000, 1200}, {129999, 50}, {129980, 1}},
       {{130001, 300}, {130002, 2}},
       btc_perp,
       "65000.0:12000:65000.5:3000:64999.5:500:65001.0:20:64990.0:10",
       3370445602u},
      {"BTC option",
       {{450, 15}, {445, 100}},
       {{460, 3}},
       btc_option,
       "0.0450:1.5:0.0460:0.3:0.0445:10.0",
       2897658409u},
      {"empty book", {}, {}, btc_perp, "", 0u},
      {"asks only",
       {},
       {{130001, 300}, {130010, 1}},
       btc_perp,
       "65000.5:3000:65005.0:10",
       4181265969u},
      {"ETH-PERPETUAL, 12 levels a side (only 10 count)", eb, ea, eth_perp,
       "3500.00:10:3500.05:100:3499.85:11:3500.15:99:3499.70:12:3500.25:98:3499.55:13:3500.35:"
       "97:3499.40:14:3500.45:96:3499.25:15:3500.55:95:3499.10:16:3500.65:94:3498.95:17:3500.75:"
       "93:3498.80:18:3500.85:92:3498.65:19:3500.95:91",
       3412934532u},
  };
}

TEST(BookChecksum, TestVectors) {
  for (const Vector& v : vectors()) {
    EXPECT_EQ(checksum_payload(v.bids, v.asks, v.format), v.payload) << v.name;
    EXPECT_EQ(book_checksum(v.bids, v.asks, v.format), v.checksum) << v.name;
    EXPECT_EQ(crc(v.payload), v.checksum) << v.name;
  }
}

}  // namespace
}  // namespace gw::market
