// JsonWriter output, byte for byte: structure, string escapes and UTF-8, numbers the way
// Deribit prints them, raw fragments, binary, buffer reuse and the debug count checks.
#include "codec/json_writer.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using gw::codec::JsonWriter;

std::string json_string(std::string_view s) {
  std::string out;
  JsonWriter w(out);
  w.value(s);
  return out;
}

std::string json_double(double d) {
  std::string out;
  JsonWriter w(out);
  w.value(d);
  return out;
}

TEST(JsonWriter, NestedStructure) {
  std::string out;
  JsonWriter w(out);
  w.begin_object(4);
  w.key("a");
  w.begin_array(3);
  w.value(std::int64_t{1});
  w.value("two");
  w.begin_object(0);
  w.end_object();
  w.end_array();
  w.key("b");
  w.null();
  w.key("c");
  w.value(true);
  w.key("d");
  w.begin_array(0);
  w.end_array();
  w.end_object();
  EXPECT_EQ(out, R"({"a":[1,"two",{}],"b":null,"c":true,"d":[]})");
}

TEST(JsonWriter, DeribitTradeObject) {
  // A trade from Deribit's private/buy example, written field by field.
  std::string out;
  JsonWriter w(out);
  w.begin_object(9);
  w.key("trade_seq");
  w.value(1966068);
  w.key("trade_id");
  w.value("ETH-2696097");
  w.key("timestamp");
  w.value(std::int64_t{1590486335742});
  w.key("price");
  w.value(202.8);
  w.key("matching_id");
  w.null();
  w.key("fee");
  w.value(7.766e-05);
  w.key("direction");
  w.value("sell");
  w.key("amount");
  w.value(std::int64_t{21});  // an integer quantity (USD of a perpetual) is an integer
  w.key("reduce_only");
  w.value(true);
  w.end_object();
  EXPECT_EQ(out, R"({"trade_seq":1966068,"trade_id":"ETH-2696097","timestamp":1590486335742,)"
                 R"("price":202.8,"matching_id":null,"fee":7.766e-05,"direction":"sell",)"
                 R"("amount":21,"reduce_only":true})");
}

TEST(JsonWriter, Escapes) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("plain"), R"("plain")");
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json_string(std::string_view("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_string("/ and \x7f"), "\"/ and \x7f\"");  // neither needs escaping
}

TEST(JsonWriter, KeysAreEscapedToo) {
  std::string out;
  JsonWriter w(out);
  w.begin_object(1);
  w.key("a\"\n");
  w.value(std::int64_t{0});
  w.end_object();
  EXPECT_EQ(out, R"({"a\"\n":0})");
}

TEST(JsonWriter, Utf8PassesThrough) {
  // 2-, 3- and 4-byte sequences, including the largest code point.
  const std::string text = "Δ=0.52 ₿ 市场 📈 \xF4\x8F\xBF\xBF";
  EXPECT_EQ(json_string(text), "\"" + text + "\"");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(json_string("a\xFF"
                        "b"),
            "\"a" + fffd + "b\"");
  EXPECT_EQ(json_string("\xC0\xAF"), "\"" + fffd + fffd + "\"");             // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
  EXPECT_EQ(json_string("\xE2\x82"), "\"" + fffd + "\"");  // truncated: one maximal subpart
  EXPECT_EQ(json_string("\xE2\x82x"), "\"" + fffd + "x\"");
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // >10FFFF
  EXPECT_EQ(json_string("\x80"), "\"" + fffd + "\"");  // lone continuation byte
}

TEST(JsonWriter, DoublesAsDeribitPrintsThem) {
  EXPECT_EQ(json_double(0.0005), "0.0005");
  EXPECT_EQ(json_double(0.0001), "0.0001");
  EXPECT_EQ(json_double(7.766e-05), "7.766e-05");
  EXPECT_EQ(json_double(202.8), "202.8");
  EXPECT_EQ(json_double(198.75), "198.75");
  EXPECT_EQ(json_double(0.001972), "0.001972");
  EXPECT_EQ(json_double(-1.64029), "-1.64029");
  EXPECT_EQ(json_double(2003.61), "2003.61");
  EXPECT_EQ(json_double(0.1 + 0.2), "0.30000000000000004");
}

// Deribit prints reals as Python's repr() does: an integral value keeps ".0" (the captured
// ticker's "volume":869.0, "settlement_price":0.0); integers are written with value(int64).
TEST(JsonWriter, IntegralDoublesKeepTheirPointZero) {
  EXPECT_EQ(json_double(21.0), "21.0");
  EXPECT_EQ(json_double(31536000.0), "31536000.0");
  EXPECT_EQ(json_double(40000.0), "40000.0");
  EXPECT_EQ(json_double(-3.0), "-3.0");
  EXPECT_EQ(json_double(0.0), "0.0");
  EXPECT_EQ(json_double(9007199254740992.0), "9007199254740992.0");  // 2^53
  EXPECT_EQ(json_double(1e15), "1000000000000000.0");
  EXPECT_EQ(json_double(12345678901234.0), "12345678901234.0");
}

