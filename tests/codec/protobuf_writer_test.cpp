// ProtobufWriter: exact bytes where they are known, and otherwise decoding by libprotobuf's
// generated classes (an independent implementation) and comparison with the JsonWriter tree of
// the same calls, under greekwire.proto's JSON mapping. The field types and shapes come from
// protobuf_writer_test.proto (schema writer_test_schema), the envelope from greekwire.proto.
#include "codec/protobuf_writer.hpp"

#include <greekwire.pb.h>
#include <gtest/gtest.h>
#include <protobuf_writer_test.pb.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/protobuf_tree.hpp"
#include "codec/request.hpp"
#include "codec/response.hpp"

namespace gw::codec::protobuf {
const Schema& writer_test_schema();  // generated from protobuf_writer_test.proto
}  // namespace gw::codec::protobuf

namespace {

using gw::codec::JsonWriter;
using gw::codec::ProtobufWriter;
using gw::codec::test::sorted_json;
using gw::codec::test::sorted_proto;
namespace pb = gw::codec::protobuf;
using greekwire::test::AllTypes;

const pb::Schema& test_schema() {
  return pb::writer_test_schema();
}

const pb::Field* test_member(std::string_view key, std::string_view member) {
  const pb::Field* f = test_schema().find_member(test_schema().root_message(), key, member);
  EXPECT_NE(f, nullptr) << key << "." << member;
  return f;
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Writes one AllTypes message leniently and checks how many mismatches it counted.
template <class F>
std::string write_test(F&& write, std::size_t mismatches = 0, const pb::Field* member = nullptr) {
  std::string out;
  ProtobufWriter w(out, test_schema(), {.strict = false});
  w.choose(member);
  write(w);
  EXPECT_EQ(w.mismatches(), mismatches) << w.last_mismatch();
  return out;
}

AllTypes decode(const std::string& bytes) {
  AllTypes m;
  EXPECT_TRUE(m.ParseFromString(bytes)) << hex(bytes);
  return m;
}

// The same calls through JsonWriter and ProtobufWriter give the same tree.
template <class F>
void expect_same_tree(F&& write, const pb::Field* member = nullptr) {
  std::string json;
  {
    JsonWriter w(json);
    write(w);
  }
  const AllTypes decoded = decode(write_test(write, 0, member));
  EXPECT_EQ(sorted_proto(decoded), sorted_json(json)) << json;
}

// ---- scalars ----------------------------------------------------------------------------------

TEST(ProtobufWriter, ExactBytes) {
  EXPECT_EQ(hex(write_test([](auto& w) {
              w.begin_object(1);
              w.key("i64");
              w.value(150);
              w.end_object();
            })),
            "189601");  // the encoding guide's example
  EXPECT_EQ(hex(write_test([](auto& w) {
              w.begin_object(2);
              w.key("s");
              w.value("testing");
              w.key("s32");
              w.value(-1);
              w.end_object();
            })),
            "7a0774657374696e674001");  // a string; sint32 -1 is zigzag 1
  EXPECT_EQ(hex(write_test([](auto& w) {
              w.begin_object(1);
              w.key("far");
              w.value(1);
              w.end_object();
            })),
            "80d46101");  // field 200000: a three-byte tag
  EXPECT_EQ(hex(write_test([](auto& w) {
              w.begin_object(0);
              w.end_object();
            })),
            "");
}

TEST(ProtobufWriter, EveryScalarTypeDecodes) {
  const std::uint8_t raw[] = {0, 1, 255};
  const std::string bytes = write_test([&](auto& w) {
    w.begin_object(16);
    w.key("d");
    w.value(1.5);
    w.key("f");
    w.value(0.25);
    w.key("i64");
    w.value(std::int64_t{-5});
    w.key("u64");
    w.value(std::numeric_limits<std::uint64_t>::max());
    w.key("i32");
    w.value(-1);
    w.key("u32");
    w.value(4'000'000'000u);
    w.key("s64");
    w.value(std::numeric_limits<std::int64_t>::min());
    w.key("s32");
    w.value(-2);
    w.key("fx64");
    w.value(std::numeric_limits<std::uint64_t>::max() - 1);
    w.key("fx32");
    w.value(7u);
    w.key("sfx64");
    w.value(std::int64_t{-9});
    w.key("sfx32");
    w.value(-10);
    w.key("b");
    w.value(true);
    w.key("color");
    w.value(1);
    w.key("s");
    w.value("h\xc3\xa9llo");
    w.key("raw");
    w.binary(raw);
    w.end_object();
  });
  const AllTypes m = decode(bytes);
  EXPECT_EQ(m.d(), 1.5);
  EXPECT_EQ(m.f(), 0.25f);
  EXPECT_EQ(m.i64(), -5);
  EXPECT_EQ(m.u64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(m.i32(), -1);
  EXPECT_EQ(m.u32(), 4'000'000'000u);
  EXPECT_EQ(m.s64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(m.s32(), -2);
  EXPECT_EQ(m.fx64(), std::numeric_limits<std::uint64_t>::max() - 1);
  EXPECT_EQ(m.fx32(), 7u);
  EXPECT_EQ(m.sfx64(), -9);
  EXPECT_EQ(m.sfx32(), -10);
  EXPECT_TRUE(m.b());
  EXPECT_EQ(m.color(), greekwire::test::RED);
  EXPECT_EQ(m.s(), "h\xc3\xa9llo");
  EXPECT_EQ(m.raw(), std::string("\x00\x01\xff", 3));
  // Written in field-number order, the bytes are libprotobuf's own serialization.
  EXPECT_EQ(hex(bytes), hex(m.SerializeAsString()));
}

TEST(ProtobufWriter, ZeroValuesArePresent) {
  const AllTypes m = decode(write_test([](auto& w) {
    w.begin_object(4);
    w.key("d");
    w.value(0.0);
    w.key("i64");
    w.value(0);
    w.key("b");
    w.value(false);
    w.key("s");
    w.value("");
    w.end_object();
  }));
  EXPECT_TRUE(m.has_d() && m.has_i64() && m.has_b() && m.has_s());
  EXPECT_FALSE(m.has_u64());
}

TEST(ProtobufWriter, NullAndNonFiniteAreLeftOut) {
  const AllTypes m = decode(write_test(
      [](auto& w) {
        w.begin_object(3);
        w.key("d");
        w.null();
        w.key("f");
        w.value(std::numeric_limits<double>::quiet_NaN());
        w.key("i64");
        w.value(std::numeric_limits<double>::infinity());  // JSON writes null
        w.end_object();
      },
      0));
  EXPECT_FALSE(m.has_d());
  EXPECT_FALSE(m.has_f());
  EXPECT_FALSE(m.has_i64());
}

TEST(ProtobufWriter, IntegersOutOfRangeGoToTheTextAlternative) {
  auto one = [](std::string_view key, auto value, std::size_t mismatches) {
    return decode(write_test(
        [&](auto& w) {
          w.begin_object(1);
          w.key(key);
          w.value(value);
          w.end_object();
        },
        mismatches));
  };
  EXPECT_EQ(one("n", -5, 0).n(), -5);
  EXPECT_EQ(one("n", std::int64_t{1} << 40, 0).n_text(), "1099511627776");
  EXPECT_EQ(one("n", std::numeric_limits<std::int64_t>::min(), 0).n_text(), "-9223372036854775808");
  EXPECT_EQ(one("n", std::numeric_limits<std::uint64_t>::max(), 0).n_text(),
            "18446744073709551615");
  EXPECT_EQ(one("n", "abc", 0).n_text(), "abc");  // a string, as for an order's "market_price"
  // Without an alternative the value is skipped and counted.
  EXPECT_FALSE(one("i32", std::int64_t{1} << 31, 1).has_i32());
  EXPECT_FALSE(one("u64", -1, 1).has_u64());
  EXPECT_FALSE(one("u32", std::uint64_t{1} << 32, 1).has_u32());
  EXPECT_FALSE(one("s", 5, 1).has_s());
  EXPECT_FALSE(one("i64", "5", 1).has_i64());
  EXPECT_FALSE(one("i64", true, 1).has_i64());
  // Integers are numbers to a double field; a double in an integer field is drift (counted),
  // written when it is integral.
  EXPECT_EQ(one("d", 3, 0).d(), 3.0);
  EXPECT_EQ(one("i64", 2.0, 1).i64(), 2);
  EXPECT_FALSE(one("i64", 2.5, 1).has_i64());
}

TEST(ProtobufWriter, InvalidUtf8IsReplacedInStringsNotInBytes) {
  const std::uint8_t raw[] = {0xff};
  const AllTypes m = decode(write_test([&](auto& w) {
    w.begin_object(2);
    w.key("s");
    w.value(
        std::string_view("a\xff"
                         "b"));
    w.key("raw");
    w.binary(raw);
    w.end_object();
  }));
  EXPECT_EQ(m.s(),
            "a\xef\xbf\xbd"
            "b");  // U+FFFD, as the other writers
  EXPECT_EQ(m.raw(), "\xff");
}

// ---- messages and lists -------------------------------------------------------------------------

TEST(ProtobufWriter, LengthsAtEveryVarintBoundary) {
  for (std::size_t n : {0, 1, 126, 127, 128, 129, 16380, 16381, 16382, 16383, 16384, 70000}) {
    const std::string text(n, 'x');
    const std::string bytes = write_test([&](auto& w) {
      w.begin_object(1);
      w.key("child");
      w.begin_object(2);
      w.key("i64");
      w.value(1);
      w.key("child");
      w.begin_object(1);
      w.key("s");
      w.value(text);
      w.end_object();
      w.end_object();
      w.end_object();
    });
    const AllTypes m = decode(bytes);
    EXPECT_EQ(m.child().child().s().size(), n);
    EXPECT_EQ(m.child().i64(), 1);
    EXPECT_TRUE(bytes == m.SerializeAsString()) << n;  // minimal length varints
  }
}

TEST(ProtobufWriter, RepeatedFields) {
  const std::string bytes = write_test([](auto& w) {
    w.begin_object(6);
    w.key("ds");
    w.begin_array(3);
    w.value(1.0);
    w.value(2.0);
    w.value(3);
    w.end_array();
    w.key("ss");
    w.begin_array(3);
    w.value(-1);
    w.value(1);
    w.value(-64);
    w.end_array();
    w.key("strs");
    w.begin_array(2);
    w.value("a");
    w.value("b");
    w.end_array();
    w.key("children");
    w.begin_array(2);
    for (int i = 1; i <= 2; ++i) {
      w.begin_object(1);
      w.key("i64");
      w.value(i);
      w.end_object();
    }
    w.end_array();
    w.key("fixed");
    w.begin_array(2);
    w.value(1u);
    w.value(2u);
    w.end_array();
    w.key("unpacked");
    w.begin_array(2);
    w.value(1);
    w.value(2);
    w.end_array();
    w.end_object();
  });
  const AllTypes m = decode(bytes);
  ASSERT_EQ(m.ds_size(), 3);
  EXPECT_EQ(m.ds(2), 3.0);
  EXPECT_EQ(std::vector<int>(m.ss().begin(), m.ss().end()), (std::vector<int>{-1, 1, -64}));
  EXPECT_EQ(m.strs(1), "b");
  EXPECT_EQ(m.children(1).i64(), 2);
  EXPECT_EQ(m.fixed(1), 2u);
  EXPECT_EQ(m.unpacked(1), 2);
  // Numbers are packed (one length-delimited run), except where the schema says otherwise.
  EXPECT_EQ(hex(bytes).substr(0, 22), "920118000000000000f03f");
  EXPECT_NE(hex(bytes).find("b80101b80102"), std::string::npos);
  EXPECT_EQ(hex(bytes), hex(m.SerializeAsString()));
}

TEST(ProtobufWriter, EmptyListsAreAbsent) {
  EXPECT_EQ(write_test([](auto& w) {
              w.begin_object(3);
              w.key("ds");
              w.begin_array(0);
              w.end_array();
              w.key("strs");
              w.begin_array(0);
              w.end_array();
              w.key("children");
              w.begin_array(0);
              w.end_array();
              w.end_object();
            }),
            "");
}

// ---- maps -------------------------------------------------------------------------------------

TEST(ProtobufWriter, ObjectsFillMapsOneEntryPerMember) {
  expect_same_tree([](auto& w) {
    w.begin_object(4);
    w.key("weights");
    w.begin_object(3);
    w.key("btc_usd");
    w.value(0.5843);
    w.key("eth_usd");
    w.value(-2.0);
    w.key("");  // any string is a key, the empty one too
    w.value(0.0);
    w.end_object();
    w.key("by_name");
    w.begin_object(2);
    w.key("a");
    w.begin_object(2);  // a message value: the entry closes after it
    w.key("s");
    w.value("x");
    w.key("weights");
    w.begin_object(1);
    w.key("inner");
    w.value(1.5);
    w.end_object();
    w.end_object();
    w.key("b");
    w.begin_object(0);
    w.end_object();
    w.end_object();
    w.key("rows");
    w.begin_object(1);
    w.key("r");
    w.begin_array(3);
    w.value("label");
    w.value(1.0);
    w.value(2.0);
    w.end_array();
    w.end_object();
    w.key("i64");  // the message goes on after the map
    w.value(7);
    w.end_object();
  });
  const AllTypes m = decode(write_test([](auto& w) {
    w.begin_object(1);
    w.key("weights");
    w.begin_object(1);
    w.key("btc_usd");
    w.value(0.25);
    w.end_object();
    w.end_object();
  }));
  ASSERT_EQ(m.weights_size(), 1);
  EXPECT_EQ(m.weights().at("btc_usd"), 0.25);
}

TEST(ProtobufWriter, EmptyMapsAreAbsentAndArraysForMapsAreSkipped) {
  EXPECT_EQ(write_test([](auto& w) {
              w.begin_object(1);
              w.key("weights");
              w.begin_object(0);
              w.end_object();
              w.end_object();
            }),
            "");
  const AllTypes m = decode(write_test(
      [](auto& w) {
        w.begin_object(3);
        w.key("weights");  // an array for a map
        w.begin_array(1);
        w.value(1.0);
        w.end_array();
        w.key("by_name");  // a scalar for a map
        w.value(1.0);
        w.key("i64");
        w.value(3);
        w.end_object();
      },
      2));
  EXPECT_EQ(m.weights_size(), 0);
  EXPECT_EQ(m.by_name_size(), 0);
  EXPECT_EQ(m.i64(), 3);
}

TEST(ProtobufWriter, NullsInListsOfDoublesAreNaN) {
  const AllTypes m = decode(write_test([](auto& w) {
    w.begin_object(1);
    w.key("ds");
    w.begin_array(4);
    w.value(1.0);
    w.null();
    w.value(std::numeric_limits<double>::quiet_NaN());
    w.value(std::numeric_limits<double>::infinity());
    w.end_array();
    w.end_object();
  }));
  ASSERT_EQ(m.ds_size(), 4);
  EXPECT_EQ(m.ds(0), 1.0);
  EXPECT_TRUE(std::isnan(m.ds(1)) && std::isnan(m.ds(2)) && std::isnan(m.ds(3)));
  // Other lists cannot hold a null.
  const AllTypes strings = decode(write_test(
      [](auto& w) {
        w.begin_object(1);
        w.key("strs");
        w.begin_array(2);
        w.null();
        w.value("x");
        w.end_array();
        w.end_object();
      },
      1));
  ASSERT_EQ(strings.strs_size(), 1);
}

TEST(ProtobufWriter, ArraysFillJsonArrayMessagesInOrder) {
  const auto write = [](auto& w) {
    w.begin_object(4);
    w.key("pairs");
    w.begin_array(2);
    w.begin_array(2);
    w.value("a");
    w.value(1.0);
    w.end_array();
    w.begin_array(2);
    w.value("b");
    w.null();
    w.end_array();
    w.end_array();
    w.key("pair");
    w.begin_array(2);
    w.value("x");
    w.value(3);
    w.end_array();
    w.key("row");
    w.begin_array(4);
    w.value("r");
    w.value(1.0);
    w.value(2.0);
    w.value(3.5);
    w.end_array();
    w.key("child");
    w.begin_object(1);
    w.key("row");
    w.begin_array(1);
    w.value("only a label");
    w.end_array();
    w.end_object();
    w.end_object();
  };
  expect_same_tree(write);
  const AllTypes m = decode(write_test(write));
  ASSERT_EQ(m.pairs_size(), 2);
  EXPECT_EQ(m.pairs(0).name(), "a");
  EXPECT_EQ(m.pairs(0).value(), 1.0);
  EXPECT_FALSE(m.pairs(1).has_value());
  EXPECT_EQ(m.pair().value(), 3.0);
  EXPECT_EQ(m.row().label(), "r");
  EXPECT_EQ(std::vector<double>(m.row().values().begin(), m.row().values().end()),
            (std::vector<double>{1.0, 2.0, 3.5}));
  EXPECT_TRUE(m.child().has_row());
  EXPECT_EQ(m.child().row().values_size(), 0);
}

TEST(ProtobufWriter, ShapesTheSchemaLacksAreSkipped) {
  const AllTypes m = decode(write_test(
      [](auto& w) {
        w.begin_object(5);
        w.key("pair");  // three elements for two fields
        w.begin_array(3);
        w.value("x");
        w.value(1.0);
        w.value(2.0);
        w.end_array();
        w.key("child");  // an array for a message that is not a json_array
        w.begin_array(1);
        w.value(1);
        w.end_array();
        w.key("row");  // an object for one that is
        w.begin_object(1);
        w.key("label");
        w.value("y");
        w.end_object();
        w.key("i64");  // an array for a scalar
        w.begin_array(1);
        w.value(1);
        w.end_array();
        w.key("ds");  // a scalar for a list
        w.value(1.0);
        w.end_object();
      },
      5));
  EXPECT_EQ(m.pair().name(), "x");
  EXPECT_EQ(m.pair().value(), 1.0);
  EXPECT_FALSE(m.has_child() || m.has_row() || m.has_i64());
  EXPECT_EQ(m.ds_size(), 0);
}

TEST(ProtobufWriter, UnknownKeysAreSkippedWithTheirValues) {
  const AllTypes m = decode(write_test(
      [](auto& w) {
        w.begin_object(4);
        w.key("nope");
        w.begin_object(1);
        w.key("x");
        w.begin_array(2);
        w.value(1);
        w.begin_object(1);
        w.key("y");
        w.value("z");
        w.end_object();
        w.end_array();
        w.end_object();
        w.key("i64");
        w.value(1);
        w.key("also_not");
        w.value(5);
        w.key("s");
        w.value("kept");
        w.end_object();
      },
      2));
  EXPECT_EQ(m.i64(), 1);
  EXPECT_EQ(m.s(), "kept");
}

TEST(ProtobufWriter, KeysInAnyOrder) {
  expect_same_tree([](auto& w) {
    w.begin_object(5);
    w.key("s");
    w.value("late");
    w.key("d");
    w.value(0.5);
    w.key("far");
    w.value(7);
    w.key("b");
    w.value(false);
    w.key("i64");
    w.value(-3);
    w.end_object();
  });
}

// ---- choices ------------------------------------------------------------------------------------

TEST(ProtobufWriter, ChoiceTakesTheChosenMember) {
  const auto pick = [](auto write_value) {
    return [write_value](auto& w) {
      w.begin_object(1);
      w.key("pick");
      write_value(w);
      w.end_object();
    };
  };
  const auto pair = pick([](auto& w) {
    w.begin_array(2);
    w.value("p");
    w.value(1.0);
    w.end_array();
  });
  expect_same_tree(pair, test_member("pick", "pick_pair"));
  EXPECT_EQ(decode(write_test(pair, 0, test_member("pick", "pick_pair"))).pick_pair().name(), "p");
  const auto number = pick([](auto& w) { w.value(7); });
  EXPECT_EQ(decode(write_test(number, 0, test_member("pick", "pick_number"))).pick_number(), 7);
  const auto object = pick([](auto& w) {
    w.begin_object(1);
    w.key("s");
    w.value("x");
    w.end_object();
  });
  EXPECT_EQ(decode(write_test(object, 0, test_member("pick", "pick_all"))).pick_all().s(), "x");
}

TEST(ProtobufWriter, ChoiceWithoutAMemberFallsBackToJson) {
  const auto write = [](auto& w) {
    w.begin_object(2);
    w.key("pick");
    w.begin_object(2);
    w.key("a");
    w.begin_array(2);
    w.value(1);
    w.null();
    w.end_array();
    w.key("b");
    w.value("q\"");
    w.end_object();
    w.key("i64");
    w.value(9);
    w.end_object();
  };
  const AllTypes m = decode(write_test(write, 1));
  EXPECT_EQ(m.pick_json(), R"({"a":[1,null],"b":"q\""})");
  EXPECT_EQ(m.i64(), 9);
  // A scalar, and a member of another choice, fall back too.
  const auto scalar = [](auto& w) {
    w.begin_object(1);
    w.key("pick");
    w.value(5.5);
    w.end_object();
  };
  EXPECT_EQ(decode(write_test(scalar, 1)).pick_json(), "5.5");
  EXPECT_EQ(decode(write_test(scalar, 1, test_member("only", "only_pair"))).pick_json(), "5.5");
  // A choice without a fallback skips the value.
  const AllTypes only = decode(write_test(
      [](auto& w) {
        w.begin_object(1);
        w.key("only");
        w.begin_array(0);
        w.end_array();
        w.end_object();
      },
      1));
  EXPECT_FALSE(only.has_only_pair());
}

// ---- robustness ---------------------------------------------------------------------------------

TEST(ProtobufWriter, RawJsonIsTranscoded) {
  const AllTypes m = decode(write_test([](auto& w) {
    w.raw_json(R"({"i64":5,"ds":[1.5,2],"s":"x","pair":["n",1],"u64":18446744073709551615})");
  }));
  EXPECT_EQ(m.i64(), 5);
  EXPECT_EQ(m.ds(1), 2.0);
  EXPECT_EQ(m.pair().name(), "n");
  EXPECT_EQ(m.u64(), std::numeric_limits<std::uint64_t>::max());
}

TEST(ProtobufWriter, RootArrayOfAJsonArrayMessage) {
  std::string out;
  const pb::Message* pair = test_schema().find_message("greekwire.test.Pair");
  ASSERT_NE(pair, nullptr);
  ProtobufWriter w(out, test_schema(), {.root = pair});
  w.begin_array(2);
  w.value("n");
  w.value(2.0);
  w.end_array();
  greekwire::test::Pair decoded;
  ASSERT_TRUE(decoded.ParseFromString(out));
  EXPECT_EQ(decoded.name(), "n");
  EXPECT_EQ(decoded.value(), 2.0);
}

TEST(ProtobufWriterDeathTest, StrictModeAbortsOnDrift) {
  const auto unknown_key = [] {
    std::string out;
    ProtobufWriter w(out, test_schema(), {.strict = true});
    w.begin_object(1);
    w.key("nope");
    w.value(1);
    w.end_object();
  };
  EXPECT_DEATH(unknown_key(), "a key the schema does not have 'nope' in greekwire.test.AllTypes");
  const auto no_member = [] {
    std::string out;
    ProtobufWriter w(out, test_schema(), {.strict = true});
    w.begin_object(1);
    w.key("pick");
    w.value(1);
    w.end_object();
  };
  EXPECT_DEATH(no_member(), "no member chosen for 'pick'");
}

// Random trees of keys (the schema's, and others), values of every type and containers in
// every position: the writer never crashes and its output always parses.
class RandomTree {
 public:
  explicit RandomTree(std::uint32_t seed) : rng_(seed) {}

  template <class W>
  void value(W& w, int depth) {
    switch (pick(depth < 6 ? 10 : 7)) {
      case 0:
        w.value(static_cast<std::int64_t>(rng_()) - (std::int64_t{1} << 31));
        return;
      case 1:
        w.value((static_cast<std::uint64_t>(rng_()) << 32) | rng_());
        return;
      case 2:
        w.value(std::ldexp(static_cast<double>(rng_()), static_cast<int>(pick(80)) - 40));
        return;
      case 3:
        w.value(pick(2) == 0);
        return;
      case 4:
        w.value(std::string_view(kStrings[pick(std::size(kStrings))]));
        return;
      case 5:
        w.null();
        return;
      case 6: {
        const std::uint8_t bytes[] = {1, 2, 0xff};
        w.binary(bytes);
        return;
      }
      case 7:
      case 8: {
        const std::size_t n = pick(5);
        w.begin_object(n);
        for (std::size_t i = 0; i < n; ++i) {
          w.key(kKeys[pick(std::size(kKeys))]);
          value(w, depth + 1);
        }
        w.end_object();
        return;
      }
      default: {
        const std::size_t n = pick(5);
        w.begin_array(n);
        for (std::size_t i = 0; i < n; ++i) value(w, depth + 1);
        w.end_array();
        return;
      }
    }
  }
  std::size_t pick(std::size_t n) { return rng_() % n; }

 private:
  static constexpr const char* kKeys[] = {
      "d",      "f",      "i64",   "u64",   "i32",      "u32",     "s64",      "s32",
      "fx64",   "fx32",   "sfx64", "sfx32", "b",        "color",   "s",        "raw",
      "child",  "ds",     "ss",    "strs",  "children", "fixed",   "unpacked", "n",
      "pairs",  "pair",   "row",   "pick",  "only",     "far",     "nope",     "",
      "result", "params", "data",  "id",    "weights",  "by_name", "rows"};
  static constexpr const char* kStrings[] = {"", "x", "market_price", "\xff\xfe", "h\xc3\xa9"};
  std::mt19937 rng_;
};

TEST(ProtobufWriter, SurvivesArbitraryTrees) {
  const pb::Field* members[] = {nullptr, test_member("pick", "pick_pair"),
                                test_member("pick", "pick_number"),
                                test_member("only", "only_pair")};
  for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
    RandomTree tree(seed);
    std::string out;
    ProtobufWriter w(out, test_schema(), {.strict = false});
    w.choose(members[tree.pick(std::size(members))]);
    const std::size_t n = tree.pick(8);
    w.begin_object(n);
    for (std::size_t i = 0; i < n; ++i) {
      w.key(i % 2 == 0 ? "pick" : "child");
      tree.value(w, 1);
    }
    w.end_object();
    AllTypes m;
    ASSERT_TRUE(m.ParseFromString(out)) << "seed " << seed << ": " << hex(out);
  }
  // The same against greekwire.proto's envelope.
  for (std::uint32_t seed = 1; seed <= 1000; ++seed) {
    RandomTree tree(seed);
    std::string out;
    ProtobufWriter w(out, pb::greekwire_schema(), {.strict = false});
    tree.value(w, 0);
    greekwire::v2::Envelope m;
    ASSERT_TRUE(m.ParseFromString(out)) << "seed " << seed << ": " << hex(out);
  }
}

// ---- the envelope (greekwire.proto) -------------------------------------------------------------

constexpr gw::codec::ResponseMeta kMeta{1699999999999100, 1699999999999900, false};

const pb::Field* result_member(std::string_view name) {
  const pb::Schema& s = pb::greekwire_schema();
  const pb::Field* f = s.find_member(s.root_message(), "result", name);
  EXPECT_NE(f, nullptr) << name;
  return f;
}

// Writes with both writers, decodes the envelope and compares the trees; returns it.
template <class F>
greekwire::v2::Envelope expect_same_envelope(F&& write, const pb::Field* member = nullptr) {
  std::string json;
  {
    JsonWriter w(json);
    write(w);
  }
  std::string bytes;
  ProtobufWriter w(bytes);
  w.choose(member);
  write(w);
  EXPECT_EQ(w.mismatches(), 0u) << w.last_mismatch();
  greekwire::v2::Envelope m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  EXPECT_EQ(sorted_proto(m), sorted_json(json)) << json;
  return m;
}

TEST(ProtobufEnvelope, HeartbeatBytes) {
  const greekwire::v2::Envelope m =
      expect_same_envelope([](auto& w) { gw::codec::write_heartbeat(w); });
  std::string bytes;
  ProtobufWriter w(bytes);
  gw::codec::write_heartbeat(w);
  // jsonrpc "2.0", method "heartbeat", params {type "heartbeat"}
  EXPECT_EQ(hex(bytes),
            "0a03322e30"
            "2209686561727462656174"
            "2a0b"
            "1209686561727462656174");
  EXPECT_EQ(hex(bytes), hex(m.SerializeAsString()));
  EXPECT_EQ(m.params().type(), "heartbeat");
}

TEST(ProtobufEnvelope, DocumentedExample) {
  // docs/PROTOCOL.md, "protobuf": a deribit_price_index notification.
  const pb::Schema& s = pb::greekwire_schema();
  const pb::Field* member =
      s.find_member(*s.find_message("greekwire.v2.Params"), "data", "deribit_price_index");
  ASSERT_NE(member, nullptr);
  const auto write = [](auto& w) {
    gw::codec::write_notification(w, "deribit_price_index.btc_usd", [](auto& d) {
      d.begin_object(3);
      d.key("timestamp");
      d.value(std::int64_t{1767225600000});
      d.key("price");
      d.value(65000.1);
      d.key("index_name");
      d.value("btc_usd");
      d.end_object();
    });
  };
  const greekwire::v2::Envelope m = expect_same_envelope(write, member);
  std::string bytes;
  ProtobufWriter w(bytes);
  w.choose(member);
  write(w);
  EXPECT_EQ(hex(bytes),
            "0a03322e30220c737562736372697074696f6e2a380a1b646572696269745f70726963655f696e6465"
            "782e6274635f7573643a190880d0eab6b733113333333303bdef401a076274635f757364");
  EXPECT_EQ(bytes.size(), 77u);
  EXPECT_EQ(m.params().deribit_price_index().price(), 65000.1);
}

TEST(ProtobufEnvelope, IdsOfEveryKind) {
  gw::codec::RequestParser parser;
  gw::codec::Request r;
  struct Case {
    std::string_view id;
    bool text;
    std::string expected;
  };
  for (const Case& c :
       {Case{"42", false, "42"}, Case{"-9223372036854775808", false, ""},
        Case{R"("a\/b")", true, "a/b"}, Case{"18446744073709551615", true, "18446744073709551615"},
        Case{"null", false, ""}}) {
    const std::string text = R"({"method":"public/test","id":)" + std::string(c.id) + "}";
    ASSERT_EQ(parser.parse(text, r), gw::codec::ParseError::none) << c.id;
    const auto write = [&](auto& w) {
      gw::codec::write_result(w, r.id, kMeta, [](auto& v) { v.value(std::int64_t{1}); });
    };
    greekwire::v2::Envelope m;
    if (r.id.kind == gw::codec::IdKind::uint64) {
      // Beyond int64 the id is sent as its decimal text (the mapping's one change of type).
      std::string bytes;
      ProtobufWriter w(bytes);
      w.choose(result_member("public_get_time"));
      write(w);
      ASSERT_TRUE(m.ParseFromString(bytes));
    } else {
      m = expect_same_envelope(write, result_member("public_get_time"));
    }
    if (c.id == "null") {
      EXPECT_EQ(m.id_value_case(), greekwire::v2::Envelope::ID_VALUE_NOT_SET);
    } else if (c.text) {
      EXPECT_EQ(m.id_text(), c.expected);
    } else {
      EXPECT_TRUE(m.has_id());
    }
    EXPECT_EQ(m.public_get_time(), 1);
    EXPECT_EQ(m.usdiff(), 800);
  }
}

TEST(ProtobufEnvelope, ErrorsAndResults) {
  gw::codec::RequestId id;
  id.kind = gw::codec::IdKind::int64;
  id.int64 = 7;
  id.json = "7";
  const auto invalid = expect_same_envelope([&](auto& w) {
    gw::codec::write_param_error(w, id, kMeta, "amount", gw::codec::ParamStatus::wrong_type);
  });
  EXPECT_EQ(invalid.error().code(), -32602);
  EXPECT_EQ(invalid.error().data().param(), "amount");
  const auto bad = expect_same_envelope([&](auto& w) {
    gw::codec::write_error(w, gw::codec::RequestId{}, kMeta,
                           gw::codec::RpcError{11050, "bad_request", "invalid json"});
  });
  EXPECT_EQ(bad.error().data_text(), "invalid json");
  EXPECT_FALSE(bad.has_id());
  const auto plain = expect_same_envelope(
      [&](auto& w) { gw::codec::write_error(w, id, kMeta, gw::codec::errors::method_not_found); });
  EXPECT_EQ(plain.error().code(), -32601);
  const auto test = expect_same_envelope(
      [&](auto& w) {
        gw::codec::write_result(w, id, kMeta, [](auto& v) {
          v.begin_object(1);
          v.key("version");
          v.value("0.1.0");
          v.end_object();
        });
      },
      result_member("public_test"));
  EXPECT_EQ(test.public_test().version(), "0.1.0");
  const auto channels = expect_same_envelope(
      [&](auto& w) {
        gw::codec::write_result(w, id, kMeta, [](auto& v) {
          v.begin_array(2);
          v.value("book.BTC-PERPETUAL.100ms");
          v.value("ticker.BTC-PERPETUAL.100ms");
          v.end_array();
        });
      },
      result_member("public_subscribe"));
  EXPECT_EQ(channels.public_subscribe().channels(1), "ticker.BTC-PERPETUAL.100ms");
}

TEST(ProtobufEnvelope, UntypedResultIsJsonText) {
  std::string bytes;
  ProtobufWriter w(bytes, pb::greekwire_schema(), {.strict = false});
  gw::codec::write_result(w, gw::codec::RequestId{}, kMeta, [](auto& v) {
    v.begin_object(1);
    v.key("new_method");
    v.value(true);
    v.end_object();
  });
  EXPECT_EQ(w.mismatches(), 1u);
  greekwire::v2::Envelope m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  EXPECT_EQ(m.result_json(), R"({"new_method":true})");
  EXPECT_EQ(m.usin(), 1699999999999100);
}

}  // namespace
