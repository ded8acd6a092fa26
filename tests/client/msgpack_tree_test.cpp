// MsgpackTree, the client's MessagePack reader, against msgpack-cxx's packer: every format of
// the spec that carries a value Deribit's messages use, the ones it skips (bin, ext), and
// malformed input.
#include "client/msgpack_tree.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "client/tree.hpp"
#include "codec/msgpack_lib.hpp"

namespace gw::client {
namespace {

struct Buffer {
  std::string bytes;
  void write(const char* data, std::size_t size) { bytes.append(data, size); }
};

std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The tree's value as JSON text (the SDK's own printing), or "error: ...".
std::string read(const std::string& bytes) {
  MsgpackTree tree;
  std::string error;
  if (!tree.parse(span_of(bytes), error)) return "error: " + error;
  return to_value(MsgpackNode{&tree, tree.root()}).to_json();
}

template <class Packer>
void pack_str(Packer& p, const std::string& s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

template <class F>
std::string packed(F&& pack) {
  Buffer buffer;
  msgpack::packer<Buffer> packer(buffer);
  pack(packer);
  return buffer.bytes;
}

TEST(MsgpackTree, IntegersOfEveryWidth) {
  const std::string bytes = packed([](auto& p) {
    p.pack_array(12);
    p.pack_fix_uint8(7);
    p.pack_uint8(200);
    p.pack_uint16(60000);
    p.pack_uint32(4000000000u);
    p.pack_uint64(std::numeric_limits<std::uint64_t>::max());
    p.pack_fix_int8(-5);
    p.pack_int8(-100);
    p.pack_int16(-30000);
    p.pack_int32(-2000000000);
    p.pack_int64(std::numeric_limits<std::int64_t>::min());
    p.pack_uint64(9223372036854775807ull);
    p.pack_int64(-1);
  });
  EXPECT_EQ(read(bytes),
            "[7,200,60000,4000000000,18446744073709551615,-5,-100,-30000,-2000000000,"
            "-9223372036854775808,9223372036854775807,-1]");
}

TEST(MsgpackTree, RealsStringsAndContainers) {
  const std::string bytes = packed([](auto& p) {
    p.pack_map(6);
    pack_str(p, "f32");
    p.pack_float(0.5f);
    pack_str(p, "f64");
    p.pack_double(202.8);
    pack_str(p, "long string");
    pack_str(p, std::string(300, 'x'));  // str16
    pack_str(p, "nil and bools");
    p.pack_array(3);
    p.pack_nil();
    p.pack_true();
    p.pack_false();
    pack_str(p, "big array");
    p.pack_array(20);  // array16
    for (int i = 0; i < 20; ++i) p.pack_int(i);
    pack_str(p, "empty map");
    p.pack_map(0);
  });
  EXPECT_EQ(read(bytes), R"({"f32":0.5,"f64":202.8,"long string":")" + std::string(300, 'x') +
                             R"(","nil and bools":[null,true,false],"big array":[0,1,2,3,4,5,6,7,)"
                             R"(8,9,10,11,12,13,14,15,16,17,18,19],"empty map":{}})");
}

TEST(MsgpackTree, BinAndExtAreSkippedAsOther) {
  const std::string bytes = packed([](auto& p) {
    p.pack_array(3);
    p.pack_bin(3);
    p.pack_bin_body("abc", 3);
    p.pack_ext(2, 5);
    p.pack_ext_body("xy", 2);
    pack_str(p, "after");
  });
  EXPECT_EQ(read(bytes), R"([null,null,"after"])");
}

TEST(MsgpackTree, MalformedInputIsRefused) {
  const std::string good = packed([](auto& p) {
    p.pack_array(2);
    pack_str(p, "abc");
    p.pack_double(1.5);
  });
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(read(good.substr(0, n)).rfind("error: ", 0), 0u) << "truncated at " << n;
  }
  EXPECT_EQ(read(good + '\x01'),
            "error: invalid MessagePack from the server: bytes after the "
            "message");
  EXPECT_NE(read("\xc1").find("reserved"), std::string::npos);
  // A 32-bit array count far beyond the frame.
  EXPECT_NE(read(std::string("\xdd\xff\xff\xff\xff\x01", 6)).find("larger than the frame"),
            std::string::npos);
  // 100 nested arrays.
  EXPECT_NE(read(std::string(100, '\x91') + '\x01').find("nested too deeply"), std::string::npos);
  EXPECT_EQ(read(std::string(60, '\x91') + '\x01').rfind("[[[", 0), 0u);
}

}  // namespace
}  // namespace gw::client