TEST(JsonWriter, LargeAndSmallDoublesAreScientific) {
  EXPECT_EQ(json_double(1e16), "1e+16");
  EXPECT_EQ(json_double(1e21), "1e+21");
  EXPECT_EQ(json_double(-1.5e300), "-1.5e+300");
  EXPECT_EQ(json_double(1e-05), "1e-05");
  EXPECT_EQ(json_double(5e-324), "5e-324");
  EXPECT_EQ(json_double(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
}

TEST(JsonWriter, NegativeZeroKeepsItsSign) {
  EXPECT_EQ(json_double(-0.0), "-0.0");
}

TEST(JsonWriter, NonFiniteDoublesAreNull) {
  EXPECT_EQ(json_double(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(json_double(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json_double(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriter, DoublesRoundTrip) {
  // Every printed double parses back to the same bits (strtod is the reference).
  const double values[] = {0.1,
                           1.0 / 3,
                           2.0 / 3 * 1e-5,
                           123456.789e10,
                           6.02214076e23,
                           1e-4,
                           9.99e-5,
                           0.00099999,
                           4.35e15,
                           1.2345678901234567e-7,
                           1e15 + 1,
                           2e-308,
                           2.2250738585072014e-308};
  for (double d : values) {
    for (double v : {d, -d}) {
      const std::string text = json_double(v);
      EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
    }
  }
}

// The significant digits of a number's text: no sign, point, exponent, or leading zeros (and,
// for integers, no trailing zeros).
std::string significant_digits(std::string_view text) {
  text = text.substr(0, text.find('e'));
  if (text.size() > 2 && text.substr(text.size() - 2) == ".0") text.remove_suffix(2);
  const bool fraction = text.find('.') != std::string_view::npos;
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9' && !(digits.empty() && c == '0')) digits += c;
  }
  if (!fraction) {
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
  }
  return digits;
}

// Our layout carries exactly std::to_chars' shortest digits and reads back as the same double,
// for random bit patterns and for the decimal-looking values prices and amounts are.
TEST(JsonWriter, DoublesAreShortestRoundTrip) {
  std::mt19937_64 random(20261126);
  auto check = [](double v) {
    std::string text;
    gw::codec::append_json_double(text, v);
    char sci[32];
    const char* end = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific).ptr;
    ASSERT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
    ASSERT_EQ(significant_digits(text), significant_digits({sci, end})) << text;
  };
  for (int i = 0; i < 200000; ++i) {
    const double bits = std::bit_cast<double>(random());
    if (std::isfinite(bits) && bits != 0) check(bits);
    const auto k = static_cast<int>(random() % 12);
    const auto n = static_cast<double>(random() % 100000000);
    if (n != 0) check(n / std::pow(10.0, k));
    check(static_cast<double>(random() % 4000 + 1) * 0.0005);  // not always the nearest double
    check(std::ldexp(static_cast<double>(random() % 1000000), -static_cast<int>(random() % 40)) +
          1e-4);
  }
}

TEST(JsonWriter, IntegersExact) {
  std::string out;
  JsonWriter w(out);
  w.begin_array(6);
  w.value(std::numeric_limits<std::int64_t>::min());
  w.value(std::numeric_limits<std::int64_t>::max());
  w.value(std::numeric_limits<std::uint64_t>::max());
  w.value(std::int64_t{1} << 53);
  w.value(-1);
  w.value(std::uint16_t{7});
  w.end_array();
  EXPECT_EQ(out,
            "[-9223372036854775808,9223372036854775807,18446744073709551615,"
            "9007199254740992,-1,7]");
}

TEST(JsonWriter, StringLiteralIsAStringNotABool) {
  std::string out;
  JsonWriter w(out);
  w.value("ok");
  EXPECT_EQ(out, R"("ok")");
}

TEST(JsonWriter, RawJsonFragments) {
  std::string out;
  JsonWriter w(out);
  w.begin_object(2);
  w.key("cached");
  w.raw_json(R"([{"a":1},2.5,"x"])");
  w.key("n");
  w.raw_json("42");
  w.end_object();
  EXPECT_EQ(out, R"({"cached":[{"a":1},2.5,"x"],"n":42})");
}

TEST(JsonWriter, BinaryIsBase64) {
  std::string out;
  JsonWriter w(out);
  const std::vector<std::uint8_t> bytes = {'f', 'o', 'o', 'b', 'a'};
  w.begin_array(4);
  w.binary({bytes.data(), 0});
  w.binary({bytes.data(), 1});
  w.binary({bytes.data(), 3});
  w.binary(bytes);
  w.end_array();
  EXPECT_EQ(out, R"(["","Zg==","Zm9v","Zm9vYmE="])");
}

TEST(JsonWriter, AppendsToTheBuffer) {
  std::string out = "prefix:";
  {
    JsonWriter w(out);
    w.value(1);
  }
  EXPECT_EQ(out, "prefix:1");
  // Reuse: clearing keeps the capacity, so the steady state does not allocate.
  out.reserve(256);
  const auto capacity = out.capacity();
  for (int i = 0; i < 10; ++i) {
    out.clear();
    JsonWriter w(out);
    w.begin_array(1);
    w.value("some text that is longer than the small-string buffer");
    w.end_array();
  }
  EXPECT_EQ(out.capacity(), capacity);
}

#ifndef NDEBUG
using JsonWriterDeathTest = ::testing::Test;

TEST(JsonWriterDeathTest, CountMismatchAsserts) {
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.begin_array(2);
        w.value(1);
        w.end_array();
      },
      "count");
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.begin_object(1);
        w.key("a");
        w.value(1);
        w.key("b");
        w.value(2);
        w.end_object();
      },
      "count");
}

TEST(JsonWriterDeathTest, StructureMistakesAssert) {
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.begin_object(1);
        w.value(1);
      },
      "without a key");
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.begin_array(1);
        w.key("a");
      },
      "outside an object");
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.begin_array(0);
        w.end_object();
      },
      "mismatch");
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.value(1);
        w.value(2);
      },
      "second top-level");
  EXPECT_DEATH(
      {
        std::string out;
        JsonWriter w(out);
        w.raw_json("{\"a\":");
      },
      "not one valid JSON value");
}
#endif

}  // namespace
