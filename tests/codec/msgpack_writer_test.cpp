// MsgpackWriter: exact encodings of each type, decoding by msgpack-cxx's unpacker and by
// Python's msgpack (an independent implementation), and the same tree as JsonWriter for the
// same writer calls.
#include "codec/msgpack_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/tree.hpp"

namespace {

using gw::codec::JsonWriter;
using gw::codec::MsgpackWriter;
using gw::codec::test::canonical_json;
using gw::codec::test::canonical_msgpack;
using gw::codec::test::unpack_one;

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

template <class T>
std::string packed(T v) {
  std::string out;
  MsgpackWriter w(out);
  w.value(v);
  return hex(out);
}

TEST(MsgpackWriter, IntegersUseTheSmallestEncoding) {
  EXPECT_EQ(packed(0), "00");
  EXPECT_EQ(packed(127), "7f");
  EXPECT_EQ(packed(128), "cc80");
  EXPECT_EQ(packed(-1), "ff");
  EXPECT_EQ(packed(-32), "e0");
  EXPECT_EQ(packed(-33), "d0df");
  EXPECT_EQ(packed(65536), "ce00010000");
  EXPECT_EQ(packed(std::int64_t{1} << 53), "cf0020000000000000");
  EXPECT_EQ(packed(std::numeric_limits<std::int64_t>::min()), "d38000000000000000");
  EXPECT_EQ(packed(std::numeric_limits<std::uint64_t>::max()), "cfffffffffffffffff");
}

TEST(MsgpackWriter, DoublesAreAlwaysFloat64) {
  EXPECT_EQ(packed(21.0), "cb4035000000000000");  // integral, still a double
  EXPECT_EQ(packed(0.0), "cb0000000000000000");
  EXPECT_EQ(packed(-0.0), "cb8000000000000000");
  EXPECT_EQ(packed(0.0005), "cb3f40624dd2f1a9fc");
  EXPECT_EQ(packed(std::numeric_limits<double>::quiet_NaN()), "c0");  // nil, as JSON's null
  EXPECT_EQ(packed(-std::numeric_limits<double>::infinity()), "c0");
}

TEST(MsgpackWriter, OtherScalars) {
  EXPECT_EQ(packed(true), "c3");
  EXPECT_EQ(packed(false), "c2");
  EXPECT_EQ(packed("ok"), "a26f6b");  // a literal is a string, not a bool
  EXPECT_EQ(packed(std::string_view("")), "a0");
  EXPECT_EQ(packed(std::string(40, 'x')), "d928" + hex(std::string(40, 'x')));
  std::string out;
  MsgpackWriter w(out);
  w.null();
  EXPECT_EQ(hex(out), "c0");
}

TEST(MsgpackWriter, BinaryIsBin) {
  const std::vector<std::uint8_t> bytes = {0, 1, 0xFF};
  std::string out;
  MsgpackWriter w(out);
  w.binary(bytes);
  EXPECT_EQ(hex(out),
            "c40300"
            "01ff");
}

TEST(MsgpackWriter, InvalidUtf8IsReplacedAsInJson) {
  std::string out;
  MsgpackWriter w(out);
  w.value("a\xFF");
  EXPECT_EQ(hex(out), "a461efbfbd");
}

TEST(MsgpackWriter, ContainersAnnounceTheirSize) {
  std::string out;
  MsgpackWriter w(out);
  w.begin_object(2);
  w.key("a");
  w.begin_array(0);
  w.end_array();
  w.key("b");
  w.begin_array(16);  // array16 from 16 elements on
  for (int i = 0; i < 16; ++i) w.value(i);
  w.end_array();
  w.end_object();
  EXPECT_EQ(hex(out), "82a16190a162dc0010000102030405060708090a0b0c0d0e0f");
}

// One message exercising every kind of value, written through either writer.
template <class W>
void write_sample(W& w) {
  const std::vector<std::uint8_t> bytes = {'b', 'i', 'n', 0, 0xFF};
  w.begin_object(14);
  w.key("string");
  w.value("Δ \"quoted\" \n 📈");
  w.key("empty");
  w.value("");
  w.key("int");
  w.value(-42);
  w.key("int64_min");
  w.value(std::numeric_limits<std::int64_t>::min());
  w.key("uint64_max");
  w.value(std::numeric_limits<std::uint64_t>::max());
  w.key("price");
  w.value(202.8);
  w.key("amount");
  w.value(21.0);
  w.key("fee");
  w.value(7.766e-05);
  w.key("big");
  w.value(1e21);
  w.key("nan");
  w.value(std::numeric_limits<double>::quiet_NaN());
  w.key("flags");
  w.begin_array(3);
  w.value(true);
  w.value(false);
  w.null();
  w.end_array();
  w.key("nested");
  w.begin_object(1);
  w.key("levels");
  w.begin_array(2);
  for (int i = 0; i < 2; ++i) {
    w.begin_array(3);
    w.value("new");
    w.value(0.0005 * (i + 1));
    w.value(2.5);
    w.end_array();
  }
  w.end_array();
  w.end_object();
  w.key("bytes");
  w.binary(bytes);
  w.key("raw");
  w.raw_json(R"({"cached":[1,-2,3.25,"s",null,true,{"deep":[18446744073709551615]}]})");
  w.end_object();
}

TEST(MsgpackWriter, SameTreeAsJson) {
  std::string json, msgpack;
  JsonWriter jw(json);
  write_sample(jw);
  MsgpackWriter mw(msgpack);
  write_sample(mw);
  EXPECT_EQ(canonical_msgpack(msgpack), canonical_json(json));
}

TEST(MsgpackWriter, UnpackerSeesTheWriterTypes) {
  std::string out;
  MsgpackWriter w(out);
  write_sample(w);
  const auto handle = unpack_one(out);
  const msgpack::object& root = handle.get();
  ASSERT_EQ(root.type, msgpack::type::MAP);
  ASSERT_EQ(root.via.map.size, 14u);
  auto find = [&](std::string_view key) -> const msgpack::object& {
    for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      if (std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) return kv.val;
    }
    throw std::runtime_error("no key");
  };
  EXPECT_EQ(find("amount").type, msgpack::type::FLOAT64);
  EXPECT_EQ(find("amount").via.f64, 21.0);
  EXPECT_EQ(find("int").type, msgpack::type::NEGATIVE_INTEGER);
  EXPECT_EQ(find("int").as<int>(), -42);
  EXPECT_EQ(find("uint64_max").as<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(find("int64_min").as<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(find("string").as<std::string>(), "Δ \"quoted\" \n 📈");
  EXPECT_EQ(find("bytes").type, msgpack::type::BIN);
  EXPECT_EQ(find("nan").type, msgpack::type::NIL);
  // Transcoded JSON: integers stay integers, other numbers become float64.
  const msgpack::object& cached = find("raw").via.map.ptr[0].val;
  ASSERT_EQ(cached.type, msgpack::type::ARRAY);
  EXPECT_EQ(cached.via.array.ptr[0].type, msgpack::type::POSITIVE_INTEGER);
  EXPECT_EQ(cached.via.array.ptr[2].type, msgpack::type::FLOAT64);
}

TEST(MsgpackWriter, AppendsAndReusesTheBuffer) {
  std::string out = "\x01";
  {
    MsgpackWriter w(out);
    w.value(2);
  }
  EXPECT_EQ(hex(out), "0102");
  out.reserve(1024);
  const auto capacity = out.capacity();
  for (int i = 0; i < 10; ++i) {
    out.clear();
    MsgpackWriter w(out);
    write_sample(w);
  }
  EXPECT_EQ(out.capacity(), capacity);
}

// Runs Python's msgpack on our bytes. It prints repr() of the decoded value (so float vs int
// shows) and checks that it equals the JSON writer's output as decoded by Python's json.
constexpr const char* kPythonCheck = R"PY(
import base64, json, sys
import msgpack
data = open(sys.argv[1], 'rb').read()
text = open(sys.argv[2], encoding='utf-8').read()
m = msgpack.unpackb(data, raw=False)
j = json.loads(text)
def same(a, b, path):
    if isinstance(a, bytes):
        a = base64.b64encode(a).decode()
    if isinstance(a, bool) or isinstance(b, bool):
        assert type(a) is type(b) and a == b, path
    elif isinstance(a, (int, float)):
        assert isinstance(b, (int, float)) and a == b, (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for k in a:
            same(a[k], b[k], path + '/' + k)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, '%s[%d]' % (path, i))
    else:
        assert a == b, (path, a, b)
same(m, j, '')
print(repr(m), end='')
)PY";

std::string python_decode(const std::string& msgpack, const std::string& json, int& status) {
  const std::string dir = ::testing::TempDir();
  const std::string script = dir + "codec_msgpack_check.py";
  const std::string data = dir + "codec_msgpack_check.bin";
  const std::string text = dir + "codec_msgpack_check.json";
  std::ofstream(script) << kPythonCheck;
  std::ofstream(data, std::ios::binary) << msgpack;
  std::ofstream(text, std::ios::binary) << json;
  const std::string command = "/usr/bin/python3 " + script + " " + data + " " + text + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buf[4096];
  for (std::size_t n; pipe && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;)
    output.append(buf, n);
  status = pipe ? pclose(pipe) : -1;
  return output;
}

bool python_msgpack_available() {
  return std::system("/usr/bin/python3 -c 'import msgpack' >/dev/null 2>&1") == 0;
}

TEST(MsgpackWriter, PythonDecodesTheSameValues) {
  if (!python_msgpack_available()) GTEST_SKIP() << "python3-msgpack is not installed";
  std::string json, msgpack;
  JsonWriter jw(json);
  write_sample(jw);
  MsgpackWriter mw(msgpack);
  write_sample(mw);
  int status = 0;
  const std::string repr = python_decode(msgpack, json, status);
  ASSERT_EQ(status, 0) << repr;
  EXPECT_EQ(repr,
            "{'string': 'Δ \"quoted\" \\n 📈', 'empty': '', 'int': -42, "
            "'int64_min': -9223372036854775808, 'uint64_max': 18446744073709551615, "
            "'price': 202.8, 'amount': 21.0, 'fee': 7.766e-05, 'big': 1e+21, 'nan': None, "
            "'flags': [True, False, None], "
            "'nested': {'levels': [['new', 0.0005, 2.5], ['new', 0.001, 2.5]]}, "
            "'bytes': b'bin\\x00\\xff', "
            "'raw': {'cached': [1, -2, 3.25, 's', None, True, {'deep': [18446744073709551615]}]}}");
}

#ifndef NDEBUG
using MsgpackWriterDeathTest = ::testing::Test;

TEST(MsgpackWriterDeathTest, CountMismatchAsserts) {
  EXPECT_DEATH(
      {
        std::string out;
        MsgpackWriter w(out);
        w.begin_object(2);
        w.key("a");
        w.value(1);
        w.end_object();
      },
      "count");
}

TEST(MsgpackWriterDeathTest, InvalidRawJsonAsserts) {
  EXPECT_DEATH(
      {
        std::string out;
        MsgpackWriter w(out);
        w.raw_json("[1,");
      },
      "not one valid JSON value");
}
#else
TEST(MsgpackWriter, InvalidRawJsonIsNilInRelease) {
  std::string out;
  MsgpackWriter w(out);
  w.raw_json("[1,");
  EXPECT_EQ(hex(out), "c0");
}
#endif

}  // namespace
