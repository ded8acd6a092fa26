#include "client/msgpack_tree.hpp"

#include <cstring>

namespace gw::client {

bool MsgpackTree::parse(std::span<const std::uint8_t> frame, std::string& error) {
  nodes_.clear();
  p_ = frame.data();
  end_ = frame.data() + frame.size();
  error_ = nullptr;
  if (frame.size() > UINT32_MAX) {
    error = "invalid MessagePack from the server: frame too large";
    return false;
  }
  if (!parse_value(0)) {
    error = std::string("invalid MessagePack from the server: ") + error_;
    return false;
  }
  if (p_ != end_) {
    error = "invalid MessagePack from the server: bytes after the message";
    return false;
  }
  return true;
}

bool MsgpackTree::need(std::size_t bytes) {
  if (static_cast<std::size_t>(end_ - p_) >= bytes) return true;
  error_ = "truncated";
  return false;
}

std::uint64_t MsgpackTree::read_be(std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | p_[i];
  p_ += bytes;
  return value;
}

// One value at p_, appended in pre-order; containers recurse (bounded by kMaxDepth).
bool MsgpackTree::parse_value(int depth) {
  if (depth > kMaxDepth) {
    error_ = "nested too deeply";
    return false;
  }
  if (!need(1)) return false;
  const std::uint32_t index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  Node node;
  const std::uint8_t b = *p_++;
  std::size_t length = 0;  // str / bin / ext payload, or container size
  bool container = false;
  if (b <= 0x7f) {
    node.type = Type::int64;
    node.v.int64 = b;
  } else if (b >= 0xe0) {
    node.type = Type::int64;
    node.v.int64 = static_cast<std::int8_t>(b);
  } else if (b <= 0x9f) {  // fixmap, fixarray
    node.type = b <= 0x8f ? Type::map : Type::array;
    length = b & 0x0f;
    container = true;
  } else if (b <= 0xbf) {
    node.type = Type::string;
    length = b & 0x1f;
  } else {
    switch (b) {
      case 0xc0:
        node.type = Type::nil;
        break;
      case 0xc2:
      case 0xc3:
        node.type = Type::boolean;
        node.v.boolean = b == 0xc3;
        break;
      case 0xc4:
      case 0xc5:
      case 0xc6: {  // bin 8/16/32
        const std::size_t size_bytes = std::size_t{1} << (b - 0xc4);
        if (!need(size_bytes)) return false;
        length = read_be(size_bytes);
        node.type = Type::other;
        break;
      }
      case 0xc7:
      case 0xc8:
      case 0xc9: {  // ext 8/16/32: size, then a type byte
        const std::size_t size_bytes = std::size_t{1} << (b - 0xc7);
        if (!need(size_bytes + 1)) return false;
        length = read_be(size_bytes) + 1;
        node.type = Type::other;
        break;
      }
      case 0xca: {
        if (!need(4)) return false;
        const auto bits = static_cast<std::uint32_t>(read_be(4));
        float f;
        std::memcpy(&f, &bits, sizeof f);
        node.type = Type::real;
        node.v.real = f;
        break;
      }
      case 0xcb: {
        if (!need(8)) return false;
        const std::uint64_t bits = read_be(8);
        std::memcpy(&node.v.real, &bits, sizeof bits);
        node.type = Type::real;
        break;
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf: {  // uint 8/16/32/64
        const std::size_t bytes = std::size_t{1} << (b - 0xcc);
        if (!need(bytes)) return false;
        const std::uint64_t u = read_be(bytes);
        if (u > static_cast<std::uint64_t>(INT64_MAX)) {
          node.type = Type::uint64;
          node.v.uint64 = u;
        } else {
          node.type = Type::int64;
          node.v.int64 = static_cast<std::int64_t>(u);
        }
        break;
      }
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {  // int 8/16/32/64: sign-extend
        const std::size_t bytes = std::size_t{1} << (b - 0xd0);
        if (!need(bytes)) return false;
        const std::uint64_t u = read_be(bytes);
        const unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
        node.type = Type::int64;
        node.v.int64 = static_cast<std::int64_t>(u << shift) >> shift;
        break;
      }
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:  // fixext 1/2/4/8/16: a type byte and the data
        length = 1 + (std::size_t{1} << (b - 0xd4));
        node.type = Type::other;
        break;
      case 0xd9:
      case 0xda:
      case 0xdb: {  // str 8/16/32
        const std::size_t size_bytes = std::size_t{1} << (b - 0xd9);
        if (!need(size_bytes)) return false;
        length = read_be(size_bytes);
        node.type = Type::string;
        break;
      }
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf: {  // array 16/32, map 16/32
        const std::size_t size_bytes = (b == 0xdc || b == 0xde) ? 2 : 4;
        if (!need(size_bytes)) return false;
        length = read_be(size_bytes);
        node.type = b <= 0xdd ? Type::array : Type::map;
        container = true;
        break;
      }
      default:  // 0xc1 is never used
        error_ = "a reserved type byte";
        return false;
    }
  }
  if (container) {
    // Every element takes at least one byte: a count beyond what is left is malformed (and must
    // not make us reserve memory for it).
    const std::size_t elements = node.type == Type::map ? 2 * length : length;
    if (elements > static_cast<std::size_t>(end_ - p_)) {
      error_ = "a container larger than the frame";
      return false;
    }
    node.count = static_cast<std::uint32_t>(length);
    for (std::size_t i = 0; i < elements; ++i) {
      if (!parse_value(depth + 1)) return false;
    }
  } else if (node.type == Type::string || node.type == Type::other) {
    if (!need(length)) return false;
    node.v.string = {reinterpret_cast<const char*>(p_), static_cast<std::uint32_t>(length)};
    p_ += length;
  }
  node.end = static_cast<std::uint32_t>(nodes_.size());
  nodes_[index] = node;
  return true;
}

}  // namespace gw::client
