// A MessagePack reader for the client's receive path: one frame is parsed into a flat array of
// nodes (pre-order, each container knowing where its subtree ends), strings pointing into the
// frame. The array is reused from message to message, so once it has grown to the largest
// message seen, parsing allocates nothing (msgpack-cxx's unpack builds a fresh parser stack and
// zone for every call).
//
// Everything a greekwire or Deribit message holds is read: nil, booleans, integers, float32/64,
// str, arrays, maps; bin and ext values are skipped (typed `other`). Malformed input (truncated,
// the reserved byte 0xc1, nesting deeper than kMaxDepth) is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::client {

class MsgpackTree {
 public:
  enum class Type : std::uint8_t { nil, boolean, int64, uint64, real, string, array, map, other };

  struct Node {
    Type type = Type::nil;
    std::uint32_t count = 0;  // array: elements; map: pairs
    std::uint32_t end = 0;    // index just past this node's subtree
    union {
      bool boolean;
      std::int64_t int64;
      std::uint64_t uint64;
      double real;
      struct {
        const char* data;
        std::uint32_t size;
      } string;
    } v{};
  };

  static constexpr int kMaxDepth = 64;

  // Parses one complete value filling `frame`; false with `error` set otherwise. The nodes'
  // strings point into `frame`: valid while it is.
  bool parse(std::span<const std::uint8_t> frame, std::string& error);

  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  std::uint32_t root() const { return 0; }

 private:
  bool parse_value(int depth);
  bool need(std::size_t bytes);
  std::uint64_t read_be(std::size_t bytes);

  std::vector<Node> nodes_;
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  const char* error_ = nullptr;
};

}  // namespace gw::client
